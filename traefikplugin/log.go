package traefikplugin

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/core"
)

// debugWriter writes through fmt.Print. Inside Traefik, Yaegi redirects the
// fmt print functions to the interpreter's Stdout, which Traefik logs at
// DEBUG level. A plain os.Stdout write would bypass Traefik's logger: Yaegi
// v0.16.1 only swaps os.Stdout for the interpreter's writer when that
// writer is an *os.File or YAEGI_SPECIAL_STDIO is set, and Traefik's is
// neither (yaegi interp/use.go fixStdlib).
type debugWriter struct{}

// Write prints p unchanged.
func (debugWriter) Write(p []byte) (int, error) {
	return fmt.Print(string(p))
}

// logOutcome writes one line for every outcome an operator should see
// (see OutcomeLog) on the stream its severity asks for.
func (m *Middleware) logOutcome(out *core.Outcome) {
	line, toErrors := OutcomeLog(m.name, out)
	if line == nil {
		return
	}
	if toErrors {
		m.emit(m.errorLog, line)
		return
	}
	m.emit(m.debugLog, line)
}

// OutcomeLog returns the log line for out and whether it belongs on the
// error stream, or a nil line when out is not logged. Every outcome an
// operator should see, as core.SeverityOf rates it, gets a line: denials
// and refusals, shadow-rule hits, unknown commands and bad requests on the
// debug stream (Traefik DEBUG); fallbacks, verification failures and
// recovered panics on the error stream (Traefik ERROR). Allowed and
// acknowledged callbacks without a shadow hit are silent; the decision
// header serves counting them. Request URLs, bodies and headers are never
// logged: they carry the Tencent Sign and the OpenIM secret. The WASM
// plugin (traefikwasm) logs the same lines.
func OutcomeLog(middleware string, out *core.Outcome) ([]byte, bool) {
	if out == nil {
		return nil, false
	}
	severity := core.SeverityOf(out)
	if severity == core.SeverityDebug {
		return nil, false
	}
	line := outcomeLine(middleware, out, out.Result, out.Rule)
	if out.Result == core.ResultRefuse {
		line = appendField(line, "refused", strconv.Itoa(len(out.Refused)))
	}
	if len(out.Shadow) > 0 {
		line = appendField(line, "shadow", shadowField(out.Shadow))
	}
	if out.Err != nil {
		line = appendField(line, "error", out.Err.Error())
	}
	if out.StoreFailure != "" {
		line = appendField(line, "store_failure", out.StoreFailure)
	}
	return line, severity != core.SeverityInfo
}

// logStore writes the error-stream line of a change of the shared store's
// health (see StoreLog).
func (m *Middleware) logStore(ev core.StoreEvent) {
	m.emit(m.errorLog, StoreLog(m.name, ev))
}

// StoreLog returns the error-stream line for a change of the shared
// store's (Redis) health: store_unavailable with the reason and error,
// or store_available. While the store is unavailable rate rules follow
// their storeFailure, and allowed callbacks log nothing of their own, so
// these lines say so; both go to Traefik's ERROR level, its default.
func StoreLog(middleware string, ev core.StoreEvent) []byte {
	line := appendField([]byte("imgate"), "middleware", middleware)
	if ev.Available {
		return appendField(line, "result", "store_available")
	}
	line = appendField(line, "result", "store_unavailable")
	line = appendField(line, "reason", ev.Reason)
	if ev.Err != nil {
		line = appendField(line, "error", ev.Err.Error())
	}
	return line
}

// shadowField renders shadow hits as "rule:action,rule:action".
func shadowField(hits []core.ShadowHit) string {
	parts := make([]string, 0, len(hits))
	for _, hit := range hits {
		parts = append(parts, hit.Rule+":"+hit.Action)
	}
	return strings.Join(parts, ",")
}

// logDelivery writes an ERROR line when an after-callback delivered in the
// background failed (see DeliveryLog).
func (m *Middleware) logDelivery(out *core.Outcome) {
	if line := DeliveryLog(m.name, out); line != nil {
		m.emit(m.errorLog, line)
	}
}

// DeliveryLog returns the error-stream line for an after-callback whose
// delivery failed, or nil when the upstream took it: the platform was
// acknowledged apart from the delivery, so no reply reports it. Successful
// deliveries are silent, like acks.
func DeliveryLog(middleware string, out *core.Outcome) []byte {
	if out == nil || out.Upstream {
		return nil
	}
	line := outcomeLine(middleware, out, "delivery_failed", out.Rule)
	if out.Err != nil {
		line = appendField(line, "error", out.Err.Error())
	}
	return line
}

