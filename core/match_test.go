package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, id string
		want        bool
	}{
		{"alice", "alice", true},
		{"alice", "alice2", false},
		{"bot-*", "bot-42", true},
		{"bot-*", "bot-", true},
		{"bot-*", "robot-1", false},
		{"*@spam", "x@spam", true},
		{"*@spam", "x@spam.org", false},
		{"*test*", "a-test-b", true},
		{"*test*", "tes", false},
		{"a*b*c", "a-b-c", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "a-c-b", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*", "", true},
		{"*", "anything", true},
		{"**", "x", true},
	}
	for _, tc := range cases {
		if got := globMatch(newGlob(tc.pattern), tc.id); got != tc.want {
			t.Errorf("glob %q match %q = %v, want %v", tc.pattern, tc.id, got, tc.want)
		}
	}
}

func TestIDSet(t *testing.T) {
	s := newIDSet([]string{" alice ", "", "bot-*", "*@spam", "bob"})
	if s.size() != 4 {
		t.Errorf("size %d, want 4 (blank dropped, space trimmed)", s.size())
	}
	for id, want := range map[string]bool{"alice": true, "bob": true, "bot-1": true, "x@spam": true, "carol": false, " alice ": false} {
		if got := setMatch(s, id); got != want {
			t.Errorf("match(%q) = %v, want %v", id, got, want)
		}
	}
	m := &idMatcher{inline: newIDSet([]string{"*"})}
	if matchID(m, "") {
		t.Error("an empty id matched a condition")
	}
}

// TestMatchIDs checks that matchIDs keeps exactly the ids matchID accepts,
// in order, with inline ids, a list without a file (merged into the inline
// set by compileIDs) and a file-backed list.
func TestMatchIDs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "banned.txt")
	if err := os.WriteFile(file, []byte("spammer*\nuser666 # a comment\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lists := map[string]*List{}
	static, err := newList("static", ListConfig{Values: []string{"bot-*", "*@spam"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	lists["static"] = static
	fromFile, err := newList("file", ListConfig{File: file}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	lists["file"] = fromFile
	cases := []struct {
		name   string
		values []string
	}{
		{"inline only", []string{"alice", "bob"}},
		{"static list", []string{"@static"}},
		{"file list", []string{"@file"}},
		{"all", []string{"alice", "@static", "@file"}},
	}
	ids := []string{"alice", "", "bot-1", "carol", "x@spam", "spammer9", "user666", "user667", "bob"}
	for _, tc := range cases {
		m, err := compileIDs("members", tc.values, lists)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, id := range ids {
			if matchID(m, id) {
				want = append(want, id)
			}
		}
		got := matchIDs(m, ids)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: matchIDs %q, matchID one by one %q", tc.name, got, want)
		}
		if len(want) == 0 {
			t.Errorf("%s: no id matched; the case proves nothing", tc.name)
		}
	}
	if m, _ := compileIDs("members", []string{"@static"}, lists); m.inline == nil || len(m.lists) != 0 {
		t.Errorf("a list without a file is not merged into the inline set: %+v", m)
	}
	if m, _ := compileIDs("members", []string{"@file"}, lists); m.inline != nil || len(m.lists) != 1 {
		t.Errorf("a file-backed list is not looked up at each match: %+v", m)
	}
}
