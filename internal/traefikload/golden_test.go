package traefikload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikconf"
)

// TestGoldenInterpretedAndCompiled runs every golden case through the
// plugin loaded the way Traefik loads it (Yaegi, config map decoded with
// mapstructure) and through the compiled package with the same decoding,
// and requires the exact expected reply from both: same status, same body
// byte for byte, same result and rule. The config map has the shape
// Traefik's file provider gives (AsFile: scalars as strings).
func TestGoldenInterpretedAndCompiled(t *testing.T) {
	runGolden(t, func(t *testing.T, c *golden.Case) map[string]any {
		return shaped(t, traefikconf.AsFile, caseConfig(t, c))
	})
}

// TestGoldenLabels runs every golden case again with its config as the
// Docker provider gives it: rendered as labels and decoded by Traefik's
// label decoder (traefikconf.AsLabels). Labels cannot carry forward.fallbackEvents:
// its keys are event names, whose dots a label key reads as nesting, so
// the middleware is refused (never built without the override); those
// cases check that refusal instead.
func TestGoldenLabels(t *testing.T) {
	runGolden(t, func(t *testing.T, c *golden.Case) map[string]any {
		config := caseConfig(t, c)
		labels := shaped(t, traefikconf.AsLabels, config)
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

// runGolden runs every case, interpreted and compiled, with the config
// configOf gives; a nil config means configOf checked the case itself.
func runGolden(t *testing.T, configOf func(*testing.T, *golden.Case) map[string]any) {
	golden.RunAll(t, func(t *testing.T, c *golden.Case) []golden.Target {
		config := configOf(t, c)
		if config == nil {
			return nil
		}
		next := c.Upstream.Handler()
		return []golden.Target{
			handlerTarget("interpreted", New(t, config, next)),
			handlerTarget("compiled", NewCompiled(t, config, next)),
		}
	})
}

// handlerTarget sends a case's requests to an in-process handler.
func handlerTarget(name string, h http.Handler) golden.Target {
	return golden.Target{Name: name, Send: func(t *testing.T, r *http.Request, last bool) golden.Reply {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: rec.Header().Get(golden.DecisionHeader)}
	}}
}

// caseConfig returns the case's config with the golden decision header,
// or fails the test.
func caseConfig(t *testing.T, c *golden.Case) map[string]any {
	t.Helper()
	config, err := c.ConfigWithDecisionHeader()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return config
}
