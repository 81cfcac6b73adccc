package rules

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

// TestLoad: the committed rules file decodes and builds an engine with the
// rules the benchmark's workloads rely on.
func TestLoad(t *testing.T) {
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tencent.Token == "" || len(cfg.Rules) == 0 || len(cfg.Lists) == 0 {
		t.Fatalf("rules.json lacks the Tencent token, the rules or the lists: %+v", cfg)
	}
	if _, err := core.New(cfg); err != nil {
		t.Fatalf("rules.json does not build an engine: %v", err)
	}
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content, want string }{
		{"unknown key", `{"rulez": []}`, "unknown field"},
		{"not JSON", `{`, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Read(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Read(%s) = %v, want an error naming the file and %q", tt.content, err, tt.want)
			}
		})
	}
	if _, err := Read(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("a missing file was read")
	}
}

// TestServe: the handler is built from the rules file, a build error names
// the file, and a listen error comes back rather than a hang. (Serving
// itself is the servers' tests and the harness's reply check.)
func TestServe(t *testing.T) {
	path, err := File()
	if err != nil {
		t.Fatal(err)
	}
	errBuild := errors.New("no handler")
	err = Serve("127.0.0.1:0", path, func(cfg core.Config) (http.Handler, error) {
		if len(cfg.Rules) == 0 {
			t.Error("the handler was built without the rules")
		}
		return nil, errBuild
	})
	if !errors.Is(err, errBuild) || !strings.Contains(err.Error(), path) {
		t.Errorf("build error: %v, want it wrapped with the file", err)
	}
	built := false
	err = Serve("127.0.0.1:-1", path, func(core.Config) (http.Handler, error) {
		built = true
		return http.NotFoundHandler(), nil
	})
	if !built || err == nil {
		t.Errorf("built %v, listen error %v; want the handler built and the bad address refused", built, err)
	}
	if err := Serve("127.0.0.1:0", path+".missing", nil); err == nil {
		t.Error("a missing rules file was served")
	}
}
