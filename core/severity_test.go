package core_test

import (
	"testing"

	"github.com/imgate/imgate/core"
)

func TestSpoolEventSeverity(t *testing.T) {
	cases := []struct {
		ev   core.SpoolEvent
		want core.Severity
	}{
		{core.SpoolEvent{Kind: "delivered", Attempt: 1}, core.SeverityDebug},
		{core.SpoolEvent{Kind: "retry", Attempt: 1}, core.SeverityWarn},
		{core.SpoolEvent{Kind: "retry", Attempt: 2}, core.SeverityWarn},
		{core.SpoolEvent{Kind: "retry", Attempt: 3}, core.SeverityDebug},
		{core.SpoolEvent{Kind: "retry", Attempt: 8}, core.SeverityWarn},
		{core.SpoolEvent{Kind: "retry", Attempt: 9}, core.SeverityDebug},
		{core.SpoolEvent{Kind: "dead", Attempt: 40}, core.SeverityError},
	}
	for _, tc := range cases {
		if got := core.SpoolEventSeverity(tc.ev); got != tc.want {
			t.Errorf("%s attempt %d: %d, want %d", tc.ev.Kind, tc.ev.Attempt, got, tc.want)
		}
	}
}

func TestSeverityOf(t *testing.T) {
	cases := []struct {
		out  core.Outcome
		want core.Severity
	}{
		{core.Outcome{Result: core.ResultAllow}, core.SeverityDebug},
		{core.Outcome{Result: core.ResultAck}, core.SeverityDebug},
		{core.Outcome{Result: core.ResultAllow, Shadow: []core.ShadowHit{{Rule: "try", Action: "deny"}}}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultDeny}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultRefuse}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultUnknown}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultBadRequest}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultTooLarge}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultMethod}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultTooSlow}, core.SeverityInfo},
		{core.Outcome{Result: core.ResultFallback}, core.SeverityWarn},
		{core.Outcome{Result: core.ResultUnauthorized}, core.SeverityWarn},
		{core.Outcome{Result: core.ResultForbidden}, core.SeverityWarn},
		{core.Outcome{Result: core.ResultUnavailable}, core.SeverityWarn},
		{core.Outcome{Result: core.ResultError}, core.SeverityError},
	}
	for _, tc := range cases {
		if got := core.SeverityOf(&tc.out); got != tc.want {
			t.Errorf("%s (shadow %v): severity %d, want %d", tc.out.Result, tc.out.Shadow, got, tc.want)
		}
	}
}
