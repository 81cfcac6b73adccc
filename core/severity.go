package core

// Severity is how loudly an adapter reports an outcome. Caddy maps it to
// zap levels; Traefik, which gives plugins only a debug and an error
// stream, logs SeverityInfo on the debug stream, SeverityWarn and
// SeverityError on the error stream, and drops SeverityDebug.
type Severity int

// Severities, from quiet to loud.
const (
	// SeverityDebug is routine: an allowed or acknowledged callback.
	SeverityDebug Severity = iota
	// SeverityInfo is what an operator reviews: denials, refusals, unknown
	// commands, requests that are not valid callbacks, shadow-rule hits.
	SeverityInfo
	// SeverityWarn is something wrong around imgate: an upstream that
	// failed (a fallback was sent), a callback that failed verification, an
	// after-callback the spool could not take.
	SeverityWarn
	// SeverityError is imgate itself failing: a recovered panic.
	SeverityError
)

// SpoolEventSeverity returns how loudly to report a spool event: a
// delivery is routine; a failed attempt is a warning on attempts 1, 2, 4,
// 8 ... (an upstream down for an hour would otherwise log every retry of
// every entry); an entry given up is an error.
func SpoolEventSeverity(ev SpoolEvent) Severity {
	switch ev.Kind {
	case "dead":
		return SeverityError
	case "retry":
		if ev.Attempt > 0 && ev.Attempt&(ev.Attempt-1) == 0 {
			return SeverityWarn
		}
	}
	return SeverityDebug
}

// SeverityOf returns how loudly to report out.
func SeverityOf(out *Outcome) Severity {
	switch out.Result {
	case ResultError:
		return SeverityError
	case ResultFallback, ResultUnauthorized, ResultForbidden, ResultUnavailable:
		return SeverityWarn
	case ResultDeny, ResultRefuse, ResultUnknown, ResultBadRequest, ResultTooLarge, ResultMethod, ResultTooSlow:
		return SeverityInfo
	}
	if len(out.Shadow) > 0 {
		return SeverityInfo
	}
	return SeverityDebug
}
