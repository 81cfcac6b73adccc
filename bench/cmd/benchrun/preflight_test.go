package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/plan"
	"github.com/imgate/imgate/bench/rules"
)

func fixedClock() time.Time { return time.Unix(1700000000, 0) }

// expectation decides with bench/configs/rules.json at a fixed clock.
func expectation(t *testing.T) *Expectation {
	t.Helper()
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExpectation(cfg, "1700000000")
	if err != nil {
		t.Fatal(err)
	}
	x.rules.SetClock(fixedClock)
	return x
}

// TestPreflight: a server answering like imgate passes; one answering the
// allow reply to everything (what A and B do) fails the deciding check.
func TestPreflight(t *testing.T) {
	x := expectation(t)
	deciding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { x.rules.Serve(w, r, "", nil) }))
	defer deciding.Close()
	allowAll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { x.allow.Serve(w, r, "", nil) }))
	defer allowAll.Close()
	reqs, err := plan.Read(plan.Path(repoFromHere, "mix-deny10"))
	if err != nil {
		t.Fatal(err)
	}
	client := newClient()
	if err := x.Preflight(client, deciding.URL, reqs, true); err != nil {
		t.Errorf("imgate-like server: %v", err)
	}
	if err := x.Preflight(client, allowAll.URL, reqs, false); err != nil {
		t.Errorf("allow-all server as a non-deciding setup: %v", err)
	}
	err = x.Preflight(client, allowAll.URL, reqs, true)
	if err == nil || !strings.Contains(err.Error(), "banned") {
		t.Errorf("allow-all server passed as a deciding setup: %v", err)
	}
}
