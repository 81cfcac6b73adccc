package traefikplugin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

// TestNewErrors proves New refuses what cannot work, naming the
// middleware and the config key.
func TestNewErrors(t *testing.T) {
	cases := []struct {
		name   string
		config *Config
		next   http.Handler
		want   string
	}{
		{"fail/no-next", CreateConfig(), nil, "no next handler"},
		{"fail/bad-default", &Config{DefaultAction: "maybe"}, staticNext(200, ""), "defaultAction"},
		{"fail/deadline", &Config{Forward: core.ForwardConfig{TencentDeadline: "2s"}}, staticNext(200, ""), "forward.tencentDeadline"},
		{"fail/rule-action", &Config{Rules: []core.RuleConfig{{Name: "r"}}}, staticNext(200, ""), "rules[0]"},
	}
	for i := range cases {
		c := cases[i]
		t.Run(c.name, func(t *testing.T) {
			name := uniqueName(t)
			h, err := New(context.Background(), c.next, c.config, name)
			if err == nil {
				t.Fatalf("New succeeded with %+v", c.config)
			}
			if h != nil {
				t.Error("New returned a handler with its error")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name %q and the middleware", err, c.want)
			}
			if c.next != nil && !errors.Is(err, core.ErrConfig) {
				t.Errorf("error %q does not wrap core.ErrConfig", err)
			}
		})
	}
}

// TestNewDefaults proves an empty config (a middleware declared with no
// options) and a nil one give a working middleware with core's defaults:
// allow everything.
func TestNewDefaults(t *testing.T) {
	for _, cfg := range []*Config{CreateConfig(), nil} {
		h, err := New(context.Background(), unusedNext(t), cfg, uniqueName(t))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		h.(*Middleware).SetLogOutput(io.Discard, io.Discard)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openim/callbackBeforeJoinGroupCommand", strings.NewReader(openimApply)))
		if rec.Code != http.StatusOK || rec.Body.String() != `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}` {
			t.Errorf("reply %d %s, want the OpenIM continue reply", rec.Code, rec.Body.String())
		}
	}
}

// TestForwardThroughNext proves a forward decision hands the normalized
// event to the router's service with the X-Imgate headers, and that the
// service's answer becomes the platform reply.
func TestForwardThroughNext(t *testing.T) {
	var got struct {
		path    string
		headers http.Header
		event   core.Event
	}
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		// Separate assignments: Yaegi v0.16.1 mis-assigns `a, b = x, f()`.
		got.path = req.URL.Path
		got.headers = req.Header.Clone()
		if err := json.NewDecoder(req.Body).Decode(&got.event); err != nil {
			t.Errorf("upstream body: %v", err)
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"decision":"deny","code":10150,"message":"ask the owner"}`))
	})
	m := newTestMiddleware(t, `{"tencent": {"appId": "1400000001"}, "defaultAction": "forward", "forward": {"path": "/imgate/decide"}, "decisionHeader": "X-Imgate-Decision"}`, next)
	rec := httptest.NewRecorder()
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Type":"Public","Requestor_Account":"jared"}`
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json", strings.NewReader(body)))
	if want := `{"ActionStatus":"OK","ErrorInfo":"ask the owner","ErrorCode":10150}`; rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Fatalf("reply %d %s, want %s", rec.Code, rec.Body.String(), want)
	}
	if got.path != "/imgate/decide" {
		t.Errorf("upstream path %q, want /imgate/decide", got.path)
	}
	headers := map[string]string{
		core.HeaderPlatform: "tencent", core.HeaderEvent: "group.join.apply", core.HeaderCommand: "Group.CallbackBeforeApplyJoinGroup",
		core.HeaderGroup: "@TGS#1", core.HeaderActor: "jared", core.HeaderRule: "default",
	}
	for k, v := range headers {
		if got.headers.Get(k) != v {
			t.Errorf("upstream header %s = %q, want %q", k, got.headers.Get(k), v)
		}
	}
	if got.headers.Get(core.HeaderDeadline) == "" || got.headers.Get(core.HeaderRequestID) == "" {
		t.Errorf("upstream lacks deadline or request id headers: %v", got.headers)
	}
	if got.event.Event != "group.join.apply" || got.event.Actor != "jared" {
		t.Errorf("upstream event %+v", got.event)
	}
	if h := rec.Header().Get("X-Imgate-Decision"); h != "deny; rule=upstream" {
		t.Errorf("decision header %q, want %q", h, "deny; rule=upstream")
	}
}

// TestSharedByName proves routers using one middleware share its state
// (here a rate limit): Traefik calls New once per router, and a client
// must not get a fresh budget per router. A changed config starts over.
func TestSharedByName(t *testing.T) {
	const config = `{"rules": [{"name": "flood", "events": ["group.join.apply"], "rate": "1/1h", "action": "deny"}]}`
	name := uniqueName(t)
	build := func(configJSON string) http.Handler {
		cfg := CreateConfig()
		if err := json.Unmarshal([]byte(configJSON), cfg); err != nil {
			t.Fatal(err)
		}
		h, err := New(context.Background(), unusedNext(t), cfg, name)
		if err != nil {
			t.Fatal(err)
		}
		h.(*Middleware).SetLogOutput(io.Discard, io.Discard)
		return h
	}
	send := func(h http.Handler) string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openim/callbackBeforeJoinGroupCommand", strings.NewReader(openimApply)))
		return rec.Body.String()
	}
	const allowed, denied = `"nextCode":0`, `"nextCode":1`
	routerA, routerB := build(config), build(config)
	if r := send(routerA); !strings.Contains(r, allowed) {
		t.Fatalf("first request through router A: %s, want allowed", r)
	}
	if r := send(routerB); !strings.Contains(r, denied) {
		t.Errorf("second request through router B: %s, want denied by the shared rate", r)
	}
	reloaded := build(strings.Replace(config, "1/1h", "2/1h", 1))
	if r := send(reloaded); !strings.Contains(r, allowed) {
		t.Errorf("after a config change: %s, want allowed by the new rate", r)
	}
}
