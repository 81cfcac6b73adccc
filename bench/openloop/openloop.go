// Package openloop is the benchmark's open-loop load generator. It sends a
// workload plan's callbacks at a fixed rate on keep-alive connections; the
// schedule never waits for replies, and each request's latency runs from
// its scheduled send time. A server that stalls therefore shows its whole
// queue in the percentiles instead of slowing the client down (no
// coordinated omission), which is what makes p99 at a fixed rate a latency
// figure rather than the queueing figure of closed-loop wrk at saturation.
package openloop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate/bench/plan"
)

// Config is one fixed-rate run.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// Requests are complete HTTP/1.1 requests, sent in turn (see Prepare).
	Requests [][]byte
	// Rate is the offered rate in requests per second over Duration.
	Rate     float64
	Duration time.Duration
	// Connections is the number of keep-alive connections; a request due
	// while all are busy waits for one, and that wait counts as latency.
	Connections int
	// Drain is how long after the schedule ends the run waits for the
	// requests still queued or in flight; then the queued ones are dropped
	// and the unanswered ones count as errors. Default 5s.
	Drain time.Duration
	// Observe, when set, is called with the outcome of every request sent,
	// on the goroutine that read it (keep it quick): the reply's status,
	// the value of Header and the body, or the error. Without it, replies
	// are discarded unread, as the benchmark's latency runs need.
	Observe func(Reply)
	// Header names the response header Reply.Header carries.
	Header string
}

// Reply is what Observe sees of one request.
type Reply struct {
	// Index is the request's number in the schedule; it was
	// Requests[Index % len(Requests)].
	Index int
	// Status, Header (the value of Config.Header) and Body of the reply;
	// Err instead when the request got no reply (a socket error).
	Status int
	Header string
	Body   []byte
	Err    error
	// Sent is when the request was written, Done when its reply (or
	// error) was read.
	Sent, Done time.Time
}

// Result is what one run measured. Durations are in nanoseconds in JSON.
type Result struct {
	// Rate is the offered rate in req/s over Duration, on Connections
	// keep-alive connections.
	Rate        float64       `json:"rate"`
	Duration    time.Duration `json:"duration"`
	Connections int           `json:"connections"`
	// Scheduled requests were due; Completed got a reply; Dropped were
	// still unsent when the drain limit after the schedule ran out (the
	// server could not keep up).
	Scheduled int64 `json:"scheduled"`
	Completed int64 `json:"completed"`
	Dropped   int64 `json:"dropped"`
	// Errors counts socket errors and timeouts; ErrStatus replies other
	// than 200. Both must be zero for a valid run.
	Errors    int64 `json:"errors"`
	ErrStatus int64 `json:"errStatus"`
	// Elapsed runs from the first scheduled send to the last reply.
	Elapsed time.Duration `json:"elapsed"`
	// Latency of completed requests from their scheduled send time.
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p999"`
	Max  time.Duration `json:"max"`
	// LagP50 and LagP99: how late requests were actually written after
	// their scheduled time (the pacer's own lateness, or waiting for a free
	// connection).
	LagP50 time.Duration `json:"lagP50"`
	LagP99 time.Duration `json:"lagP99"`
}

// ResultPrefix starts the line the command prints.
const ResultPrefix = "IMGATE-OPENLOOP "

// Format is the result line the command prints.
func Format(r Result) string {
	raw, _ := json.Marshal(r)
	return ResultPrefix + string(raw)
}

// Parse reads the result line from the command's output.
func Parse(output string) (Result, error) {
	var r Result
	for _, line := range strings.Split(output, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), ResultPrefix); ok {
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				return r, fmt.Errorf("open-loop result line: %w", err)
			}
			return r, nil
		}
	}
	return r, fmt.Errorf("open-loop output has no %sline", ResultPrefix)
}

