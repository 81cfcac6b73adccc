package core

import (
	"errors"
	"testing"
)

func TestQueryValue(t *testing.T) {
	cases := []struct{ query, key, want string }{
		{"a=1&b=2", "b", "2"},
		{"a=1&b=2", "c", ""},
		{"", "a", ""},
		{"a=1&a=2", "a", "1"},
		{"SdkAppidX=1&SdkAppid=2", "SdkAppid", "2"},
		{"xSdkAppid=1", "SdkAppid", ""},
		{"flag&a=1", "flag", ""},
		{"a=&b=2", "a", ""},
		{"path=%2Fim%2Fcb", "path", "/im/cb"},
		{"msg=hello+world", "msg", "hello world"},
		{"msg=100%25", "msg", "100%"},
		{"bad=%zz", "bad", "%zz"},
		{"CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json", "contenttype", "json"},
		{"a=1=2", "a", "1=2"},
		{"&&a=1&", "a", "1"},
	}
	for _, tc := range cases {
		if got := queryValue(tc.query, tc.key); got != tc.want {
			t.Errorf("queryValue(%q, %q) = %q, want %q", tc.query, tc.key, got, tc.want)
		}
	}
}

func TestStripJSONComments(t *testing.T) {
	cases := []struct{ in, want string }{
		{"{\"a\":1 // one\n}", "{\"a\":1 \n}"},
		{`{"url":"http://example.com/x"}`, `{"url":"http://example.com/x"}`},
		{"{\"q\":\"say \\\"//no\\\"\" // yes\n}", "{\"q\":\"say \\\"//no\\\"\" \n}"},
		{"{\"a\":\"\\\\\"// after an escaped backslash\n}", "{\"a\":\"\\\\\"\n}"},
		{"{\"a\":1} // no newline at the end", "{\"a\":1} "},
		{"{\"a\":1 /not a comment/ }", "{\"a\":1 /not a comment/ }"},
		{"// lead\n{}", "\n{}"},
	}
	for _, tc := range cases {
		if got := string(stripJSONComments([]byte(tc.in))); got != tc.want {
			t.Errorf("stripJSONComments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUnmarshalBody covers the comment retry and the pooled decoder: a
// decoder left in a bad state by one body must never leak into the next.
func TestUnmarshalBody(t *testing.T) {
	type v struct {
		A string `json:"a"`
	}
	cases := []struct {
		body string
		want string
		ok   bool
	}{
		{`{"a":"x"}`, "x", true},
		{"  {\"a\":\"y\"}\n", "y", true},
		{"{\"a\":\"z\" // comment\n}", "z", true},
		{`{"a":"http://keep"}`, "http://keep", true},
		{`{"a":"x"} {"a":"y"}`, "", false},
		{`{"a":"x"}}`, "", false},
		{`{"a":`, "", false},
		{`["a"]`, "", false},
		{``, "", false},
		{`{"a":1}`, "", false},
		{"{\"a\":\"x\" // a comment hides\n, nothing}", "", false},
	}
	// Twice over, so that every bad body is followed by good ones through
	// the same pool.
	for round := 0; round < 2; round++ {
		for _, tc := range cases {
			var got v
			err := unmarshalBody([]byte(tc.body), &got)
			if tc.ok != (err == nil) {
				t.Fatalf("round %d: unmarshalBody(%q) error %v, want ok=%v", round, tc.body, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrBadBody) {
				t.Errorf("error %v does not wrap ErrBadBody", err)
			}
			if tc.ok && got.A != tc.want {
				t.Errorf("round %d: unmarshalBody(%q) = %q, want %q", round, tc.body, got.A, tc.want)
			}
		}
	}
}

func TestParseEventTime(t *testing.T) {
	cases := []struct {
		raw  string
		want int64
	}{
		{`1670574414123`, 1670574414123},
		{`"1670574414123"`, 1670574414123},
		{`1.670574414123e12`, 1670574414123},
		{`""`, 0},
		{`null`, 0},
		{`"soon"`, 0},
		{``, 0},
	}
	for _, tc := range cases {
		if got := parseEventTime([]byte(tc.raw)); got != tc.want {
			t.Errorf("parseEventTime(%s) = %d, want %d", tc.raw, got, tc.want)
		}
	}
}
