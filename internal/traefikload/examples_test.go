package traefikload

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"gopkg.in/yaml.v3"
)

// exampleToken is the Tencent token written in the examples.
const exampleToken = "your-callback-token"

// exampleListFile is the ban-list path in the examples; the tests point it
// at testdata/lists/banned.txt.
const exampleListFile = "/etc/imgate/banned.txt"

// TestExamples proves the Traefik configuration examples in
// testdata/traefik (the README's) work: the plugin config from the file
// provider YAML, the Kubernetes Middleware resource and the Docker labels
// decodes to one and the same Config, and the interpreted middleware built
// from each decides the example callbacks; the static configs name this
// module under the plugin name the dynamic configs use.
func TestExamples(t *testing.T) {
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	_, module, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	examples := filepath.Join(dir, "traefik")
	listFile := filepath.Join(dir, "lists", "banned.txt")

	var dynamic, k8s, compose map[string]any
	readYAML(t, filepath.Join(examples, "dynamic.yml"), &dynamic)
	readYAML(t, filepath.Join(examples, "middleware-k8s.yml"), &k8s)
	readYAML(t, filepath.Join(examples, "docker-compose.yml"), &compose)
	configs := map[string]map[string]any{
		"file-provider": dig(t, dynamic, "http", "middlewares", "imgate", "plugin", "imgate"),
		// The CRD provider hands plugin options over as JSON: numbers arrive as float64.
		"kubernetes": jsonRoundTrip(t, dig(t, k8s, "spec", "plugin", "imgate")),
		"docker-labels": labelsToConfig(t, dig(t, compose, "services", "im-app")["labels"],
			"traefik.http.middlewares.imgate.plugin.imgate."),
	}
	want := compiledConfig(t, configs["file-provider"])
	for name, config := range configs {
		t.Run(name, func(t *testing.T) {
			if got := compiledConfig(t, config); !reflect.DeepEqual(got, want) {
				t.Fatalf("decodes to\n  %+v\nwant (file provider)\n  %+v", got, want)
			}
			replaceString(config, exampleListFile, listFile)
			h, err := Shared(t).New(context.Background(), failingNext(t), config, UniqueName(t))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			checkExampleRules(t, h, exampleToken)
		})
	}
	for _, file := range []string{"static-local.yml", "static-catalog.yml"} {
		var static map[string]any
		readYAML(t, filepath.Join(examples, file), &static)
		plugins := dig(t, static, "experimental")
		section := "localPlugins"
		if _, ok := plugins["plugins"]; ok {
			section = "plugins"
		}
		if got := dig(t, plugins, section, "imgate")["moduleName"]; got != module {
			t.Errorf("%s: experimental.%s.imgate.moduleName = %v, want %s", file, section, got, module)
		}
	}
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// dig walks nested maps.
func dig(t *testing.T, m map[string]any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("no map at %q (path %v)", k, keys)
		}
		m = next
	}
	return m
}

func jsonRoundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// labelsToConfig builds the plugin's raw config from Docker label lines the
// way Traefik's label parser (traefik/paerser) does for plugin options:
// dotted keys become nested maps, "name[N]" keys become lists, values stay
// strings.
func labelsToConfig(t *testing.T, labels any, prefix string) map[string]any {
	t.Helper()
	list, ok := labels.([]any)
	if !ok {
		t.Fatalf("labels are not a list: %v", labels)
	}
	root := map[string]any{}
	for _, item := range list {
		line, _ := item.(string)
		key, value, found := strings.Cut(line, "=")
		if !found || !strings.HasPrefix(key, prefix) {
			continue
		}
		node := root
		parts := strings.Split(strings.TrimPrefix(key, prefix), ".")
		for i, part := range parts {
			if name, index, isList := strings.Cut(part, "["); isList {
				// Lists are held as maps keyed by index until the end.
				part = name
				sub, _ := node[part].(map[string]any)
				if sub == nil {
					sub = map[string]any{}
					node[part] = sub
				}
				node, part = sub, "["+index
			}
			if i == len(parts)-1 {
				node[part] = value
				break
			}
			sub, _ := node[part].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
				node[part] = sub
			}
			node = sub
		}
	}
	return indexedToLists(root).(map[string]any)
}

// indexedToLists turns maps keyed "[0]", "[1]" ... into lists.
func indexedToLists(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	indexes := make([]int, 0, len(m))
	for k, item := range m {
		m[k] = indexedToLists(item)
		if n, err := strconv.Atoi(strings.Trim(k, "[]")); err == nil && strings.HasPrefix(k, "[") {
			indexes = append(indexes, n)
		}
	}
	if len(indexes) == 0 || len(indexes) != len(m) {
		return m
	}
	sort.Ints(indexes)
	out := make([]any, len(indexes))
	for i, n := range indexes {
		out[i] = m["["+strconv.Itoa(n)+"]"]
	}
	return out
}

// replaceString replaces a string value anywhere in a config.
func replaceString(v any, old, repl string) {
	switch x := v.(type) {
	case map[string]any:
		for k, item := range x {
			if s, ok := item.(string); ok && s == old {
				x[k] = repl
				continue
			}
			replaceString(item, old, repl)
		}
	case []any:
		for i, item := range x {
			if s, ok := item.(string); ok && s == old {
				x[i] = repl
				continue
			}
			replaceString(item, old, repl)
		}
	}
}
