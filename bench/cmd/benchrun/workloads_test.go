package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/bench/plan"
	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
)

const repoFromHere = "../../.."

func TestWorkloadPlans(t *testing.T) {
	sizes := map[string]int{"mix-deny10": 20}
	for _, w := range Workloads {
		reqs, err := plan.Read(plan.Path(repoFromHere, w.ID))
		if err != nil {
			t.Fatal(err)
		}
		want := sizes[w.ID]
		if want == 0 {
			want = 1
		}
		if len(reqs) != want {
			t.Errorf("%s: %d requests, want %d", w.ID, len(reqs), want)
		}
		for _, p := range reqs {
			if len(p.Body) == 0 || p.Body[0] != '{' {
				t.Errorf("%s: %s is not a JSON body", w.ID, p.BodyFile)
			}
			signed := p.Sign("1700000000", "abc")
			if strings.HasPrefix(p.Target, "/tencent") && !strings.HasSuffix(signed, "&RequestTime=1700000000&Sign=abc") {
				t.Errorf("%s: Tencent target %q is not signed", w.ID, signed)
			}
		}
	}
}

// decided is what the rules see of one workload's single callback.
type decided struct {
	event, decision string
	actor           bool
	members         int
	text            bool
}

func decideWorkload(t *testing.T, x *Expectation, id string) decided {
	t.Helper()
	reqs, err := plan.Read(plan.Path(repoFromHere, id))
	if err != nil {
		t.Fatal(err)
	}
	p := reqs[0]
	rec := httptest.NewRecorder()
	out := x.rules.Serve(rec, httptest.NewRequest(http.MethodPost, p.Sign(x.requestTime, x.sign), bytes.NewReader(p.Body)), "", nil)
	if out.Event == nil {
		t.Fatalf("%s: not decoded: %s %v", id, out.Result, out.Err)
	}
	return decided{out.Event.Event, out.Decision, out.Event.Actor != "", len(out.Event.Members), out.Event.Text != ""}
}

// TestPlatformPairsDoTheSameRuleWork: each Tencent workload's OpenIM
// counterpart is the same event, with as many accounts for the rules to
// check, text exactly where a text rule applies, and the same decision.
// OpenIM's invite names no inviter (protocol), the one allowed difference.
func TestPlatformPairsDoTheSameRuleWork(t *testing.T) {
	x := expectation(t)
	textEvents := map[string]bool{"group.message.before": true, "group.create.before": true}
	for _, kind := range []string{"join", "invite20", "msg"} {
		tc, oi := decideWorkload(t, x, "tencent-"+kind), decideWorkload(t, x, "openim-"+kind)
		t.Logf("%s: tencent %+v, openim %+v", kind, tc, oi)
		if kind == "invite20" {
			if !tc.actor || oi.actor {
				t.Errorf("invite20: actor tencent %v openim %v; the protocols give Tencent's inviter only", tc.actor, oi.actor)
			}
			oi.actor = tc.actor
		}
		if textEvents[tc.event] {
			if !tc.text || !oi.text {
				t.Errorf("%s: %s is text-checked but text tencent %v openim %v", kind, tc.event, tc.text, oi.text)
			}
		} else {
			// No text rule applies: whether the platform sends text
			// (OpenIM's join message, invite reason) costs the rules nothing.
			tc.text, oi.text = false, false
		}
		if tc != oi {
			t.Errorf("%s: tencent %+v, openim %+v", kind, tc, oi)
		}
		if tc.decision != core.ActionAllow {
			t.Errorf("%s: decided %s, want allow", kind, tc.decision)
		}
	}
}

// TestSpamRuleAppliesWhereBothPlatformsCarryText guards the rules file the
// core benchmarks and every setup share.
func TestSpamRuleAppliesWhereBothPlatformsCarryText(t *testing.T) {
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cfg.Rules {
		if r.Text == "" {
			continue
		}
		for _, ev := range r.Events {
			if ev != "group.message.before" && ev != "group.create.before" {
				t.Errorf("rule %s checks text on %s, which not both platforms carry", r.Name, ev)
			}
		}
	}
}

// TestPreflightDenyShare: the mix workload is 10% denials under the rules.
func TestPreflightDenyShare(t *testing.T) {
	x := expectation(t)
	reqs, err := plan.Read(plan.Path(repoFromHere, "mix-deny10"))
	if err != nil {
		t.Fatal(err)
	}
	if denied := x.DenyShare(reqs); denied != 2 {
		t.Fatalf("mix-deny10 denies %d of %d, want 2 (10%%)", denied, len(reqs))
	}
}
