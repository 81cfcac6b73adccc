package yaegicheck

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is the imgate module root, two levels up from this package.
var repoRoot = filepath.Join("..", "..")

// interpreted lists the packages .ci/traefik.sh runs under `yaegi test`,
// with the options that fit where each runs.
var interpreted = []struct {
	dir  string
	opts Options
}{
	{"core", Options{}},
	{"traefikplugin", Options{Plugin: true}},
	{"internal/golden", Options{}},
	{"internal/upstreamtest", Options{}},
	{"internal/redistest", Options{}},
}

// TestInterpretedPackagesAreYaegiSafe is the CI check: any construct known
// to break under Yaegi v0.16.1 in a package Traefik (or `yaegi test`)
// interprets fails the build, with the file, line and what to write
// instead.
func TestInterpretedPackagesAreYaegiSafe(t *testing.T) {
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range interpreted {
		findings, err := Check(filepath.Join(root, p.dir), p.opts)
		if err != nil {
			t.Errorf("%s: %v", p.dir, err)
		}
		for _, f := range findings {
			if rel, err := filepath.Rel(root, f.Pos.Filename); err == nil {
				f.Pos.Filename = rel
			}
			t.Errorf("%s", f)
		}
	}
}

// TestInterpretedListMatchesCI keeps the list above in step with the
// packages .ci/traefik.sh hands to `yaegi test`.
func TestInterpretedListMatchesCI(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "traefik.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^for pkg in ([^;]+); do$`).FindSubmatch(script)
	if m == nil {
		t.Fatal(`.ci/traefik.sh: no "for pkg in ...; do" line`)
	}
	var dirs []string
	for _, p := range interpreted {
		dirs = append(dirs, p.dir)
	}
	if got, want := strings.Join(strings.Fields(string(m[1])), " "), strings.Join(dirs, " "); got != want {
		t.Errorf(".ci/traefik.sh runs %q under yaegi, this check covers %q", got, want)
	}
}

// TestRepositoryFileSelection pins Yaegi's view of core: the gc-only JSON
// scanner and race-only tests are left out, their portable twins loaded.
func TestRepositoryFileSelection(t *testing.T) {
	files, err := Files(filepath.Join(repoRoot, "core"))
	if err != nil {
		t.Fatal(err)
	}
	loaded := map[string]bool{}
	for _, f := range files {
		loaded[f] = true
	}
	for name, want := range map[string]bool{
		"jsonscan_gc.go":      false,
		"jsonscan_gc_test.go": false,
		"race_on_test.go":     false,
		"jsonscan_other.go":   true,
		"race_off_test.go":    true,
		"engine.go":           true,
		"engine_test.go":      true,
	} {
		if loaded[name] != want {
			t.Errorf("core/%s loaded = %v, want %v", name, loaded[name], want)
		}
	}
}
