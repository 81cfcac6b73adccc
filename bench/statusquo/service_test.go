package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
)

const benchToken = "bench-callback-token"

// deciders are the service and imgate's engine, both deciding with the
// bench rules, whose Tencent sign window keeps the fixed RequestTime of
// request valid.
func deciders(t *testing.T) (*Service, *core.Engine, core.Config) {
	t.Helper()
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Tencent.SignWindow = "876000h"
	svc, err := NewService(cfg, "/imgate/decide")
	if err != nil {
		t.Fatal(err)
	}
	imgate, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, imgate, cfg
}

// callbacks are the benchmark's callbacks with the result the rules give.
var callbacks = []struct {
	target, body, result string
}{
	{"/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS", "tencent-before-apply-join.json", core.ResultAllow},
	{"/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS", "tencent-before-apply-join-banned.json", core.ResultDeny},
	{"/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android", "tencent-before-invite-join-20.json", core.ResultAllow},
	{"/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS", "tencent-before-send-msg.json", core.ResultAllow},
	{"/openim/callbackBeforeJoinGroupCommand", "openim-before-join-group.json", core.ResultAllow},
	{"/openim/callbackBeforeInviteJoinGroupCommand", "openim-before-invite-join-20.json", core.ResultAllow},
	{"/openim/callbackBeforeSendGroupMsgCommand", "openim-before-send-group-msg.json", core.ResultAllow},
	{"/openim/callbackBeforeSendGroupMsgCommand", "openim-before-send-group-msg-spam.json", core.ResultDeny},
	// A partial refusal: the normalized protocol carries the refused members.
	{"/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android", `{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#1","Type":"Public","Operator_Account":"leckie","DestinationMembers":[{"Member_Account":"ann"},{"Member_Account":"user666"}]}`, core.ResultRefuse},
}

func request(t *testing.T, target, body string) *http.Request {
	t.Helper()
	if strings.HasSuffix(body, ".json") {
		raw, err := os.ReadFile(filepath.Join("../workloads/bodies", body))
		if err != nil {
			t.Fatal(err)
		}
		body = string(raw)
	}
	if strings.HasPrefix(target, "/tencent") {
		target += "&RequestTime=1700000000&Sign=" + core.TencentSign(benchToken, "1700000000")
	}
	return httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
}

// TestNativeMatchesImgate: setup D answers exactly what imgate answers from
// the same rules.
func TestNativeMatchesImgate(t *testing.T) {
	svc, imgate, _ := deciders(t)
	for _, c := range callbacks {
		want := httptest.NewRecorder()
		out := imgate.Serve(want, request(t, c.target, c.body), "", nil)
		if out.Result != c.result {
			t.Fatalf("%s: imgate result %s (%s), want %s", c.body, out.Result, out.Reason, c.result)
		}
		got := httptest.NewRecorder()
		svc.ServeHTTP(got, request(t, c.target, c.body))
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Errorf("%s: service answered %d %s, imgate %d %s", c.body, got.Code, got.Body, want.Code, want.Body)
		}
	}
}

// TestNormalizedMatchesImgate: setup E (imgate forwarding every callback in
// the normalized format to the service) ends in the same platform reply as
// imgate deciding alone.
func TestNormalizedMatchesImgate(t *testing.T) {
	svc, imgate, cfg := deciders(t)
	forwarding, err := core.New(core.Config{Tencent: cfg.Tencent, DefaultAction: core.ActionForward,
		Forward: core.ForwardConfig{Format: core.FormatNormalized, Path: "/imgate/decide"}})
	if err != nil {
		t.Fatal(err)
	}
	next := func(w http.ResponseWriter, r *http.Request) error { svc.ServeHTTP(w, r); return nil }
	for _, c := range callbacks {
		want := httptest.NewRecorder()
		imgate.Serve(want, request(t, c.target, c.body), "", nil)
		got := httptest.NewRecorder()
		out := forwarding.Serve(got, request(t, c.target, c.body), "", next)
		if !out.Upstream {
			t.Fatalf("%s: not decided upstream: %s %s %v", c.body, out.Result, out.Reason, out.Err)
		}
		if got.Code != want.Code || got.Body.String() != want.Body.String() {
			t.Errorf("%s: forwarded %d %s, imgate %d %s", c.body, got.Code, got.Body, want.Code, want.Body)
		}
	}
}

func TestNewServiceRefusesForwarding(t *testing.T) {
	for name, cfg := range map[string]core.Config{
		"default":  {DefaultAction: "forward"},
		"a rule":   {Rules: []core.RuleConfig{{Action: "forward"}}},
		"bad rule": {Rules: []core.RuleConfig{{Action: "maybe"}}},
	} {
		if _, err := NewService(cfg, "/imgate/decide"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestDecideRejectsBadEvents(t *testing.T) {
	svc, err := NewService(core.Config{}, "/imgate/decide")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"not json":     "{",
		"no raw":       `{"platform":"tencent","command":"Group.CallbackBeforeApplyJoinGroup"}`,
		"bad platform": `{"platform":"slack","command":"x","raw":{}}`,
	} {
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/imgate/decide", strings.NewReader(body)))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", name, rec.Code)
		}
	}
}
