package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binaries are the programs a run starts.
type Binaries struct {
	Caddy, Bare, StatusQuo string
}

// Build compiles Caddy with imgate (cmd/caddy), the bare server and the
// status quo service into dir. BENCH_CADDY names a prebuilt Caddy instead.
func Build(ctx context.Context, repo, dir string) (Binaries, error) {
	bins := Binaries{
		Caddy:     filepath.Join(dir, "caddy"),
		Bare:      filepath.Join(dir, "bare"),
		StatusQuo: filepath.Join(dir, "statusquo"),
	}
	targets := [][2]string{{bins.Bare, "./bench/bare"}, {bins.StatusQuo, "./bench/statusquo"}}
	if prebuilt := os.Getenv("BENCH_CADDY"); prebuilt != "" {
		bins.Caddy = prebuilt
	} else {
		targets = append(targets, [2]string{bins.Caddy, "./cmd/caddy"})
	}
	for _, t := range targets {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t[0], t[1])
		cmd.Dir = repo
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return bins, fmt.Errorf("go build %s: %w", t[1], err)
		}
	}
	return bins, nil
}
