package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeBody decodes a callback body into dst, a pointer to a platform's
// body struct: with the compiled-only scanner when it takes the body,
// else with encoding/json. A body that is not valid UTF-8 is refused
// (encoding/json would turn the bad bytes into U+FFFD and an id into
// another id), and so is a body where a field imgate reads appears twice
// (encoding/json takes the last, other readers may take the first):
// names are dst's fields (fieldNamesOf), computed once per body type.
func decodeBody(body []byte, dst interface{}, names *fieldNames) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("the body is not valid UTF-8; ids must be valid UTF-8: %w", ErrEncoding)
	}
	if scanBody != nil && scanBody(body, dst) {
		return nil
	}
	if err := unmarshalBody(body, dst); err != nil {
		return err
	}
	return checkDuplicateFields(body, names)
}

// unmarshalBody decodes a JSON object. Vendor documentation samples carry
// "// comment" annotations; people paste them to try a gateway, so a body
// that fails to parse is retried once with comments removed.
func unmarshalBody(body []byte, v interface{}) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("body is not a JSON object: %w", ErrBadBody)
	}
	err := decodeJSON(trimmed, v)
	if err == nil {
		return nil
	}
	if bytes.Contains(trimmed, []byte("//")) {
		if clean := stripJSONComments(trimmed); decodeJSON(clean, v) == nil {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", jsonErrorText(err), ErrBadBody)
}

// isJSONObject reports whether body is one valid JSON object.
func isJSONObject(body []byte) bool {
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed)
}

// jsonErrorText drops the Go type names from a decode error ("into Go
// struct field tencentBody.GroupId of type string" becomes "into field
// GroupId"): they say nothing to the platform's operator, and Yaegi names
// interpreted types differently, which would make the reply depend on how
// the gateway runs the code.
func jsonErrorText(err error) string {
	msg := err.Error()
	const into = " into Go struct field "
	i := strings.Index(msg, into)
	if i < 0 {
		return msg
	}
	field := msg[i+len(into):]
	if j := strings.Index(field, " of type "); j >= 0 {
		field = field[:j]
	}
	if k := strings.IndexByte(field, '.'); k >= 0 {
		field = field[k+1:]
	}
	return msg[:i] + " into field " + field
}

// errTrailingData is the refusal of data after the body's JSON value,
// worded without the character.
var errTrailingData = errors.New("invalid character after top-level value")

// decodeJSON is json.Unmarshal with the error texts of a json.Decoder,
// which imgate used before and which replies and golden cases keep:
// "unexpected EOF" for a truncated body, errTrailingData for data after
// the value. One call into encoding/json is the cheapest decode under
// Yaegi (Traefik), where the statements around a reused json.Decoder cost
// more than the allocations it saves compiled; compiled builds scan the
// common bodies without encoding/json anyway (jsonscan_gc.go).
func decodeJSON(data []byte, v interface{}) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	msg := err.Error()
	if msg == "unexpected end of JSON input" {
		return io.ErrUnexpectedEOF
	}
	if strings.HasSuffix(msg, " after top-level value") {
		return errTrailingData
	}
	return err
}

// cleanBody returns body as valid JSON for the Raw field: unchanged when it
// is valid, without comments when only they made it invalid.
func cleanBody(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	if json.Valid(trimmed) {
		return trimmed
	}
	clean := stripJSONComments(trimmed)
	if json.Valid(clean) {
		return clean
	}
	return nil
}

