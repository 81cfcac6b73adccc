package caddymodule

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/imgate/imgate/core"
)

// spoolCollector reports the state of every after-callback spool of the
// process, read from core when Prometheus scrapes.
type spoolCollector struct {
	depth, bytes, oldest, queued, duplicates, rejected *prometheus.Desc
}

func newSpoolCollector() *spoolCollector {
	name := func(n string) string { return prometheus.BuildFQName("caddy", "imgate", n) }
	return &spoolCollector{
		depth:      prometheus.NewDesc(name("spool_depth"), "After-callbacks waiting in the spools for delivery.", nil, nil),
		bytes:      prometheus.NewDesc(name("spool_bytes"), "Size of the after-callbacks waiting in the spools.", nil, nil),
		oldest:     prometheus.NewDesc(name("spool_oldest_age_seconds"), "How long the oldest after-callback in the spools has waited.", nil, nil),
		queued:     prometheus.NewDesc(name("spool_queued_total"), "After-callbacks written to the spools.", nil, nil),
		duplicates: prometheus.NewDesc(name("spool_duplicates_total"), "Platform retries of an after-callback already spooled or delivered, acknowledged without a second delivery.", nil, nil),
		rejected:   prometheus.NewDesc(name("spool_rejected_total"), "After-callbacks refused with HTTP 503 because the spool was full or could not write.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *spoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.depth, c.bytes, c.oldest, c.queued, c.duplicates, c.rejected} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *spoolCollector) Collect(ch chan<- prometheus.Metric) {
	st := core.Spools()
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(st.Depth))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, st.OldestAge.Seconds())
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.CounterValue, float64(st.Queued))
	ch <- prometheus.MustNewConstMetric(c.duplicates, prometheus.CounterValue, float64(st.Duplicates))
	ch <- prometheus.MustNewConstMetric(c.rejected, prometheus.CounterValue, float64(st.Rejected))
}

// spoolMessages are the log messages by spool event.
var spoolMessages = map[string]string{
	"delivered": "after-callback delivered",
	"retry":     "after-callback delivery failed, will retry",
	"dead":      "after-callback given up after delivery.maxAge, moved to the dead-letter folder",
}

// observeSpool logs and counts what the spool did with one entry, as
// loudly as core.SpoolEventSeverity says.
func (h *Handler) observeSpool(ev core.SpoolEvent) {
	spoolEventsTotal.WithLabelValues(ev.Platform, ev.Kind).Inc()
	ce := h.logger.Check(zapLevels[core.SpoolEventSeverity(ev)], spoolMessages[ev.Kind])
	if ce == nil {
		return
	}
	fields := []zap.Field{
		zap.String("delivery_id", ev.ID), zap.String("platform", ev.Platform), zap.String("event", ev.Event),
		zap.Int("attempt", ev.Attempt), zap.Duration("age", ev.Age),
	}
	if ev.Reason != "" {
		fields = append(fields, zap.String("reason", ev.Reason))
	}
	if ev.Err != nil {
		fields = append(fields, zap.String("error", ev.Err.Error()))
	}
	ce.Write(fields...)
}
