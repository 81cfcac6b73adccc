package soak

import (
	"sort"
	"sync"
	"time"
)

// Durations collects latencies from many goroutines.
type Durations struct {
	mu sync.Mutex
	v  []time.Duration
}

// Add records one latency.
func (d *Durations) Add(x time.Duration) {
	d.mu.Lock()
	d.v = append(d.v, x)
	d.mu.Unlock()
}

// Percentiles summarises latencies (nearest rank).
type Percentiles struct {
	N                        int
	P50, P90, P99, P999, Max time.Duration
}

// Summary returns the percentiles of what was added.
func (d *Durations) Summary() Percentiles {
	d.mu.Lock()
	v := append([]time.Duration(nil), d.v...)
	d.mu.Unlock()
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	p := Percentiles{N: len(v)}
	if len(v) == 0 {
		return p
	}
	p.P50, p.P90, p.P99, p.P999 = rank(v, 0.5), rank(v, 0.9), rank(v, 0.99), rank(v, 0.999)
	p.Max = v[len(v)-1]
	return p
}

// Over counts the latencies above limit.
func (d *Durations) Over(limit time.Duration) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.v {
		if x > limit {
			n++
		}
	}
	return n
}

func rank(sorted []time.Duration, q float64) time.Duration {
	r := int(q*float64(len(sorted))+0.999999999) - 1
	if r < 0 {
		r = 0
	}
	if r >= len(sorted) {
		r = len(sorted) - 1
	}
	return sorted[r]
}

// Examples keeps the first few of something (wrong replies,
// mismatches) for the report, and counts them all.
type Examples struct {
	mu    sync.Mutex
	Count int64
	First []string
}

// examplesKept bounds Examples.First.
const examplesKept = 5

// Add counts one and keeps its text if it is among the first.
func (e *Examples) Add(text string) {
	e.mu.Lock()
	e.Count++
	if len(e.First) < examplesKept {
		e.First = append(e.First, text)
	}
	e.mu.Unlock()
}
