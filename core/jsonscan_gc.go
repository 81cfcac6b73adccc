//go:build gc
// +build gc

package core

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// This file is compiled only by the gc toolchain; Yaegi, which honours
// "// +build" lines and does not set gc, loads jsonscan_other.go instead,
// because a hand-written byte loop runs a hundred times slower interpreted
// than encoding/json does compiled. Natively it halves a decision: decoding
// a small body with encoding/json costs about 2 µs on its own.

// scanBody fills dst, a pointer to a platform's body struct, from body
// when body is a JSON object made only of what the scanner fully
// understands: the struct's exact field names, each at most once, strings
// (unescaped by encoding/json when they hold escapes), string lists
// without escapes, lists of one-key objects, integers, raw values, nested
// structs and lists of them read by the same rules (Tencent's MsgBody), and
// any other fields whose values are valid JSON without fractions or
// exponents. Anything else (an escaped key, a key that differs from a
// field name only by case, a repeated field, wrong types, invalid JSON)
// leaves dst zero and returns false, and encoding/json decides, so the
// result is always the one encoding/json gives. FuzzScanBody checks that.
// Message bodies must take this path: in WASM, encoding/json and the
// duplicate check behind it cost a message callback about 90 µs of its
// 190 (docs/traefik.md).
//
// The fields come from the struct's json tags: the same list drives
// encoding/json and the scanner.
var scanBody = scanBodyStruct

func scanBodyStruct(body []byte, dst interface{}) bool {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return false
	}
	sv := v.Elem()
	plan := planOf(sv.Type())
	s := scanner{data: body}
	var seen uint64
	s.space()
	ok := s.object(func(key []byte) bool { return s.field(plan, sv, key, &seen) }) && s.end()
	if !ok {
		sv.SetZero()
	}
	return ok
}

// scanKind is how the scanner reads a field, by its Go type.
// scanDuplicates is checkDuplicateFields's compiled walk: it returns a
// key of body that repeats a field of shape (foldKey) in one object, at
// the top level or in the objects below it that shape names, or "", with
// walked true when it read body whole as strict JSON. A key with escapes,
// a comment or a number other than an integer leaves walked false, and
// the interpreted path decides, so the answer is always the one it gives.
var scanDuplicates = scanDuplicateKeys

func scanDuplicateKeys(body []byte, shape *keyShape) (dup string, walked bool) {
	s := scanner{data: body}
	s.space()
	walked = s.duplicateInObject(shape, &dup) && s.end()
	if !walked {
		return "", false
	}
	return dup, true
}

// duplicateInObject walks an object of shape, setting *dup to the first
// repeated key found (and then only checking the rest is valid JSON).
func (s *scanner) duplicateInObject(shape *keyShape, dup *string) bool {
	if s.depth > 32 {
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	var seen [64]string
	n := 0
	var lower [64]byte
	return s.object(func(key []byte) bool {
		if *dup != "" {
			return s.anyValue()
		}
		var folded string
		if len(key) <= len(lower) && isASCII(key) {
			for i, c := range key {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				lower[i] = c
			}
			if _, known := shape.fields[string(lower[:len(key)])]; !known { // looked up in place
				return s.anyValue()
			}
			folded = string(lower[:len(key)])
		} else {
			folded = foldKey(string(key))
			if _, known := shape.fields[folded]; !known {
				return s.anyValue()
			}
		}
		for _, k := range seen[:n] {
			if k == folded {
				*dup = string(key)
			}
		}
		if n == len(seen) {
			return false // more fields than a body struct has: the walk decides
		}
		seen[n] = folded
		n++
		if child := shape.fields[folded]; child != nil && *dup == "" {
			return s.duplicateInValue(child, dup)
		}
		return s.anyValue()
	})
}

// duplicateInValue walks a value that may hold objects of shape: one, or
// a list of them; anything else is skipped.
func (s *scanner) duplicateInValue(shape *keyShape, dup *string) bool {
	if s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '{':
		return s.duplicateInObject(shape, dup)
	case '[':
		if s.depth > 32 {
			return false
		}
		s.depth++
		defer func() { s.depth-- }()
		return s.array(func() bool {
			if *dup != "" {
				return s.anyValue()
			}
			return s.duplicateInValue(shape, dup)
		})
	}
	return s.anyValue()
}

