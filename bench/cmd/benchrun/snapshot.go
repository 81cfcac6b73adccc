package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/imgate/imgate/bench/report"
)

// ErrDirtyTree is returned when the working tree has uncommitted changes
// and the run was not told to measure them.
var ErrDirtyTree = errors.New("the working tree has uncommitted changes")

// Outputs are the files a run writes or only reads as prose: changes to
// them do not change what is measured, so they neither make the tree dirty
// nor enter the measured tree (which keeps HEAD's version of them).
func Outputs(doc string) []string {
	return []string{"bench/RESULTS.md", "bench/results.json", "bench/results.png", "bench/profiles", "bench/analysis.md", doc}
}

// Snapshot records the tree to measure and exports it into dir: HEAD's
// tree, or with allowDirty HEAD plus every uncommitted change (untracked
// files included, ignored ones not). Every program and Go benchmark of the
// run is built from dir, so edits made to the working tree while the run
// goes on cannot leak into its numbers. Nothing in the working tree or the
// repository's index is touched; the tree is written with a temporary
// index.
func Snapshot(ctx context.Context, repo, dir string, allowDirty bool, outputs []string) (report.Revision, error) {
	var rev report.Revision
	git := func(env []string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	var err error
	if rev.Commit, err = git(nil, "rev-parse", "HEAD"); err != nil {
		return rev, fmt.Errorf("the benchmark measures a git revision: %w", err)
	}
	headTree, err := git(nil, "rev-parse", "HEAD^{tree}")
	if err != nil {
		return rev, err
	}
	index, err := os.CreateTemp("", "imgate-bench-index-")
	if err != nil {
		return rev, err
	}
	index.Close()
	defer os.Remove(index.Name())
	env := []string{"GIT_INDEX_FILE=" + index.Name()}
	if _, err := git(env, "read-tree", "HEAD"); err != nil {
		return rev, err
	}
	add := []string{"add", "--all", "--", "."}
	for _, o := range outputs {
		add = append(add, ":(exclude)"+o)
	}
	if _, err := git(env, add...); err != nil {
		return rev, err
	}
	if rev.Tree, err = git(env, "write-tree"); err != nil {
		return rev, err
	}
	if rev.Tree != headTree {
		rev.Dirty = true
		names, err := git(nil, "diff", "--name-only", rev.Commit, rev.Tree)
		if err != nil {
			return rev, err
		}
		rev.Changed = strings.Fields(names)
		if !allowDirty {
			return rev, fmt.Errorf("%w to %s: commit them, or pass -dirty to measure them (the diff's SHA-256 is recorded)", ErrDirtyTree, strings.Join(rev.Changed, ", "))
		}
		diff := exec.CommandContext(ctx, "git", "diff", "--binary", rev.Commit, rev.Tree)
		diff.Dir = repo
		raw, err := diff.Output()
		if err != nil {
			return rev, fmt.Errorf("git diff --binary: %w", err)
		}
		sum := sha256.Sum256(raw)
		rev.DiffSHA256 = hex.EncodeToString(sum[:])
	}
	return rev, export(ctx, repo, rev.Tree, dir)
}

// export writes tree's files into dir with git archive.
func export(ctx context.Context, repo, tree, dir string) error {
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", tree)
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := untar(out, dir); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("exporting tree %s: %w", tree, err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %w: %s", tree, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// untar extracts the regular files, directories and symlinks of a tar
// stream into dir, refusing paths that leave it.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("archive path %q leaves the export directory", h.Name)
		}
		target := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeXGlobalHeader:
			// git archive's comment header carrying the commit id.
		default:
			return fmt.Errorf("archive entry %q has unsupported type %c", h.Name, h.Typeflag)
		}
	}
}
