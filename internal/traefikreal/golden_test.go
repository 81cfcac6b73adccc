//go:build traefikreal

package traefikreal

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikconf"
	"github.com/imgate/imgate/internal/traefikload"
)

// goldenShapes are the forms a case's config is given to Traefik in, both
// through its file provider: "file" is the config as a YAML file holds it;
// "labels" is the map Traefik's Docker provider decodes from the config's
// labels (traefikconf.AsLabels), all strings, which the file provider
// passes on unchanged. Labels cannot carry forward.fallbackEvents (see
// traefikload.TestGoldenLabels), so those cases run in the file form only.
var goldenShapes = []string{"file", "labels"}

// TestGolden runs every golden case through a real Traefik: one router and
// one imgate middleware per case and shape (router
// Host(`<shape>-case<N>.golden.test`)), all configured through the file
// provider. A case's static upstream answer comes from a loopback service
// behind the router; a case without one gets a service on a closed port,
// which Traefik reports as 502. Each reply must be the golden one and
// equal byte for byte (status, decision, body) to the compiled plugin's
// reply to the same request (golden.Run compares the targets).
func TestGolden(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	tr := startImgate(t, Options{})
	answers := byHost{}
	upstream := serve(t, answers)
	down := downURL(t)
	routes := map[string]route{}
	configs := make([]map[string]any, len(cases))
	for i := range cases {
		c := &cases[i]
		if configs[i], err = c.ConfigWithDecisionHeader(); err != nil {
			t.Fatalf("%s: config: %v", c.Name, err)
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
			name := goldenRouter(shape, i)
			r := route{host: name + ".golden.test", middleware: config, service: down}
			if c.Upstream != nil {
				answers[r.host] = c.Upstream.Handler()
				r.service = upstream
			}
			routes[name] = r
		}
	}
	start := time.Now()
	apply(t, tr, dynamicConfig(routes))
	t.Logf("%d routers with an imgate middleware each live after %s", len(routes), time.Since(start).Round(time.Millisecond))

	client := Client()
	index := map[string]int{}
	for i := range cases {
		index[cases[i].Name] = i
	}
	golden.Run(t, cases, func(t *testing.T, c *golden.Case) []golden.Target {
		i := index[c.Name]
		compiled := traefikload.NewCompiled(t, configs[i], c.Upstream.Handler())
		targets := []golden.Target{{Name: "compiled plugin", Send: func(t *testing.T, r *http.Request, last bool) golden.Reply {
			rec := httptest.NewRecorder()
			compiled.ServeHTTP(rec, r)
			return golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: rec.Header().Get(golden.DecisionHeader)}
		}}}
		for _, shape := range goldenShapes {
			r, ok := routes[goldenRouter(shape, i)]
			if !ok {
				continue
			}
			targets = append(targets, golden.Target{Name: "real traefik (" + shape + ")", Base: tr.URL, Send: func(t *testing.T, req *http.Request, last bool) golden.Reply {
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

func goldenRouter(shape string, i int) string { return fmt.Sprintf("%s-case%d", shape, i) }

// hasFallbackEvents reports whether config sets forward.fallbackEvents.
func hasFallbackEvents(config map[string]any) bool {
	forward, _ := config["forward"].(map[string]any)
	_, set := forward["fallbackEvents"]
	return set
}
