package yaegicheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// snippet is a small package checked as p in a throwaway module
// example.com/m. Lines ending in `// want <rule> ...` must get exactly
// those findings; every other line must get none.
type snippet struct {
	name string
	src  string // p/p.go
	// files adds files by module-relative path ("p/p_test.go", "q/q.go").
	files map[string]string
	opts  Options
	// want lists findings on lines a marker cannot sit on, as
	// "<module-relative file>:<line> <rule>".
	want []string
}

var wantMarker = regexp.MustCompile(`// want ((?:[a-z-]+ ?)+)$`)

// writeModule writes files under a new module root and returns it.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.22\n"
	for name, src := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// runSnippets checks each snippet and compares the findings with its
// markers.
func runSnippets(t *testing.T, cases []snippet) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for name, src := range tc.files {
				files[name] = src
			}
			if tc.src != "" {
				files["p/p.go"] = tc.src
			}
			var want []string
			for name, src := range files {
				for i, line := range strings.Split(src, "\n") {
					if m := wantMarker.FindStringSubmatch(line); m != nil {
						for _, rule := range strings.Fields(m[1]) {
							want = append(want, fmt.Sprintf("%s:%d %s", name, i+1, rule))
						}
					}
				}
			}
			want = append(want, tc.want...)
			root := writeModule(t, files)
			findings, err := Check(filepath.Join(root, "p"), tc.opts)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			var got []string
			for _, f := range findings {
				rel, _ := filepath.Rel(root, f.Pos.Filename)
				got = append(got, fmt.Sprintf("%s:%d %s", filepath.ToSlash(rel), f.Pos.Line, f.Rule))
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s\nin detail:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), describe(findings))
			}
		})
	}
}

func describe(findings []Finding) string {
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintln(&b, f)
	}
	return b.String()
}
