package yaegicheck

import (
	"bytes"
	"fmt"
	"go/build"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// std imports standard library packages for every check in the process, so
// that all of them share one set of standard library types.
var std = newStdImporter()

// stdImporter imports standard library packages from the export data the go
// command keeps in its build cache. importer.Default asks `go list` once per
// package (about 60 ms each); this asks once per batch of imports.
type stdImporter struct {
	mu      sync.Mutex
	exports map[string]string // import path → export data file
	gc      types.Importer
}

func newStdImporter() *stdImporter {
	s := &stdImporter{exports: map[string]string{}}
	s.gc = importer.ForCompiler(token.NewFileSet(), "gc", s.open)
	return s
}

// Import returns the standard library package path.
func (s *stdImporter) Import(path string) (*types.Package, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gc.Import(path)
}

// prefetch locates the export data of every path not yet known in one
// `go list` run.
func (s *stdImporter) prefetch(paths []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var missing []string
	for _, p := range paths {
		if _, ok := s.exports[p]; !ok && p != "unsafe" && p != "C" {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return s.list(missing)
}

// open is the gc importer's lookup; s.mu is held by Import.
func (s *stdImporter) open(path string) (io.ReadCloser, error) {
	if _, ok := s.exports[path]; !ok {
		if err := s.list([]string{path}); err != nil {
			return nil, err
		}
	}
	file := s.exports[path]
	if file == "" {
		return nil, fmt.Errorf("no export data for %q (not a standard library package?)", path)
	}
	return os.Open(file)
}

// list runs `go list -export` from GOROOT, where only standard library
// paths resolve: Yaegi-interpreted packages import nothing else outside
// their module.
func (s *stdImporter) list(paths []string) error {
	goroot := build.Default.GOROOT
	args := append([]string{"list", "-e", "-export", "-f", "{{.ImportPath}}\t{{.Export}}\t{{with .Error}}{{.Err}}{{end}}"}, paths...)
	cmd := exec.Command(filepath.Join(goroot, "bin", "go"), args...)
	cmd.Dir = filepath.Join(goroot, "src")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -export %s: %w: %s", strings.Join(paths, " "), err, strings.TrimSpace(stderr.String()))
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		fields := strings.SplitN(line, "\t", 3)
		if len(fields) != 3 {
			return fmt.Errorf("go list -export: unexpected line %q", line)
		}
		if fields[2] != "" {
			return fmt.Errorf("import %q: %s", fields[0], fields[2])
		}
		s.exports[fields[0]] = fields[1]
	}
	return nil
}