// stripJSONComments removes // line comments outside strings.
func stripJSONComments(in []byte) []byte {
	out := make([]byte, 0, len(in))
	inString := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		if inString {
			out = append(out, c)
			if c == '\\' && i+1 < len(in) {
				i++
				out = append(out, in[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
		} else if c == '/' && i+1 < len(in) && in[i+1] == '/' {
			nl := bytes.IndexByte(in[i:], '\n')
			if nl < 0 {
				break
			}
			i += nl - 1
			continue
		}
		out = append(out, c)
	}
	return out
}

// queryValue returns the first value of key in a raw query without building
// a map: the hot path reads three or four keys from a short query.
func queryValue(rawQuery, key string) string {
	for rawQuery != "" {
		var pair string
		if i := strings.IndexByte(rawQuery, '&'); i >= 0 {
			pair, rawQuery = rawQuery[:i], rawQuery[i+1:]
		} else {
			pair, rawQuery = rawQuery, ""
		}
		k, v := pair, ""
		if i := strings.IndexByte(pair, '='); i >= 0 {
			k, v = pair[:i], pair[i+1:]
		}
		if k != key {
			continue
		}
		if strings.IndexByte(v, '%') < 0 && strings.IndexByte(v, '+') < 0 {
			return v
		}
		if u, err := url.QueryUnescape(v); err == nil {
			return u
		}
		return v
	}
	return ""
}

// dropQueryKeys returns the raw query without the pairs of the given keys,
// the others kept as they were sent.
func dropQueryKeys(rawQuery string, keys ...string) string {
	var kept []string
	for rawQuery != "" {
		pair := rawQuery
		if i := strings.IndexByte(rawQuery, '&'); i >= 0 {
			pair, rawQuery = rawQuery[:i], rawQuery[i+1:]
		} else {
			rawQuery = ""
		}
		k := pair
		if i := strings.IndexByte(pair, '='); i >= 0 {
			k = pair[:i]
		}
		drop := false
		for _, key := range keys {
			if k == key {
				drop = true
			}
		}
		if !drop && pair != "" {
			kept = append(kept, pair)
		}
	}
	return strings.Join(kept, "&")
}

// queryCount counts the occurrences of key in a raw query.
func queryCount(rawQuery, key string) int {
	n := 0
	for rawQuery != "" {
		pair := rawQuery
		if i := strings.IndexByte(rawQuery, '&'); i >= 0 {
			pair, rawQuery = rawQuery[:i], rawQuery[i+1:]
		} else {
			rawQuery = ""
		}
		if pair == key || strings.HasPrefix(pair, key+"=") {
			n++
		}
	}
	return n
}

// checkBodyCommand cross-checks the body's command with the URL's. The
// URL's command decides how the body is read (and is what Tencent's query
// carries next to the signature); a body naming another command is
// refused, a body naming none (e.g. "{}") is read as the URL's command:
// it can make imgate read nothing that the URL did not already say.
func checkBodyCommand(ev *Event, bodyCommand, field string) error {
	if bodyCommand != "" && !strings.EqualFold(bodyCommand, ev.Command) {
		return fmt.Errorf("the URL says %q, the body's %s says %q: %w", ev.Command, field, bodyCommand, ErrCommandMismatch)
	}
	return nil
}

// checkIDs refuses ids that are not valid UTF-8 once decoded: a \uXXXX
// escape of a lone surrogate decodes to U+FFFD, which would make
// "spammer1\udcff" compare as another id than the one sent.
func checkIDs(ev *Event) error {
	if hasReplacement(ev.Actor) || hasReplacement(ev.Owner) || hasReplacement(ev.GroupID) {
		return fmt.Errorf("an id holds an invalid character (U+FFFD); ids must be valid UTF-8: %w", ErrEncoding)
	}
	for _, m := range ev.Members {
		if hasReplacement(m) {
			return fmt.Errorf("a member id holds an invalid character (U+FFFD); ids must be valid UTF-8: %w", ErrEncoding)
		}
	}
	return nil
}

// mayHoldReplacement reports whether a decoded value of body can hold
// U+FFFD: only through a \u escape or the character itself (invalid
// bytes were refused before decoding). Most bodies have neither, and then
// the ids need no look.
func mayHoldReplacement(body []byte) bool {
	return bytes.Contains(body, unicodeEscape) || bytes.Contains(body, replacementChar)
}

// unicodeEscape and replacementChar are what mayHoldReplacement looks
// for, converted once rather than per callback.
var (
	unicodeEscape   = []byte(`\u`)
	replacementChar = []byte("\uFFFD")
)

func hasReplacement(s string) bool {
	return strings.ContainsRune(s, utf8.RuneError)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseEventTime accepts EventTime as a JSON number or a numeric string, as
// Tencent's samples send both; anything else is ignored.
func parseEventTime(raw json.RawMessage) int64 {
	s := string(bytes.Trim(raw, `" `))
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return 0
		}
		return int64(f)
	}
	return n
}

// fieldNames are a body struct's JSON field names folded (see foldKey),
// for the duplicate-field check. Each platform builds its body's when the
// package loads: per callback, reflection and a cache lookup would cost
// more interpreted calls (Yaegi) than the check itself.
type fieldNames struct {
	// shape is the body's top-level object: the keys imgate reads, and
	// below them the objects it reads into (member lists, MsgBody).
	shape *keyShape
	// quoted matches any of the names at any depth, folded and quoted, in a
	// folded body, and any key written with \u escapes.
	quoted *regexp.Regexp
}

// keyShape is one kind of JSON object imgate reads: its fields, folded,
// each with the shape of the objects its value holds (an object, or a list
// of them), or nil for a value that holds none imgate reads.
type keyShape struct {
	fields map[string]*keyShape
	// flat, for a shape whose fields hold no objects imgate reads (a member
	// list's element), matches a folded value in which such an object may
	// hold a field twice: a field followed, before its object closes, by a
	// field of the shape again, by a nested object or list, or by a
	// comment; or a key with \u escapes. Only a value it matches is walked
	// token by token: under Yaegi a walk through twenty members costs
	// thousands of allocations, the match one compiled call.
	flat *regexp.Regexp
}

// fieldNamesOf reads the json tags of the struct dst points to, and of
// the structs its fields hold.
func fieldNamesOf(dst interface{}) *fieldNames {
	all := map[string]bool{}
	shape := shapeOf(reflect.TypeOf(dst).Elem(), all, 0)
	var alternatives []string
	for name := range all {
		alternatives = append(alternatives, regexp.QuoteMeta(name))
	}
	sort.Strings(alternatives)
	// The last alternative finds a key written with \u escapes (from its
	// first escape to its closing quote and colon; in valid JSON only a key
	// is followed by a colon): encoding/json unescapes keys before folding
	// them, so "Requestor_Acc\u006funt" is the field Requestor_Account and
	// the quoted names alone would not see it.
	quoted := regexp.MustCompile(`"(?:` + strings.Join(alternatives, "|") + `)"|` + escapedKey)
	return &fieldNames{shape: shape, quoted: quoted}
}

// shapeOf is the keyShape of struct type t; all collects every folded name.
func shapeOf(t reflect.Type, all map[string]bool, depth int) *keyShape {
	shape := &keyShape{fields: map[string]*keyShape{}}
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		if j := strings.IndexByte(tag, ','); j >= 0 {
			tag = tag[:j]
		}
		if tag == "" || tag == "-" {
			continue
		}
		name := foldKey(tag)
		all[name] = true
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		var child *keyShape
		if ft.Kind() == reflect.Struct && depth < 4 {
			child = shapeOf(ft, all, depth+1)
		}
		shape.fields[name] = child
	}
	flat := true
	var names []string
	for name, child := range shape.fields {
		flat = flat && child == nil
		names = append(names, regexp.QuoteMeta(name))
	}
	if flat && len(names) > 0 {
		sort.Strings(names)
		key := `"(?:` + strings.Join(names, "|") + `)"\s*:`
		// Between a key and the end of its object only scalars and whole
		// strings (which may hold any brace) are passed over.
		shape.flat = regexp.MustCompile(key + `(?:[^{}\[\]"/]|"(?:[^"\\]|\\.)*")*(?:` + key + `|[{\[/])|` + escapedKey)
	}
	return shape
}

