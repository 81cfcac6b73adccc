package soak

import (
	"context"
	"testing"
	"time"
)

func TestLagMonitor(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	m := StartLagMonitor(ctx, time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	cancel()
	m.Wait()
	m.mu.Lock()
	n := len(m.at)
	m.mu.Unlock()
	if n == 0 {
		t.Fatal("no wake-up recorded")
	}
	if m.Max() < 0 || m.MaxBetween(start, time.Now()) != m.Max() {
		t.Errorf("Max %s, MaxBetween %s", m.Max(), m.MaxBetween(start, time.Now()))
	}
	if got := m.MaxBetween(time.Now().Add(time.Hour), time.Now().Add(2*time.Hour)); got != 0 {
		t.Errorf("MaxBetween outside the run = %s", got)
	}
	// Recorded values are what MaxBetween reports.
	m.at = []time.Time{start, start.Add(time.Second), start.Add(2 * time.Second)}
	m.lag = []time.Duration{time.Millisecond, 30 * time.Millisecond, 2 * time.Millisecond}
	if got := m.MaxBetween(start.Add(500*time.Millisecond), start.Add(3*time.Second)); got != 30*time.Millisecond {
		t.Errorf("MaxBetween = %s", got)
	}
}
