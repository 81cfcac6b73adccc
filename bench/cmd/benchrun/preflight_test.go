package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

func fixedClock() time.Time { return time.Unix(1700000000, 0) }

// TestPreflight: a server answering like imgate passes; one answering the
// allow reply to everything (what A and B do) fails the deciding check.
func TestPreflight(t *testing.T) {
	cfg, err := readRules(filepath.Join("..", "..", "configs", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExpectation(cfg, "1700000000")
	if err != nil {
		t.Fatal(err)
	}
	x.rules.SetClock(fixedClock)
	served, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served.SetClock(fixedClock)
	deciding := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Serve(w, r, "", nil) }))
	defer deciding.Close()
	allowAll := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { x.allow.Serve(w, r, "", nil) }))
	defer allowAll.Close()
	plan, err := ReadPlan(planPath(filepath.Join("..", "..", ".."), "mix-deny10"))
	if err != nil {
		t.Fatal(err)
	}
	client := newClient()
	if err := x.Preflight(client, deciding.URL, plan, true); err != nil {
		t.Errorf("imgate-like server: %v", err)
	}
	if err := x.Preflight(client, allowAll.URL, plan, false); err != nil {
		t.Errorf("allow-all server as a non-deciding setup: %v", err)
	}
	err = x.Preflight(client, allowAll.URL, plan, true)
	if err == nil || !strings.Contains(err.Error(), "banned") {
		t.Errorf("allow-all server passed as a deciding setup: %v", err)
	}
}
