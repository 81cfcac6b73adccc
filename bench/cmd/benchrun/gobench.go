package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/imgate/imgate/bench/report"
)

// GoBenchPackages are the packages whose benchmarks the run includes: the
// core decision per callback type and the Traefik plugin compiled vs
// interpreted. A package without test files yet is skipped.
var GoBenchPackages = []string{"./core", "./bench"}

// RunGoBench runs the in-process benchmarks of the measured tree at src with
// -benchmem and returns the parsed lines and the raw output.
func RunGoBench(ctx context.Context, src string, count int, benchtime string) ([]report.GoBench, string, error) {
	var pkgs []string
	for _, p := range GoBenchPackages {
		tests, _ := filepath.Glob(filepath.Join(src, p, "*_test.go"))
		if len(tests) > 0 {
			pkgs = append(pkgs, p)
		}
	}
	if len(pkgs) == 0 {
		return nil, "", nil
	}
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", strconv.Itoa(count), "-benchtime", benchtime}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, string(out), fmt.Errorf("go %v: %w\n%s", args, err, out)
	}
	lines, err := report.ParseGoBench(string(out))
	return lines, string(out), err
}
