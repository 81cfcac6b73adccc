package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// gitRepo makes a repository with one commit of files.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	runGit(t, dir, "init", "-q")
	runGit(t, dir, "add", "-A")
	runGit(t, dir, "-c", "user.name=t", "-c", "user.email=t@invalid", "commit", "-q", "-m", "init")
	return dir
}

func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestSnapshot(t *testing.T) {
	repo := gitRepo(t, map[string]string{
		"core/a.go":        "package core // v1\n",
		"bench/RESULTS.md": "old results\n",
		"README.md":        "readme\n",
		".gitignore":       "/ignored\n",
	})
	outputs := Outputs("README.md")
	head := strings.TrimSpace(runGit(t, repo, "rev-parse", "HEAD"))
	headTree := strings.TrimSpace(runGit(t, repo, "rev-parse", "HEAD^{tree}"))
	ctx := context.Background()

	// Outputs and ignored files do not make the tree dirty, and the
	// export keeps HEAD's version of the outputs.
	writeFile(t, filepath.Join(repo, "bench/RESULTS.md"), "new results\n")
	writeFile(t, filepath.Join(repo, "README.md"), "regenerated readme\n")
	writeFile(t, filepath.Join(repo, "ignored"), "scratch\n")
	dir := t.TempDir()
	rev, err := Snapshot(ctx, repo, dir, false, outputs)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Commit != head || rev.Tree != headTree || rev.Dirty || rev.DiffSHA256 != "" {
		t.Fatalf("clean tree: %+v, want commit %s tree %s", rev, head, headTree)
	}
	if got := readFile(t, filepath.Join(dir, "core/a.go")); got != "package core // v1\n" {
		t.Errorf("exported core/a.go = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "bench/RESULTS.md")); got != "old results\n" {
		t.Errorf("exported RESULTS.md = %q, want HEAD's", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "ignored")); err == nil {
		t.Error("an ignored file was exported")
	}

	// A tracked change and an untracked file make it dirty: refused
	// unless allowed, and then measured with the diff's hash recorded.
	writeFile(t, filepath.Join(repo, "core/a.go"), "package core // v2\n")
	writeFile(t, filepath.Join(repo, "core/b.go"), "package core // new\n")
	statusBefore := runGit(t, repo, "status", "--porcelain")
	if _, err := Snapshot(ctx, repo, t.TempDir(), false, outputs); !errors.Is(err, ErrDirtyTree) || !strings.Contains(err.Error(), "core/a.go") {
		t.Fatalf("dirty tree without -dirty: %v", err)
	}
	dir = t.TempDir()
	rev, err = Snapshot(ctx, repo, dir, true, outputs)
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Dirty || rev.Commit != head || rev.Tree == headTree || !reflect.DeepEqual(rev.Changed, []string{"core/a.go", "core/b.go"}) {
		t.Fatalf("dirty tree: %+v", rev)
	}
	diff := exec.Command("git", "diff", "--binary", head, rev.Tree)
	diff.Dir = repo
	raw, err := diff.Output()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if rev.DiffSHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(string(raw), "// v2") {
		t.Errorf("diff hash %s does not hash the diff to the measured tree", rev.DiffSHA256)
	}
	if got := readFile(t, filepath.Join(dir, "core/a.go")); got != "package core // v2\n" {
		t.Errorf("exported core/a.go = %q, want the working tree's", got)
	}
	if got := readFile(t, filepath.Join(dir, "core/b.go")); got != "package core // new\n" {
		t.Errorf("exported core/b.go = %q", got)
	}
	// The working tree and the repository's index are untouched.
	if after := runGit(t, repo, "status", "--porcelain"); after != statusBefore {
		t.Errorf("git status changed:\n%s\nwant\n%s", after, statusBefore)
	}
	if staged := runGit(t, repo, "diff", "--cached", "--name-only"); staged != "" {
		t.Errorf("the snapshot staged %q", staged)
	}
}

func TestSnapshotOutsideGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	if _, err := Snapshot(context.Background(), dir, t.TempDir(), true, nil); err == nil {
		t.Fatal("a directory outside git was measured")
	}
}
