//go:build traefikreal

package replicas

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
	"github.com/imgate/imgate/internal/traefikreal"
)

// The Traefik plugin logs an outage and the recovery on its error stream.
const (
	traefikOutageLog   = "result=store_unavailable"
	traefikRecoveryLog = "result=store_available"
)

// startTraefik runs the real Traefik (IMGATE_TRAEFIK, built by
// .ci/traefik-build.sh) with this checkout as the local plugin and one
// router through the imgate middleware, until the test ends.
func startTraefik(t *testing.T, name string, cfg core.Config) replica {
	t.Helper()
	plugin, err := traefikreal.Imgate()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := traefikreal.Start(traefikreal.Options{Plugins: []traefikreal.LocalPlugin{plugin}})
	if err != nil {
		t.Fatalf("starting traefik: %v", err)
	}
	t.Cleanup(tr.Stop)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var middleware map[string]any
	if err = json.Unmarshal(data, &middleware); err != nil {
		t.Fatal(err)
	}
	dropEmpty(middleware)
	dynamic := map[string]any{"http": map[string]any{
		"routers": map[string]any{"imgate": map[string]any{
			"entryPoints": []any{traefikreal.EntryPoint},
			"rule":        "PathPrefix(`/im`)",
			"middlewares": []any{"imgate"},
			"service":     "noop@internal",
		}},
		"middlewares": map[string]any{"imgate": map[string]any{"plugin": map[string]any{traefikreal.PluginName: middleware}}},
	}}
	if err = tr.Apply(dynamic, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	logs := func() string {
		var b strings.Builder
		for _, l := range tr.PluginLines(traefikreal.PluginName) {
			b.WriteString(l.Message)
			b.WriteByte('\n')
		}
		return b.String()
	}
	return replica{name: name, url: tr.URL, logs: logs, outageLog: traefikOutageLog, recoveryLog: traefikRecoveryLog}
}

// TestCaddyTraefikShareBucket: a Caddy replica and a Traefik replica, one
// Redis, one limit; both run the same script on the same keys.
func TestCaddyTraefikShareBucket(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := sharedConfig(srv, uniquePrefix(t))
	a := startCaddy(t, "caddy", cfg)
	b := startTraefik(t, "traefik", cfg)
	assertShared(t, a, b)
}

// TestCaddyTraefikRedisOutage kills and restarts Redis under a Caddy and a
// Traefik replica.
func TestCaddyTraefikRedisOutage(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := sharedConfig(srv, uniquePrefix(t))
	a := startCaddy(t, "caddy", cfg)
	b := startTraefik(t, "traefik", cfg)
	assertOutage(t, srv, a, b)
}

// dropEmpty removes empty sections ("tencent": {}), which Traefik's file
// provider reads as empty strings, not maps; a user leaves them out.
func dropEmpty(m map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			dropEmpty(sub)
			if len(sub) == 0 {
				delete(m, k)
			}
		}
	}
}
