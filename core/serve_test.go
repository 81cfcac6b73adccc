package core_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

func TestServeWritesReply(t *testing.T) {
	e, err := core.New(core.Config{DecisionHeader: "X-Decision", Rules: []core.RuleConfig{{Name: "ban", Actors: []string{"mallory"}, Action: "deny", Code: 10101, Platforms: []string{"tencent"}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/cb?CallbackCommand=Group.CallbackBeforeApplyJoinGroup", strings.NewReader(`{"GroupId":"g","Requestor_Account":"mallory"}`))
	w := httptest.NewRecorder()
	out := e.Serve(w, r, "", nil)
	want := `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":10101}`
	if w.Code != 200 || w.Body.String() != want {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Content-Length") != strconv.Itoa(len(want)) {
		t.Errorf("headers %v", w.Header())
	}
	if w.Header().Get("X-Decision") != "deny; rule=ban" {
		t.Errorf("decision header %q", w.Header().Get("X-Decision"))
	}
	if out.Result != core.ResultDeny || out.Duration <= 0 {
		t.Errorf("outcome %s duration %s", out.Result, out.Duration)
	}

	r = httptest.NewRequest("GET", "/cb", nil)
	w = httptest.NewRecorder()
	e.Serve(w, r, "", nil)
	if w.Code != 405 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// TestServeClientIP proves the adapter's client IP replaces RemoteAddr for
// the OpenIM source list.
func TestServeClientIP(t *testing.T) {
	e, err := core.New(core.Config{OpenIM: core.OpenIMConfig{AllowedCIDRs: []string{"10.0.0.0/8"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		clientIP string
		status   int
	}{{"", 403}, {"10.2.3.4", 200}, {"192.0.2.9", 403}} {
		r := httptest.NewRequest("POST", "/cb/callbackBeforeJoinGroupCommand", strings.NewReader(`{"groupID":"g","applyID":"u"}`))
		r.RemoteAddr = "192.0.2.1:1234"
		w := httptest.NewRecorder()
		e.Serve(w, r, tc.clientIP, nil)
		if w.Code != tc.status {
			t.Errorf("clientIP %q: status %d, want %d", tc.clientIP, w.Code, tc.status)
		}
	}
}

type panickyBody struct{}

func (panickyBody) Read([]byte) (int, error) { panic("reader exploded") }
func (panickyBody) Close() error             { return nil }

// TestServeRecoversPanics proves a panic while deciding gives an honest 500
// and a panic in the next handler still gives a valid platform reply.
func TestServeRecoversPanics(t *testing.T) {
	e, err := core.New(core.Config{Rules: []core.RuleConfig{{Name: "up", Action: "forward"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/cb?CallbackCommand=Group.CallbackBeforeApplyJoinGroup", nil)
	r.Body = panickyBody{}
	r.ContentLength = -1
	w := httptest.NewRecorder()
	out := e.Serve(w, r, "", nil)
	if w.Code != 500 || out.Result != core.ResultError || out.Reason != "panic" {
		t.Fatalf("reader panic: %d %s %s", w.Code, out.Result, out.Reason)
	}

	next := func(w http.ResponseWriter, r *http.Request) error { panic("upstream handler exploded") }
	cases := []struct{ target, body, want string }{
		{"/cb?CallbackCommand=Group.CallbackBeforeApplyJoinGroup", `{"GroupId":"g","Requestor_Account":"u"}`, tencentAllow},
		{"/cb/callbackBeforeJoinGroupCommand", `{"groupID":"g","applyID":"u"}`, openimAllow},
	}
	for _, tc := range cases {
		r = httptest.NewRequest("POST", tc.target, strings.NewReader(tc.body))
		w = httptest.NewRecorder()
		out = e.Serve(w, r, "", next)
		if w.Code != 200 || w.Body.String() != tc.want || out.Result != core.ResultFallback {
			t.Errorf("%s: next panic gave %d %s (%s %s)", tc.target, w.Code, w.Body, out.Result, out.Reason)
		}
	}
}
