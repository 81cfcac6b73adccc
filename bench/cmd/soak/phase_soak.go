package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/imgate/imgate/bench/openloop"
	"github.com/imgate/imgate/bench/soak"
)

// lagPeriod is the sleep of the machine's lag monitor.
const lagPeriod = 5 * time.Millisecond

// reloadWindow is how long after a reload returned a failed callback
// still counts as sent during it: Caddy's old configuration keeps closing
// its connections as they fall idle after the reload returned.
const reloadWindow = 500 * time.Millisecond

// soakPhase is phase 1 and 2 on one gateway: callbacks of both platforms
// at a fixed rate, every answer checked, while the probe list file is
// rewritten every o.listEvery and the gateway's configuration reloaded
// every reloadEvery unless it is 0 (every other reload changes the probe
// rules' message, so a new engine is built); goroutines and memory
// sampled.
func soakPhase(ctx context.Context, o *options, gw Gateway, work string, rate float64, reloadEvery time.Duration) *soak.SoakResult {
	res := &soak.SoakResult{
		Gateway: gw.Name(), Rate: rate, Duration: o.soakDuration, Connections: o.conns,
		ListEvery: o.listEvery, ListReload: o.listReload, ListGrace: o.listGrace, ReloadEvery: reloadEvery,
		LoadBefore: loadAverage(),
	}
	defer func() { res.LoadAfter = loadAverage() }()
	list, err := soak.NewListFile(filepath.Join(work, "probe-list.txt"))
	if err != nil {
		res.ReloadErrors.Add(err.Error())
		return res
	}
	var epochs soak.Timeline
	// reloads are the configuration loads under way or done, to tell
	// which failed callbacks went out during one.
	var reloadMu sync.Mutex
	var reloads [][2]time.Time
	generation := 0
	load := func(epoch int) error {
		return gw.Load(soak.SoakConfig(list.Path, epoch, o.listReload, o.signWindow), "", generation)
	}
	begin := time.Now()
	if err := load(0); err != nil {
		res.ReloadErrors.Add(err.Error())
		return res
	}
	epochs.Set(0, begin, time.Now())

	calls := soak.SoakCalls()
	requests := make([][]byte, len(calls))
	for i, c := range calls {
		requests[i] = c.Raw(gw.Addr(), o.requestTime)
	}
	// Warm up: connections, pools and the heap, then the idle reading.
	if _, err := openloop.Run(ctx, openloop.Config{Addr: gw.Addr(), Requests: requests, Rate: rate / 2, Duration: 2 * time.Second, Connections: o.conns}); err != nil {
		res.ReloadErrors.Add("warm-up: " + err.Error())
		return res
	}
	if res.Memory.IdleBefore, err = idle(gw); err != nil {
		res.ReloadErrors.Add("reading the idle gateway: " + err.Error())
		return res
	}

	changes, stopChanges := context.WithCancel(ctx)
	defer stopChanges()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		n, err := list.Rewrite(changes, o.listEvery)
		res.ListVersions = n
		if err != nil {
			res.ReloadErrors.Add("list file: " + err.Error())
		}
	}()
	go func() {
		defer wg.Done()
		if reloadEvery == 0 {
			return
		}
		tick := time.NewTicker(reloadEvery)
		defer tick.Stop()
		for {
			select {
			case <-changes.Done():
				return
			case <-tick.C:
			}
			generation++
			epoch := generation / 2
			begin := time.Now()
			err := load(epoch)
			end := time.Now()
			reloadMu.Lock()
			reloads = append(reloads, [2]time.Time{begin, end})
			reloadMu.Unlock()
			if err != nil {
				res.ReloadErrors.Add(fmt.Sprintf("reload %d at %s: %v", generation, begin.Format("15:04:05.000"), err))
				continue
			}
			res.Reloads++
			if end.Sub(begin) > res.ReloadMax {
				res.ReloadMax = end.Sub(begin)
			}
			if generation%2 == 0 {
				epochs.Set(epoch, begin, end)
				res.Epochs++
			}
		}
	}()
	samples := startSampler(changes, gw, 2*time.Second)
	lag := soak.StartLagMonitor(changes, lagPeriod)

	var mu sync.Mutex
	var probes []soak.ProbeAnswer
	var failedAt []time.Time
	start := time.Now()
	run, err := openloop.Run(ctx, openloop.Config{
		Addr: gw.Addr(), Requests: requests, Rate: rate, Duration: o.soakDuration, Connections: o.conns,
		Header: soak.DecisionHeader,
		Observe: func(r openloop.Reply) {
			c := calls[r.Index%len(calls)]
			if r.Err != nil {
				res.Failed.Add(failure(c, r))
				mu.Lock()
				failedAt = append(failedAt, r.Sent)
				mu.Unlock()
				return
			}
			if c.Probe < 0 {
				if !c.Check(r.Status, r.Header, r.Body) {
					res.Wrong.Add(fmt.Sprintf("%s: %d %q %s", c.Name, r.Status, r.Header, r.Body))
				}
				return
			}
			listed, epoch, ok := c.CheckProbe(r.Status, r.Header, r.Body)
			if !ok {
				res.Wrong.Add(fmt.Sprintf("%s: %d %q %s", c.Name, r.Status, r.Header, r.Body))
				return
			}
			mu.Lock()
			probes = append(probes, soak.ProbeAnswer{Call: c.Name, Probe: c.Probe, Listed: listed, Epoch: epoch, Sent: r.Sent, Done: r.Done})
			mu.Unlock()
		},
	})
	stopChanges()
	wg.Wait()
	lag.Wait()
	res.MaxLag = lag.Max()
	samples.result(&res.Memory, start, o.soakDuration)
	if err != nil {
		res.ReloadErrors.Add("load generator: " + err.Error())
	}
	res.Client = clientResult(run)
	for _, at := range failedAt {
		for _, w := range reloads {
			if !at.Before(w[0]) && !at.After(w[1].Add(reloadWindow)) {
				res.FailedAtReload++
				break
			}
		}
	}
	res.ListWriteMax = list.Timeline.Longest()
	res.CheckProbes(probes, &list.Timeline, &epochs, lag)
	if res.Memory.IdleAfter, err = idle(gw); err != nil {
		res.ReloadErrors.Add("reading the idle gateway: " + err.Error())
	}
	return res
}
