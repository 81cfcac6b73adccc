package caddymodule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/imgate/imgate/core"
)

// TestLogOutcome checks the level and fields of the line logged per outcome.
func TestLogOutcome(t *testing.T) {
	ev := &core.Event{Platform: "tencent", Command: "Group.CallbackBeforeApplyJoinGroup", Event: "group.join.apply", GroupID: "g1", Actor: "mallory"}
	tests := []struct {
		name   string
		out    core.Outcome
		level  zapcore.Level
		fields map[string]any
	}{
		{"deny", core.Outcome{Result: core.ResultDeny, Event: ev, Rule: "ban", Decision: "deny"}, zapcore.InfoLevel,
			map[string]any{"platform": "tencent", "command": "Group.CallbackBeforeApplyJoinGroup", "event": "group.join.apply", "group": "g1", "actor": "mallory", "rule": "ban", "result": "deny"}},
		{"refuse", core.Outcome{Result: core.ResultRefuse, Event: ev, Rule: "ban", Refused: []string{"eve"}}, zapcore.InfoLevel,
			map[string]any{"result": "refuse"}},
		{"fallback", core.Outcome{Result: core.ResultFallback, Event: ev, Rule: "default", Reason: "timeout", Err: errors.New("no answer within 1.5s")}, zapcore.WarnLevel,
			map[string]any{"result": "fallback", "reason": "timeout", "error": "no answer within 1.5s"}},
		{"verification", core.Outcome{Result: core.ResultUnauthorized, Event: ev, Reason: "signature"}, zapcore.WarnLevel,
			map[string]any{"result": "unauthorized", "reason": "signature"}},
		{"bad-request", core.Outcome{Result: core.ResultBadRequest, Reason: "no_command"}, zapcore.InfoLevel,
			map[string]any{"result": "bad_request", "reason": "no_command"}},
		{"unknown", core.Outcome{Result: core.ResultUnknown, Event: &core.Event{Platform: "openim", Command: "callbackNew", Event: "unknown"}, Rule: "default"}, zapcore.InfoLevel,
			map[string]any{"command": "callbackNew", "result": "unknown"}},
		{"shadow", core.Outcome{Result: core.ResultAllow, Event: ev, Rule: "default", Shadow: []core.ShadowHit{{Rule: "try", Action: "deny"}}}, zapcore.InfoLevel,
			map[string]any{"result": "allow"}},
		{"allow", core.Outcome{Result: core.ResultAllow, Event: ev, Rule: "default"}, zapcore.DebugLevel,
			map[string]any{"result": "allow"}},
		{"ack", core.Outcome{Result: core.ResultAck, Event: ev, Rule: "default"}, zapcore.DebugLevel,
			map[string]any{"result": "ack"}},
		{"store-failure", core.Outcome{Result: core.ResultAllow, Event: ev, Rule: "default", StoreFailure: "timeout", StoreErr: errors.New("redis 10.0.0.5:6379: no reply in time")}, zapcore.DebugLevel,
			map[string]any{"result": "allow", "store_failure": "timeout", "store_error": "redis 10.0.0.5:6379: no reply in time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			h := &Handler{logger: zap.New(core)}
			tt.out.Duration = time.Millisecond
			h.logOutcome(&tt.out)
			entries := logs.All()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want 1", len(entries))
			}
			e := entries[0]
			if e.Level != tt.level {
				t.Errorf("level %s, want %s", e.Level, tt.level)
			}
			got := e.ContextMap()
			for k, v := range tt.fields {
				if got[k] != v {
					t.Errorf("field %s = %v, want %v", k, got[k], v)
				}
			}
			if _, ok := got["duration"]; !ok {
				t.Error("no duration field")
			}
			if len(tt.out.Shadow) > 0 && !strings.Contains(strings.Join(toStrings(got["shadow"]), ","), "try:deny") {
				t.Errorf("shadow field %v, want try:deny", got["shadow"])
			}
		})
	}
}

// TestLogOutcomeQuietAboveDebug checks that routine answers cost no log
// line at Caddy's default info level.
func TestLogOutcomeQuietAboveDebug(t *testing.T) {
	core0, logs := observer.New(zapcore.InfoLevel)
	h := &Handler{logger: zap.New(core0)}
	h.logOutcome(&core.Outcome{Result: core.ResultAllow, Rule: "default"})
	if logs.Len() != 0 {
		t.Errorf("allowed callback logged at info: %v", logs.All())
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, s := range x {
			out[i], _ = s.(string)
		}
		return out
	}
	return nil
}
