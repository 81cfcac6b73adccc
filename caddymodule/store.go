package caddymodule

import (
	"go.uber.org/zap"

	"github.com/imgate/imgate/core"
)

// observeStore logs a change of the shared store's health once, not on
// every callback: a Redis outage at warn level, with the reason and the
// error (each callback's line and caddy_imgate_store_failures_total still
// count the decisions taken by storeFailure), and the recovery at info.
func (h *Handler) observeStore(ev core.StoreEvent) {
	if ev.Available {
		h.logger.Info("shared store available again; rate limits are shared")
		return
	}
	fields := []zap.Field{zap.String("store_failure", ev.Reason)}
	if ev.Err != nil {
		fields = append(fields, zap.String("store_error", ev.Err.Error()))
	}
	h.logger.Warn("shared store unavailable; rate rules follow their storeFailure (allow, deny or local buckets) until it answers", fields...)
}