// Prepare formats the plan's requests for host, signed, as wrk's Lua
// script sends them.
func Prepare(host string, reqs []plan.Request, requestTime, sign string) [][]byte {
	out := make([][]byte, len(reqs))
	for i, r := range reqs {
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", r.Sign(requestTime, sign), host, len(r.Body))
		out[i] = append([]byte(head), r.Body...)
	}
	return out
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("open-loop config")

// dialTimeout bounds connecting to the server.
const dialTimeout = 5 * time.Second

// Run sends Rate × Duration requests on schedule and measures them. It
// returns an error only when it cannot run at all; failed requests are
// counted in the Result.
//
// One pacing goroutine, on a thread of its own, writes each request when
// it falls due on a free connection, or queues it when none is free; one
// reader goroutine per connection reads the replies, records them, and
// writes the next queued request itself. Requests thus never pass between
// goroutines, which on a 2-core machine would cost more CPU than sending
// them (compare wrk's single event loop per thread).
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Drain <= 0 {
		cfg.Drain = 5 * time.Second
	}
	n := int(cfg.Rate * cfg.Duration.Seconds())
	switch {
	case len(cfg.Requests) == 0:
		return Result{}, fmt.Errorf("%w: no requests", ErrConfig)
	case cfg.Connections < 1:
		return Result{}, fmt.Errorf("%w: %d connections", ErrConfig, cfg.Connections)
	case n < 1:
		return Result{}, fmt.Errorf("%w: rate %.1f/s for %s schedules no request", ErrConfig, cfg.Rate, cfg.Duration)
	}
	// One P more than the CPUs: the pacing thread keeps its P while it
	// sleeps (see sleep).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.NumCPU() + 1))
	s := &state{
		cfg:      cfg,
		n:        n,
		interval: float64(time.Second) / cfg.Rate,
		latency:  make([]time.Duration, n),
		lag:      make([]time.Duration, n),
		pending:  make([]int, 0, n),
		allDone:  make(chan struct{}),
	}
	for i := range s.latency {
		s.latency[i], s.lag[i] = -1, -1
	}
	for i := 0; i < cfg.Connections; i++ {
		c, err := dial(cfg.Addr)
		if err != nil {
			for _, open := range s.conns {
				open.close()
			}
			return Result{}, err
		}
		s.conns = append(s.conns, c)
		s.free = append(s.free, c)
	}
	// Start a little ahead so the readers are waiting when the first
	// request falls due.
	s.start = time.Now().Add(10 * time.Millisecond)
	var readers sync.WaitGroup
	for slot := range s.conns {
		readers.Add(1)
		go func(slot int) {
			defer readers.Done()
			s.read(slot)
		}(slot)
	}
	paced := make(chan struct{})
	go func() {
		s.pace()
		close(paced)
	}()
	drainEnd := time.NewTimer(time.Until(s.start.Add(cfg.Duration + cfg.Drain)))
	defer drainEnd.Stop()
	var err error
	select {
	case <-s.allDone:
	case <-drainEnd.C:
		s.stop()
	case <-ctx.Done():
		s.stop()
		err = ctx.Err()
	}
	<-paced
	// A request sent as the run stopped may still be waiting for a reply:
	// give it a moment, then count whatever is unresolved as failed.
	select {
	case <-s.allDone:
	case <-time.After(time.Second):
	}
	s.mu.Lock()
	s.finished = true
	for _, c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	readers.Wait()
	if unresolved := int64(n) - s.resolved.Load(); unresolved > 0 {
		s.errors.Add(unresolved)
	}

	res := Result{
		Rate: cfg.Rate, Duration: cfg.Duration, Connections: cfg.Connections, Scheduled: int64(n),
		Dropped: s.dropped.Load(), Errors: s.errors.Load(), ErrStatus: s.errStatus.Load(),
	}
	if last := s.lastDone.Load(); last > 0 {
		res.Elapsed = time.Duration(last)
	}
	lat := completed(s.latency)
	res.Completed = int64(len(lat))
	res.P50, res.P90, res.P99, res.P999 = percentile(lat, 0.5), percentile(lat, 0.9), percentile(lat, 0.99), percentile(lat, 0.999)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	lag := completed(s.lag)
	res.LagP50, res.LagP99 = percentile(lag, 0.5), percentile(lag, 0.99)
	return res, err
}

// state is one run in progress. Request i's lag[i] is written by whoever
// sends it and its latency[i] by the reader of its connection; Run reads
// both after the pacer and every reader have finished.
type state struct {
	cfg      Config
	n        int
	start    time.Time
	interval float64 // ns between scheduled sends
	latency  []time.Duration
	lag      []time.Duration

	mu sync.Mutex
	// conns[slot] is the connection of reader slot; free are the idle
	// ones; pending are due requests waiting for a free connection.
	conns   []*conn
	free    []*conn
	pending []int
	// stopped: the drain limit passed, nothing more is sent; finished:
	// every request is resolved and the connections are closing.
	stopped, finished bool

	// resolved counts requests completed, failed or dropped; allDone
	// closes when it reaches n.
	resolved atomic.Int64
	allDone  chan struct{}
	dropped  atomic.Int64
	errors   atomic.Int64
	// errStatus counts replies other than 200.
	errStatus atomic.Int64
	// lastDone is when the last reply came, as a duration since start.
	lastDone atomic.Int64
}

// scheduled is request i's scheduled send time.
func (s *state) scheduled(i int) time.Time {
	return s.start.Add(time.Duration(float64(i) * s.interval))
}

func (s *state) resolve(k int) {
	if s.resolved.Add(int64(k)) == int64(s.n) {
		close(s.allDone)
	}
}

// pace releases each request when it falls due.
func (s *state) pace() {
	precise()
	i := 0
	for i < s.n {
		now := time.Now()
		for i < s.n && !s.scheduled(i).After(now) {
			if !s.release(i) {
				s.dropped.Add(int64(s.n - i))
				s.resolve(s.n - i)
				return
			}
			i++
		}
		if i < s.n {
			if wait := time.Until(s.scheduled(i)); wait > 0 {
				sleep(wait)
			}
		}
	}
}

