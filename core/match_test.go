package core

import "testing"

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
