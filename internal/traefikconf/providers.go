package traefikconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/traefik/paerser/file"
	"github.com/traefik/paerser/parser"
	"gopkg.in/yaml.v3"
)

// ErrProvider marks input a Traefik provider could not decode.
var ErrProvider = errors.New("cannot decode like a traefik provider")

// PluginConfigs are the plugin configurations of a dynamic configuration:
// middleware name -> plugin name -> the raw map Traefik hands the plugin.
type PluginConfigs map[string]map[string]map[string]any

// pluginElement is the part of Traefik's dynamic.Configuration that holds
// plugin middlewares (traefik/traefik pkg/config/dynamic: Middleware.Plugin
// is map[string]PluginConf, PluginConf is map[string]any). Traefik's
// decoders fill it by field name, so this mirror is decoded alike.
type pluginElement struct {
	HTTP *struct {
		Middlewares map[string]*struct {
			Plugin map[string]map[string]any `json:"plugin,omitempty" toml:"plugin,omitempty" yaml:"plugin,omitempty"`
		} `json:"middlewares,omitempty" toml:"middlewares,omitempty" yaml:"middlewares,omitempty"`
	} `json:"http,omitempty" toml:"http,omitempty" yaml:"http,omitempty"`
}

func (e *pluginElement) configs() PluginConfigs {
	out := PluginConfigs{}
	if e.HTTP == nil {
		return out
	}
	for name, m := range e.HTTP.Middlewares {
		if m != nil && m.Plugin != nil {
			out[name] = m.Plugin
		}
	}
	return out
}

// FromFile decodes a file provider's content the way Traefik's file
// provider does (traefik/paerser file.DecodeContent, chosen by the file's
// extension ext: ".yml", ".yaml" or ".json" read as YAML, ".toml" as TOML):
// every scalar of a plugin's configuration arrives as a string ("code:
// 10101" gives "10101", "enabled: true" gives "true"), a list of scalars as
// a []any of typed values, and an empty map or list as "".
// Only the plugin middlewares are decoded: the rest of the file (routers,
// services, other middlewares) is left out before decoding, and the plugin
// middlewares are written back in the file's own format for paerser.
func FromFile(content []byte, ext string) (PluginConfigs, error) {
	ext = strings.ToLower(ext)
	all := map[string]any{}
	var err error
	switch ext {
	case ".toml":
		_, err = toml.Decode(string(content), &all)
	case ".yml", ".yaml", ".json":
		err = yaml.Unmarshal(content, &all)
	default:
		return nil, fmt.Errorf("file provider: extension %q is not .yml, .yaml, .json or .toml: %w", ext, ErrProvider)
	}
	if err != nil {
		return nil, fmt.Errorf("file provider: %w", err)
	}
	middlewares := map[string]any{}
	httpSection, _ := all["http"].(map[string]any)
	declared, _ := httpSection["middlewares"].(map[string]any)
	for name, m := range declared {
		mw, _ := m.(map[string]any)
		if plugin, ok := mw["plugin"]; ok {
			middlewares[name] = map[string]any{"plugin": plugin}
		}
	}
	if len(middlewares) == 0 {
		return PluginConfigs{}, nil
	}
	pluginsOnly := map[string]any{"http": map[string]any{"middlewares": middlewares}}
	var text []byte
	if ext == ".toml" {
		var buf bytes.Buffer
		err = toml.NewEncoder(&buf).Encode(pluginsOnly)
		text = buf.Bytes()
	} else {
		text, err = yaml.Marshal(pluginsOnly)
		ext = ".yml"
	}
	if err != nil {
		return nil, fmt.Errorf("file provider: %w", err)
	}
	var e pluginElement
	if err := file.DecodeContent(string(text), ext, &e); err != nil {
		return nil, fmt.Errorf("file provider: %w", err)
	}
	return e.configs(), nil
}

