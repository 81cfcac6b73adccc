package yaegicheck

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// yaegiGoMinor is the highest Go minor version whose go1.N build tag the
// check takes as satisfied. Yaegi v0.16.1 reads the tag from the release tags
// of the Go that compiled it, so it varies with the Traefik build; its
// language and standard library stop at Go 1.22, and so does the check.
const yaegiGoMinor = 22

// Files returns the names of the .go files of dir that Yaegi v0.16.1 loads
// for `yaegi test` (test files included), sorted. It mirrors the
// interpreter's own rules (interp/build.go), which differ from the go
// command's: only `// +build` lines count, in any comment up to the first
// token after the package clause (even one below it); `//go:build` lines are
// ignored; the only tags set are GOOS, GOARCH and go1.1 to go1.22, so gc,
// cgo, race, unix and any custom tag are false.
func Files(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read package directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || skipName(e.Name()) {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		ok, err := buildOK(e.Name(), src)
		if err != nil {
			return nil, err
		}
		if ok {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// buildOK reports whether every `+build` line Yaegi reads holds, as Yaegi
// evaluates them: it parses up to the package clause, comments included.
func buildOK(name string, src []byte) (bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.PackageClauseOnly|parser.ParseComments)
	if err != nil {
		return false, fmt.Errorf("parse %s: %w", name, err)
	}
	for _, g := range f.Comments {
		for _, line := range strings.Split(strings.TrimSpace(g.Text()), "\n") {
			if !buildLineOK(line) {
				return false, nil
			}
		}
	}
	return true, nil
}

// buildLineOK evaluates one comment line: true unless it is a `+build` line
// none of whose space-separated options holds.
func buildLineOK(line string) bool {
	rest, ok := strings.CutPrefix(line, "+build ")
	if !ok {
		return true
	}
	for _, option := range strings.Split(strings.TrimSpace(rest), " ") {
		if buildOptionOK(option) {
			return true
		}
	}
	return false
}

// buildOptionOK reports whether all comma-separated tags of an option hold.
func buildOptionOK(option string) bool {
	for _, tag := range strings.Split(option, ",") {
		if !buildTagOK(tag) {
			return false
		}
	}
	return true
}

// buildTagOK evaluates one tag, negated by a single leading "!".
func buildTagOK(tag string) bool {
	neg := strings.HasPrefix(tag, "!")
	if neg {
		tag = tag[1:]
	}
	ok := false
	switch {
	case tag == runtime.GOOS, tag == runtime.GOARCH:
		ok = true
	case strings.HasPrefix(tag, "go1."):
		n, err := strconv.Atoi(tag[len("go1."):])
		ok = err == nil && n <= yaegiGoMinor
	}
	return ok != neg
}

// skipName mirrors Yaegi's skipFile for `yaegi test`, quirks included:
// non-Go files and names starting with _ or . are skipped, and so are
// GOOS/GOARCH suffixes for another platform, but only the last two
// underscore-separated words count and "_test" is one of them, so Yaegi
// loads x_windows_test.go on Linux.
func skipName(name string) bool {
	base, ok := strings.CutSuffix(name, ".go")
	if !ok || strings.HasPrefix(base, "_") || strings.HasPrefix(base, ".") {
		return true
	}
	i := strings.Index(base, "_")
	if i < 0 {
		return false
	}
	parts := strings.Split(base[i+1:], "_")
	last := parts[len(parts)-1]
	if len(parts) >= 2 {
		switch prev := parts[len(parts)-2]; {
		case prev == runtime.GOOS:
			return knownArch[last] && last != runtime.GOARCH
		case knownOS[prev] && knownArch[last]:
			return true
		default:
			return knownArch[last] && last != runtime.GOARCH
		}
	}
	return knownOS[last] && last != runtime.GOOS || knownArch[last] && last != runtime.GOARCH
}

var knownOS = map[string]bool{
	"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true,
	"illumos": true, "ios": true, "js": true, "linux": true, "netbsd": true,
	"openbsd": true, "plan9": true, "solaris": true, "wasip1": true, "windows": true,
}

var knownArch = map[string]bool{
	"386": true, "amd64": true, "arm": true, "arm64": true, "loong64": true,
	"mips": true, "mips64": true, "mips64le": true, "mipsle": true, "ppc64": true,
	"ppc64le": true, "s390x": true, "wasm": true,
}
