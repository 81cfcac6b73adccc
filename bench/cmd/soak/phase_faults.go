package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/imgate/imgate/bench/openloop"
	"github.com/imgate/imgate/bench/soak"
)

// businessService is examples/upstream as a process of its own, on a
// fixed loopback address so that it can be killed and started again.
type businessService struct {
	bin, addr, log string
	proc           *Proc
}

func (b *businessService) start() error {
	p, err := StartProc("examples/upstream", b.bin, []string{"-addr", b.addr, "-ban", soak.BannedByUpstream}, nil, b.log)
	if err != nil {
		return err
	}
	b.proc = p
	return WaitListening(p, b.addr, 30*time.Second)
}

// faultsPhase is phase 3 on one gateway: before-callbacks forwarded to
// the business service at a fixed rate while the service is, in turn,
// up, killed (SIGKILL), started again, and frozen (SIGSTOP, so that
// connections hang until the deadline) then resumed. Every callback must
// get its service's answer or the fallback, before the platform's budget.
func faultsPhase(ctx context.Context, o *options, gw Gateway, work, upstreamBin string) *soak.FaultResult {
	res := &soak.FaultResult{
		Gateway: gw.Name(), Rate: o.faultRate, Duration: o.faultDuration, Connections: o.faultConns, Deadline: o.deadline,
		LoadBefore: loadAverage(),
	}
	defer func() { res.LoadAfter = loadAverage() }()
	addr, err := freeAddr()
	if err != nil {
		res.FaultErrors.Add(err.Error())
		return res
	}
	svc := &businessService{bin: upstreamBin, addr: addr, log: filepath.Join(work, "upstream.log")}
	if err := svc.start(); err != nil {
		res.FaultErrors.Add(err.Error())
		return res
	}
	defer func() { svc.proc.Stop(5 * time.Second) }()
	if err := gw.Load(soak.FaultConfig(o.deadline, o.signWindow), "http://"+addr, 1); err != nil {
		res.FaultErrors.Add(err.Error())
		return res
	}
	calls := soak.FaultCalls()
	// Preflight: with the service up, each call gets the service's own
	// answer, so the fallbacks below are the faults' doing.
	for _, c := range calls {
		r, err := c.Request("http://"+gw.Addr(), o.requestTime)
		if err != nil {
			res.FaultErrors.Add(err.Error())
			return res
		}
		resp, body, err := do(r)
		if err != nil || !c.Check(resp.StatusCode, resp.Header.Get(soak.DecisionHeader), body) || resp.Header.Get(soak.DecisionHeader) != c.Want[0].Decision {
			res.FaultErrors.Add(fmt.Sprintf("preflight %s: %v %s", c.Name, err, body))
			return res
		}
	}

	requests := make([][]byte, len(calls))
	for i, c := range calls {
		requests[i] = c.Raw(gw.Addr(), o.requestTime)
	}
	faults, stopFaults := context.WithCancel(ctx)
	defer stopFaults()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		injectFaults(faults, o, svc, res)
	}()
	lag := soak.StartLagMonitor(faults, lagPeriod)
	var latency, fallbackLatency soak.Durations
	var mu sync.Mutex
	run, err := openloop.Run(ctx, openloop.Config{
		Addr: gw.Addr(), Requests: requests, Rate: o.faultRate, Duration: o.faultDuration, Connections: o.faultConns,
		Header: soak.DecisionHeader,
		Observe: func(r openloop.Reply) {
			c := calls[r.Index%len(calls)]
			if r.Err != nil {
				res.Failed.Add(failure(c, r))
				return
			}
			took := r.Done.Sub(r.Sent)
			latency.Add(took)
			if !c.Check(r.Status, r.Header, r.Body) {
				res.Wrong.Add(fmt.Sprintf("%s: %d %q %s after %s", c.Name, r.Status, r.Header, r.Body, took.Round(time.Millisecond)))
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if r.Header == c.Want[len(c.Want)-1].Decision {
				res.Fallback++
				fallbackLatency.Add(took)
			} else {
				res.Upstream++
			}
			if took > o.deadline {
				res.OverDeadline++
			}
			if took > soak.Budget(c.Platform) {
				res.OverBudget++
			}
		},
	})
	stopFaults()
	wg.Wait()
	lag.Wait()
	res.MaxLag = lag.Max()
	if err != nil {
		res.FaultErrors.Add("load generator: " + err.Error())
	}
	res.Client = clientResult(run)
	res.Latency, res.FallbackLatency = latency.Summary(), fallbackLatency.Summary()
	return res
}

// injectFaults cycles the business service until ctx ends: up, killed,
// started again, up, frozen, resumed.
func injectFaults(ctx context.Context, o *options, svc *businessService, res *soak.FaultResult) {
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	for {
		if !wait(o.faultUp) {
			return
		}
		svc.proc.Kill()
		res.Kills++
		if !wait(o.faultDown) {
			// Started again, so that the phase ends as it began.
			if err := svc.start(); err != nil {
				res.FaultErrors.Add("restart: " + err.Error())
			}
			return
		}
		if err := svc.start(); err != nil {
			res.FaultErrors.Add("restart: " + err.Error())
			return
		}
		res.Restarts++
		if !wait(o.faultUp) {
			return
		}
		if err := svc.proc.Signal(syscall.SIGSTOP); err != nil {
			res.FaultErrors.Add("freeze: " + err.Error())
			return
		}
		res.Freezes++
		ok := wait(o.faultDown)
		if err := svc.proc.Signal(syscall.SIGCONT); err != nil {
			res.FaultErrors.Add("resume: " + err.Error())
			return
		}
		if !ok {
			return
		}
	}
}

// do sends r with a fresh connection and returns the reply and its body.
func do(r *http.Request) (*http.Response, []byte, error) {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}
