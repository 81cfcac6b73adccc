package core_test

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// TestPrepareUpstreamAndResolve drives the forward path the way a host
// that is not net/http does (the WASM plugin): PrepareUpstream describes
// the call, the host makes it, Resolve turns the answer into the reply.
func TestPrepareUpstreamAndResolve(t *testing.T) {
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"jared"}`
	in := &core.Input{Method: "POST", Path: "/im", RawQuery: "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(body)}
	deadline := time.UnixMilli(1700000000123)
	for _, format := range []string{core.FormatNormalized, core.FormatNative} {
		e, err := core.New(core.Config{DefaultAction: "forward", Forward: core.ForwardConfig{Format: format, Path: "/decide"}})
		if err != nil {
			t.Fatal(err)
		}
		out := e.Decide(in)
		if out.Result != core.ResultForward {
			t.Fatalf("%s: result %s", format, out.Result)
		}
		call, err := e.PrepareUpstream(in, out, deadline, "op-1")
		if err != nil {
			t.Fatal(err)
		}
		if call.Path != "/decide" || call.Header[core.HeaderDeadline] != "1700000000123" || call.Header[core.HeaderRequestID] != "op-1" ||
			call.Header[core.HeaderEvent] != "group.join.apply" || call.Header[core.HeaderRule] != core.RuleDefault {
			t.Errorf("%s: call %+v", format, call)
		}
		if format == core.FormatNative {
			if !call.KeepQuery || string(call.Body) != body {
				t.Errorf("native call keeps query %v, body %s", call.KeepQuery, call.Body)
			}
			continue
		}
		var ev core.Event
		if err := json.Unmarshal(call.Body, &ev); err != nil || ev.Actor != "jared" || call.KeepQuery || call.Header["Content-Type"] != "application/json" {
			t.Errorf("normalized call: %+v %s (%v)", call, call.Body, err)
		}
		denied := e.Resolve(out, 200, []byte(`{"decision":"deny","code":10150,"message":"no"}`))
		if denied.Result != core.ResultDeny || !strings.Contains(string(denied.Body), `"ErrorCode":10150`) || denied.Rule != core.RuleUpstream {
			t.Errorf("deny answer: %s %s rule %s", denied.Result, denied.Body, denied.Rule)
		}
	}
	e, err := core.New(core.Config{DefaultAction: "forward", Forward: core.ForwardConfig{Fallback: "deny"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, answer := range []struct {
		status int
		body   string
		reason string
	}{{500, `{"decision":"allow"}`, "status_500"}, {200, "garbage", "invalid"}, {200, "", "empty"}} {
		out := e.Resolve(e.Decide(in), answer.status, []byte(answer.body))
		if out.Result != core.ResultFallback || out.Reason != answer.reason || !strings.Contains(string(out.Body), `"ErrorCode":1`) {
			t.Errorf("answer %d %q: %s %s reason %s", answer.status, answer.body, out.Result, out.Body, out.Reason)
		}
	}
	out := e.Fallback(e.Decide(in), "timeout", core.ErrUpstream)
	if out.Result != core.ResultFallback || out.Reason != "timeout" {
		t.Errorf("Fallback: %s %s", out.Result, out.Reason)
	}
}

// TestAcknowledgeWriteReplyMaxReply covers the rest of what a host that
// is not net/http uses: the acknowledgement of an after-callback
// delivered apart from the reply, the reply written through its own
// ResponseWriter, and the reply size it must read.
func TestAcknowledgeWriteReplyMaxReply(t *testing.T) {
	after := &core.Input{Method: "POST", Path: "/im", RawQuery: "SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterNewMemberJoin", Body: []byte(`{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"@TGS#1"}`)}
	for _, c := range []struct {
		max, want int
	}{{0, core.DefaultMaxBodyBytes}, {1000, 1000}} {
		e, err := core.New(core.Config{DefaultAction: "forward", DecisionHeader: "X-D", Forward: core.ForwardConfig{MaxReplyBytes: c.max}})
		if err != nil {
			t.Fatal(err)
		}
		if got := e.MaxReplyBytes(); got != c.want {
			t.Errorf("maxReplyBytes %d: MaxReplyBytes() = %d, want %d", c.max, got, c.want)
		}
		out := e.Acknowledge(e.Decide(after))
		if out.Result != core.ResultAck || out.Decision != core.ResultAck || out.Rule != core.RuleDefault || out.Status != 200 || len(out.Body) == 0 {
			t.Fatalf("Acknowledge: %+v", out)
		}
		rec := httptest.NewRecorder()
		e.WriteReply(rec, out)
		if rec.Code != 200 || rec.Body.String() != string(out.Body) || rec.Header().Get("X-D") != "ack; rule=default" ||
			rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Length") != strconv.Itoa(len(out.Body)) {
			t.Errorf("WriteReply: %d %v %s", rec.Code, rec.Header(), rec.Body)
		}
	}
}
