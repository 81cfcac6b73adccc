package caddymodule

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/imgate/imgate/core"
)

// observeDelivery logs and counts an after-callback delivered in the
// background: the platform was acknowledged at once, so no request is left
// to report how the delivery ended. Failures log at warn with the reason.
func (h *Handler) observeDelivery(out *core.Outcome) {
	platform := ""
	if out.Event != nil {
		platform = out.Event.Platform
	}
	result, level := "delivered", zapcore.DebugLevel
	if !out.Upstream {
		result, level = out.Reason, zapcore.WarnLevel
	}
	afterDeliveriesTotal.WithLabelValues(platform, result).Inc()
	ce := h.logger.Check(level, "after-callback delivery")
	if ce == nil {
		return
	}
	fields := []zap.Field{zap.String("platform", platform), zap.String("result", result), zap.Duration("duration", out.Duration)}
	if ev := out.Event; ev != nil {
		fields = append(fields, zap.String("command", ev.Command), zap.String("event", ev.Event), zap.String("group", ev.GroupID))
	}
	if out.Err != nil {
		fields = append(fields, zap.String("error", out.Err.Error()))
	}
	ce.Write(fields...)
}
