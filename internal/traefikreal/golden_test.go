//go:build traefikreal

package traefikreal

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikload"
)

// goldenShapes are the forms a case's config is given to Traefik in, both
// through its file provider: "file" is the config as a YAML file holds it;
// "labels" is the map Traefik's Docker provider decodes from the config's
// labels (traefikload.AsLabels), all strings, which the file provider
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
// reply to the same request.
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
		if configs[i], err = traefikload.CaseConfig(c); err != nil {
			t.Fatalf("%s: config: %v", c.Name, err)
		}
		for _, shape := range goldenShapes {
			config := configs[i]
			if shape == "labels" {
				if hasFallbackEvents(config) {
					continue
				}
				if config, err = traefikload.AsLabels(config); err != nil {
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
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			compiled := traefikload.NewCompiled(t, configs[i], c.Upstream.Handler())
			var want string
			for n := 0; n < c.Repeat; n++ {
				req, err := c.NewRequest("", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				rec := httptest.NewRecorder()
				compiled.ServeHTTP(rec, req)
				want = reply(rec.Code, rec.Header().Get(traefikload.GoldenHeader), rec.Body.String())
			}
			for _, shape := range goldenShapes {
				r, ok := routes[goldenRouter(shape, i)]
				if !ok {
					continue
				}
				var real string
				for n := 0; n < c.Repeat; n++ {
					req, err := c.NewRequest(tr.URL, time.Now())
					if err != nil {
						t.Fatal(err)
					}
					status, decision, body := send(t, client, req, r.host, traefikload.GoldenHeader)
					if n == c.Repeat-1 {
						if diff := c.Check(status, []byte(body)); diff != "" {
							t.Errorf("real traefik, %s: %s", shape, diff)
						}
						checkDecision(t, shape, c, decision)
						real = reply(status, decision, body)
					}
				}
				if real != want {
					t.Errorf("real traefik (%s) and compiled plugin differ:\n  traefik  %s\n  compiled %s", shape, real, want)
				}
			}
		})
	}
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

// checkDecision checks the decision header's result and rule.
func checkDecision(t *testing.T, shape string, c *golden.Case, decision string) {
	t.Helper()
	result, rule := traefikload.SplitDecision(decision)
	if c.Expect.Result != "" && result != c.Expect.Result {
		t.Errorf("real traefik, %s: result %q, want %q (header %q)", shape, result, c.Expect.Result, decision)
	}
	if c.Expect.Rule != "" && rule != c.Expect.Rule {
		t.Errorf("real traefik, %s: rule %q, want %q", shape, rule, c.Expect.Rule)
	}
}
