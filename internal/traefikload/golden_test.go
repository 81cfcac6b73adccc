package traefikload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
)

// decisionHeader is added to every golden config so the suite can read the
// result and rule from the reply, as a Traefik access log would.
const decisionHeader = "X-Imgate-Golden-Decision"

// TestGoldenInterpretedAndCompiled runs every golden case through the
// plugin loaded the way Traefik loads it (Yaegi, config map decoded with
// mapstructure) and through the compiled package with the same decoding,
// and requires the exact expected reply from both: same status, same body
// byte for byte, same result and rule.
func TestGoldenInterpretedAndCompiled(t *testing.T) {
	runGolden(t, func(c *golden.Case) map[string]any { return caseConfig(t, c) })
}

// TestGoldenLabels runs every golden case again with its config in Docker
// label shape: every value a string, lists of ids comma-separated.
func TestGoldenLabels(t *testing.T) {
	runGolden(t, func(c *golden.Case) map[string]any { return Labels(caseConfig(t, c)) })
}

func runGolden(t *testing.T, configOf func(*golden.Case) map[string]any) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			config := configOf(c)
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
				result, rule := splitDecision(rec.Header().Get(decisionHeader))
				if c.Expect.Result != "" && result != c.Expect.Result {
					t.Errorf("%s: result %q, want %q", b.name, result, c.Expect.Result)
				}
				if c.Expect.Rule != "" && rule != c.Expect.Rule {
					t.Errorf("%s: rule %q, want %q", b.name, rule, c.Expect.Rule)
				}
				replies[j] = rec.Header().Get(decisionHeader) + "\n" + rec.Body.String()
			}
			if replies[0] != replies[1] {
				t.Errorf("interpreted and compiled replies differ:\n  interpreted %s\n  compiled    %s", replies[0], replies[1])
			}
		})
	}
}

// caseConfig returns the case's config as the map Traefik's file provider
// hands the plugin, with the decision header switched on.
func caseConfig(t *testing.T, c *golden.Case) map[string]any {
	t.Helper()
	config, err := c.ConfigMap()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if config == nil {
		config = map[string]any{}
	}
	if _, set := config["decisionHeader"]; !set {
		config["decisionHeader"] = decisionHeader
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

// splitDecision parses "<result>; rule=<rule>".
func splitDecision(h string) (result, rule string) {
	result, rest, _ := strings.Cut(h, "; ")
	return result, strings.TrimPrefix(rest, "rule=")
}
