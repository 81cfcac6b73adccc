package soak

import (
	"fmt"
	"time"
)

// Sample is a gateway process's state at one moment.
type Sample struct {
	At         time.Time
	Goroutines int
	RSS        int64 // bytes
}

// Memory is a gateway's goroutines and resident memory around a soak:
// idle before the load, early and late under load, idle after it.
type Memory struct {
	IdleBefore, LoadStart, LoadEnd, IdleAfter Sample
	PeakRSS                                   int64
	PeakGoroutines                            int
}

// What "flat" allows. Goroutines are compared idle against idle: with the
// client's connections closed, what remains is the gateway's own, which
// varies by a few (listeners, timers, connections of a reloaded
// configuration still closing); a goroutine per reload (60 per minute) or
// per thousand callbacks (more than a hundred per minute at the soak's
// rates) exceeds the margin. Resident memory is compared under load, early
// against late, so that the heap's growth to its working size during the
// warm-up does not count: a leak of even 100 bytes per callback exceeds
// the allowance within a minute at the soak's rates.
const (
	GoroutineMargin   = 25
	RSSGrowthFraction = 0.25
	RSSGrowthBytes    = 16 << 20
)

// Failures lists what is not flat.
func (m Memory) Failures() []string {
	var out []string
	if m.IdleAfter.Goroutines > m.IdleBefore.Goroutines+GoroutineMargin {
		out = append(out, fmt.Sprintf("goroutines grew from %d to %d idle (margin %d)", m.IdleBefore.Goroutines, m.IdleAfter.Goroutines, GoroutineMargin))
	}
	if limit := int64(float64(m.LoadStart.RSS)*(1+RSSGrowthFraction)) + RSSGrowthBytes; m.LoadEnd.RSS > limit {
		out = append(out, fmt.Sprintf("resident memory grew from %s to %s under load (allowed up to %s)", MiB(m.LoadStart.RSS), MiB(m.LoadEnd.RSS), MiB(limit)))
	}
	if m.IdleBefore.RSS == 0 || m.LoadStart.RSS == 0 || m.LoadEnd.RSS == 0 || m.IdleAfter.RSS == 0 {
		out = append(out, "a memory or goroutine sample is missing")
	}
	return out
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Client is what the load generator saw: requests scheduled, answered,
// failed (socket errors, no answer before the drain), dropped (never sent
// because the gateway fell behind), answered with a status other than
// 200, and latencies from the scheduled send time.
type Client struct {
	Scheduled, Completed, Errors, Dropped, NonOK int64
	Latency                                      Percentiles
}

// Failures lists every callback that did not get an answer.
func (c Client) Failures() []string {
	var out []string
	if c.Errors > 0 {
		out = append(out, fmt.Sprintf("%d callbacks failed (connection error or no answer)", c.Errors))
	}
	if c.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d callbacks never sent: the gateway fell behind the rate", c.Dropped))
	}
	if c.NonOK > 0 {
		out = append(out, fmt.Sprintf("%d answers were not HTTP 200", c.NonOK))
	}
	if c.Completed == 0 {
		out = append(out, "no callback was answered")
	}
	return out
}

// SoakResult is one gateway's soak with changes under load.
type SoakResult struct {
	Gateway     string
	Rate        float64
	Duration    time.Duration
	Connections int
	LoadBefore  string
	LoadAfter   string
	Client      Client
	// Failed are callbacks without an answer (Client.Errors counts
	// them all, also those the load generator gave up on);
	// FailedAtReload those of them sent while a configuration reload was
	// under way (or up to half a second after it returned).
	Failed         Examples
	FailedAtReload int64
	// Wrong are answers that are not the call's exact platform reply.
	Wrong Examples
	// Probes are the probe users' answers; Decisive those whose window
	// held a single membership (the others match either way); Graced
	// those older than listReloadInterval allows but within the
	// allowance (the longest list write around the send plus ListGrace),
	// MaxStale the most any was older.
	Probes, Decisive, Graced int64
	MaxStale                 time.Duration
	// MaxLag is the latest a goroutine sleeping briefly was woken during
	// the phase: how long the machine made a runnable process wait.
	MaxLag time.Duration
	// ListMismatches are probe answers no list version in force could
	// give; EpochMismatches name a configuration epoch not in force.
	ListMismatches, EpochMismatches Examples
	// The list file: versions written, every ListEvery, the longest
	// write, how often the gateway checks it and the grace allowed.
	ListVersions                                   int
	ListEvery, ListWriteMax, ListReload, ListGrace time.Duration
	// Configuration reloads, every ReloadEvery (0: none asked for);
	// epochs are the reloads that changed the probe rules' message (a new
	// engine).
	Reloads, Epochs int
	ReloadEvery     time.Duration
	ReloadMax       time.Duration
	ReloadErrors    Examples
	Memory          Memory
}

// Failures lists what failed.
func (s *SoakResult) Failures() []string {
	out := s.Client.Failures()
	if s.Wrong.Count > 0 {
		out = append(out, fmt.Sprintf("%d wrong answers", s.Wrong.Count))
	}
	if s.ListMismatches.Count > 0 {
		out = append(out, fmt.Sprintf("%d answers matched no list version in force", s.ListMismatches.Count))
	}
	if s.EpochMismatches.Count > 0 {
		out = append(out, fmt.Sprintf("%d answers matched no configuration in force", s.EpochMismatches.Count))
	}
	if s.ReloadErrors.Count > 0 {
		out = append(out, fmt.Sprintf("%d reloads failed", s.ReloadErrors.Count))
	}
	if s.ListVersions == 0 || (s.ReloadEvery > 0 && s.Reloads == 0) {
		out = append(out, "no reload or no list rewrite happened under load")
	}
	if s.Decisive == 0 {
		out = append(out, "no probe answer could tell list versions apart: the list check proved nothing")
	}
	return append(out, s.Memory.Failures()...)
}

