package yaegicheck

import (
	"bufio"
	"fmt"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// newerAPI knows the package-level standard library names added after Go
// 1.22, read from GOROOT/api/go1.N.txt. Yaegi v0.16.1's standard library
// is a table of Go 1.22 symbols, so they are undefined under it
// (strings.SplitSeq: `package strings "strings" has no symbol SplitSeq`).
// Newer methods of standard library types are not listed: Yaegi calls them
// through reflection on the compiled types, so they exist whenever the Go
// that built Traefik has them.
var newerAPI = &apiVersions{}

type apiVersions struct {
	once  sync.Once
	err   error
	added map[string]int // "path.Name" → Go minor version that added it
}

var (
	apiFile = regexp.MustCompile(`^go1\.(\d+)\.txt$`)
	// apiLine leaves out platform-specific lines ("pkg syscall (linux-386),
	// ..."): they extend a name to one more platform as often as they add it.
	apiLine = regexp.MustCompile(`^pkg ([^ ,]+), (func|type|const|var) (\w+)(.*)$`)
)

// since returns the Go minor version that added the package-level name
// path.name after Go 1.22, or 0.
func (a *apiVersions) since(path, name string) (int, error) {
	a.once.Do(a.load)
	return a.added[path+"."+name], a.err
}

func (a *apiVersions) load() {
	dir := filepath.Join(build.Default.GOROOT, "api")
	entries, err := os.ReadDir(dir)
	if err != nil {
		a.err = fmt.Errorf("read the standard library's API history: %w", err)
		return
	}
	a.added = map[string]int{}
	for _, e := range entries {
		m := apiFile.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		minor, _ := strconv.Atoi(m[1])
		if minor <= yaegiGoMinor {
			continue
		}
		if err := a.read(filepath.Join(dir, e.Name()), minor); err != nil {
			a.err = err
			return
		}
	}
}

func (a *apiVersions) read(path string, minor int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := apiLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		rest := strings.TrimLeft(m[4], " ")
		if m[2] == "type" && (strings.HasPrefix(rest, "struct, ") || strings.HasPrefix(rest, "interface, ")) {
			continue // a new field or interface method, not a new type
		}
		key := m[1] + "." + m[3]
		if old, ok := a.added[key]; !ok || minor < old {
			a.added[key] = minor
		}
	}
	return sc.Err()
}
