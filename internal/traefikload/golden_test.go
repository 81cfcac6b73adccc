package traefikload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
)

// TestGoldenInterpretedAndCompiled runs every golden case through the
// plugin loaded the way Traefik loads it (Yaegi, config map decoded with
// mapstructure) and through the compiled package with the same decoding,
// and requires the exact expected reply from both: same status, same body
// byte for byte, same result and rule. The config map has the shape
// Traefik's file provider gives (AsFile: scalars as strings).
func TestGoldenInterpretedAndCompiled(t *testing.T) {
	runGolden(t, func(t *testing.T, c *golden.Case) map[string]any { return shaped(t, AsFile, caseConfig(t, c)) })
}

// TestGoldenLabels runs every golden case again with its config as the
// Docker provider gives it: rendered as labels and decoded by Traefik's
// label decoder (AsLabels). Labels cannot carry forward.fallbackEvents:
// its keys are event names, whose dots a label key reads as nesting, so
// the middleware is refused (never built without the override); those
// cases check that refusal instead.
func TestGoldenLabels(t *testing.T) {
	runGolden(t, func(t *testing.T, c *golden.Case) map[string]any {
		config := caseConfig(t, c)
		labels := shaped(t, AsLabels, config)
		forward, _ := config["forward"].(map[string]any)
		if _, set := forward["fallbackEvents"]; !set {
			return labels
		}
		_, ierr := Shared(t).New(t.Context(), c.Upstream.Handler(), labels, UniqueName(t))
		_, cerr := BuildCompiled(labels, c.Upstream.Handler(), UniqueName(t))
		for mode, err := range map[string]error{"interpreted": ierr, "compiled": cerr} {
			if err == nil || !strings.Contains(err.Error(), "FallbackEvents") {
				t.Errorf("%s: fallbackEvents from labels: error %v, want a refusal naming FallbackEvents", mode, err)
			}
		}
		return nil
	})
}

// TestGoldenCRD runs every golden case again with its config as the
// Kubernetes CRD provider gives it: decoded from JSON, numbers as float64.
func TestGoldenCRD(t *testing.T) {
	runGolden(t, func(t *testing.T, c *golden.Case) map[string]any { return caseConfig(t, c) })
}

// shaped returns config as a provider hands it, or fails the test.
func shaped(t *testing.T, provider func(map[string]any) (map[string]any, error), config map[string]any) map[string]any {
	t.Helper()
	out, err := provider(config)
	if err != nil {
		t.Fatalf("provider shape: %v", err)
	}
	return out
}

// runGolden runs every case with the config configOf gives; a nil config
// means configOf checked the case itself.
func runGolden(t *testing.T, configOf func(*testing.T, *golden.Case) map[string]any) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			config := configOf(t, c)
			if config == nil {
				return
			}
			next := c.Upstream.Handler()
			builds := []struct {
				name    string
				handler http.Handler
			}{
				{"interpreted", New(t, config, next)},
				{"compiled", NewCompiled(t, config, next)},
			}
			var replies [2]string
			for j, b := range builds {
				rec := serveCase(t, c, b.handler)
				if diff := c.Check(rec.Code, rec.Body.Bytes()); diff != "" {
					t.Errorf("%s: %s", b.name, diff)
				}
				result, rule := SplitDecision(rec.Header().Get(GoldenHeader))
				if c.Expect.Result != "" && result != c.Expect.Result {
					t.Errorf("%s: result %q, want %q", b.name, result, c.Expect.Result)
				}
				if c.Expect.Rule != "" && rule != c.Expect.Rule {
					t.Errorf("%s: rule %q, want %q", b.name, rule, c.Expect.Rule)
				}
				replies[j] = rec.Header().Get(GoldenHeader) + "\n" + rec.Body.String()
			}
			if replies[0] != replies[1] {
				t.Errorf("interpreted and compiled replies differ:\n  interpreted %s\n  compiled    %s", replies[0], replies[1])
			}
		})
	}
}

// caseConfig returns CaseConfig or fails the test.
func caseConfig(t *testing.T, c *golden.Case) map[string]any {
	t.Helper()
	config, err := CaseConfig(c)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return config
}

// serveCase sends the case's request Repeat times and returns the last reply.
func serveCase(t *testing.T, c *golden.Case, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	var rec *httptest.ResponseRecorder
	for i := 0; i < c.Repeat; i++ {
		req, err := c.NewRequest("", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
	return rec
}
