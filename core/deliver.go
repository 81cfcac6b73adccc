package core

import "sync/atomic"

// MaxBackgroundDeliveries bounds the after-callbacks one engine delivers to
// the upstream in the background at the same time. Each holds one goroutine
// (two while next runs) for at most the platform deadline; beyond the bound,
// after-callbacks are delivered inline, which paces the platform's own
// after-callback queue to what the upstream can take.
const MaxBackgroundDeliveries = 64

// DeliveryStats counts after-callback deliveries for the adapters' metrics.
// Failed background deliveries are not retried: the platform was already
// acknowledged, as it would have been on a timeout.
type DeliveryStats struct {
	// InFlight is the number of background deliveries running now.
	InFlight int64
	// Delivered counts background deliveries the upstream answered with 2xx.
	Delivered int64
	// Failed counts background deliveries that got no 2xx answer in time.
	Failed int64
	// Inline counts after-callbacks delivered inline because every
	// background slot was busy.
	Inline int64
}

// deliveries is an engine's bounded set of background delivery slots,
// counted with atomics: Yaegi v0.16.1 shares one select case list between
// goroutines running the same select statement, so a channel semaphore
// taken with select/default could hand one engine's slot to another.
type deliveries struct {
	max       int64
	inFlight  atomic.Int64
	delivered atomic.Int64
	failed    atomic.Int64
	inline    atomic.Int64
}

func newDeliveries(max int) *deliveries {
	return &deliveries{max: int64(max)}
}

// acquire takes a slot if one is free, without waiting.
func (d *deliveries) acquire() bool {
	if d.inFlight.Add(1) > d.max {
		d.inFlight.Add(-1)
		return false
	}
	return true
}

// release frees a slot and counts how the delivery ended.
func (d *deliveries) release(out *Outcome) {
	if out != nil && out.Upstream {
		d.delivered.Add(1)
	} else {
		d.failed.Add(1)
	}
	d.inFlight.Add(-1)
}

// OnDelivery registers fn to be called with the Outcome of every
// background after-callback delivery when it ends (Upstream true when the
// service answered 2xx, else Reason says why not), so that adapters can log
// and count what no request is left to report. It may be set at any time;
// the last registration wins.
func (e *Engine) OnDelivery(fn func(*Outcome)) {
	e.deliveryObserver.Store(deliveryObserver{fn})
}

// deliveryObserver wraps the callback: atomic.Value needs one concrete type.
type deliveryObserver struct {
	fn func(*Outcome)
}

// notifyDelivery runs on the delivery's own goroutine, where a panic would
// end the process: an observer's panic is dropped.
func notifyDelivery(e *Engine, out *Outcome) {
	defer func() { _ = recover() }()
	if v, ok := e.deliveryObserver.Load().(deliveryObserver); ok && v.fn != nil {
		v.fn(out)
	}
}

// Deliveries reports the engine's after-callback delivery counters.
func (e *Engine) Deliveries() DeliveryStats {
	if e.deliveries == nil {
		return DeliveryStats{}
	}
	d := e.deliveries
	return DeliveryStats{
		InFlight:  d.inFlight.Load(),
		Delivered: d.delivered.Load(),
		Failed:    d.failed.Load(),
		Inline:    d.inline.Load(),
	}
}
