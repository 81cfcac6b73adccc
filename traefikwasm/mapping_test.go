package main

import (
	"io"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

func TestCallbackRequest(t *testing.T) {
	for _, c := range []struct {
		uri, contentLength string
		path, query        string
		length             int64
	}{
		{"/im?SdkAppid=1&CallbackCommand=Group.X", "42", "/im", "SdkAppid=1&CallbackCommand=Group.X", 42},
		{"/openim/callbackBeforeJoinGroupCommand", "", "/openim/callbackBeforeJoinGroupCommand", "", -1},
		{"/a%20b/c?x=%2F", "junk", "/a b/c", "x=%2F", -1},
	} {
		r, err := callbackRequest("POST", c.uri, "10.0.0.1:5000", c.contentLength, strings.NewReader("body"))
		if err != nil {
			t.Fatalf("%s: %v", c.uri, err)
		}
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != c.path || r.URL.RawQuery != c.query || r.ContentLength != c.length || r.RemoteAddr != "10.0.0.1:5000" || r.Method != "POST" || string(body) != "body" {
			t.Errorf("%s: %s %q %q %d %s", c.uri, r.Method, r.URL.Path, r.URL.RawQuery, r.ContentLength, body)
		}
	}
	if _, err := callbackRequest("POST", "no-slash", "", "", strings.NewReader("")); err == nil {
		t.Error("a request URI without a leading slash was accepted")
	}
}

func TestUpstreamURI(t *testing.T) {
	// The query sent is the one core prepared (scrubbed of credentials),
	// never the callback's own.
	callback, _ := url.ParseRequestURI("/im/a%2Fb?SdkAppid=1&Sign=s")
	for _, c := range []struct {
		call core.UpstreamCall
		want string
	}{
		{core.UpstreamCall{}, "/im/a%2Fb"},
		{core.UpstreamCall{KeepQuery: true, RawQuery: "SdkAppid=1"}, "/im/a%2Fb?SdkAppid=1"},
		{core.UpstreamCall{Path: "/decide"}, "/decide"},
		{core.UpstreamCall{Path: "/de cide", KeepQuery: true, RawQuery: "SdkAppid=1&Sign=s"}, "/de%20cide?SdkAppid=1&Sign=s"},
	} {
		if got := upstreamURI(&c.call, callback); got != c.want {
			t.Errorf("%+v: %s, want %s", c.call, got, c.want)
		}
	}
}

func TestAddedHeaders(t *testing.T) {
	got := addedHeaders([]string{"x-frame-options", "strict-transport-security"}, []string{"content-length", "content-type", "x-frame-options", "date", "Strict-Transport-Security"})
	if want := []string{"content-length", "content-type", "date"}; !reflect.DeepEqual(got, want) {
		t.Errorf("added %v, want %v", got, want)
	}
	if got := addedHeaders(nil, nil); len(got) != 0 {
		t.Errorf("added %v from nothing", got)
	}
}

func TestSplitNUL(t *testing.T) {
	for _, c := range []struct {
		buf   string
		count int
		want  []string
	}{
		{"", 0, []string{}},
		{"a\x00", 1, []string{"a"}},
		{"content-type\x00x-imgate\x00", 2, []string{"content-type", "x-imgate"}},
		{"\x00b\x00", 2, []string{"", "b"}},
	} {
		if got := splitNUL([]byte(c.buf), c.count); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %q, want %q", c.buf, got, c.want)
		}
	}
}
