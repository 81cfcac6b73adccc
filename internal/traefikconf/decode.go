package traefikconf

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mitchellh/mapstructure"
)

// Decode fills result (a pointer, e.g. the plugin's *Config) from a dynamic
// configuration map with Traefik's decoder settings: weakly typed input
// (strings become ints and bools), comma-separated strings become slices,
// field names match keys case-insensitively, unknown keys are ignored.
func Decode(config map[string]any, result any) error {
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           result,
	})
	if err != nil {
		return fmt.Errorf("creating the configuration decoder: %w", err)
	}
	if err := dec.Decode(config); err != nil {
		return fmt.Errorf("decoding the configuration: %w", err)
	}
	return nil
}

// Labels turns a typed configuration into the shape Docker labels give
// Traefik: every scalar becomes a string, and a list of scalars becomes one
// comma-separated string. Lists of objects stay lists (labels index them as
// rules[0].name), with their values turned into strings as well.
func Labels(config map[string]any) map[string]any {
	out := make(map[string]any, len(config))
	for k, v := range config {
		out[k] = labelValue(v)
	}
	return out
}

func labelValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return Labels(x)
	case []any:
		scalars := make([]string, 0, len(x))
		for _, item := range x {
			s, ok := labelScalar(item)
			if !ok {
				items := make([]any, len(x))
				for i, it := range x {
					items[i] = labelValue(it)
				}
				return items
			}
			scalars = append(scalars, s)
		}
		return strings.Join(scalars, ",")
	case []string:
		return strings.Join(x, ",")
	}
	s, _ := labelScalar(v)
	return s
}

func labelScalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case nil:
		return "", true
	}
	return "", false
}

// LabelLines renders a labels-shaped configuration as Docker label lines
// under prefix (e.g. "traefik.http.middlewares.gw.plugin.imgate"), sorted:
// the README's label example is generated from the same data as the tests.
func LabelLines(prefix string, config map[string]any) []string {
	var lines []string
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, item := range x {
				walk(key+"."+k, item)
			}
		case []any:
			for i, item := range x {
				walk(key+"["+strconv.Itoa(i)+"]", item)
			}
		default:
			s, _ := labelScalar(x)
			lines = append(lines, key+"="+s)
		}
	}
	walk(prefix, Labels(config))
	sort.Strings(lines)
	return lines
}
