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

// BuildPlugins writes plugin.wasm into the folder of every setup's WASM
// plugin in the measured tree at src, with the tree's own builder
// (ProgramWasmBuild, built by Build): the Go toolchain's wasip1 build and
// the rewrite Traefik v3.7.9 needs (traefikwasm/build).
func BuildPlugins(ctx context.Context, bins map[string]string, src string) error {
	built := map[string]bool{}
	for _, s := range Setups {
		if s.Plugin == nil || !s.Plugin.Wasm || built[s.Plugin.Dir] {
			continue
		}
		built[s.Plugin.Dir] = true
		out := filepath.Join(src, filepath.FromSlash(s.Plugin.Dir), wasmFile)
		cmd := exec.CommandContext(ctx, bins[ProgramWasmBuild], "-o", out)
		cmd.Dir = src
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s for setup %s: %w", out, s.ID, err)
		}
	}
	return nil
}
