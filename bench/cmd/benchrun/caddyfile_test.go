package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/imgate/imgate/bench/rules"
	_ "github.com/imgate/imgate/caddymodule"
	"github.com/imgate/imgate/core"
)

// adapt turns a bench Caddyfile into Caddy JSON with the runner's variables.
func adapt(t *testing.T, name string) map[string]any {
	t.Helper()
	t.Setenv("BENCH_PORT", "18083")
	t.Setenv("BENCH_ADMIN_PORT", "18183")
	t.Setenv("BENCH_UPSTREAM_PORT", "18090")
	path := filepath.Join("..", "..", "configs", name)
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(body, map[string]any{"filename": path})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, w := range warnings {
		t.Errorf("%s: warning: %s", name, w.Message)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// handlers collects every handler object named kind, anywhere in cfg.
func handlers(v any, kind string) []map[string]any {
	var out []map[string]any
	switch x := v.(type) {
	case map[string]any:
		if x["handler"] == kind {
			out = append(out, x)
		}
		for _, child := range x {
			out = append(out, handlers(child, kind)...)
		}
	case []any:
		for _, child := range x {
			out = append(out, handlers(child, kind)...)
		}
	}
	return out
}

func imgateConfig(t *testing.T, h map[string]any) core.Config {
	t.Helper()
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var cfg core.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCaddyfileRulesMatchService: setup C decides with exactly the rules the
// status quo service (D, E) applies from rules.json.
func TestCaddyfileRulesMatchService(t *testing.T) {
	want, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	hs := handlers(adapt(t, "C.Caddyfile"), "imgate")
	if len(hs) != 1 {
		t.Fatalf("C.Caddyfile has %d imgate handlers, want 1", len(hs))
	}
	if got := imgateConfig(t, hs[0]); !reflect.DeepEqual(got, want) {
		t.Fatalf("C.Caddyfile rules differ from rules.json:\n got %+v\nwant %+v", got, want)
	}
}

// TestCaddyfileSetups checks what each Caddy setup runs: B only responds, D
// only proxies, E verifies like C and forwards everything normalized, and
// nothing logs access.
func TestCaddyfileSetups(t *testing.T) {
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file                     string
		respond, imgate, proxies int
	}{
		{"B.Caddyfile", 2, 0, 0},
		{"C.Caddyfile", 0, 1, 0},
		{"D.Caddyfile", 0, 0, 1},
		{"E.Caddyfile", 0, 1, 1},
	}
	for _, tt := range tests {
		cfg := adapt(t, tt.file)
		if n := len(handlers(cfg, "static_response")); n != tt.respond {
			t.Errorf("%s: %d respond handlers, want %d", tt.file, n, tt.respond)
		}
		if n := len(handlers(cfg, "imgate")); n != tt.imgate {
			t.Errorf("%s: %d imgate handlers, want %d", tt.file, n, tt.imgate)
		}
		proxies := handlers(cfg, "reverse_proxy")
		if len(proxies) != tt.proxies {
			t.Errorf("%s: %d reverse_proxy handlers, want %d", tt.file, len(proxies), tt.proxies)
		}
		for _, p := range proxies {
			raw, _ := json.Marshal(p["upstreams"])
			if string(raw) != `[{"dial":"127.0.0.1:18090"}]` {
				t.Errorf("%s: upstreams %s", tt.file, raw)
			}
		}
		servers := cfg["apps"].(map[string]any)["http"].(map[string]any)["servers"].(map[string]any)
		for name, s := range servers {
			srv := s.(map[string]any)
			if srv["logs"] != nil {
				t.Errorf("%s: server %s logs access", tt.file, name)
			}
			if raw, _ := json.Marshal(srv["listen"]); string(raw) != `["127.0.0.1:18083"]` {
				t.Errorf("%s: server %s listens on %s", tt.file, name, raw)
			}
		}
	}
	e := imgateConfig(t, handlers(adapt(t, "E.Caddyfile"), "imgate")[0])
	if !forwardsEverything(e, cfg) {
		t.Errorf("E.Caddyfile imgate config %+v: want rules.json's verification, no rules, everything forwarded normalized to /imgate/decide", e)
	}
}

// forwardsEverything reports whether cfg verifies like the rules but has
// none, forwarding every callback normalized to the status quo service's
// /imgate/decide (setups E and T2).
func forwardsEverything(cfg, rules core.Config) bool {
	return reflect.DeepEqual(cfg.Tencent, rules.Tencent) && cfg.DefaultAction == core.ActionForward && len(cfg.Rules) == 0 &&
		cfg.Forward.Format == core.FormatNormalized && cfg.Forward.Path == "/imgate/decide"
}