// release sends request i on a free connection or queues it; false once
// the run is stopped.
func (s *state) release(i int) bool {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return false
	}
	if k := len(s.free); k > 0 {
		c := s.free[k-1]
		s.free = s.free[:k-1]
		s.claim(c, i)
		s.mu.Unlock()
		s.send(c, i)
		return true
	}
	s.pending = append(s.pending, i)
	s.mu.Unlock()
	return true
}

// claim gives request i to c, taken off the free list, while s.mu is
// held: a reader that finds its idle connection closed by the server
// then knows, under the same lock, whether it was still free.
func (s *state) claim(c *conn, i int) {
	s.lag[i] = time.Since(s.scheduled(i))
	c.inflight.Store(int64(i))
}

// send writes request i, claimed by c, which its reader then answers for.
// A write that fails closes c, so that its reader's read fails and counts
// it.
func (s *state) send(c *conn, i int) {
	if _, err := c.c.Write(s.cfg.Requests[i%len(s.cfg.Requests)]); err != nil {
		c.close()
	}
}

// next hands c the oldest queued request, or marks it free.
func (s *state) next(c *conn) {
	s.mu.Lock()
	if s.stopped || s.finished {
		s.mu.Unlock()
		return
	}
	if len(s.pending) > 0 {
		i := s.pending[0]
		s.pending = s.pending[1:]
		s.claim(c, i)
		s.mu.Unlock()
		s.send(c, i)
		return
	}
	s.free = append(s.free, c)
	s.mu.Unlock()
}

// stop ends sending: queued requests are dropped, and connections still
// waiting for a reply are closed, which fails those requests.
func (s *state) stop() {
	s.mu.Lock()
	s.stopped = true
	dropped := len(s.pending)
	s.pending = nil
	for _, c := range s.conns {
		if c.inflight.Load() >= 0 {
			c.close()
		}
	}
	s.mu.Unlock()
	s.dropped.Add(int64(dropped))
	if dropped > 0 {
		s.resolve(dropped)
	}
}

// read is the reader of connection slot: it reads each reply, records it
// and sends the connection's next request, reconnecting after a failure.
func (s *state) read(slot int) {
	s.mu.Lock()
	c := s.conns[slot]
	s.mu.Unlock()
	var seen *capture
	if s.cfg.Observe != nil {
		seen = &capture{header: s.cfg.Header}
	}
	for {
		if seen != nil {
			*seen = capture{header: s.cfg.Header}
		}
		status, keep, err := readReply(c.br, seen)
		done := time.Now()
		s.mu.Lock()
		over := s.finished
		i := int(c.inflight.Swap(-1))
		if err != nil && i < 0 {
			// The server closed the connection while it was idle (a
			// gateway reloading closes its idle keep-alive
			// connections): nothing was claimed on it, so it is still
			// on the free list, and must leave it before it is
			// replaced. A request that went out on it just before is
			// the i >= 0 case below: a failure the client sees.
			s.dropFree(c)
		}
		s.mu.Unlock()
		if over {
			return
		}
		switch {
		case err != nil && i < 0:
		case err != nil || i < 0:
			if err != nil && i >= 0 && seen != nil {
				s.cfg.Observe(Reply{Index: i, Err: err, Sent: s.scheduled(i).Add(s.lag[i]), Done: done})
			}
			s.errors.Add(1)
			s.resolve(1)
			keep = false
		default:
			if status != 200 {
				s.errStatus.Add(1)
			}
			if seen != nil {
				s.cfg.Observe(Reply{Index: i, Status: status, Header: seen.value, Body: seen.body, Sent: s.scheduled(i).Add(s.lag[i]), Done: done})
			}
			s.latency[i] = done.Sub(s.scheduled(i))
			for last := s.lastDone.Load(); int64(done.Sub(s.start)) > last && !s.lastDone.CompareAndSwap(last, int64(done.Sub(s.start))); last = s.lastDone.Load() {
			}
			s.resolve(1)
		}
		if !keep {
			c.close()
			if c = s.redial(slot); c == nil {
				return
			}
		}
		s.next(c)
	}
}

// dropFree takes c off the free list; s.mu is held.
func (s *state) dropFree(c *conn) {
	for k, f := range s.free {
		if f == c {
			s.free = append(s.free[:k], s.free[k+1:]...)
			return
		}
	}
}

// redial replaces slot's connection; nil when the run is stopping or the
// server refuses, which leaves the other connections to carry the load.
func (s *state) redial(slot int) *conn {
	s.mu.Lock()
	stopping := s.stopped || s.finished
	s.mu.Unlock()
	if stopping {
		return nil
	}
	c, err := dial(s.cfg.Addr)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.finished {
		c.close()
		return nil
	}
	s.conns[slot] = c
	return c
}

// completed returns the non-negative values, sorted.
func completed(values []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(values))
	for _, v := range values {
		if v >= 0 {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// percentile is the nearest-rank percentile q of sorted values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}
