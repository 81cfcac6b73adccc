package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// decodeBody decodes a callback body into dst, a pointer to a platform's
// body struct: with the compiled-only scanner when it takes the body,
// else with encoding/json.
func decodeBody(body []byte, dst interface{}) error {
	if scanBody != nil && scanBody(body, dst) {
		return nil
	}
	return unmarshalBody(body, dst)
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

// bodyDecoder is a json.Decoder over a resettable reader. json.Unmarshal
// allocates a fresh decode state, error context, field stack and parser
// stack on every call, four of the hot path's allocations; a reused Decoder
// keeps them. fed counts the bytes given to the decoder so far, to tell a
// body that is exactly one JSON value from one with data after it.
type bodyDecoder struct {
	rd  *bytes.Reader
	dec *json.Decoder
	fed int64
}

var bodyDecoders sync.Pool

// errTrailingData mirrors json.Unmarshal's refusal of data after the value.
var errTrailingData = errors.New("invalid character after top-level value")

// decodeJSON behaves like json.Unmarshal(data, v) for data without leading
// or trailing space. A decoder that failed is dropped, never reused: its
// buffer or error state may be left over from the bad input.
func decodeJSON(data []byte, v interface{}) error {
	var d *bodyDecoder
	if p := bodyDecoders.Get(); p != nil {
		d = p.(*bodyDecoder)
	} else {
		d = &bodyDecoder{rd: bytes.NewReader(nil)}
		d.dec = json.NewDecoder(d.rd)
	}
	d.rd.Reset(data)
	d.fed += int64(len(data))
	if err := d.dec.Decode(v); err != nil {
		return err
	}
	if d.dec.InputOffset() != d.fed {
		return errTrailingData
	}
	bodyDecoders.Put(d)
	return nil
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