// escapedKey matches the end of a key that holds a \u escape, from the
// escape on (the body is lower-cased by foldKey first). A key with other
// escapes (\n, \") cannot spell a field name.
const escapedKey = `\\u[0-9a-f]{4}(?:[^"\\]|\\u[0-9a-f]{4})*"\s*:`

// foldKey folds a key the way encoding/json matches keys to fields: case
// does not matter, and two non-ASCII letters fold to ASCII ones (the
// Kelvin sign to k, the long s to s).
func foldKey(key string) string {
	key = strings.ToLower(key)
	if strings.IndexByte(key, 0xE2) >= 0 || strings.IndexByte(key, 0xC5) >= 0 {
		key = strings.ReplaceAll(strings.ReplaceAll(key, "\u212a", "k"), "\u017f", "s")
	}
	return key
}

// checkDuplicateFields refuses a body that holds a field imgate reads twice
// in one object (under any spelling encoding/json folds together, escapes
// included), which encoding/json silently resolves to the last while the
// business service may take the first: at the top level, and in the
// objects imgate reads below it (a member list's elements, a message's
// MsgBody and MsgContent). A quick scan first: a field's folded, quoted
// name appearing once in the folded body cannot be there twice; only a
// body where one appears more often (a key, or the same text as a string
// value, or a member list of two) or a key holds an escape is walked key
// by key. Under Yaegi the scan is a few compiled calls where the walk is
// hundreds. The compiled scanner refuses duplicates itself, so this runs
// only for the bodies it hands over.
func checkDuplicateFields(body []byte, names *fieldNames) error {
	if scanDuplicates != nil {
		// Compiled: one walk over the top-level keys rather than the
		// regexp, which costs ten times more natively and about a hundred
		// microseconds a message body in WASM.
		if dup, walked := scanDuplicates(body, names.shape); walked {
			return duplicateErr(dup)
		}
	}
	return duplicateErr(findDuplicateField(body, names))
}

