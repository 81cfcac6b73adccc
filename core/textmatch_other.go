//go:build !gc
// +build !gc

package core

// literalMatcher is the compiled-only matcher for literal text patterns
// (textmatch_gc.go). Yaegi loads this file instead: a rune loop runs a
// hundred times slower interpreted than the regexp does compiled, so
// every text pattern keeps its regexp.
var literalMatcher func(pattern string) func(string) bool
