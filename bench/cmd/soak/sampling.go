package main

import (
	"context"
	"sync"
	"time"

	"github.com/imgate/imgate/bench/soak"
	"github.com/imgate/imgate/internal/procstat"
)

// sample reads gw's goroutines and resident memory now.
func sample(gw Gateway) (soak.Sample, error) {
	s := soak.Sample{At: time.Now()}
	var err error
	if s.Goroutines, err = gw.Goroutines(); err != nil {
		return s, err
	}
	s.RSS, err = procstat.RSS(gw.Pid())
	return s, err
}

// idle waits for gw to settle after a load (its clients gone) and returns
// the lowest goroutine count of a dozen readings a quarter of a second
// apart, with the memory of that moment: transient goroutines (a closing
// connection, a timer) do not count.
func idle(gw Gateway) (soak.Sample, error) {
	var best soak.Sample
	for i := 0; i < 12; i++ {
		time.Sleep(250 * time.Millisecond)
		s, err := sample(gw)
		if err != nil {
			return s, err
		}
		if i == 0 || s.Goroutines < best.Goroutines {
			best = s
		}
	}
	return best, nil
}

// sampler reads gw every period until ctx ends.
type sampler struct {
	mu      sync.Mutex
	samples []soak.Sample
	errs    []string
	done    chan struct{}
}

func startSampler(ctx context.Context, gw Gateway, period time.Duration) *sampler {
	s := &sampler{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			x, err := sample(gw)
			s.mu.Lock()
			if err != nil {
				s.errs = append(s.errs, err.Error())
			} else {
				s.samples = append(s.samples, x)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// result waits for the sampler to end and fills m's samples under load:
// the first one at least a fifth into the run (after the heap grew to its
// working size), the last one, and the peaks.
func (s *sampler) result(m *soak.Memory, start time.Time, d time.Duration) {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.samples {
		if m.LoadStart.At.IsZero() && x.At.Sub(start) >= d/5 {
			m.LoadStart = x
		}
		m.LoadEnd = x
		if x.RSS > m.PeakRSS {
			m.PeakRSS = x.RSS
		}
		if x.Goroutines > m.PeakGoroutines {
			m.PeakGoroutines = x.Goroutines
		}
	}
}

// loadAverage is the machine's load averages, reported with each phase.
func loadAverage() string {
	return procstat.LoadAverage()
}
