package yaegicheck

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestDirectives(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "go:embed", files: map[string]string{
			"p/data.txt": "data",
			"p/p.go": `package p

import _ "embed"

//go:embed data.txt
var data string
`}, want: []string{"p/p.go:5 directive"}},
		{name: "go:build without +build", files: map[string]string{
			"p/p.go": "package p\n",
			"p/linux.go": `//go:build linux || darwin

package p

func onUnix() {}
`}, want: []string{"p/linux.go:1 directive"}},
		{name: "paired build lines, look-alikes", files: map[string]string{
			"p/gc.go": `//go:build gc
// +build gc

package p

func impl() int { return 1 }
`,
			"p/other.go": `//go:build !gc
// +build !gc

package p

func impl() int { return 2 }
`,
			"p/p.go": `package p

// go:embed is only mentioned here, not used.
const doc = "//go:embed data.txt"

//go:generate echo not a constraint
func f() int { return impl() }
`}},
	})
}

// A //go:build-only pair loads both files under Yaegi: the package does not
// compile, and the findings say why.
func TestDirectivesExplainTypeErrors(t *testing.T) {
	root := writeModule(t, map[string]string{
		"p/gc.go":    "//go:build gc\n\npackage p\n\nfunc impl() int { return 1 }\n",
		"p/other.go": "//go:build !gc\n\npackage p\n\nfunc impl() int { return 2 }\n",
	})
	findings, err := Check(filepath.Join(root, "p"), Options{})
	if !errors.Is(err, errTypeCheck) {
		t.Fatalf("err = %v, want a type-check error", err)
	}
	if len(findings) != 2 || findings[0].Rule != "directive" || findings[1].Rule != "directive" {
		t.Errorf("findings:\n%s\nwant one directive finding per file", describe(findings))
	}
}
