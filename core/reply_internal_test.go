package core

import (
	"bytes"
	"testing"

	"github.com/imgate/imgate/internal/golden"
)

// TestDenyRepliesPreEncoded proves that the deny replies encoded once at
// load time (rule.denyReplies, Engine.defaultDenies) are byte for byte
// what the platform's reply encoder writes for that rule on every callback
// it could deny: for every rule and platform of every golden case's config,
// and for events with and without an echo, members or text. The golden
// cases then check the whole replies, compiled and under Yaegi.
func TestDenyRepliesPreEncoded(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	events := []*Event{
		{},
		{GroupID: "@TGS#2J4SZEAEL", Actor: "jared", Members: []string{"jared", "tommy"}, Text: "free money", echo: []byte(`,"groupID":"g1","groupName":"n"`)},
	}
	checked := 0
	for _, c := range cases {
		var cfg Config
		if err = golden.StrictDecoder(c.Config).Decode(&cfg); err != nil {
			t.Fatalf("%s: config: %v", c.Name, err)
		}
		e, nerr := New(cfg)
		if nerr != nil {
			// Cases of configs that must fail to load have no rules to check.
			continue
		}
		for _, p := range platforms {
			for _, ev := range events {
				ev.platform = p
				want := p.reply(ev, true, p.defaultDenyCode, "", nil)
				if !bytes.Equal(e.defaultDenies[p.index], want) {
					t.Errorf("%s: %s default deny %s, encoded per callback %s", c.Name, p.name, e.defaultDenies[p.index], want)
				}
				for _, r := range e.rules {
					want = p.reply(ev, true, r.codes[p.index], r.messages[p.index], nil)
					if !bytes.Equal(r.denyReplies[p.index], want) {
						t.Errorf("%s: rule %s on %s: deny %s, encoded per callback %s", c.Name, r.name, p.name, r.denyReplies[p.index], want)
					}
					checked++
				}
			}
		}
		e.Close()
	}
	if checked == 0 {
		t.Fatal("no rule checked")
	}
}
