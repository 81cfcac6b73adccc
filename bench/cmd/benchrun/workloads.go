package main

import "github.com/imgate/imgate/bench/report"

// Workloads are the plans in bench/workloads, in report order. Each kind of
// callback comes in a Tencent and an OpenIM plan that give the rules the
// same work: the same rules apply to the same number of accounts and the
// same text, so the platforms' costs compare. Only what the protocols
// themselves differ in remains: Tencent requests carry a signature (one
// SHA-256 per callback), and OpenIM's invite names no inviter.
var Workloads = []report.Item{
	{ID: "tencent-join", Description: "Tencent `Group.CallbackBeforeApplyJoinGroup`, signed, allowed. Exercises: the signature; the applicant against the banned list (actor and member rules)."},
	{ID: "openim-join", Description: "OpenIM `callbackBeforeJoinGroupCommand` (v3.5+ URL, command appended), allowed. Exercises: the applicant against the banned list (actor and member rules); its join message is not checked, as Tencent sends none."},
	{ID: "tencent-invite20", Description: "Tencent `Group.CallbackBeforeInviteJoinGroup` inviting 20 members, signed, allowed. Exercises: the signature; the inviter and each of the 20 invitees against the banned list; the invite cap (50)."},
	{ID: "openim-invite20", Description: "OpenIM `callbackBeforeInviteJoinGroupCommand` inviting 20 members, allowed. Exercises: each of the 20 invitees against the banned list; the invite cap (50). OpenIM names no inviter."},
	{ID: "tencent-msg", Description: "Tencent `Group.CallbackBeforeSendMsg` with one text element, signed, allowed. Exercises: the signature; the sender against the banned list; the spam regexp on the text."},
	{ID: "openim-msg", Description: "OpenIM `callbackBeforeSendGroupMsgCommand`, a text message, allowed. Exercises: the sender against the banned list; the spam regexp on the text (OpenIM wraps it in a small JSON string)."},
	{ID: "mix-deny10", Description: "20 callbacks, the six kinds above in turn, half per platform; 2 of them (10%) denied by the rules: a banned Tencent applicant and an OpenIM message with spam text. A and B answer allow to all."},
}

// DefaultOpenLoopWorkloads are the workloads of the open-loop phase: the
// mix, which holds every kind of callback in the proportions a gateway
// sees, so each fixed-rate point costs one run per setup.
var DefaultOpenLoopWorkloads = []string{"mix-deny10"}

// OpenLoopPoints are the fixed rates of the open-loop phase, as shares of
// a reference setup's closed-loop median in the same run. Each point runs
// the setups that the latency targets and report.TraefikPairs compare at
// it, plus the ceilings that put them in context; D and E cannot sustain
// B's rates, so they get points of their own. The Traefik pairs are
// compared at shares of the slower side's capacity (T1's, T2's, T3's), the
// rates a Traefik user can run the plugin at, so that both sides keep up
// and the p99 ratio is the latency the plugin adds rather than its
// backlog.
var OpenLoopPoints = []report.OpenLoopPoint{
	{ID: "B50", Of: "B", Fraction: 0.5, Setups: []string{"A", "B", "C", "F"}},
	{ID: "B80", Of: "B", Fraction: 0.8, Setups: []string{"A", "B", "C", "F"}},
	{ID: "D50", Of: "D", Fraction: 0.5, Setups: []string{"D", "E"}},
	{ID: "D80", Of: "D", Fraction: 0.8, Setups: []string{"D", "E"}},
	{ID: "T1-50", Of: "T1", Fraction: 0.5, Setups: []string{"T0", "T1", "T3"}},
	{ID: "T1-80", Of: "T1", Fraction: 0.8, Setups: []string{"T0", "T1", "T3"}},
	{ID: "T2-50", Of: "T2", Fraction: 0.5, Setups: []string{"D", "T2"}},
	{ID: "T2-80", Of: "T2", Fraction: 0.8, Setups: []string{"D", "T2"}},
	{ID: "T3-50", Of: "T3", Fraction: 0.5, Setups: []string{"T0", "T3"}},
	{ID: "T3-80", Of: "T3", Fraction: 0.8, Setups: []string{"T0", "T3"}},
}
