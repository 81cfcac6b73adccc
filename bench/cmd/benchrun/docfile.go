package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/imgate/imgate/bench/report"
)

// UpdateDoc regenerates the benchmark section of the doc at docPath
// (relative to repo) from res; the rest of the doc is left as it is.
func UpdateDoc(repo, docPath string, res *report.Results) error {
	path := filepath.Join(repo, docPath)
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	section, err := report.DocSection(res, docPath)
	if err != nil {
		return err
	}
	updated, err := report.ReplaceSection(string(raw), section)
	if err != nil {
		return fmt.Errorf("%s: %w", docPath, err)
	}
	if updated == string(raw) {
		return nil
	}
	return os.WriteFile(path, []byte(updated), 0o644)
}
