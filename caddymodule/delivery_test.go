package caddymodule

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/imgate/imgate/core"
)

// TestObserveDelivery checks the counter and log line of a background
// after-callback delivery, delivered and failed.
func TestObserveDelivery(t *testing.T) {
	ev := &core.Event{Platform: "openim", Command: "callbackAfterQuitGroupCommand", Event: "group.member.left", GroupID: "g1"}
	tests := []struct {
		name   string
		out    core.Outcome
		result string
		level  zapcore.Level
	}{
		{"delivered", core.Outcome{Event: ev, Upstream: true}, "delivered", zapcore.DebugLevel},
		{"failed", core.Outcome{Event: ev, Reason: "timeout", Err: errors.New("no answer within 3s")}, "timeout", zapcore.WarnLevel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, logs := observer.New(zapcore.DebugLevel)
			h := &Handler{logger: zap.New(obs)}
			before := counterValue(t, afterDeliveriesTotal.WithLabelValues("openim", tt.result))
			h.observeDelivery(&tt.out)
			if got := counterValue(t, afterDeliveriesTotal.WithLabelValues("openim", tt.result)) - before; got != 1 {
				t.Errorf("after_deliveries_total{openim,%s} grew by %v, want 1", tt.result, got)
			}
			entries := logs.All()
			if len(entries) != 1 || entries[0].Level != tt.level {
				t.Fatalf("logged %+v, want one %s line", entries, tt.level)
			}
			fields := entries[0].ContextMap()
			if fields["result"] != tt.result || fields["event"] != "group.member.left" {
				t.Errorf("fields %v, want result %s and the event", fields, tt.result)
			}
		})
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
