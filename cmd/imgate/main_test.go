package main

import (
	"strings"
	"testing"
)

// TestRun dispatches commands and reports usage errors with exit 2.
func TestRun(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		out, other string
	}{
		{nil, exitUsage, "", "usage:"},
		{[]string{"help"}, exitOK, "usage:", ""},
		{[]string{"-h"}, exitOK, "usage:", ""},
		{[]string{"lint"}, exitUsage, "", `unknown command "lint"`},
		{[]string{"check", "-h"}, exitOK, "", "-config"},
		{[]string{"sign", "-help"}, exitOK, "", "-token-env"},
		{[]string{"check", "-nope"}, exitUsage, "", "flag provided but not defined: -nope\nusage: imgate check"},
		{[]string{"sign", "-nope"}, exitUsage, "", "flag provided but not defined: -nope\nusage: imgate sign"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.other) {
			t.Errorf("%v: exit %d stdout %q stderr %q; want %d, %q, %q", tt.args, code, out, errOut, tt.code, tt.out, tt.other)
		}
	}
}
