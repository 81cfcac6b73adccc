// Package build builds imgate's WASM plugin (traefikwasm) with standard Go
// and lays it out as a Traefik local plugin: plugin.wasm beside the
// plugin's .traefik.yml (runtime: wasm), in
// plugins-local/src/<ModuleName>. The built module is rewritten so that
// it runs safely on the wazero version Traefik v3.7.9 embeds (see
// LowerBulkMemory). cmd/imgate-wasm, tests, the real-Traefik suite and the
// benchmark harness share it.
package build

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// ModuleName is the WASM plugin's module name in Traefik's static
// configuration (experimental.localPlugins.<name>.moduleName): the
// folder under plugins-local/src that holds it.
const ModuleName = "github.com/imgate/imgate/traefikwasm"

// ErrBuild marks a failed build or layout.
var ErrBuild = errors.New("wasm plugin build")

// Command is the compile step, run at the repository root; Build runs it
// with the output file appended, then lowers the module's bulk-memory
// instructions (LowerBulkMemory). A module built by this command alone
// crashes under load in Traefik v3.7.9.
var Command = []string{"go", "build", "-buildmode=c-shared", "-trimpath", "-o"}

// Env is the environment Build adds to the command's.
var Env = []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}

// RepoRoot returns the checkout this package was compiled from.
func RepoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the source: %w", ErrBuild)
	}
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("no go.mod at %s: %w", root, ErrBuild)
	}
	return root, nil
}

// Build compiles traefikwasm into out (a plugin.wasm path) and lowers its
// bulk-memory instructions. Go's build cache makes a rebuild of unchanged
// sources a link step. The file is written beside out and renamed, so
// concurrent builds never leave a torn file.
func Build(out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".plugin-*.wasm")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := compile(tmp.Name()); err != nil {
		return err
	}
	if err := lowerFile(tmp.Name()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// compile runs Command for traefikwasm into out, at the repository root.
func compile(out string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	args := append(append([]string{}, Command[1:]...), out, "./traefikwasm")
	cmd := exec.Command(Command[0], args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), Env...)
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %s\n%s: %w", Command[0], args, err.Error(), output, ErrBuild)
	}
	return nil
}

// lowerFile rewrites a built module in place with LowerBulkMemory and
// checks that no instruction calling the host's memmove is left.
func lowerFile(path string) error {
	module, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lowered, err := LowerBulkMemory(module)
	if err != nil {
		return fmt.Errorf("lowering bulk memory in %s: %s: %w", path, err.Error(), ErrBuild)
	}
	if n, err := CountBulkMemory(lowered); err != nil || n != 0 {
		return fmt.Errorf("lowering bulk memory in %s left %d instructions (%v): %w", path, n, err, ErrBuild)
	}
	return os.WriteFile(path, lowered, 0o644)
}

// Cached builds plugin.wasm into the cache folder ($IMGATE_CACHE, default
// ~/.cache/imgate, under wasm/<checkout>/) and returns its path. Each
// checkout has its own file: checkouts of other branches on the same
// machine build different plugins, and a shared path would let one's
// tests load another's build.
func Cached() (string, error) {
	dir := os.Getenv("IMGATE_CACHE")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, ".cache", "imgate")
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(root))
	out := filepath.Join(dir, "wasm", hex.EncodeToString(sum[:6]), "plugin.wasm")
	return out, Build(out)
}

// Install lays the plugin out in dir (plugins-local/src/<ModuleName>):
// the built wasm as plugin.wasm and traefikwasm's .traefik.yml.
func Install(wasmPath, dir string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := copyFile(wasmPath, filepath.Join(dir, "plugin.wasm")); err != nil {
		return fmt.Errorf("installing plugin.wasm: %s: %w", err.Error(), ErrBuild)
	}
	if err := copyFile(filepath.Join(root, "traefikwasm", ".traefik.yml"), filepath.Join(dir, ".traefik.yml")); err != nil {
		return fmt.Errorf("installing .traefik.yml: %s: %w", err.Error(), ErrBuild)
	}
	return nil
}

// copyFile writes src's content to dst through a renamed temporary file,
// so a Traefik starting meanwhile never reads half a file. dir may be the
// checkout's own traefikwasm folder (a checkout linked into plugins-local
// holds both plugins), where .traefik.yml is already in place.
func copyFile(src, dst string) error {
	if same(src, dst) {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".install-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// same reports whether two paths name one existing file.
func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