// findDuplicateField is checkDuplicateFields's scan and walk: the repeated
// key, or "".
func findDuplicateField(body []byte, names *fieldNames) string {
	// One compiled call finds every quoted field name; Yaegi then loops
	// over a handful of matches rather than over every field.
	matches := names.quoted.FindAllString(foldKey(string(body)), -1)
	suspect := false
	seen := make(map[string]bool, len(matches))
	for _, m := range matches {
		if seen[m] || m[0] == '\\' {
			suspect = true
			break
		}
		seen[m] = true
	}
	if !suspect {
		return ""
	}
	dup := duplicateKey(body, names.shape)
	if dup == "" && bytes.Contains(body, []byte("//")) {
		dup = duplicateKey(stripJSONComments(bytes.TrimSpace(body)), names.shape)
	}
	return dup
}

// duplicateErr is the error for a repeated field dup, or nil for "".
func duplicateErr(dup string) error {
	if dup == "" {
		return nil
	}
	return fmt.Errorf("the body holds the field %s twice: %w", dup, ErrDuplicate)
}

// duplicateKey returns a key of body that repeats a field of shape in one
// object, or "" (also when the body cannot be walked: the decode already
// decided).
func duplicateKey(body []byte, shape *keyShape) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	dup, _ := duplicateInObject(dec, shape, 0)
	return dup
}

// duplicateInObject walks the rest of an object whose '{' dec has read:
// the repeated key, or "" with ok false when the walk cannot go on.
func duplicateInObject(dec *json.Decoder, shape *keyShape, depth int) (string, bool) {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		key, _ := tok.(string)
		folded := foldKey(key)
		child, known := shape.fields[folded]
		if known {
			if seen[folded] {
				return key, true
			}
			seen[folded] = true
		}
		if child == nil || depth >= 4 {
			var value json.RawMessage
			if err = dec.Decode(&value); err != nil {
				return "", false
			}
			continue
		}
		if child.flat != nil {
			var value json.RawMessage
			if err = dec.Decode(&value); err != nil {
				return "", false
			}
			if !child.flat.MatchString(foldKey(string(value))) {
				continue
			}
			inner := json.NewDecoder(bytes.NewReader(value))
			if dup, ok := duplicateInValue(inner, child, depth+1); dup != "" || !ok {
				return dup, ok
			}
			continue
		}
		if dup, ok := duplicateInValue(dec, child, depth+1); dup != "" || !ok {
			return dup, ok
		}
	}
	_, err := dec.Token() // the closing '}'
	return "", err == nil
}

// duplicateInValue walks a value that may hold objects of shape: one, or
// a list of them; anything else is skipped.
func duplicateInValue(dec *json.Decoder, shape *keyShape, depth int) (string, bool) {
	tok, err := dec.Token()
	if err != nil {
		return "", false
	}
	if tok == json.Delim('{') {
		return duplicateInObject(dec, shape, depth)
	}
	if tok != json.Delim('[') {
		return "", true // a scalar
	}
	for dec.More() {
		if dup, ok := duplicateInValue(dec, shape, depth); dup != "" || !ok {
			return dup, ok
		}
	}
	_, err = dec.Token() // the closing ']'
	return "", err == nil
}
