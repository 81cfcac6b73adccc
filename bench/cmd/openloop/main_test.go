package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/openloop"
)

func TestRun(t *testing.T) {
	var targets []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		targets = append(targets, r.URL.RequestURI())
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bodies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bodies", "b.json"), []byte(`{"x":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	planPath := filepath.Join(dir, "w.plan")
	if err := os.WriteFile(planPath, []byte("/tencent?RequestTime={requestTime}&Sign={sign} b.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cfg := openloop.Config{Rate: 100, Duration: 100 * time.Millisecond, Connections: 1}
	if err := run(&out, planPath, srv.URL, "1700000000", "abc", cfg); err != nil {
		t.Fatal(err)
	}
	res, err := openloop.Parse(out.String())
	if err != nil || res.Completed != 10 {
		t.Fatalf("result %+v, %v from %q", res, err, out.String())
	}
	if len(targets) != 10 || targets[0] != "/tencent?RequestTime=1700000000&Sign=abc" {
		t.Fatalf("server saw %q", targets)
	}
	for _, bad := range []string{"", "127.0.0.1:80", "https://127.0.0.1:1"} {
		if err := run(&out, planPath, bad, "", "", cfg); err == nil {
			t.Errorf("base %q accepted", bad)
		}
	}
	if err := run(&out, filepath.Join(dir, "missing.plan"), srv.URL, "", "", cfg); err == nil {
		t.Error("a missing plan accepted")
	}
}
