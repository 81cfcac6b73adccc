package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Build compiles every program of Programs from the measured tree at src
// into dir and returns their paths by name.
func Build(ctx context.Context, src, dir string) (map[string]string, error) {
	bins := map[string]string{}
	for _, p := range Programs {
		out := filepath.Join(dir, p.Name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, p.Package)
		cmd.Dir = src
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s: %w", p.Package, err)
		}
		bins[p.Name] = out
	}
	return bins, nil
}
