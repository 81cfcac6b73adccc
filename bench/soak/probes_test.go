package soak

import (
	"strings"
	"testing"
	"time"
)

func TestCheckProbes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// List version v is written during [100v, 100v+1] ms; configuration
	// epoch 0 from the start, epoch 1 loaded during [500, 520] ms.
	var lists, epochs Timeline
	for v := 0; v < 5; v++ {
		lists.Set(v, at(100*v), at(100*v+1))
	}
	epochs.Set(0, at(-10), at(-5))
	epochs.Set(1, at(500), at(520))
	// Probe 0 is listed in odd versions. Version 2 (unlisted) replaced
	// version 1 (listed) at 201 ms; version 3 (listed) began at 300 ms.
	answer := func(listed bool, epoch, sent int) ProbeAnswer {
		return ProbeAnswer{Call: "tencent-probe-0", Probe: 0, Listed: listed, Epoch: epoch, Sent: at(sent), Done: at(sent + 2)}
	}
	// Probe 2 is listed in version 4, in force from 400 ms on.
	denial := func(epoch, sent int) ProbeAnswer {
		return ProbeAnswer{Call: "openim-probe-2", Probe: 2, Listed: true, Epoch: epoch, Sent: at(sent), Done: at(sent + 2)}
	}
	// A machine that woke every sleeper on time.
	idle := &LagMonitor{}
	tests := []struct {
		name                         string
		p                            ProbeAnswer
		graced, list, epoch, decided int64
	}{
		{"current version", answer(false, 0, 250), 0, 0, 0, 1},
		{"previous version within listReloadInterval", answer(true, 0, 215), 0, 0, 0, 0},
		{"previous version within the allowance", answer(true, 0, 240), 1, 0, 0, 0},
		{"previous version beyond the allowance", answer(true, 0, 280), 0, 1, 0, 1},
		{"a version not yet written", answer(true, 0, 120), 0, 0, 0, 0},
		{"an epoch in force", denial(1, 510), 0, 0, 0, 0},
		{"the previous epoch during its reload", denial(0, 510), 0, 0, 0, 0},
		{"an epoch no longer in force", denial(0, 530), 0, 0, 1, 0},
		{"an epoch not yet loaded", denial(1, 450), 0, 0, 1, 0},
	}
	for _, tt := range tests {
		res := &SoakResult{ListReload: 20 * time.Millisecond, ListGrace: 25 * time.Millisecond}
		res.CheckProbes([]ProbeAnswer{tt.p}, &lists, &epochs, idle)
		if res.Probes != 1 || res.Graced != tt.graced || res.ListMismatches.Count != tt.list || res.EpochMismatches.Count != tt.epoch {
			t.Errorf("%s: graced %d, list mismatches %d %v, epoch mismatches %d %v", tt.name, res.Graced, res.ListMismatches.Count, res.ListMismatches.First, res.EpochMismatches.Count, res.EpochMismatches.First)
		}
		if tt.decided == 1 && res.Decisive != 1 {
			t.Errorf("%s: not decisive", tt.name)
		}
		if tt.list == 1 && !strings.Contains(res.ListMismatches.First[0], "older than listReloadInterval allows") {
			t.Errorf("%s: %v", tt.name, res.ListMismatches.First)
		}
	}
}

// TestCheckProbesAllowsMachineLag: an answer from the previous version
// 40 ms older than listReloadInterval allows fails on a machine that woke
// sleepers on time, and passes when a wake-up around its send was 50 ms
// late.
func TestCheckProbesAllowsMachineLag(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var lists, epochs Timeline
	lists.Set(1, at(0), at(1))
	lists.Set(2, at(100), at(101))
	late := ProbeAnswer{Call: "tencent-probe-0", Probe: 0, Listed: true, Sent: at(161), Done: at(162)}
	for _, lag := range []time.Duration{0, 50 * time.Millisecond} {
		m := &LagMonitor{at: []time.Time{at(150)}, lag: []time.Duration{lag}}
		res := &SoakResult{ListReload: 20 * time.Millisecond}
		res.CheckProbes([]ProbeAnswer{late}, &lists, &epochs, m)
		if (res.ListMismatches.Count == 1) != (lag == 0) || (res.Graced == 1) != (lag > 0) {
			t.Errorf("lag %s: mismatches %d, graced %d", lag, res.ListMismatches.Count, res.Graced)
		}
	}
}