// FaultResult is one gateway forwarding to a business service that is
// killed, restarted and frozen under load.
type FaultResult struct {
	Gateway     string
	Rate        float64
	Duration    time.Duration
	Connections int
	Deadline    time.Duration
	LoadBefore  string
	LoadAfter   string
	Client      Client
	Failed      Examples
	Wrong       Examples
	// Upstream and Fallback count the answers decided by the business
	// service and the fallbacks.
	Upstream, Fallback int64
	// Latency from each callback's actual send to its answer; over the
	// forward deadline and over the platform's budget.
	Latency, FallbackLatency Percentiles
	OverDeadline, OverBudget int64
	Kills, Restarts, Freezes int
	FaultErrors              Examples
	// MaxLag is the latest a goroutine sleeping briefly was woken during
	// the phase.
	MaxLag time.Duration
}

// Failures lists what failed.
func (f *FaultResult) Failures() []string {
	out := f.Client.Failures()
	if f.Wrong.Count > 0 {
		out = append(out, fmt.Sprintf("%d wrong answers", f.Wrong.Count))
	}
	if f.OverBudget > 0 {
		out = append(out, fmt.Sprintf("%d answers came after the platform's budget", f.OverBudget))
	}
	if f.Kills == 0 || f.Restarts == 0 || f.Freezes == 0 {
		out = append(out, fmt.Sprintf("the business service was killed %d, restarted %d and frozen %d times: every fault must happen", f.Kills, f.Restarts, f.Freezes))
	}
	if f.Fallback == 0 || f.Upstream == 0 {
		out = append(out, "no fallback or no upstream answer: the faults did not show")
	}
	if f.FaultErrors.Count > 0 {
		out = append(out, fmt.Sprintf("%d fault injections failed", f.FaultErrors.Count))
	}
	return out
}

// DeliveryResult is the durable delivery soak.
type DeliveryResult struct {
	Gateway    string
	Callbacks  int
	Rate       float64
	Groups     int
	LoadBefore string
	LoadAfter  string
	// Acked callbacks got the platform's acknowledgement; Resent counts
	// the re-sends (connection refused while the gateway restarted, or a
	// 503) a platform with retries makes; Wrong are answers that are
	// neither an acknowledgement nor an honest failure.
	Acked  int
	Resent int64
	Wrong  Examples
	// Delivered distinct callbacks; Lost acknowledged ones never
	// delivered; Duplicates deliveries of an id already taken (the
	// service deduplicates them); Attempts every request the service got.
	Delivered, Lost, Duplicates, Attempts int
	// Latency from the acknowledged callback's send to the service
	// taking it.
	Latency Percentiles
	// Flaps are the service's down periods (refused or 503), FlapDown
	// and FlapUp their lengths; the gateway restarted once after
	// RestartAfter callbacks, down for RestartGap, by RestartSignal.
	Flaps               int
	FlapDown, FlapUp    time.Duration
	Restarted           bool
	RestartAfter        int
	RestartGap          time.Duration
	RestartSignal       string
	RetryMin, RetryMax  time.Duration
	SendTime, DrainTime time.Duration
	Errors              Examples
}

// Failures lists what failed.
func (d *DeliveryResult) Failures() []string {
	var out []string
	if d.Acked < d.Callbacks {
		out = append(out, fmt.Sprintf("%d of %d callbacks never acknowledged", d.Callbacks-d.Acked, d.Callbacks))
	}
	if d.Lost > 0 {
		out = append(out, fmt.Sprintf("%d acknowledged callbacks never delivered", d.Lost))
	}
	if d.Wrong.Count > 0 {
		out = append(out, fmt.Sprintf("%d wrong answers", d.Wrong.Count))
	}
	if d.Flaps == 0 || !d.Restarted {
		out = append(out, "the delivery service did not flap or the gateway did not restart")
	}
	if d.Errors.Count > 0 {
		out = append(out, fmt.Sprintf("%d errors running the phase", d.Errors.Count))
	}
	return out
}

// Report is the whole run.
type Report struct {
	Date     time.Time
	Elapsed  time.Duration
	Machine  []string
	Revision string
	Command  string
	Soaks    []*SoakResult
	Faults   []*FaultResult
	Delivery []*DeliveryResult
	// Errors are phases that could not run at all.
	Errors []string
}

// Failures lists every failure of the run, each prefixed with its phase.
func (r *Report) Failures() []string {
	out := append([]string(nil), r.Errors...)
	for _, s := range r.Soaks {
		for _, f := range s.Failures() {
			out = append(out, "soak "+s.Gateway+": "+f)
		}
	}
	for _, f := range r.Faults {
		for _, msg := range f.Failures() {
			out = append(out, "faults "+f.Gateway+": "+msg)
		}
	}
	for _, d := range r.Delivery {
		for _, f := range d.Failures() {
			out = append(out, "delivery "+d.Gateway+": "+f)
		}
	}
	return out
}