type scanKind int

const (
	kindUnsupported scanKind = iota // anything else: encoding/json decides
	kindString                      // string
	kindStrings                     // []string
	kindObjects                     // []struct{ X string `json:"k"` }
	kindRaw                         // json.RawMessage
	kindInt                         // int64
	kindStruct                      // a struct, read field by field as a body
	kindStructs                     // []struct, each element read as kindStruct
)

// scanField is one field of a body struct.
type scanField struct {
	index int
	kind  scanKind
	// elemKey is the one key of a kindObjects element, elemType its type.
	elemKey  string
	elemType reflect.Type
}

// scanPlan is a body struct's fields by exact JSON name.
type scanPlan struct {
	byName map[string]scanField
	names  []string
}

var scanPlans sync.Map // reflect.Type -> *scanPlan

var rawMessageType = reflect.TypeOf(json.RawMessage(nil))

func planOf(t reflect.Type) *scanPlan {
	if p, ok := scanPlans.Load(t); ok {
		return p.(*scanPlan)
	}
	plan := &scanPlan{byName: map[string]scanField{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		sf := scanField{index: i, kind: kindOf(f.Type)}
		if sf.kind == kindObjects {
			sf.elemType = f.Type.Elem()
			sf.elemKey = jsonName(sf.elemType.Field(0))
		}
		plan.byName[name] = sf
		plan.names = append(plan.names, name)
	}
	if len(plan.names) > 64 {
		// seen is a 64-bit set; a larger struct is left to encoding/json.
		plan.byName = map[string]scanField{}
	}
	p, _ := scanPlans.LoadOrStore(t, plan)
	return p.(*scanPlan)
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

func kindOf(t reflect.Type) scanKind {
	switch {
	case t == rawMessageType:
		return kindRaw
	case t.Kind() == reflect.String:
		return kindString
	case t.Kind() == reflect.Int64:
		return kindInt
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return kindStrings
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && t.Elem().NumField() == 1 &&
		t.Elem().Field(0).Type.Kind() == reflect.String && jsonName(t.Elem().Field(0)) != "":
		return kindObjects
	case t.Kind() == reflect.Struct:
		return kindStruct
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return kindStructs
	}
	return kindUnsupported
}

type scanner struct {
	data  []byte
	pos   int
	depth int
}

// field reads the value of key into its field of sv, or skips the value
// of a key that is no field.
func (s *scanner) field(plan *scanPlan, sv reflect.Value, key []byte, seen *uint64) bool {
	f, ok := plan.byName[string(key)] // compared in place: no string is built
	if !ok {
		if foldsToAny(key, plan.names) {
			// encoding/json matches field names case-insensitively.
			return false
		}
		return s.anyValue()
	}
	bit := uint64(1) << uint(f.index)
	if *seen&bit != 0 {
		// encoding/json merges a repeated field into what the first gave.
		return false
	}
	*seen |= bit
	fv := sv.Field(f.index)
	switch f.kind {
	case kindString:
		if s.literal("null") {
			return true
		}
		v, ok := s.anyString()
		fv.SetString(v)
		return ok
	case kindStrings:
		return s.strings(fv)
	case kindObjects:
		return s.objects(fv, f)
	case kindStruct:
		// null leaves a struct as it is, as in encoding/json.
		return s.literal("null") || s.structValue(fv)
	case kindStructs:
		return s.structs(fv)
	case kindRaw:
		start := s.pos
		if !s.rawValue() {
			return false
		}
		fv.SetBytes(s.data[start:s.pos])
		return true
	case kindInt:
		if s.literal("null") {
			return true
		}
		start := s.pos
		if !s.integer() {
			return false
		}
		n, err := strconv.ParseInt(string(s.data[start:s.pos]), 10, 64)
		fv.SetInt(n)
		return err == nil
	}
	return false
}

// strings reads ["a", ...] or null, which (as in encoding/json) resets
// the list. Elements go straight into the field (addressable: it is a
// struct field), so no slice header or element is boxed.
func (s *scanner) strings(fv reflect.Value) bool {
	if s.literal("null") {
		fv.SetZero()
		return true
	}
	fv.SetZero()
	fv.Grow(8) // empty, not nil, as encoding/json leaves "[]"
	return s.array(func() bool {
		v, ok := s.plainString()
		n := grow(fv)
		fv.Index(n).SetString(v)
		return ok
	})
}

// objects reads [{"<key>":"id"}, ...] or null.
func (s *scanner) objects(fv reflect.Value, f scanField) bool {
	if s.literal("null") {
		fv.SetZero()
		return true
	}
	fv.SetZero()
	fv.Grow(8) // empty, not nil, as encoding/json leaves "[]"
	return s.array(func() bool {
		elem := fv.Index(grow(fv)).Field(0)
		seenKey := false
		return s.object(func(key []byte) bool {
			switch {
			case string(key) == f.elemKey:
				if seenKey {
					return false
				}
				seenKey = true
				if s.literal("null") {
					return true
				}
				v, ok := s.plainString()
				elem.SetString(v)
				return ok
			case foldsTo(key, f.elemKey):
				return false
			}
			return s.skip()
		})
	})
}

// structValue reads an object into the struct fv with fv's own plan, under
// the rules of the body's top level.
func (s *scanner) structValue(fv reflect.Value) bool {
	if s.depth > 32 {
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	plan := planOf(fv.Type())
	var seen uint64
	return s.object(func(key []byte) bool { return s.field(plan, fv, key, &seen) })
}

// structs reads [{...}, ...] or null into a slice of structs; a null
// element is a zero struct, as in encoding/json.
func (s *scanner) structs(fv reflect.Value) bool {
	if s.literal("null") {
		fv.SetZero()
		return true
	}
	fv.SetZero()
	fv.Grow(4) // empty, not nil, as encoding/json leaves "[]"
	return s.array(func() bool {
		elem := fv.Index(grow(fv))
		return s.literal("null") || s.structValue(elem)
	})
}

// grow appends a zero element to the slice field fv and returns its index.
func grow(fv reflect.Value) int {
	n := fv.Len()
	if n == fv.Cap() {
		fv.Grow(1)
	}
	fv.SetLen(n + 1)
	return n
}

// array walks [value, ...], calling value with the scanner at each element.
func (s *scanner) array(value func() bool) bool {
	if !s.consume('[') {
		return false
	}
	s.space()
	if s.consume(']') {
		return true
	}
	for {
		s.space()
		if !value() {
			return false
		}
		s.space()
		if s.consume(',') {
			continue
		}
		return s.consume(']')
	}
}

// object walks {"key": value, ...}, calling value for each key with the
// scanner at the value, which value must consume.
func (s *scanner) object(value func(key []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	s.space()
	if s.consume('}') {
		return true
	}
	for {
		s.space()
		key, ok := s.plainBytes()
		if !ok {
			return false
		}
		s.space()
		if !s.consume(':') {
			return false
		}
		s.space()
		if !value(key) {
			return false
		}
		s.space()
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) end() bool {
	s.space()
	return s.pos == len(s.data)
}

// plainString reads a string that needs no unescaping and is valid UTF-8.
func (s *scanner) plainString() (string, bool) {
	raw, ok := s.plainBytes()
	if !ok {
		return "", false
	}
	return string(raw), true
}

// anyString reads a string, unescaped by encoding/json when it holds
// escapes (an OpenIM message's content is JSON in a string), so the value
// is the one encoding/json gives.
func (s *scanner) anyString() (string, bool) {
	start := s.pos
	if v, ok := s.plainString(); ok {
		return v, true
	}
	s.pos = start
	if !s.escapedString() {
		return "", false
	}
	var v string
	if err := json.Unmarshal(s.data[start:s.pos], &v); err != nil {
		return "", false
	}
	return v, true
}

// plainBytes is plainString without the copy, for keys, which are only
// compared.
func (s *scanner) plainBytes() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.pos
	ascii := true
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw := s.data[start:s.pos]
			s.pos++
			if !ascii && !utf8.Valid(raw) {
				return nil, false
			}
			return raw, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		s.pos++
	}
	return nil, false
}

// rawValue skips a value kept raw: any value skip takes, or a string with
// valid escapes (a raw value is not unescaped).
func (s *scanner) rawValue() bool {
	if s.pos < len(s.data) && s.data[s.pos] == '"' {
		return s.escapedString()
	}
	return s.skip()
}

// escapedString skips a string that may hold escapes, checking them as
// encoding/json does.
func (s *scanner) escapedString() bool {
	if !s.consume('"') {
		return false
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			ok := utf8.Valid(s.data[start:s.pos])
			s.pos++
			return ok
		case c < 0x20:
			return false
		case c == '\\':
			s.pos++
			if s.pos >= len(s.data) {
				return false
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s.data)-s.pos < 5 {
					return false
				}
				for _, h := range s.data[s.pos+1 : s.pos+5] {
					if !isHex(h) {
						return false
					}
				}
				s.pos += 4
			default:
				return false
			}
		}
		s.pos++
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return false
	}
	s.pos += len(word)
	return true
}

// integer reads an optionally negative integer without a leading zero.
func (s *scanner) integer() bool {
	s.consume('-')
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	n := s.pos - start
	return n > 0 && !(n > 1 && s.data[start] == '0')
}

// skip validates and skips any value made of plain strings, integers,
// literals, objects and arrays; anything fancier returns false.
func (s *scanner) skip() bool {
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, ok := s.plainBytes()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		return s.integer()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '{' || c == '[':
		return s.container()
	}
	return false
}

