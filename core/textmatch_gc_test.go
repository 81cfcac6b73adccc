//go:build gc
// +build gc

package core

import (
	"regexp"
	"testing"
)

// literalPatterns are the text patterns the literal matcher takes, with
// what regexp does with case folding beyond ASCII.
var literalPatterns = []string{
	`(?i)free money|casino`,
	`casino`,
	`free money|casino`,
	`(?i)k`,         // K, k and the Kelvin sign
	`(?i)straße|aſ`, // ß folds to ẞ; ſ to s and S
	`(?i)σ`,         // Σ, σ and ς
	`(?i)ǆ`,         // Ǆ, ǅ, ǆ: a title case between
	`(?i)ﬀ`,         // a ligature folds to nothing else
	`(?i)xİ|yı`,     // dotted and dotless i fold to themselves only
	`(?-i:Casino)|(?i)free`,
	`(?U)casino`,
	`(?s)ab|cd`,
	`é|e\x{301}`,
	`(?i)ÉTÉ`,
	`\.\*`,
}

// nonLiteralPatterns keep the regexp: anchors, classes, repeats, a prefix
// the parser factors out, an empty branch, U+FFFD (which regexp matches
// against any invalid byte).
var nonLiteralPatterns = []string{
	`^casino`, `casino$`, `\bcasino\b`, `(?i)a|b`, `(?i)casino|cash`, `casino|`,
	`ca.ino`, `casinos?`, `(?i)İ|ı`, `(casino)`, `\x{FFFD}`, `(?i)free\x{FFFD}`, `(?m)^a|b`, ``,
}

var literalTexts = []string{
	"", "casino", "CASINO", "CaSiNo", "see you all at the meetup on friday at 9",
	"win FREE MONEY now", "free  money", "free\nmoney", "cas\u00adino", "casin",
	"k", "K", "\u212a", "s", "S", "\u017f", "STRASSE", "straße", "STRAẞE", "straſſe", "aſ", "AS", "as", "aſſ", "xi", "XI", "xİ", "yı", "YI", "yi",
	"σ", "Σ", "ς", "Ǆ", "ǅ", "ǆ", "ﬀ", "FF", "ff", "İ", "ı", "i", "I",
	"Casino", "casino FREE", "ab", "AB", "cd", "é", "e\u0301", "ÉTÉ", "été", "Été",
	".*", "a.*b", "\xff", "\xffcasino", "ca\xffsino", "\xe2\x84casino", "casino\xe2",
	`{"content":"see you all at the meetup on friday at 9"}`,
}

func TestLiteralMatcher(t *testing.T) {
	for _, p := range literalPatterns {
		match := literalAlternation(p)
		if match == nil {
			t.Errorf("%q: not taken as literals", p)
			continue
		}
		re := regexp.MustCompile(p)
		for _, text := range literalTexts {
			if got, want := match(text), re.MatchString(text); got != want {
				t.Errorf("%q on %q: literals %v, regexp %v", p, text, got, want)
			}
		}
	}
	for _, p := range nonLiteralPatterns {
		if literalAlternation(p) != nil {
			t.Errorf("%q: taken as literals; it must keep the regexp", p)
		}
	}
}

// TestRuleUsesLiteralMatcher: the bench rules' spam pattern takes the
// literal matcher, and a rule decides with it as with the regexp.
func TestRuleUsesLiteralMatcher(t *testing.T) {
	e, err := New(Config{Rules: []RuleConfig{{Name: "spam", Text: `(?i)free money|casino`, Action: ActionDeny}}})
	if err != nil {
		t.Fatal(err)
	}
	r := e.rules[0]
	if r.textLiterals == nil {
		t.Fatal("the literal alternation kept the regexp")
	}
	for _, text := range literalTexts {
		if got, want := textMatches(r, text), r.text.MatchString(text); got != want {
			t.Errorf("%q: rule matched %v, regexp %v", text, got, want)
		}
	}
}

// FuzzLiteralMatcher proves the literal matcher a pure speed-up: on any
// text, for each literal pattern, it answers as regexp does.
func FuzzLiteralMatcher(f *testing.F) {
	for _, text := range literalTexts {
		f.Add(text)
	}
	matchers := make([]func(string) bool, len(literalPatterns))
	res := make([]*regexp.Regexp, len(literalPatterns))
	for i, p := range literalPatterns {
		matchers[i] = literalAlternation(p)
		res[i] = regexp.MustCompile(p)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for i, p := range literalPatterns {
			if got, want := matchers[i](text), res[i].MatchString(text); got != want {
				t.Fatalf("%q on %q: literals %v, regexp %v", p, text, got, want)
			}
		}
	})
}

// BenchmarkTextMatch compares, in one run, the bench rules' spam pattern
// matched by regexp (as interpreted hosts still do) and by the literal
// matcher, on the bench workloads' message texts:
//
//	go test -run '^$' -bench TextMatch -count 10 ./core/ | benchstat -col /match -
func BenchmarkTextMatch(b *testing.B) {
	const pattern = `(?i)free money|casino`
	re := regexp.MustCompile(pattern)
	literals := literalAlternation(pattern)
	for _, c := range []struct{ name, text string }{
		{"tencent-msg", "see you all at the meetup on friday at 9"},
		{"openim-msg", `{"content":"see you all at the meetup on friday at 9"}`},
	} {
		b.Run("text="+c.name+"/match=regexp", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				re.MatchString(c.text)
			}
		})
		b.Run("text="+c.name+"/match=literals", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				literals(c.text)
			}
		})
	}
}
