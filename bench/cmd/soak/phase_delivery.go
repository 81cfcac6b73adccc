package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate/bench/soak"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// deliveryGroups is how many groups the after-callbacks of the delivery
// phase spread over: one group's are delivered in order, one at a time.
const deliveryGroups = 64

// deliverySenders is how many callbacks the platform sends at once.
const deliverySenders = 16

// deliveryPhase is phase 4 on Caddy: o.deliveries after-callbacks at a
// fixed rate, each re-sent until acknowledged as a platform with retries
// does, while the delivery service flaps (refusing connections, or
// answering 503, in turn) and Caddy is stopped once halfway and started
// again on the same spool. Every acknowledged callback must reach the
// deduplicating service; the latency runs from the acknowledged send to
// the service taking it.
func deliveryPhase(ctx context.Context, o *options, bin, work string) *soak.DeliveryResult {
	res := &soak.DeliveryResult{
		Callbacks: o.deliveries, Rate: o.deliveryRate, Groups: deliveryGroups,
		FlapDown: o.flapDown, FlapUp: o.flapUp, RestartSignal: o.restartSignal, RestartAfter: o.deliveries / 2,
		RetryMin: o.retryMin, RetryMax: o.retryMax, LoadBefore: loadAverage(),
	}
	defer func() { res.LoadAfter = loadAverage() }()
	svc := upstreamtest.StartDeliveryService()
	defer svc.Close()
	gw, err := StartCaddy(bin, work)
	if err != nil {
		res.Errors.Add(err.Error())
		return res
	}
	res.Gateway = gw.Name()
	defer func() { gw.Stop() }()
	spool := filepath.Join(work, "spool")
	if err := gw.Load(soak.DeliveryConfig(svc.URL+"/after", spool, o.retryMin, o.retryMax, o.signWindow), "", 0); err != nil {
		res.Errors.Add(err.Error())
		return res
	}

	sending, stopSending := context.WithCancel(ctx)
	defer stopSending()
	var flapper sync.WaitGroup
	flapper.Add(1)
	go func() {
		defer flapper.Done()
		flap(sending, o, svc, res)
	}()

	var (
		mu      sync.Mutex
		ackSent = make(map[int]time.Time, o.deliveries)
		// The sender whose acknowledgement is the restart's restarts the
		// gateway; the others keep re-sending meanwhile, as a platform
		// with retries does.
		acked     atomic.Int64
		restarted sync.Once
	)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: deliverySenders}}
	defer client.CloseIdleConnections()
	queue := make(chan int, o.deliveries)
	var senders sync.WaitGroup
	for i := 0; i < deliverySenders; i++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for n := range queue {
				c := soak.MemberJoined(n, deliveryGroups)
				for sending.Err() == nil {
					r, err := c.Request("http://"+gw.Addr(), o.requestTime)
					if err != nil {
						res.Errors.Add(err.Error())
						return
					}
					sent := time.Now()
					resp, err := client.Do(r)
					if err == nil {
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						decision := resp.Header.Get(soak.DecisionHeader)
						if c.Check(resp.StatusCode, decision, body) {
							mu.Lock()
							ackSent[n] = sent
							mu.Unlock()
							if acked.Add(1) == int64(res.RestartAfter) {
								restarted.Do(func() { restart(o, gw, res) })
							}
							break
						}
						if resp.StatusCode != http.StatusServiceUnavailable {
							res.Wrong.Add(fmt.Sprintf("%s u%d: %d %q %s", c.Name, n, resp.StatusCode, decision, body))
						}
					}
					atomic.AddInt64(&res.Resent, 1)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.deliveryRate)
	for n := 0; n < o.deliveries && ctx.Err() == nil; n++ {
		if wait := time.Until(start.Add(time.Duration(n) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		queue <- n
	}
	close(queue)
	senders.Wait()
	res.SendTime = time.Since(start)
	stopSending()
	flapper.Wait()
	svc.SetDown(false)
	if err := svc.SetUnreachable(false); err != nil {
		res.Errors.Add(err.Error())
	}
	res.Acked = len(ackSent)

	// Drain: every acknowledged callback reaches the service.
	drained := time.Now()
	want := make(map[string]int, len(ackSent))
	for n := range ackSent {
		want["u"+strconv.Itoa(n)] = n
	}
	var got map[string]time.Time
	for stop := time.Now().Add(o.deliveryWait); ; time.Sleep(100 * time.Millisecond) {
		got = map[string]time.Time{}
		for _, d := range svc.Deliveries() {
			got[d.Actor] = d.At
		}
		missing := 0
		for actor := range want {
			if _, ok := got[actor]; !ok {
				missing++
			}
		}
		if missing == 0 || time.Now().After(stop) || ctx.Err() != nil {
			break
		}
	}
	res.DrainTime = time.Since(drained)
	var latency soak.Durations
	for actor, n := range want {
		at, ok := got[actor]
		if !ok {
			res.Lost++
			continue
		}
		res.Delivered++
		latency.Add(at.Sub(ackSent[n]))
	}
	res.Latency = latency.Summary()
	for _, times := range svc.Accepted() {
		res.Duplicates += times - 1
	}
	res.Attempts = svc.Attempts()
	return res
}

// flap takes the delivery service down for o.flapDown every o.flapUp
// until ctx ends: refusing connections (a dead process) and answering
// 503 (an overloaded one) in turn.
func flap(ctx context.Context, o *options, svc *upstreamtest.DeliveryService, res *soak.DeliveryResult) {
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.flapUp):
		}
		if i%2 == 0 {
			if err := svc.SetUnreachable(true); err != nil {
				res.Errors.Add("flap: " + err.Error())
			}
		} else {
			svc.SetDown(true)
		}
		res.Flaps++
		select {
		case <-ctx.Done():
		case <-time.After(o.flapDown):
		}
		svc.SetDown(false)
		if err := svc.SetUnreachable(false); err != nil {
			res.Errors.Add("flap: " + err.Error())
		}
	}
}

// restart stops Caddy (killed, or stopped gracefully) and starts it again
// on the same configuration and spool.
func restart(o *options, gw *Caddy, res *soak.DeliveryResult) {
	began := time.Now()
	gw.Crash(o.restartSignal)
	if err := gw.Restart(); err != nil {
		res.Errors.Add("restart: " + err.Error())
		return
	}
	res.Restarted = true
	res.RestartGap = time.Since(began)
}
