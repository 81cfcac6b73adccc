package core

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
)

// BenchmarkPhase splits one callback of the bench harness's workloads into
// the phases of Serve (read, parse, verify, decode, rules with the reply,
// write) and measures each alone, next to the whole Serve. It is meant to
// run interpreted, where each phase's cost is its count of interpreted
// statements and calls:
//
//	yaegi test -run '^$' -bench Phase -benchmem github.com/imgate/imgate/core
//
// (see .ci/traefik.sh for the GOPATH layout). Compiled, it shows the same
// split at Go speed. The phases' sum is a little above serve: each phase
// alone also pays for the setup the loop needs (a fresh Event to decode
// into, a fresh Outcome to decide into).
func BenchmarkPhase(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "bench", "configs", "rules.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cfg Config
	if err = json.Unmarshal(data, &cfg); err != nil {
		b.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	signed := "&RequestTime=" + requestTime + "&Sign=" + TencentSign(cfg.Tencent.Token, requestTime)
	cases := []struct {
		name, path, query, body, result string
	}{
		{"tencent-join", "/tencent", "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS" + signed, "tencent-before-apply-join.json", ResultAllow},
		{"tencent-invite20", "/tencent", "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS" + signed, "tencent-before-invite-join-20.json", ResultAllow},
		{"openim-join", "/openim/callbackBeforeJoinGroupCommand", "", "openim-before-join-group.json", ResultAllow},
		{"tencent-msg", "/tencent", "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeSendMsg&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS" + signed, "tencent-before-send-msg.json", ResultAllow},
		{"openim-msg", "/openim/callbackBeforeSendGroupMsgCommand", "", "openim-before-send-group-msg.json", ResultAllow},
		{"tencent-join-denied", "/tencent", "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS" + signed, "tencent-before-apply-join-banned.json", ResultDeny},
	}
	for _, c := range cases {
		body, rerr := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", c.body))
		if rerr != nil {
			b.Fatal(rerr)
		}
		benchPhases(b, e, c.name, c.path+"?"+c.query, body, c.result)
	}
}

// phaseWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures imgate and not a recorder.
type phaseWriter struct{ header http.Header }

func (w *phaseWriter) Header() http.Header         { return w.header }
func (w *phaseWriter) WriteHeader(int)             {}
func (w *phaseWriter) Write(p []byte) (int, error) { return len(p), nil }

// phaseBody is a request body rewound without allocating.
type phaseBody struct{ *bytes.Reader }

func (phaseBody) Close() error { return nil }

func benchPhases(b *testing.B, e *Engine, name, target string, body []byte, result string) {
	reader := phaseBody{bytes.NewReader(body)}
	req, err := http.NewRequest(http.MethodPost, "http://gateway"+target, reader)
	if err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	w := &phaseWriter{header: http.Header{}}
	in, out := readInput(e, w, req)
	if out != nil {
		b.Fatalf("%s: read: %s", name, out.Body)
	}
	out = decide(e, in)
	if out.Result != result {
		b.Fatalf("%s: result %s (%s), want %s", name, out.Result, out.Body, result)
	}
	ev := out.Event
	p := ev.platform
	q, _ := p.parse(in)
	now := e.now()
	code, msg := 0, ""
	for _, r := range e.rules {
		if r.name == out.Rule {
			code = r.codes[p.index]
			msg = r.messages[p.index]
		}
	}
	b.Run(name+"/serve", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			reader.Reset(body)
			e.Serve(w, req, "", nil)
		}
	})
	b.Run(name+"/read", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			reader.Reset(body)
			readInput(e, w, req)
		}
	})
	b.Run(name+"/parse", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			p.parse(in)
		}
	})
	b.Run(name+"/verify", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			p.verify(e.set, q, in.RemoteAddr, now)
		}
	})
	b.Run(name+"/decode", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			fresh := &Event{Platform: ev.Platform, Command: ev.Command, Event: ev.Event, Phase: ev.Phase, platform: p, cmd: ev.cmd}
			p.decode(fresh, q, in.Body)
		}
	})
	b.Run(name+"/rules", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			applyRules(e, ev, &Outcome{Event: ev}, now.UnixNano())
		}
	})
	b.Run(name+"/reply", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			encodeReply(&Outcome{Event: ev}, out.Result, out.Decision, code, msg, out.Refused)
		}
	})
	b.Run(name+"/write", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			writeReply(e, w, out)
		}
	})
}

// BenchmarkPhaseDecodeParts splits decodeBody on the Tencent join body.
func BenchmarkPhaseDecodeParts(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", "tencent-before-apply-join.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			utf8.Valid(body)
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var t tencentBody
			unmarshalBody(body, &t)
		}
	})
	b.Run("jsonUnmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var t tencentBody
			json.Unmarshal(body, &t)
		}
	})
	b.Run("dups", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			checkDuplicateFields(body, tencentFields)
		}
	})
	b.Run("mayHold", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			mayHoldReplacement(body)
		}
	})
}

// BenchmarkPhaseRuleParts splits a rule's match and the reply.
func BenchmarkPhaseRuleParts(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "bench", "configs", "rules.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cfg Config
	if err = json.Unmarshal(data, &cfg); err != nil {
		b.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ev := &Event{Platform: "tencent", Event: "group.join.apply", Actor: "jared", Members: []string{"jared"}, platform: tencentPlatform, cmd: tencentCommands["Group.CallbackBeforeApplyJoinGroup"]}
	cands := e.cands[0][ev.Event]
	r := cands[0]
	b.Run("ruleMatch", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ruleMatch(r, ev, 0)
		}
	})
	b.Run("matchID", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			matchID(r.actors, "jared")
		}
	})
	b.Run("setMatch", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			setMatch(r.actors.inline, "jared")
		}
	})
	b.Run("encodeReply", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			encodeReply(&Outcome{Event: ev}, ResultAllow, ActionAllow, 0, "", nil)
		}
	})
	b.Run("newOutcome", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = &Outcome{Event: ev}
		}
	})
}

// BenchmarkPhaseTencentFields splits decodeTencent after decodeBody.
func BenchmarkPhaseTencentFields(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", "tencent-before-apply-join.json"))
	if err != nil {
		b.Fatal(err)
	}
	var tb tencentBody
	if err = json.Unmarshal(body, &tb); err != nil {
		b.Fatal(err)
	}
	ev := &Event{Command: "Group.CallbackBeforeApplyJoinGroup"}
	b.Run("decodeBody", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var t tencentBody
			decodeBody(body, &t, tencentFields)
		}
	})
	b.Run("checkBodyCommand", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			checkBodyCommand(ev, tb.CallbackCommand, "CallbackCommand")
		}
	})
	b.Run("optPlatform", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			normalizeOptPlatform("iOS")
		}
	})
	b.Run("eventTime", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			parseEventTime(tb.EventTime)
		}
	})
	b.Run("members", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			tencentMembers(&tb)
		}
	})
	b.Run("varBody", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var t tencentBody
			_ = t
		}
	})
	b.Run("assign12", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			ev.AppID = tb.GroupID
			ev.ClientIP = tb.GroupID
			ev.GroupID = tb.GroupID
			ev.GroupType = tb.Type
			ev.Actor = tb.RequestorAccount
			if ev.Actor == "" {
				ev.Actor = tb.FromAccount
			}
			if ev.Actor == "" {
				ev.Actor = tb.OperatorAccount
			}
			ev.Owner = tb.NewOwnerAccount
			if ev.Owner == "" {
				ev.Owner = tb.OwnerAccount
			}
			ev.Text = tb.Name
		}
	})
}
