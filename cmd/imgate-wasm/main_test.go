package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgate/imgate/traefikwasm/build"
)

// TestRun builds plugin.wasm where -o says, lowered, and refuses stray
// arguments and unknown flags.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	if err := run([]string{"-o", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := build.CountBulkMemory(wasm); err != nil || n != 0 {
		t.Errorf("built plugin: %d bulk-memory instructions (%v), want none", n, err)
	}
	for _, args := range [][]string{{"-o", out, "extra"}, {"-x"}} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}
