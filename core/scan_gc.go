//go:build gc
// +build gc

package core

import "unicode/utf8"

// This file is compiled only by the gc toolchain; Yaegi, which honours
// "// +build" lines and does not set gc, never loads it, because a
// hand-written byte loop runs a hundred times slower interpreted than
// encoding/json does compiled. Natively it halves a join decision: decoding
// a small body with encoding/json costs about 2 µs on its own.

func init() { fastTencent = scanTencentBody }

// scanTencentBody fills b from body when body is a JSON object made only of
// what the scanner fully understands: exact field names, strings without
// escapes, member lists, EventTime as a string or integer, and any other
// fields whose values need no unescaping. Anything else (escapes, a key
// that differs from a field name only by case, message bodies, wrong types,
// invalid JSON) returns false and encoding/json decides, so the result is
// always the one encoding/json gives. FuzzScanTencent checks that.
func scanTencentBody(body []byte, b *tencentBody) bool {
	s := scanner{data: body}
	s.space()
	return s.object(func(key []byte) bool { return s.field(key, b) }) && s.end()
}

type scanner struct {
	data  []byte
	pos   int
	depth int
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

// stringField reads a string or null (which leaves the field unchanged).
func (s *scanner) stringField(dst *string) bool {
	if s.literal("null") {
		return true
	}
	v, ok := s.plainString()
	*dst = v
	return ok
}

// fields are the tencentBody members with their exact JSON names.
func (s *scanner) field(key []byte, b *tencentBody) bool {
	switch string(key) { // compared in place: no string is built
	case "CallbackCommand":
		return s.stringField(&b.CallbackCommand)
	case "GroupId":
		return s.stringField(&b.GroupID)
	case "Type":
		return s.stringField(&b.Type)
	case "Operator_Account":
		return s.stringField(&b.OperatorAccount)
	case "Owner_Account":
		return s.stringField(&b.OwnerAccount)
	case "NewOwner_Account":
		return s.stringField(&b.NewOwnerAccount)
	case "Requestor_Account":
		return s.stringField(&b.RequestorAccount)
	case "From_Account":
		return s.stringField(&b.FromAccount)
	case "Member_Account":
		return s.stringField(&b.MemberAccount)
	case "Name":
		return s.stringField(&b.Name)
	case "MemberList":
		return s.members(&b.MemberList)
	case "DestinationMembers":
		return s.members(&b.DestinationMembers)
	case "NewMemberList":
		return s.members(&b.NewMemberList)
	case "ExitMemberList":
		return s.members(&b.ExitMemberList)
	case "EventTime":
		start := s.pos
		if !s.literal("null") && !s.integer() {
			if _, ok := s.plainBytes(); !ok {
				return false
			}
		}
		b.EventTime = s.data[start:s.pos]
		return true
	case "MsgBody":
		// Message elements are nested and varied: leave them to encoding/json.
		return false
	}
	if foldsToField(key) {
		// encoding/json matches field names case-insensitively.
		return false
	}
	return s.skip()
}

// members reads [{"Member_Account":"id"}, ...] or null, which (as in
// encoding/json) resets the list.
func (s *scanner) members(dst *[]tencentMember) bool {
	if s.literal("null") {
		*dst = nil
		return true
	}
	if !s.consume('[') {
		return false
	}
	list := make([]tencentMember, 0, 8)
	s.space()
	if s.consume(']') {
		*dst = list
		return true
	}
	for {
		s.space()
		var m tencentMember
		if !s.member(&m) {
			return false
		}
		list = append(list, m)
		s.space()
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			*dst = list
			return true
		}
		return false
	}
}

func (s *scanner) member(m *tencentMember) bool {
	return s.object(func(key []byte) bool {
		switch {
		case string(key) == "Member_Account":
			return s.stringField(&m.MemberAccount)
		case foldsTo(key, "Member_Account"):
			return false
		}
		return s.skip()
	})
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

func (s *scanner) container() bool {
	if s.depth > 32 {
		return false
	}
	s.depth++
	defer func() { s.depth-- }()
	if s.data[s.pos] == '{' {
		return s.object(func([]byte) bool { return s.skip() })
	}
	s.pos++ // '['
	s.space()
	if s.consume(']') {
		return true
	}
	for {
		s.space()
		if !s.skip() {
			return false
		}
		s.space()
		if s.consume(',') {
			continue
		}
		return s.consume(']')
	}
}

// tencentFields are tencentBody's JSON names, for the case-insensitive check.
var tencentFields = []string{
	"CallbackCommand", "GroupId", "Type", "Operator_Account", "Owner_Account",
	"NewOwner_Account", "Requestor_Account", "From_Account", "Member_Account",
	"Name", "MemberList", "DestinationMembers", "NewMemberList",
	"ExitMemberList", "MsgBody", "EventTime",
}

// foldsToField reports whether encoding/json could match key to a field
// other than by exact name. Any non-ASCII key counts: encoding/json folds
// some Unicode letters to ASCII ones ("ſ" to "s", the Kelvin sign to "k").
func foldsToField(key []byte) bool {
	if !isASCII(key) {
		return true
	}
	for _, f := range tencentFields {
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
