//go:build gc
// +build gc

package core

import (
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// This file is compiled only by the gc toolchain (native and WASM builds);
// Yaegi loads textmatch_other.go, where a rune loop would run a hundred
// times slower interpreted than the regexp does compiled.

// literalMatcher returns a matcher that answers exactly as
// regexp.MustCompile(pattern).MatchString for a rule's text pattern that
// is one literal or an alternation of literals, each case-folded under
// (?i) or not ("(?i)free money|casino"), and nil for any other pattern,
// which keeps the regexp. In WASM the regexp costs a message callback
// about 13 µs of its 50 on a short text; the literals cost a tenth of
// that. TestLiteralMatcher and FuzzLiteralMatcher compare it with regexp.
var literalMatcher = literalAlternation

// foldLiteral is one literal of the alternation, each of its runes as the
// runes it matches: the rune alone, or under (?i) its whole simple-fold
// orbit, as regexp matches a case-folded rune.
type foldLiteral [][]rune

func literalAlternation(pattern string) func(string) bool {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpAlternate {
		subs = re.Sub
	}
	literals := make([]foldLiteral, 0, len(subs))
	for _, sub := range subs {
		if sub.Op != syntax.OpLiteral || len(sub.Rune) == 0 {
			return nil
		}
		literal := make(foldLiteral, 0, len(sub.Rune))
		for _, r := range sub.Rune {
			if r == utf8.RuneError {
				// regexp matches U+FFFD against any invalid byte; leave
				// that to it.
				return nil
			}
			orbit := []rune{r}
			if sub.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					orbit = append(orbit, f)
				}
			}
			literal = append(literal, orbit)
		}
		literals = append(literals, literal)
	}
	return func(text string) bool {
		// Every rune start, stepping as regexp does (an invalid byte is
		// one rune).
		for i := 0; i < len(text); {
			for _, literal := range literals {
				if literal.at(text, i) {
					return true
				}
			}
			if text[i] < utf8.RuneSelf {
				i++
			} else {
				_, width := utf8.DecodeRuneInString(text[i:])
				i += width
			}
		}
		return false
	}
}

// at reports whether the literal matches text from byte i.
func (l foldLiteral) at(text string, i int) bool {
	for _, orbit := range l {
		if i >= len(text) {
			return false
		}
		r, width := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, width = utf8.DecodeRuneInString(text[i:])
		}
		if !runeIn(r, orbit) {
			return false
		}
		i += width
	}
	return true
}

func runeIn(r rune, orbit []rune) bool {
	for _, o := range orbit {
		if r == o {
			return true
		}
	}
	return false
}
