package build

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestBuildAndInstall builds plugin.wasm (lowered: no bulk-memory
// instruction left) and lays it out as a local plugin, twice into the same folder (a rebuild replaces the file) and
// once into the checkout's own traefikwasm folder, where .traefik.yml is
// the source itself.
func TestBuildAndInstall(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cache", "plugin.wasm")
	if err := Build(out); err != nil {
		t.Fatal(err)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// A WASM binary starts with "\0asm" and version 1.
	if !bytes.HasPrefix(wasm, []byte("\x00asm\x01\x00\x00\x00")) {
		t.Fatalf("%s is not a WASM module: % x", out, wasm[:8])
	}
	dir := filepath.Join(t.TempDir(), "plugins-local", "src", filepath.FromSlash(ModuleName))
	for i := 0; i < 2; i++ {
		if err := Install(out, dir); err != nil {
			t.Fatal(err)
		}
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := os.ReadFile(filepath.Join(root, "traefikwasm", ".traefik.yml"))
	for name, want := range map[string][]byte{"plugin.wasm": wasm, ".traefik.yml": manifest} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) || len(want) == 0 {
			t.Errorf("%s: %d bytes (%v), want %d", name, len(got), err, len(want))
		}
	}
	if !bytes.Contains(manifest, []byte("runtime: wasm")) {
		t.Errorf("the manifest does not say runtime: wasm:\n%s", manifest)
	}
	if err := copyFile(filepath.Join(root, "traefikwasm", ".traefik.yml"), filepath.Join(root, "traefikwasm", ".traefik.yml")); err != nil {
		t.Errorf("installing the manifest onto itself: %v", err)
	}
	if err := Install(filepath.Join(dir, "missing.wasm"), dir); err == nil {
		t.Error("installing a missing wasm file succeeded")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
