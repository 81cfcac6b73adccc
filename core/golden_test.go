package core_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// TestGolden runs every case in testdata/golden through Engine.Serve, the
// same entry point the Caddy and Traefik adapters use.
func TestGolden(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			var cfg core.Config
			dec := json.NewDecoder(bytes.NewReader(c.Config))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&cfg); err != nil {
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
			var rec *httptest.ResponseRecorder
			var out *core.Outcome
			for i := 0; i < c.Repeat; i++ {
				req, err := c.NewRequest("", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				rec = httptest.NewRecorder()
				out = engine.Serve(rec, req, "", next)
			}
			if diff := c.Check(rec.Code, rec.Body.Bytes()); diff != "" {
				t.Fatalf("%s (result %s, reason %s, err %v)", diff, out.Result, out.Reason, out.Err)
			}
			if c.Expect.Result != "" && out.Result != c.Expect.Result {
				t.Errorf("result %q, want %q (reason %s, err %v)", out.Result, c.Expect.Result, out.Reason, out.Err)
			}
			if c.Expect.Rule != "" && out.Rule != c.Expect.Rule {
				t.Errorf("rule %q, want %q", out.Rule, c.Expect.Rule)
			}
			if len(c.Expect.Shadow) != len(out.Shadow) {
				t.Errorf("shadow hits %v, want %v", out.Shadow, c.Expect.Shadow)
			}
			for i := 0; i < len(c.Expect.Shadow) && i < len(out.Shadow); i++ {
				if out.Shadow[i].Rule != c.Expect.Shadow[i] {
					t.Errorf("shadow hit %d is %q, want %q", i, out.Shadow[i].Rule, c.Expect.Shadow[i])
				}
			}
		})
	}
}