// logSpool writes a line for what the spool did with one after-callback,
// on the stream core.SpoolEventSeverity picks (see SpoolLog).
func (m *Middleware) logSpool(ev core.SpoolEvent) {
	line, loud := SpoolLog(m.name, ev)
	switch {
	case line == nil:
	case loud:
		m.emit(m.errorLog, line)
	default:
		m.emit(m.debugLog, line)
	}
}

// SpoolLog returns the line for a spool event and whether it belongs on
// the error stream, or nil for a routine delivery.
func SpoolLog(middleware string, ev core.SpoolEvent) ([]byte, bool) {
	sev := core.SpoolEventSeverity(ev)
	if sev == core.SeverityDebug {
		return nil, false
	}
	line := appendField([]byte("imgate"), "middleware", middleware)
	line = appendField(line, "result", "delivery_"+ev.Kind)
	line = appendField(line, "delivery_id", ev.ID)
	line = appendField(line, "platform", ev.Platform)
	line = appendField(line, "event", ev.Event)
	line = appendField(line, "attempt", strconv.Itoa(ev.Attempt))
	line = appendField(line, "age", formatDuration(ev.Age))
	line = appendField(line, "reason", ev.Reason)
	if ev.Err != nil {
		line = appendField(line, "error", ev.Err.Error())
	}
	return line, sev >= core.SeverityWarn
}

// WarningLog returns the error-stream line naming the verification checks
// a new engine's config leaves off, or nil when none is off.
func WarningLog(middleware string, warnings []string) []byte {
	if len(warnings) == 0 {
		return nil
	}
	line := appendField([]byte("imgate"), "middleware", middleware)
	line = appendField(line, "result", "verification_off")
	return appendField(line, "checks", strings.Join(warnings, "; "))
}

// line starts a log line with the fields every line carries.
func (m *Middleware) line(out *core.Outcome, result, rule string) []byte {
	return outcomeLine(m.name, out, result, rule)
}

// outcomeLine starts a log line with the fields every line carries.
func outcomeLine(middleware string, out *core.Outcome, result, rule string) []byte {
	line := make([]byte, 0, 256)
	line = append(line, "imgate"...)
	line = appendField(line, "middleware", middleware)
	line = appendField(line, "result", result)
	var platform, command, event, group, actor string
	if ev := out.Event; ev != nil {
		platform, command, event, group, actor = ev.Platform, ev.Command, ev.Event, ev.GroupID, ev.Actor
	}
	line = appendField(line, "platform", platform)
	line = appendField(line, "command", command)
	line = appendField(line, "event", event)
	line = appendField(line, "group", group)
	line = appendField(line, "actor", actor)
	line = appendField(line, "rule", rule)
	line = appendField(line, "reason", out.Reason)
	line = appendField(line, "upstream", strconv.FormatBool(out.Upstream))
	if out.ForwardedBy != "" {
		line = appendField(line, "forwarded_by", out.ForwardedBy)
	}
	line = appendField(line, "duration", formatDuration(out.Duration))
	return line
}

// emit writes one finished line in a single Write, so concurrent requests
// never interleave within a line. A failing log sink must not fail the
// request, so its error is dropped.
func (m *Middleware) emit(w io.Writer, line []byte) {
	line = append(line, '\n')
	_, _ = w.Write(line)
}

// appendField appends " key=value", quoting the value when it is empty or
// holds spaces, quotes, '=', control or non-ASCII bytes: group ids, actors
// and error texts come from the callback and must not forge extra fields or
// lines (strconv.Quote keeps printable Unicode readable and escapes the rest).
func appendField(line []byte, key, value string) []byte {
	line = append(line, ' ')
	line = append(line, key...)
	line = append(line, '=')
	if needsQuote(value) {
		return strconv.AppendQuote(line, value)
	}
	return append(line, value...)
}

func needsQuote(value string) bool {
	return value == "" || quoteNeeded.MatchString(value)
}

// quoteNeeded matches any character but printable ASCII other than '"'
// and '=': a space, a control or non-ASCII character (an invalid byte
// reads as U+FFFD) or a quote or '='. One compiled call per field, where a
// loop over the bytes would run interpreted under Yaegi.
var quoteNeeded = regexp.MustCompile(`[^!#-<>-~]`)

// formatDuration renders d in milliseconds with microsecond precision,
// ASCII only ("0.042ms"), so log processors can parse it as a number.
func formatDuration(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + "ms"
}
