package core_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// TestGolden runs every case in testdata/golden through Engine.Serve, the
// same entry point the Caddy and Traefik adapters use.
func TestGolden(t *testing.T) {
	golden.RunAll(t, func(t *testing.T, c *golden.Case) []golden.Target {
		var cfg core.Config
		if err := golden.StrictDecoder(c.Config).Decode(&cfg); err != nil {
			t.Fatalf("config: %v", err)
		}
		engine, err := core.New(cfg)
		if err != nil {
			t.Fatalf("core.New: %v", err)
		}
		upstream := c.Upstream.Handler()
		next := func(w http.ResponseWriter, r *http.Request) error {
			upstream.ServeHTTP(w, r)
			return nil
		}
		send := func(t *testing.T, r *http.Request, last bool) golden.Reply {
			rec := httptest.NewRecorder()
			out := engine.Serve(rec, r, "", next)
			reply := golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: out.Result + "; rule=" + out.Rule, ShadowSeen: true}
			for _, hit := range out.Shadow {
				reply.Shadow = append(reply.Shadow, hit.Rule)
			}
			return reply
		}
		return []golden.Target{{Name: "core", Send: send}}
	})
}
