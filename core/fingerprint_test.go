package core_test

import (
	"testing"

	"github.com/imgate/imgate/core"
)

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
