package wasmhost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikload"
)

// TestGolden runs every golden case through plugin.wasm in the host
// Traefik embeds, next to the compiled Yaegi plugin: both replies must be
// the golden one and equal byte for byte (status, decision, body). Cases
// with rate rules must be refused at load with the reason (see
// TestRateRulesRefused); the rest run.
//
// Not under the race detector: there the pool drops instances at random,
// so most cases start a fresh Go runtime in wazero, and the run takes
// five times as long (481 s against 77 s on 2 cores) to check guest code
// the race detector cannot see into. test.sh runs it without -race, and
// internal/traefikreal runs every case through the real Traefik as well.
func TestGolden(t *testing.T) {
	skipUnderRace(t)
	mod := module(t)
	dir := testdataDir(t)
	golden.RunAll(t, func(t *testing.T, c *golden.Case) []golden.Target {
		config, err := c.ConfigWithDecisionHeader()
		if err != nil {
			t.Fatal(err)
		}
		var log logs
		mw, err := mod.New(context.Background(), config, c.Upstream.Handler(), log.logf, dir)
		if HasRateRule(config) {
			if err == nil || !strings.Contains(logText(log.all()), "rate limits need memory that every request shares") {
				t.Fatalf("a config with a rate rule was not refused with the reason: err %v, log %s", err, logText(log.all()))
			}
			return nil
		}
		if err != nil {
			t.Fatalf("wasm middleware: %v; log: %s", err, logText(log.all()))
		}
		t.Cleanup(func() { mw.Close(context.Background()) })
		compiled := traefikload.NewCompiled(t, config, c.Upstream.Handler())
		return []golden.Target{
			{Name: "compiled plugin", Send: func(t *testing.T, r *http.Request, last bool) golden.Reply {
				rec := httptest.NewRecorder()
				compiled.ServeHTTP(rec, r)
				return golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: rec.Header().Get(golden.DecisionHeader)}
			}},
			{Name: "wasm plugin", Send: func(t *testing.T, r *http.Request, last bool) golden.Reply {
				log.reset()
				rec := httptest.NewRecorder()
				mw.ServeHTTP(rec, AsServed(r))
				reply := golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: rec.Header().Get(golden.DecisionHeader), ShadowSeen: true}
				for _, l := range log.all() {
					for _, hit := range strings.Split(fieldOf(l.msg, "shadow"), ",") {
						if rule, _, ok := strings.Cut(hit, ":"); ok {
							reply.Shadow = append(reply.Shadow, rule)
						}
					}
				}
				return reply
			}},
		}
	})
}

func logText(lines []logLine) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("\n  ")
		b.WriteString(l.msg)
	}
	return b.String()
}
