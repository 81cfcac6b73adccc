//go:build !gc
// +build !gc

package core

// scanBody is the compiled-only fast path of decodeBody (jsonscan_gc.go).
// Yaegi loads this file instead: a byte-by-byte scanner runs a hundred
// times slower interpreted than encoding/json does compiled, so bodies go
// straight to encoding/json.
var scanBody func(body []byte, dst interface{}) bool

// scanDuplicates is the compiled-only duplicate-field walk
// (jsonscan_gc.go); interpreted, checkDuplicateFields keeps its regexp.
var scanDuplicates func(body []byte, shape *keyShape) (string, bool)
