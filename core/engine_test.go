package core_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

// TestReadInput covers the HTTP checks before decoding: method, declared and
// actual body size.
func TestReadInput(t *testing.T) {
	e, err := core.New(core.Config{MaxBodyBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 65)
	cases := []struct {
		name    string
		method  string
		body    io.Reader
		length  int64
		result  string
		status  int
		bodyLen int
	}{
		{"get", "GET", nil, 0, core.ResultMethod, 405, 0},
		{"declared too large", "POST", strings.NewReader(big), 65, core.ResultTooLarge, 413, 0},
		{"undeclared too large", "POST", strings.NewReader(big), -1, core.ResultTooLarge, 413, 0},
		{"at the limit", "POST", strings.NewReader(big[:64]), -1, "", 0, 64},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/cb?CallbackCommand=Group.CallbackBeforeApplyJoinGroup", tc.body)
			r.ContentLength = tc.length
			in, out := e.ReadInput(r)
			if tc.result == "" {
				if out != nil || len(in.Body) != tc.bodyLen {
					t.Fatalf("outcome %+v, body %d bytes", out, len(in.Body))
				}
				return
			}
			if out == nil || out.Result != tc.result || out.Status != tc.status {
				t.Fatalf("outcome %+v", out)
			}
		})
	}
}

// TestDecideFailures proves requests that cannot be callbacks get an HTTP
// error and no platform answer.
func TestDecideFailures(t *testing.T) {
	e, err := core.New(core.Config{MaxBodyBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		in     core.Input
		result string
		status int
	}{
		{"method", core.Input{Method: "PUT", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(`{}`)}, core.ResultMethod, 405},
		{"too large", core.Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(`{"a":"` + strings.Repeat("x", 100) + `"}`)}, core.ResultTooLarge, 413},
		{"not json", core.Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(`GroupId=g`)}, core.ResultBadRequest, 400},
		{"openim truncated", core.Input{Method: "POST", Path: "/callbackBeforeJoinGroupCommand", Body: []byte(`{"groupID":"g","applyID":`)}, core.ResultBadRequest, 400},
		{"openim no command", core.Input{Method: "POST", Path: "/", Body: []byte(`{}`)}, core.ResultBadRequest, 400},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			out := e.Decide(&in)
			if out.Result != tc.result || out.Status != tc.status {
				t.Fatalf("result %s status %d, want %s %d", out.Result, out.Status, tc.result, tc.status)
			}
			if strings.Contains(string(out.Body), "ActionStatus") || strings.Contains(string(out.Body), "actionCode") {
				t.Errorf("failure answered like a platform: %s", out.Body)
			}
		})
	}
}

// TestPlatformPinned proves platform: tencent or openim stops auto-detection.
func TestPlatformPinned(t *testing.T) {
	e, err := core.New(core.Config{Platform: "openim"})
	if err != nil {
		t.Fatal(err)
	}
	out := e.Decide(&core.Input{Method: "POST", Path: "/x", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(`{}`)})
	if out.Result != core.ResultBadRequest {
		t.Fatalf("a Tencent query on an OpenIM route gave %s", out.Result)
	}
}
