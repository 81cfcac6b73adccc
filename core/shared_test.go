package core_test

import (
	"testing"

	"github.com/imgate/imgate/core"
)

func TestShared(t *testing.T) {
	base := core.Config{Rules: []core.RuleConfig{{Name: "r", Actors: []string{"a"}, Action: "deny"}}}
	a, err := core.Shared("shared-test-a", base)
	if err != nil {
		t.Fatal(err)
	}
	again, err := core.Shared("shared-test-a", base)
	if err != nil || again != a {
		t.Fatal("same name and config built a new engine")
	}
	before := core.SharedCount()
	changed := base
	changed.DefaultAction = "deny"
	b, err := core.Shared("shared-test-a", changed)
	if err != nil || b == a {
		t.Fatal("a changed config kept the old engine")
	}
	if c, _ := core.Shared("shared-test-a", changed); c != b {
		t.Fatal("the replacement engine is not reused")
	}
	// Reloads under one name never grow the set.
	for i := 0; i < 50; i++ {
		cfg := base
		cfg.MaxBodyBytes = 1000 + i
		if _, err := core.Shared("shared-test-a", cfg); err != nil {
			t.Fatal(err)
		}
	}
	if core.SharedCount() != before {
		t.Fatalf("SharedCount went from %d to %d under one name", before, core.SharedCount())
	}
	bad := base
	bad.DefaultAction = "maybe"
	if _, err := core.Shared("shared-test-a", bad); err == nil {
		t.Fatal("an invalid config was accepted")
	}
	if other, _ := core.Shared("shared-test-b", base); other == a {
		t.Fatal("two names share one engine")
	}
}

func TestFingerprint(t *testing.T) {
	a := core.Config{Rules: []core.RuleConfig{{Name: "r", Action: "deny", Code: 10101}}}
	b := core.Config{Rules: []core.RuleConfig{{Name: "r", Action: "deny", Code: 10101}}}
	if core.Fingerprint(a) != core.Fingerprint(b) || core.Fingerprint(a) == "" {
		t.Fatal("equal configs differ")
	}
	seen := map[string]bool{core.Fingerprint(a): true}
	for i := 0; i < 20; i++ {
		c := b
		c.MaxBodyBytes = i + 1
		fp := core.Fingerprint(c)
		if seen[fp] {
			t.Fatalf("config %d collides", i)
		}
		seen[fp] = true
	}
}
