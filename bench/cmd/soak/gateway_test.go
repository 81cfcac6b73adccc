package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/soak"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikconf"
	"gopkg.in/yaml.v3"
)

// configs are the imgate configurations the phases load.
func configs(t *testing.T) map[string]core.Config {
	dir := t.TempDir()
	return map[string]core.Config{
		"soak":     soak.SoakConfig(filepath.Join(dir, "probe.txt"), 7, 20*time.Millisecond, 2*time.Hour),
		"faults":   soak.FaultConfig(250*time.Millisecond, 2*time.Hour),
		"delivery": soak.DeliveryConfig("http://127.0.0.1:9/after", filepath.Join(dir, "spool"), 100*time.Millisecond, 2*time.Second, 2*time.Hour),
	}
}

// TestTraefikDynamic: decoded the way Traefik's file provider and the
// plugin's decoder do, the dynamic file hands the plugin exactly the
// phase's configuration, and routes to the upstream or to noop@internal.
func TestTraefikDynamic(t *testing.T) {
	for name, cfg := range configs(t) {
		for _, upstream := range []string{"", "http://127.0.0.1:9"} {
			dynamic, err := traefikDynamic(cfg, upstream)
			if err != nil {
				t.Fatal(err)
			}
			content, err := yaml.Marshal(dynamic)
			if err != nil {
				t.Fatal(err)
			}
			plugins, err := traefikconf.FromFile(content, ".yml")
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, content)
			}
			var got core.Config
			if err := traefikconf.Decode(plugins["imgate"]["imgate"], &got); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, cfg) {
				t.Errorf("%s: the plugin gets\n%+v\nwant\n%+v", name, got, cfg)
			}
			router := dynamic["http"].(map[string]any)["routers"].(map[string]any)["soak"].(map[string]any)
			wantService := "noop@internal"
			if upstream != "" {
				wantService = "soak-upstream"
			}
			if router["service"] != wantService {
				t.Errorf("%s: service %v, want %s", name, router["service"], wantService)
			}
		}
	}
}

// TestCaddyConfig: Caddy's JSON carries the phase's configuration as the
// imgate handler (decoded strictly, as Caddy does), in front of a
// reverse_proxy to the upstream or a 502, and the generation in an
// unrelated route.
func TestCaddyConfig(t *testing.T) {
	for name, cfg := range configs(t) {
		raw, err := caddyConfig("127.0.0.1:1", "127.0.0.1:2", cfg, "http://127.0.0.1:9", 42)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Admin struct {
				Listen string `json:"listen"`
			} `json:"admin"`
			Apps struct {
				HTTP struct {
					Servers map[string]struct {
						Listen []string `json:"listen"`
						Routes []struct {
							Handle []json.RawMessage `json:"handle"`
						} `json:"routes"`
					} `json:"servers"`
				} `json:"http"`
			} `json:"apps"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		srv := doc.Apps.HTTP.Servers["soak"]
		if doc.Admin.Listen != "127.0.0.1:1" || len(srv.Listen) != 1 || srv.Listen[0] != "127.0.0.1:2" || len(srv.Routes) != 2 {
			t.Fatalf("%s: %s", name, raw)
		}
		if !bytes.Contains(srv.Routes[0].Handle[0], []byte("generation 42")) {
			t.Errorf("%s: first route %s", name, srv.Routes[0].Handle[0])
		}
		var handler struct {
			Handler string `json:"handler"`
			core.Config
		}
		dec := json.NewDecoder(bytes.NewReader(srv.Routes[1].Handle[0]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&handler); err != nil || handler.Handler != "imgate" || !reflect.DeepEqual(handler.Config, cfg) {
			t.Errorf("%s: handler %s (%v)", name, srv.Routes[1].Handle[0], err)
		}
		if !bytes.Contains(srv.Routes[1].Handle[1], []byte(`"dial":"127.0.0.1:9"`)) {
			t.Errorf("%s: next %s", name, srv.Routes[1].Handle[1])
		}
	}
	raw, _ := caddyConfig("127.0.0.1:1", "127.0.0.1:2", core.Config{}, "", 0)
	if !bytes.Contains(raw, []byte(`"status_code":502`)) {
		t.Errorf("without an upstream: %s", raw)
	}
}

func TestPrune(t *testing.T) {
	got := prune(map[string]any{
		"a": map[string]any{}, "b": []any{}, "c": 10101.0, "d": 1.5, "e": "x",
		"f": map[string]any{"g": map[string]any{}}, "h": []any{3.0, "y"},
	})
	want := map[string]any{"c": int64(10101), "d": 1.5, "e": "x", "h": []any{int64(3), "y"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("prune = %#v", got)
	}
}
