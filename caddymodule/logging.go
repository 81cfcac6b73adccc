package caddymodule

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/imgate/imgate/core"
)

// zapLevels maps core's severities to zap levels.
var zapLevels = map[core.Severity]zapcore.Level{
	core.SeverityDebug: zapcore.DebugLevel,
	core.SeverityInfo:  zapcore.InfoLevel,
	core.SeverityWarn:  zapcore.WarnLevel,
	core.SeverityError: zapcore.ErrorLevel,
}

// logMessages are the log line messages by result.
var logMessages = map[string]string{
	core.ResultAllow:        "callback allowed",
	core.ResultDeny:         "callback denied",
	core.ResultRefuse:       "invitees refused",
	core.ResultAck:          "callback acknowledged",
	core.ResultUnknown:      "unknown callback command",
	core.ResultFallback:     "upstream failed, fallback decision sent",
	core.ResultBadRequest:   "bad callback request",
	core.ResultTooLarge:     "callback body too large",
	core.ResultMethod:       "callback method not allowed",
	core.ResultTooSlow:      "callback body too slow",
	core.ResultUnavailable:  "after-callback not kept: the delivery spool is full or failed",
	core.ResultUnauthorized: "callback verification failed",
	core.ResultForbidden:    "callback verification failed",
	core.ResultError:        "internal error answering callback",
}

// logOutcome writes one structured line for the outcome. It never logs the
// query string, the Sign, tokens or secrets: only the fields below, whose
// error texts core keeps free of credentials.
func (h *Handler) logOutcome(out *core.Outcome) {
	ce := h.logger.Check(zapLevels[core.SeverityOf(out)], logMessages[out.Result])
	if ce == nil {
		return
	}
	fields := make([]zap.Field, 0, 16)
	if ev := out.Event; ev != nil {
		fields = append(fields,
			zap.String("platform", ev.Platform),
			zap.String("command", ev.Command),
			zap.String("event", ev.Event),
			zap.String("group", ev.GroupID),
			zap.String("actor", ev.Actor),
		)
	}
	fields = append(fields,
		zap.String("result", out.Result),
		zap.String("rule", out.Rule),
		zap.Duration("duration", out.Duration),
	)
	if out.Decision != "" {
		fields = append(fields, zap.String("decision", out.Decision))
	}
	if out.Verified != "" {
		fields = append(fields, zap.String("verified", out.Verified))
	}
	if out.Upstream {
		fields = append(fields, zap.Bool("upstream", true), zap.String("forwarded_by", out.ForwardedBy))
	}
	if len(out.Refused) > 0 {
		fields = append(fields, zap.Strings("refused", out.Refused))
	}
	if len(out.Shadow) > 0 {
		hits := make([]string, len(out.Shadow))
		for i, s := range out.Shadow {
			hits[i] = s.Rule + ":" + s.Action
		}
		fields = append(fields, zap.Strings("shadow", hits))
	}
	if out.Reason != "" {
		fields = append(fields, zap.String("reason", out.Reason))
	}
	if out.StoreFailure != "" {
		fields = append(fields, zap.String("store_failure", out.StoreFailure))
		if out.StoreErr != nil {
			fields = append(fields, zap.String("store_error", out.StoreErr.Error()))
		}
	}
	if out.Err != nil {
		fields = append(fields, zap.String("error", out.Err.Error()))
	}
	ce.Write(fields...)
}
