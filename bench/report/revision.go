package report

import (
	"fmt"
	"strings"
)

// Revision identifies the code a run measured. The runner builds every
// program and runs every Go benchmark of the run from one export of Tree,
// taken when the run starts, so later edits to the working tree cannot leak
// into the numbers.
type Revision struct {
	// Commit is the full hash of HEAD when the run started.
	Commit string `json:"commit"`
	// Tree is the git tree hash of the code measured: Commit's tree, or
	// with -dirty, Commit plus the working tree's uncommitted changes.
	Tree string `json:"tree"`
	// Dirty is true when Tree differs from Commit's tree.
	Dirty bool `json:"dirty"`
	// DiffSHA256 is the SHA-256 of `git diff --binary Commit Tree`, set
	// when Dirty.
	DiffSHA256 string `json:"diffSha256,omitempty"`
	// Changed lists the files that differ from Commit, set when Dirty.
	Changed []string `json:"changed,omitempty"`
}

// legacyRevisionPrefixes start the machine line with which older runs noted
// the revision: read once at start while the Go benchmarks compiled the
// working tree later, so it does not name what was measured.
var legacyRevisionPrefixes = []string{"code at commit", "code revision unknown"}

// maxChangedListed bounds the changed files RevisionText names; the diff's
// hash and results.json identify them all.
const maxChangedListed = 8

// RevisionText says which code the run measured, in one sentence.
func RevisionText(r *Results) string {
	rev := r.Revision
	if rev == nil {
		legacy := ""
		for _, m := range r.Machine {
			if isLegacyRevision(m) {
				legacy = m
			}
		}
		if legacy == "" {
			return "Measured revision: not recorded in this run."
		}
		return fmt.Sprintf("Measured revision: not recorded reliably in this run. Its harness noted %q when it started and built the wrk setups then, but compiled the Go benchmarks later from whatever the working tree held, which it did not record.", legacy)
	}
	short := shortHash(rev.Commit)
	if !rev.Dirty {
		return fmt.Sprintf("Measured revision: commit `%s` (tree `%s`); every program and Go benchmark was built from one export of it.", short, shortHash(rev.Tree))
	}
	changed := rev.Changed
	if len(changed) > maxChangedListed {
		changed = append(changed[:maxChangedListed:maxChangedListed], fmt.Sprintf("and %d more", len(rev.Changed)-maxChangedListed))
	}
	return fmt.Sprintf("Measured revision: commit `%s` **plus uncommitted changes** to %d files (%s; `git diff --binary` SHA-256 `%s`, tree `%s`), run with `-dirty`; every program and Go benchmark was built from one export of that tree.",
		short, len(rev.Changed), strings.Join(changed, ", "), rev.DiffSHA256, shortHash(rev.Tree))
}

// MachineLines are the machine description without the legacy revision
// line, which RevisionText reports instead.
func MachineLines(r *Results) []string {
	var out []string
	for _, m := range r.Machine {
		if !isLegacyRevision(m) {
			out = append(out, m)
		}
	}
	return out
}

func isLegacyRevision(line string) bool {
	for _, p := range legacyRevisionPrefixes {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
