package soak

import (
	"fmt"
	"time"
)

// ProbeAnswer is one probe user's answer, checked after the run against
// the list versions and configuration epochs in force while it was in
// flight.
type ProbeAnswer struct {
	// Call names the callback; Probe is its probe user.
	Call  string
	Probe int
	// Listed is the answer (denied: on the list); Epoch the configuration
	// epoch a denial names.
	Listed bool
	Epoch  int
	// Sent and Done are when the callback went out and its answer came.
	Sent, Done time.Time
}

// CheckProbes checks every probe answer. Its membership must be that of
// a list version in force at some instant between its send less
// listReloadInterval and its answer — a version is in force from the
// start of its own write to the end of the next one's — or at most an
// allowance earlier. Callbacks that arrive while one of them reloads the
// list answer from the previous list, and on a loaded machine a reload
// waits for the disk and for a CPU: the allowance is the longest write of
// the list file around the send (the same file I/O stalls), plus the
// latest wake-up of lag around the send (the same CPU waits), plus the
// grace. A denial's epoch must be that of a configuration in force
// between its send and its answer.
func (res *SoakResult) CheckProbes(probes []ProbeAnswer, lists, epochs *Timeline, lag *LagMonitor) {
	for _, p := range probes {
		res.Probes++
		member := func(v int) bool { return Listed(v, p.Probe) == p.Listed }
		at := p.Sent.Add(-res.ListReload)
		allow := lists.LongestBetween(p.Sent.Add(-time.Second), p.Done) + lag.MaxBetween(p.Sent.Add(-time.Second), p.Done) + res.ListGrace
		stale, ok := lists.Staleness(at, p.Done, member)
		versions := lists.InForce(at.Add(-allow), p.Done)
		decisive := true
		for _, v := range versions {
			if Listed(v, p.Probe) != Listed(versions[0], p.Probe) {
				decisive = false
			}
		}
		if decisive {
			res.Decisive++
		}
		switch {
		case !ok || stale > allow:
			since := "no configuration change before"
			if end, ok := epochs.LastEnd(p.Sent); ok {
				since = "the last configuration change ended " + p.Sent.Sub(end).Round(time.Millisecond).String() + " before"
			}
			res.ListMismatches.Add(fmt.Sprintf("%s listed=%v sent %s answered after %s: %s older than listReloadInterval allows (allowance %s); versions in force %v; %s",
				p.Call, p.Listed, p.Sent.Format("15:04:05.000"), p.Done.Sub(p.Sent).Round(time.Microsecond), stale.Round(time.Microsecond), allow.Round(time.Microsecond), versions, since))
		case stale > 0:
			res.Graced++
			if stale > res.MaxStale {
				res.MaxStale = stale
			}
		}
		if !p.Listed {
			continue
		}
		in := epochs.InForce(p.Sent, p.Done)
		found := false
		for _, e := range in {
			found = found || e == p.Epoch
		}
		if !found {
			res.EpochMismatches.Add(fmt.Sprintf("%s epoch %d sent %s answered after %s; epochs in force %v", p.Call, p.Epoch, p.Sent.Format("15:04:05.000"), p.Done.Sub(p.Sent).Round(time.Microsecond), in))
		}
	}
}
