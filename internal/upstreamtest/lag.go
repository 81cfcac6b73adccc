package upstreamtest

import "time"

// ReplySlack is how much later than the deadline a fallback reply may
// arrive in the forwarding tests. Generous on purpose: the property a test
// proves is that the gateway answers by its deadline instead of waiting
// for the upstream (the slow upstream of the matrix answers two seconds
// after the deadline), and on a loaded 2-core machine a goroutine can wait
// tens of milliseconds to run after its timer fired. How close to the
// deadline the reply comes is measured by the benchmarks, not asserted.
const ReplySlack = time.Second

// LagProbe measures how late this machine fires a timer right now. The
// gateway's deadline is a timer too: on a shared, loaded machine both are
// late by the same scheduling delay, which is not the gateway's doing. A
// reply-time check therefore allows deadline + slack + the lag of a probe
// started with the request.
type LagProbe struct {
	deadline time.Duration
	fired    chan time.Duration
}

// StartLagProbe starts a timer for d, normally the gateway deadline, at
// the moment the request is sent.
func StartLagProbe(d time.Duration) *LagProbe {
	p := &LagProbe{deadline: d, fired: make(chan time.Duration, 1)}
	start := time.Now()
	time.AfterFunc(d, func() {
		p.fired <- time.Since(start) - d
	})
	return p
}

// Lag waits for the probe's timer and returns how late it fired.
func (p *LagProbe) Lag() time.Duration {
	lag := <-p.fired
	p.fired <- lag
	return lag
}

// InTime reports whether a reply that took elapsed came within the
// deadline plus slack plus the machine's current timer lag, and returns
// the allowance used. Fast replies never wait for the probe.
func (p *LagProbe) InTime(elapsed, slack time.Duration) (bool, time.Duration) {
	allowed := p.deadline + slack
	if elapsed <= allowed {
		return true, allowed
	}
	allowed += p.Lag()
	return elapsed <= allowed, allowed
}
