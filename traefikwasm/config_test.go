package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikconf"
)

// TestDecodeConfigMatchesYaegi decodes every golden case's config as
// Traefik hands it to a WASM plugin (the provider's map, marshaled to
// JSON), from the file provider and from Docker labels, and compares it
// with what Traefik's Yaegi loader decodes from the same map for the
// interpreted plugin: the same keys and values must mean the same thing,
// and a map one refuses the other refuses too.
func TestDecodeConfigMatchesYaegi(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]func(map[string]any) (map[string]any, error){"file": traefikconf.AsFile, "labels": traefikconf.AsLabels}
	for _, c := range cases {
		config, err := c.ConfigMap()
		if err != nil {
			t.Fatal(err)
		}
		for name, shape := range shapes {
			shaped, err := shape(config)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, name, err)
			}
			data, err := json.Marshal(shaped)
			if err != nil {
				t.Fatal(err)
			}
			var want core.Config
			yaegiErr := traefikconf.Decode(shaped, &want)
			got, err := decodeConfig(data)
			if yaegiErr != nil {
				// Labels cannot carry forward.fallbackEvents (event names
				// hold dots): both runtimes must refuse the same map.
				if err == nil {
					t.Errorf("%s %s: the Yaegi loader refuses the config (%v), the WASM plugin took it", c.Name, name, yaegiErr)
				}
				continue
			}
			if hasRate(want) {
				if !errors.Is(err, errUnsupported) {
					t.Errorf("%s %s: a rate rule was not refused: %v", c.Name, name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s:\n got  %+v\n want %+v", c.Name, name, got, want)
			}
		}
	}
}

func hasRate(cfg core.Config) bool {
	for _, r := range cfg.Rules {
		if r.Rate != "" {
			return true
		}
	}
	return false
}

func TestDecodeConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
	}{
		{"not JSON", `{"rules":`, "reading the configuration Traefik passed"},
		{"wrong type", `{"rules":"x"}`, "decoding the configuration"},
		{"rate rule", `{"rules":[{"name":"r","rate":"5/1m","action":"deny"}]}`, `rules[0].rate (rule "r")`},
		{"shadow rate rule", `{"rules":[{"name":"a","action":"allow"},{"name":"s","rate":"5/1m","action":"deny","shadow":true}]}`, `rules[1].rate (rule "s")`},
		{"shared store", `{"store":{"type":"redis","address":"redis://127.0.0.1:6379"}}`, `store.type "redis": the WASM plugin cannot reach a shared store`},
	} {
		_, err := decodeConfig([]byte(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	if cfg, err := decodeConfig(nil); err != nil || !reflect.DeepEqual(cfg, core.Config{}) {
		t.Errorf("no config: %+v %v", cfg, err)
	}
}
