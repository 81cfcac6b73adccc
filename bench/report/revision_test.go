package report

import (
	"strings"
	"testing"
)

func TestRevisionText(t *testing.T) {
	tests := []struct {
		name string
		r    *Results
		want string
	}{
		{"clean", &Results{Revision: &Revision{Commit: "0123456789abcdef", Tree: "abcdef0123456789"}},
			"Measured revision: commit `0123456789ab` (tree `abcdef012345`); every program and Go benchmark was built from one export of it."},
		{"dirty", &Results{Revision: &Revision{Commit: "0123456789abcdef", Tree: "abcdef0123456789", Dirty: true, DiffSHA256: "d1ff", Changed: []string{"core/a.go", "core/b.go"}}},
			"Measured revision: commit `0123456789ab` **plus uncommitted changes** to 2 files (core/a.go, core/b.go; `git diff --binary` SHA-256 `d1ff`, tree `abcdef012345`), run with `-dirty`"},
		{"legacy line", &Results{Machine: []string{"x", "code at commit b7c2320"}}, "not recorded reliably in this run. Its harness noted \"code at commit b7c2320\""},
		{"nothing", &Results{}, "Measured revision: not recorded in this run."},
		{"many files", &Results{Revision: &Revision{Dirty: true, Changed: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}}},
			"to 10 files (1, 2, 3, 4, 5, 6, 7, 8, and 2 more;"},
	}
	for _, tt := range tests {
		if got := RevisionText(tt.r); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q lacks %q", tt.name, got, tt.want)
		}
	}
	if got := MachineLines(&Results{Machine: []string{"cpu", "code at commit b7c2320", "code revision unknown (not a git checkout)"}}); len(got) != 1 || got[0] != "cpu" {
		t.Errorf("machine lines %q", got)
	}
}
