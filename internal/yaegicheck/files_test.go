package yaegicheck

import (
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// otherOS and otherArch name a platform this test is not running on.
func otherPlatform() (string, string) {
	goos, arch := "windows", "s390x"
	if runtime.GOOS == goos {
		goos = "linux"
	}
	if runtime.GOARCH == arch {
		arch = "amd64"
	}
	return goos, arch
}

func TestFilesSelectsAsYaegi(t *testing.T) {
	goos, arch := otherPlatform()
	header := func(lines ...string) string { return strings.Join(lines, "\n") + "\n\npackage p\n" }
	cases := []struct {
		name, src string
		loaded    bool
	}{
		{"plain.go", header("// Package p is plain."), true},
		{"plain_test.go", header(), true},
		{"gc.go", header("//go:build gc", "// +build gc"), false},
		{"notgc.go", header("//go:build !gc", "// +build !gc"), true},
		{"gobuild_only.go", header("//go:build ignore"), true},
		{"plusbuild_nospace.go", header("//+build ignore"), false},
		{"cgo.go", header("// +build cgo"), false},
		{"race.go", header("// +build race"), false},
		{"unix.go", header("// +build unix"), false},
		{"yaegi.go", header("// +build yaegi"), false},
		{"thisos.go", header("// +build " + runtime.GOOS), true},
		{"thisplatform.go", header("// +build " + runtime.GOOS + "," + runtime.GOARCH), true},
		{"either.go", header("// +build " + goos + " " + runtime.GOOS), true},
		{"both_lines.go", header("// +build "+runtime.GOOS, "// +build "+goos), false},
		{"double_negation.go", header("// +build !!gc"), true},
		{"go122.go", header("// +build go1.22"), true},
		{"go123.go", header("// +build go1.23"), false},
		{"after_clause.go", "package p\n\n// +build ignore\n", false}, // Yaegi reads it; go would not
		{"x_" + runtime.GOOS + ".go", header(), true},
		{"x_" + goos + ".go", header(), false},
		{"x_" + arch + ".go", header(), false},
		{"x_" + runtime.GOOS + "_" + arch + ".go", header(), false},
		{"x_" + goos + "_test.go", header(), true}, // Yaegi's quirk: _test hides the GOOS
		{"_hidden.go", header(), false},
		{".dot.go", header(), false},
		{"notes.txt", "", false},
	}
	files := map[string]string{}
	var want []string
	for _, c := range cases {
		files["p/"+c.name] = c.src
		if c.loaded {
			want = append(want, c.name)
		}
	}
	sort.Strings(want)
	root := writeModule(t, files)
	got, err := Files(filepath.Join(root, "p"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Files:\n %s\nwant\n %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}
