package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

const (
	tencentAllow = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	openimAllow  = `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`
)

func tencentIn(command, body string) *core.Input {
	return &core.Input{Method: "POST", RawQuery: "SdkAppid=1400000001&CallbackCommand=" + command, Body: []byte(body)}
}

func openimIn(command, body string) *core.Input {
	return &core.Input{Method: "POST", Path: "/openim/" + command, RemoteAddr: "10.0.0.5:5000", Body: []byte(body)}
}

// TestRules runs each rule condition and action through Decide and checks
// the exact platform reply.
func TestRules(t *testing.T) {
	apply := func(actor, group string) *core.Input {
		return tencentIn("Group.CallbackBeforeApplyJoinGroup", `{"GroupId":"`+group+`","Type":"Public","Requestor_Account":"`+actor+`"}`)
	}
	invite := func(members ...string) *core.Input {
		list := make([]string, 0, len(members))
		for _, m := range members {
			list = append(list, `{"Member_Account":"`+m+`"}`)
		}
		return tencentIn("Group.CallbackBeforeInviteJoinGroup", `{"GroupId":"g1","Type":"Work","Operator_Account":"op","DestinationMembers":[`+strings.Join(list, ",")+`]}`)
	}
	banned := map[string]core.ListConfig{"banned": {Values: []string{"mallory", "bot-*"}}}
	cases := []struct {
		name   string
		cfg    core.Config
		in     *core.Input
		result string
		rule   string
		body   string
		shadow string
	}{
		{"no rules allows", core.Config{}, apply("alice", "g1"), core.ResultAllow, "default", tencentAllow, ""},
		{"default deny", core.Config{DefaultAction: "deny"}, apply("alice", "g1"), core.ResultDeny, "default", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, ""},
		{"actor list deny with code", core.Config{Lists: banned, Rules: []core.RuleConfig{{Name: "ban", Actors: []string{"@banned"}, Action: "deny", Code: 10101, Message: "you are banned", Platforms: []string{"tencent"}}}},
			apply("bot-9", "g1"), core.ResultDeny, "ban", `{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`, ""},
		{"actor list miss", core.Config{Lists: banned, Rules: []core.RuleConfig{{Name: "ban", Actors: []string{"@banned"}, Action: "deny"}}},
			apply("alice", "g1"), core.ResultAllow, "default", tencentAllow, ""},
		{"first match wins", core.Config{Rules: []core.RuleConfig{{Name: "vip", Actors: []string{"alice"}, Action: "allow"}, {Name: "all", Action: "deny"}}},
			apply("alice", "g1"), core.ResultAllow, "vip", tencentAllow, ""},
		{"shadow records and continues", core.Config{Rules: []core.RuleConfig{{Name: "try", Actors: []string{"alice"}, Action: "deny", Shadow: true}, {Name: "ok", Action: "allow"}}},
			apply("alice", "g1"), core.ResultAllow, "ok", tencentAllow, "try"},
		{"event glob", core.Config{Rules: []core.RuleConfig{{Name: "joins", Events: []string{"group.join.*"}, Action: "deny"}}},
			apply("alice", "g1"), core.ResultDeny, "joins", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, ""},
		{"event miss", core.Config{Rules: []core.RuleConfig{{Name: "creates", Events: []string{"group.create.*"}, Action: "deny"}}},
			apply("alice", "g1"), core.ResultAllow, "default", tencentAllow, ""},
		{"platform filter", core.Config{Rules: []core.RuleConfig{{Name: "o", Platforms: []string{"openim"}, Action: "deny"}}},
			apply("alice", "g1"), core.ResultAllow, "default", tencentAllow, ""},
		{"group glob", core.Config{Rules: []core.RuleConfig{{Name: "tgs", Groups: []string{"@TGS#*"}, Action: "deny"}}},
			apply("alice", "@TGS#2J4"), core.ResultDeny, "tgs", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, ""},
		{"group type case-insensitive", core.Config{Rules: []core.RuleConfig{{Name: "pub", GroupTypes: []string{"public"}, Action: "deny"}}},
			apply("alice", "g1"), core.ResultDeny, "pub", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, ""},
		{"max members over", core.Config{Rules: []core.RuleConfig{{Name: "cap", MaxMembers: 2, Action: "deny", Message: "too many"}}},
			invite("a", "b", "c"), core.ResultDeny, "cap", `{"ActionStatus":"OK","ErrorInfo":"too many","ErrorCode":1}`, ""},
		{"max members at cap", core.Config{Rules: []core.RuleConfig{{Name: "cap", MaxMembers: 2, Action: "deny"}}},
			invite("a", "b"), core.ResultAllow, "default", tencentAllow, ""},
		{"members refuse part of a Tencent invite", core.Config{Lists: banned, Rules: []core.RuleConfig{{Name: "bi", Members: []string{"@banned"}, Action: "deny"}}},
			invite("a", "mallory", "b", "bot-1"), core.ResultRefuse, "bi", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"RefusedMembers_Account":["mallory","bot-1"]}`, ""},
		{"members all refused denies", core.Config{Lists: banned, Rules: []core.RuleConfig{{Name: "bi", Members: []string{"@banned"}, Action: "deny"}}},
			invite("mallory"), core.ResultDeny, "bi", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, ""},
		{"members deny whole OpenIM invite", core.Config{Lists: banned, Rules: []core.RuleConfig{{Name: "bi", Members: []string{"@banned"}, Action: "deny", Code: 5001, Platforms: []string{"openim"}}}},
			openimIn("callbackBeforeInviteJoinGroupCommand", `{"groupID":"g","invitedUserIDs":["a","mallory"]}`), core.ResultDeny, "bi", `{"actionCode":0,"errCode":5001,"errMsg":"","errDlt":"","nextCode":1}`, ""},
		{"text regexp", core.Config{Rules: []core.RuleConfig{{Name: "spam", Text: "(?i)free money", Action: "deny"}}},
			tencentIn("Group.CallbackBeforeCreateGroup", `{"Operator_Account":"u","Name":"FREE MONEY here"}`), core.ResultDeny, "spam", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, ""},
		{"after-callback acknowledged even on deny", core.Config{Rules: []core.RuleConfig{{Name: "all", Action: "deny"}}},
			tencentIn("Group.CallbackAfterCreateGroup", `{"GroupId":"g"}`), core.ResultAck, "all", tencentAllow, ""},
		{"forward leaves the reply to Forward", core.Config{Rules: []core.RuleConfig{{Name: "up", Action: "forward"}}},
			apply("alice", "g1"), core.ResultForward, "up", "", ""},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			e, err := core.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := e.Decide(tc.in)
			if out.Result != tc.result || out.Rule != tc.rule || string(out.Body) != tc.body {
				t.Fatalf("result %s rule %s body %s (err %v), want %s %s %s", out.Result, out.Rule, out.Body, out.Err, tc.result, tc.rule, tc.body)
			}
			got := ""
			for _, h := range out.Shadow {
				got += h.Rule
			}
			if got != tc.shadow {
				t.Errorf("shadow %q, want %q", got, tc.shadow)
			}
		})
	}
}

// TestRuleRate proves the rate condition holds once a key's bucket is empty,
// per actor or per group, and lifts as tokens come back.
func TestRuleRate(t *testing.T) {
	e, err := core.New(core.Config{Rules: []core.RuleConfig{
		{Name: "per-actor", Events: []string{"group.join.apply"}, Rate: "2/1m", Action: "deny"},
		{Name: "per-group", Events: []string{"group.create.before"}, Rate: "1/1m", RateBy: "group", Action: "deny"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	e.SetClock(func() time.Time { return now })
	apply := func(actor string) string {
		return e.Decide(tencentIn("Group.CallbackBeforeApplyJoinGroup", `{"GroupId":"g","Requestor_Account":"`+actor+`"}`)).Result
	}
	steps := []struct {
		actor string
		wait  time.Duration
		want  string
	}{
		{"a", 0, core.ResultAllow},
		{"a", 0, core.ResultAllow},
		{"a", 0, core.ResultDeny},
		{"b", 0, core.ResultAllow},
		{"a", 20 * time.Second, core.ResultDeny},
		{"a", 11 * time.Second, core.ResultAllow},
		{"a", 0, core.ResultDeny},
	}
	for i, s := range steps {
		now = now.Add(s.wait)
		if got := apply(s.actor); got != s.want {
			t.Fatalf("step %d (%s): %s, want %s", i, s.actor, got, s.want)
		}
	}
	create := func(actor, group string) string {
		return e.Decide(tencentIn("Group.CallbackBeforeCreateGroup", `{"GroupId":"`+group+`","Operator_Account":"`+actor+`"}`)).Result
	}
	if create("x", "g1") != core.ResultAllow || create("y", "g1") != core.ResultDeny || create("x", "g2") != core.ResultAllow {
		t.Fatal("rateBy group does not key on the group")
	}
}