// FromLabels decodes Docker labels the way Traefik's Docker provider does
// (pkg/config/label DecodeConfiguration: traefik/paerser parser.Decode
// with root "traefik"): values stay strings, "name[N]" keys make lists.
// Only the plugin middlewares' labels are decoded.
func FromLabels(labels map[string]string) (PluginConfigs, error) {
	const prefix = "traefik.http.middlewares."
	pluginLabels := map[string]string{}
	for k, v := range labels {
		if rest, ok := strings.CutPrefix(strings.ToLower(k), prefix); ok {
			if _, after, found := strings.Cut(rest, "."); found && strings.HasPrefix(after, "plugin.") {
				pluginLabels[k] = v
			}
		}
	}
	var e pluginElement
	if err := parser.Decode(pluginLabels, &e, parser.DefaultRootName, "traefik.http"); err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	return e.configs(), nil
}

// FromCRD decodes a Kubernetes Middleware resource (YAML) the way the CRD
// provider does: the resource becomes JSON, spec.plugin is a map of raw
// JSON (apiextensionv1.JSON), re-encoded and decoded into PluginConf
// (pkg/provider/kubernetes/crd createPluginMiddleware), so numbers arrive
// as float64. The middleware is named after metadata.name.
func FromCRD(content []byte) (PluginConfigs, error) {
	var resource map[string]any
	if err := yaml.Unmarshal(content, &resource); err != nil {
		return nil, fmt.Errorf("crd: %w", err)
	}
	asJSON, err := json.Marshal(resource)
	if err != nil {
		return nil, fmt.Errorf("crd: %w", err)
	}
	var mw struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Plugin map[string]json.RawMessage `json:"plugin"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(asJSON, &mw); err != nil {
		return nil, fmt.Errorf("crd: %w", err)
	}
	if mw.Kind != "Middleware" || mw.Metadata.Name == "" {
		return nil, fmt.Errorf("crd: kind %q name %q is not a named Middleware: %w", mw.Kind, mw.Metadata.Name, ErrProvider)
	}
	data, err := json.Marshal(mw.Spec.Plugin)
	if err != nil {
		return nil, fmt.Errorf("crd: %w", err)
	}
	plugins := map[string]map[string]any{}
	if err := json.Unmarshal(data, &plugins); err != nil {
		return nil, fmt.Errorf("crd: %w", err)
	}
	return PluginConfigs{mw.Metadata.Name: plugins}, nil
}

// ComposeLabels returns the labels of service in a docker-compose file
// ("key=value" list form) as a map.
func ComposeLabels(content []byte, service string) (map[string]string, error) {
	var compose struct {
		Services map[string]struct {
			Labels []string `yaml:"labels"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(content, &compose); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	svc, ok := compose.Services[service]
	if !ok {
		return nil, fmt.Errorf("compose: no service %q: %w", service, ErrProvider)
	}
	labels := make(map[string]string, len(svc.Labels))
	for _, l := range svc.Labels {
		k, v, found := strings.Cut(l, "=")
		if !found {
			return nil, fmt.Errorf("compose: label %q has no '=': %w", l, ErrProvider)
		}
		labels[k] = v
	}
	return labels, nil
}

// AsFile returns config as Traefik's file provider hands it to the plugin:
// written as YAML under a plugin middleware and decoded with FromFile.
func AsFile(config map[string]any) (map[string]any, error) {
	data, err := yaml.Marshal(map[string]any{"http": map[string]any{"middlewares": map[string]any{
		"m": map[string]any{"plugin": map[string]any{"p": config}},
	}}})
	if err != nil {
		return nil, fmt.Errorf("file provider: %w", err)
	}
	configs, err := FromFile(data, ".yml")
	if err != nil {
		return nil, err
	}
	return nonNil(configs["m"]["p"]), nil
}

// AsLabels returns config as Traefik's Docker provider hands it to the
// plugin: rendered as Docker labels (LabelLines) and decoded with
// FromLabels.
func AsLabels(config map[string]any) (map[string]any, error) {
	labels := map[string]string{}
	for _, line := range LabelLines("traefik.http.middlewares.m.plugin.p", config) {
		k, v, _ := strings.Cut(line, "=")
		labels[k] = v
	}
	configs, err := FromLabels(labels)
	if err != nil {
		return nil, err
	}
	return nonNil(configs["m"]["p"]), nil
}

// nonNil returns m, or an empty map for a config with no keys at all.
func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
