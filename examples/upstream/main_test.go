package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

func testPolicy(logs io.Writer) *policy {
	return newPolicy([]string{"mallory", " trudy ", ""}, 3, log.New(logs, "", 0))
}

// TestDecide checks the policy on normalized events of both platforms.
func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		ev   core.Event
		want core.UpstreamReply
	}{
		{"tencent banned applicant", core.Event{Platform: "tencent", Phase: "before", Event: "group.join.apply", Actor: "mallory"},
			core.UpstreamReply{Decision: "deny", Code: 10101, Message: "you are banned"}},
		{"openim banned creator", core.Event{Platform: "openim", Phase: "before", Event: "group.create.before", Actor: "trudy"},
			core.UpstreamReply{Decision: "deny", Code: 5101, Message: "you are banned"}},
		{"ordinary applicant", core.Event{Platform: "openim", Phase: "before", Event: "group.join.apply", Actor: "alice"},
			core.UpstreamReply{Decision: "allow"}},
		{"invite over the limit", core.Event{Platform: "tencent", Phase: "before", Event: "group.join.invite", Actor: "alice", Members: []string{"a", "b", "c", "d"}},
			core.UpstreamReply{Decision: "deny", Code: 10102, Message: "at most 3 invitees at once"}},
		{"invite with a banned member", core.Event{Platform: "tencent", Phase: "before", Event: "group.join.invite", Actor: "alice", Members: []string{"bob", "mallory"}},
			core.UpstreamReply{Decision: "allow", Code: 10101, Message: "banned invitees", Refuse: []string{"mallory"}}},
		{"banned user's after-callback is acknowledged", core.Event{Platform: "tencent", Phase: "after", Event: "group.member.joined", Actor: "mallory"},
			core.UpstreamReply{Decision: "allow"}},
	}
	p := testPolicy(io.Discard)
	for _, tt := range tests {
		got := p.decide(&tt.ev)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(tt.want)
		if !bytes.Equal(g, w) {
			t.Errorf("%s: %s, want %s", tt.name, g, w)
		}
	}
}

// TestServeHTTP checks the wire side: JSON in and out, bad requests
// refused, one log line per decision.
func TestServeHTTP(t *testing.T) {
	var logs bytes.Buffer
	srv := httptest.NewServer(testPolicy(&logs))
	defer srv.Close()
	tests := []struct {
		name   string
		method string
		body   string
		status int
		reply  string
	}{
		{"deny", http.MethodPost, `{"platform":"openim","event":"group.join.apply","phase":"before","actor":"mallory","raw":{}}`, 200, `{"decision":"deny","code":5101,"message":"you are banned","refuse":null}`},
		{"allow", http.MethodPost, `{"platform":"tencent","event":"group.join.apply","phase":"before","actor":"alice","raw":{}}`, 200, `{"decision":"allow","code":0,"message":"","refuse":null}`},
		{"not an event", http.MethodPost, `{"hello":1}`, 400, ""},
		{"garbage", http.MethodPost, `<html>`, 400, ""},
		{"wrong method", http.MethodGet, ``, 405, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+"/any/path", strings.NewReader(tt.body))
		req.Header.Set(core.HeaderDeadline, "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.reply != "" && strings.TrimSpace(string(body)) != tt.reply) {
			t.Errorf("%s: %d %s, want %d %s", tt.name, resp.StatusCode, body, tt.status, tt.reply)
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Errorf("%d log lines for 2 decisions:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "openim before group.join.apply group= actor=mallory members=0 -> deny") {
		t.Errorf("log does not describe the decision:\n%s", logs.String())
	}
}

// TestBehindImgate puts the service behind imgate's forward path, as the
// Caddyfile example does with reverse_proxy, and checks the platform
// replies imgate encodes from its answers.
func TestBehindImgate(t *testing.T) {
	srv := httptest.NewServer(testPolicy(io.Discard))
	defer srv.Close()
	proxy := upstreamtest.NewProxy(srv.URL)
	defer proxy.Close()
	engine, err := core.New(core.Config{DefaultAction: core.ActionForward, Forward: core.ForwardConfig{Path: "/decide"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target string
		body   string
		reply  string
	}{
		{"tencent invite refuses the banned member", "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup",
			`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"g","Operator_Account":"alice","DestinationMembers":[{"Member_Account":"bob"},{"Member_Account":"mallory"}]}`,
			`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RefusedMembers_Account":["mallory"]}`},
		{"openim invite with a banned member is denied whole", "/openim/callbackBeforeInviteJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeInviteJoinGroupCommand","groupID":"g","inviterUserID":"alice","invitedUserIDs":["bob","mallory"]}`,
			`{"actionCode":0,"errCode":5101,"errMsg":"banned invitees","errDlt":"","nextCode":1}`},
		{"tencent banned applicant", "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"mallory"}`,
			`{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`},
		{"openim applicant allowed", "/openim/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g","applyID":"alice"}`,
			`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.body))
		rec := httptest.NewRecorder()
		start := time.Now()
		out := engine.Serve(rec, req, "", proxy.Next)
		if rec.Body.String() != tt.reply || !out.Upstream {
			t.Errorf("%s: %s (upstream %v, reason %q), want %s", tt.name, rec.Body.String(), out.Upstream, out.Reason, tt.reply)
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("%s: took %s", tt.name, elapsed)
		}
	}
}
