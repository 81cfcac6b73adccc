//go:build traefikreal

package traefikreal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikconf"
	"github.com/imgate/imgate/internal/traefikload"
	"github.com/imgate/imgate/traefikwasm/wasmhost"
)

// TestGoldenWasm runs every golden case through the WASM plugin
// (traefikwasm's plugin.wasm) in the real Traefik, set up as
// docs/traefik.md tells users to: the plugin reads list files from
// settings.mounts, and a buffering middleware follows it so that a
// forwarded body of another length reaches the service. Each case gets a
// router per config shape (file, labels) as in TestGolden, and each reply
// must be the golden one and equal byte for byte (status, decision, body)
// to the compiled plugin's. Cases with a rate rule are not routed: the
// WASM plugin refuses them (TestWasmRefusesRateRules).
func TestGoldenWasm(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	tr := startWasm(t, Options{}, dir)
	answers := byHost{}
	upstream := serve(t, answers)
	down := downURL(t)
	// Cases with the same config and upstream share a router: the WASM
	// plugin keeps no state between callbacks that a case could see (rate
	// rules, the only such state, it refuses), and building a WASM
	// middleware instantiates a Go runtime, so one per case would make the
	// apply slow.
	routes := map[string]route{}
	routeOf := map[string]string{} // "<shape> <case index>" -> router
	byConfig := map[string]string{}
	configs := make([]map[string]any, len(cases))
	refused := 0
	for i := range cases {
		c := &cases[i]
		if configs[i], err = c.ConfigWithDecisionHeader(); err != nil {
			t.Fatalf("%s: config: %v", c.Name, err)
		}
		if wasmhost.HasRateRule(configs[i]) {
			refused++
			continue
		}
		for _, shape := range goldenShapes {
			config := configs[i]
			if shape == "labels" {
				if hasFallbackEvents(config) {
					continue
				}
				if config, err = traefikconf.AsLabels(config); err != nil {
					t.Fatalf("%s: labels: %v", c.Name, err)
				}
			}
			key, err := json.Marshal([]any{shape, config, c.Upstream})
			if err != nil {
				t.Fatal(err)
			}
			name, ok := byConfig[string(key)]
			if !ok {
				name = fmt.Sprintf("wasm-%s-%d", shape, len(byConfig))
				byConfig[string(key)] = name
				r := route{host: name + ".golden.test", middleware: config, service: down, plugin: WasmPluginName, buffered: true}
				if c.Upstream != nil {
					answers[r.host] = c.Upstream.Handler()
					r.service = upstream
				}
				routes[name] = r
			}
			routeOf[fmt.Sprintf("%s %d", shape, i)] = name
		}
	}
	start := time.Now()
	if err := tr.Apply(dynamicConfig(routes), wasmApplyTimeout); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d routers with a WASM imgate middleware each live after %s; %d cases with rate rules not routed", len(routes), time.Since(start).Round(time.Millisecond), refused)

	client := Client()
	index := map[string]int{}
	for i := range cases {
		index[cases[i].Name] = i
	}
	golden.Run(t, cases, func(t *testing.T, c *golden.Case) []golden.Target {
		i := index[c.Name]
		if wasmhost.HasRateRule(configs[i]) {
			return nil
		}
		compiled := traefikload.NewCompiled(t, configs[i], c.Upstream.Handler())
		targets := []golden.Target{{Name: "compiled plugin", Send: func(t *testing.T, r *http.Request, last bool) golden.Reply {
			rec := httptest.NewRecorder()
			compiled.ServeHTTP(rec, r)
			return golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: rec.Header().Get(golden.DecisionHeader)}
		}}}
		for _, shape := range goldenShapes {
			name, ok := routeOf[fmt.Sprintf("%s %d", shape, i)]
			if !ok {
				continue
			}
			r := routes[name]
			targets = append(targets, golden.Target{Name: "real traefik, wasm (" + shape + ")", Base: tr.URL, Send: func(t *testing.T, req *http.Request, last bool) golden.Reply {
				status, decision, body := send(t, client, req, r.host, golden.DecisionHeader)
				return golden.Reply{Status: status, Body: []byte(body), Decision: decision}
			}})
		}
		return targets
	})
	if err := tr.Problems(); err != nil {
		t.Error(err)
	}
}

// wasmApplyTimeout bounds how long Traefik may take to serve the WASM
// golden configuration: every middleware instantiates a Go runtime in
// wazero, slow on a loaded 2-core machine. It is a bound, not a
// measurement.
const wasmApplyTimeout = 6 * time.Minute

// TestWasmRefusesRateRules applies a golden config with a rate rule to the
// WASM plugin: Traefik must refuse the middleware, its router must serve
// nothing, and the log must give the reason.
func TestWasmRefusesRateRules(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	var config map[string]any
	for i := range cases {
		if c, _ := cases[i].ConfigMap(); wasmhost.HasRateRule(c) {
			config = c
			break
		}
	}
	if config == nil {
		t.Fatal("no golden case has a rate rule")
	}
	tr := startWasm(t, Options{})
	err = tr.Apply(dynamicConfig(map[string]route{"rated": {host: "rated.test", middleware: config, service: downURL(t), plugin: WasmPluginName}}), applyTimeout)
	if err == nil {
		t.Fatal("Traefik took a WASM middleware with a rate rule")
	}
	found := false
	for _, l := range tr.Logs() {
		if strings.Contains(l.Message, "rate limits need memory that every request shares") {
			found = true
		}
	}
	if !found {
		t.Errorf("no log line gives the reason; Apply said: %v", err)
	}
	status, decision, body := send(t, Client(), openIMJoin(tr.URL, "mallory"), "rated.test", "X-Imgate-Decision")
	if status != http.StatusNotFound {
		t.Errorf("the refused route answered %s, want Traefik's 404", reply(status, decision, body))
	}
}
