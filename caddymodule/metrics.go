package caddymodule

import (
	"errors"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgate/imgate/core"
)

// The collectors are created once per process. Caddy gives every config
// load a fresh registry, so Provision registers them again each time (the
// same collector twice in one load is AlreadyRegisteredError, which is
// fine) and the counts carry on across reloads.
var (
	decisionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "decisions_total",
		Help: "Callbacks answered, by platform, normalized event, result and deciding rule.",
	}, []string{"platform", "event", "result", "rule"})

	verificationFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "verification_failures_total",
		Help: "Callbacks rejected with HTTP 401/403, by platform and reason (signature, stale, appid, secret, source).",
	}, []string{"platform", "reason"})

	unknownCommandsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "unknown_commands_total",
		Help: "Callbacks with a command imgate does not know (answered with the platform's continue reply), by platform and command.",
	}, []string{"platform", "command"})

	shadowHitsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "shadow_hits_total",
		Help: "Times a shadow rule matched, by rule and the action it would have taken.",
	}, []string{"rule", "action"})

	upstreamFallbacksTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "upstream_fallbacks_total",
		Help: "Forwarded callbacks answered with the fallback decision, by platform and reason (timeout, unreachable, status_NNN, invalid, empty, too_large).",
	}, []string{"platform", "reason"})

	afterDeliveriesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "after_deliveries_total",
		Help: "After-callbacks delivered to the upstream in the background, by platform and result (delivered, or the failure reason).",
	}, []string{"platform", "result"})

	storeFailuresTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "store_failures_total",
		Help: "Callbacks whose rate rules the shared store (Redis) could not settle, so each rule's storeFailure decided, by platform and reason (timeout, down, error).",
	}, []string{"platform", "reason"})

	decisionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "decision_duration_seconds",
		Help:    "Time spent in imgate per callback, forwarding included, by platform and result.",
		Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .05, .1, .25, .5, 1, 2, 5},
	}, []string{"platform", "result"})

	spoolEventsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "caddy", Subsystem: "imgate", Name: "spool_events_total",
		Help: "What the after-callback spools did, by event: delivered (2xx), retry (an attempt failed), dead (given up after maxAge, moved to the dead-letter folder).",
	}, []string{"platform", "event"})

	spoolStats = newSpoolCollector()

	allCollectors = []prometheus.Collector{
		decisionsTotal, verificationFailuresTotal, unknownCommandsTotal,
		shadowHitsTotal, upstreamFallbacksTotal, afterDeliveriesTotal, storeFailuresTotal, decisionDuration,
		spoolEventsTotal, spoolStats,
	}
)

// registerMetrics adds the collectors to a config load's registry.
func registerMetrics(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range allCollectors {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				return err
			}
		}
	}
	return nil
}

// observe counts one outcome.
func observe(out *core.Outcome) {
	platform, event := "", ""
	if out.Event != nil {
		platform, event = out.Event.Platform, out.Event.Event
	}
	decisionsTotal.WithLabelValues(platform, event, out.Result, out.Rule).Inc()
	decisionDuration.WithLabelValues(platform, out.Result).Observe(out.Duration.Seconds())
	switch out.Result {
	case core.ResultUnauthorized, core.ResultForbidden:
		verificationFailuresTotal.WithLabelValues(platform, out.Reason).Inc()
	case core.ResultUnknown:
		unknownCommandsTotal.WithLabelValues(platform, commandLabel(platform, out.Event.Command)).Inc()
	case core.ResultFallback:
		upstreamFallbacksTotal.WithLabelValues(platform, out.Reason).Inc()
	}
	for _, s := range out.Shadow {
		shadowHitsTotal.WithLabelValues(s.Rule, s.Action).Inc()
	}
	if out.StoreFailure != "" {
		storeFailuresTotal.WithLabelValues(platform, out.StoreFailure).Inc()
	}
}

// maxCommandLabels bounds the distinct command labels: without a Tencent
// token or OpenIM secret anyone can send made-up commands, and every new
// label value is a new time series kept forever.
const maxCommandLabels = 200

var commandLabels = struct {
	sync.Mutex
	seen map[string]struct{}
}{seen: map[string]struct{}{}}

// commandLabel returns command as a label value while fewer than
// maxCommandLabels distinct commands were seen and the command looks like a
// command word, else "other".
func commandLabel(platform, command string) string {
	if len(command) > 64 || strings.ContainsFunc(command, isNotCommandRune) {
		return "other"
	}
	key := platform + "/" + command
	commandLabels.Lock()
	defer commandLabels.Unlock()
	if _, ok := commandLabels.seen[key]; ok {
		return command
	}
	if len(commandLabels.seen) >= maxCommandLabels {
		return "other"
	}
	commandLabels.seen[key] = struct{}{}
	return command
}

func isNotCommandRune(r rune) bool {
	return !(r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
}
