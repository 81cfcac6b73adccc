package soak

import (
	"context"
	"sort"
	"sync"
	"time"
)

// LagMonitor records, all through a phase, how late this machine wakes a
// goroutine that sleeps for a short period: on a shared, loaded machine
// every process — the gateway's goroutine reloading a list included —
// waits that long for a CPU now and then. The phases use it to tell a
// late answer the machine explains from one the gateway does not.
type LagMonitor struct {
	mu   sync.Mutex
	at   []time.Time
	lag  []time.Duration
	done chan struct{}
}

// StartLagMonitor sleeps for period in a loop until ctx ends, recording
// each wake-up's lateness.
func StartLagMonitor(ctx context.Context, period time.Duration) *LagMonitor {
	m := &LagMonitor{done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			start := time.Now()
			time.Sleep(period)
			late := time.Since(start) - period
			m.mu.Lock()
			m.at = append(m.at, start)
			m.lag = append(m.lag, late)
			m.mu.Unlock()
		}
	}()
	return m
}

// Wait waits for the monitor to stop after its context ended.
func (m *LagMonitor) Wait() { <-m.done }

// MaxBetween returns the latest wake-up among the sleeps that started in
// [from, to].
func (m *LagMonitor) MaxBetween(from, to time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var d time.Duration
	i := sort.Search(len(m.at), func(i int) bool { return !m.at[i].Before(from) })
	for ; i < len(m.at) && !m.at[i].After(to); i++ {
		if m.lag[i] > d {
			d = m.lag[i]
		}
	}
	return d
}

// Max returns the latest wake-up recorded.
func (m *LagMonitor) Max() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	var d time.Duration
	for _, l := range m.lag {
		if l > d {
			d = l
		}
	}
	return d
}