// anyValue skips any value skip takes, and strings with valid escapes at
// any depth (nothing is unescaped).
func (s *scanner) anyValue() bool {
	if s.pos >= len(s.data) {
		return false
	}
	switch s.data[s.pos] {
	case '"':
		return s.escapedString()
	case '{', '[':
		if s.depth > 32 {
			return false
		}
		s.depth++
		defer func() { s.depth-- }()
		if s.data[s.pos] == '{' {
			return s.object(func([]byte) bool { return s.anyValue() })
		}
		return s.array(s.anyValue)
	}
	return s.skip()
}

func (s *scanner) container() bool {
	if s.depth > 32 {
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	if s.data[s.pos] == '{' {
		return s.object(func([]byte) bool { return s.skip() })
	}
	return s.array(s.skip)
}

// foldsToAny reports whether encoding/json could match key to one of names
// other than by exact name. Any non-ASCII key counts: encoding/json folds
// some Unicode letters to ASCII ones ("ſ" to "s", the Kelvin sign to "k").
func foldsToAny(key []byte, names []string) bool {
	if !isASCII(key) {
		return true
	}
	for _, f := range names {
		if len(f) == len(key) && equalFoldASCII(key, f) {
			return true
		}
	}
	return false
}

func foldsTo(key []byte, name string) bool {
	return !isASCII(key) || (len(key) == len(name) && equalFoldASCII(key, name))
}

func isASCII(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// equalFoldASCII compares two ASCII strings of equal length case-insensitively.
func equalFoldASCII(a []byte, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
