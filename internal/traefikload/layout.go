package traefikload

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrLayout marks a repository that cannot be laid out as a plugin.
var ErrLayout = errors.New("cannot lay out the plugin sources")

// PluginDirs are the module directories the plugin needs: the Traefik
// adapter and the core it imports. Laying out only these proves the plugin
// reads nothing else from the module (no Caddy code, no test helpers).
var PluginDirs = []string{"traefikplugin", "core"}

// RepoRoot finds the module root (the directory holding go.mod) above the
// working directory and returns it with the module path.
func RepoRoot() (root, module string, err error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if mod, merr := ModulePath(filepath.Join(dir, "go.mod")); merr == nil {
			return dir, mod, nil
		}
		if filepath.Dir(dir) == dir {
			return "", "", fmt.Errorf("no go.mod above %s: %w", wd, ErrLayout)
		}
	}
}

// ModulePath reads the module directive of a go.mod file.
func ModulePath(goMod string) (string, error) {
	f, err := os.Open(goMod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("%s has no module directive: %w", goMod, ErrLayout)
}

// Layout copies the plugin into goPath the way Traefik finds it: the
// module's go.mod, .traefik.yml and the non-test Go files of PluginDirs
// under goPath/src/<module>/, as the plugin archive or a plugins-local
// checkout provides them. It returns the module directory.
func Layout(repoRoot, module, goPath string) (string, error) {
	dst := filepath.Join(goPath, "src", filepath.FromSlash(module))
	for _, name := range []string{"go.mod", ManifestFile} {
		if err := copyFile(filepath.Join(repoRoot, name), filepath.Join(dst, name)); err != nil {
			return "", err
		}
	}
	for _, dir := range PluginDirs {
		files, err := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
		if err != nil {
			return "", err
		}
		copied := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			if err := copyFile(f, filepath.Join(dst, dir, filepath.Base(f))); err != nil {
				return "", err
			}
			copied++
		}
		if copied == 0 {
			return "", fmt.Errorf("%s has no Go files: %w", filepath.Join(repoRoot, dir), ErrLayout)
		}
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
