package core

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Delivery headers, on top of the forward headers.
const (
	// HeaderDeliveryID is stable across attempts and across a platform's
	// retries of the same callback: the business service can deduplicate
	// on it.
	HeaderDeliveryID = "X-Imgate-Delivery-Id"
	// HeaderAttempt counts the attempts, from 1.
	HeaderAttempt = "X-Imgate-Attempt"
)

// SpoolEvent is something the spool did with one entry, for the adapters'
// logs and metrics.
type SpoolEvent struct {
	// Kind is "delivered", "retry" (an attempt failed; another follows),
	// or "dead" (given up after maxAge, moved to the dead-letter folder).
	Kind     string
	ID       string
	Platform string
	Event    string
	Attempt  int
	// Age is how long the entry waited since the callback arrived.
	Age time.Duration
	// Reason labels a failed attempt ("status_500", "unreachable",
	// "timeout"); Err has the detail.
	Reason string
	Err    error
}

// OnSpoolEvent registers fn to hear every delivery event of the engine's
// spool; the last registration wins. It runs on the worker's goroutines,
// and a panic in it is dropped.
func (e *Engine) OnSpoolEvent(fn func(SpoolEvent)) {
	if e.spool != nil {
		e.spool.observer.Store(spoolObserver{fn})
	}
}

// spoolObserver wraps the callback: atomic.Value needs one concrete type.
type spoolObserver struct {
	fn func(SpoolEvent)
}

func (sp *spool) notify(ev SpoolEvent) {
	defer func() { _ = recover() }()
	if v, ok := sp.observer.Load().(spoolObserver); ok && v.fn != nil {
		v.fn(ev)
	}
}

// spoolScanLimit bounds how many pending entries one pass of the worker
// looks at.
const spoolScanLimit = 4096

// runSpool is the worker of one spool: it starts deliveries while entries
// are due, at most cfg.concurrency at a time and one per group, so a
// group's callbacks arrive in order; it sleeps until the next entry is due
// or something changes. It waits on a sync.Cond, not a select: Yaegi
// v0.16.1 shares one select case list between goroutines.
func runSpool(sp *spool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for !sp.closed {
		now := time.Now().UnixNano()
		next := int64(0)
		busy := map[string]bool{}
		for i, e := range sp.pending {
			// The head of the queue is where due entries are: a bounded
			// scan keeps a deep spool (an upstream down for long) cheap.
			if sp.running >= sp.cfg.concurrency || i >= spoolScanLimit {
				break
			}
			if busy[e.group] {
				continue
			}
			// Whatever happens to this entry, later entries of its group
			// wait for it.
			busy[e.group] = true
			if e.inFlight {
				continue
			}
			if e.due > now {
				if next == 0 || e.due < next {
					next = e.due
				}
				continue
			}
			e.inFlight = true
			sp.running++
			go deliverEntry(sp, e, sp.cfg)
		}
		if next != 0 {
			// A timer wakes the worker when the earliest retry is due.
			// A closure, not the method value sp.wake.Broadcast: Yaegi types a
			// method value of a compiled type wrongly.
			t := time.AfterFunc(time.Duration(next-now), func() { sp.wake.Broadcast() })
			sp.wake.Wait()
			t.Stop()
		} else {
			sp.wake.Wait()
		}
	}
}

// close stops the worker and waits for the deliveries in flight.
func (sp *spool) close() {
	sp.mu.Lock()
	sp.closed = true
	sp.wake.Broadcast()
	for sp.running > 0 {
		sp.done.Wait()
	}
	sp.mu.Unlock()
}

// deliverEntry makes one attempt and settles the entry: removed when
// delivered, rescheduled with backoff, or moved to dead after maxAge.
func deliverEntry(sp *spool, e *pendingEntry, cfg deliverySettings) {
	status, reason, err := attempt(sp, e, cfg)
	now := time.Now()
	age := time.Duration(now.UnixMilli()-e.created) * time.Millisecond
	ev := SpoolEvent{ID: e.id, Platform: e.platform, Event: e.event, Attempt: e.attempts + 1, Age: age, Reason: reason, Err: err}
	path := filepath.Join(sp.dir, "pending", e.name)
	switch {
	case status >= 200 && status <= 299:
		// Removed after the 2xx: a crash in between delivers it again,
		// which at-least-once allows and the delivery id lets the service
		// recognise.
		_ = os.Remove(path)
		ev.Kind = "delivered"
		sp.stats.delivered.Add(1)
		sp.settle(e, true)
	case age >= cfg.maxAge:
		_ = os.Rename(path, filepath.Join(sp.dir, "dead", e.name))
		ev.Kind = "dead"
		sp.stats.dead.Add(1)
		sp.settle(e, true)
	default:
		ev.Kind = "retry"
		sp.stats.retried.Add(1)
		sp.mu.Lock()
		e.attempts++
		e.due = now.Add(backoff(cfg, e.attempts)).UnixNano()
		sp.mu.Unlock()
		sp.settle(e, false)
	}
	sp.notify(ev)
}

// settle ends an attempt: the entry leaves the index when finished.
func (sp *spool) settle(e *pendingEntry, finished bool) {
	sp.mu.Lock()
	e.inFlight = false
	if finished {
		for i, p := range sp.pending {
			if p == e {
				sp.pending = append(sp.pending[:i], sp.pending[i+1:]...)
				break
			}
		}
		sp.bytes -= e.size
	}
	sp.running--
	sp.mu.Unlock()
	sp.wake.Broadcast()
	sp.done.Broadcast()
}

// backoff is the wait before attempt n+1: exponential from retryMin, at
// most retryMax, with jitter so that many entries do not retry in step.
func backoff(cfg deliverySettings, attempts int) time.Duration {
	d := cfg.retryMin
	for i := 1; i < attempts && d < cfg.retryMax; i++ {
		d *= 2
	}
	if d > cfg.retryMax {
		d = cfg.retryMax
	}
	// Between half and all of d.
	return d/2 + time.Duration(rand.Int63n(int64(d/2)+1))
}

// attempt sends one entry to the delivery URL and returns the status, or a
// failure reason and error.
func attempt(sp *spool, e *pendingEntry, cfg deliverySettings) (int, string, error) {
	entry, _, err := readEntry(filepath.Join(sp.dir, "pending", e.name))
	if err != nil {
		return 0, "unreadable", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	target := cfg.url
	if entry.KeepQuery && entry.RawQuery != "" {
		sep := "?"
		if bytes.IndexByte([]byte(target), '?') >= 0 {
			sep = "&"
		}
		target += sep + entry.RawQuery
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(entry.Body))
	if err != nil {
		return 0, "request", err
	}
	for k, v := range entry.Header {
		req.Header[k] = []string{v}
	}
	req.Header[HeaderDeliveryID] = []string{entry.ID}
	req.Header[HeaderAttempt] = []string{strconv.Itoa(e.attempts + 1)}
	req.Header[HeaderDeadline] = []string{strconv.FormatInt(time.Now().Add(cfg.timeout).UnixMilli(), 10)}
	resp, err := cfg.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, "timeout", fmt.Errorf("no answer within %s: %w", cfg.timeout, ErrUpstream)
		}
		return 0, "unreachable", fmt.Errorf("%s: %w", err.Error(), ErrUpstream)
	}
	// Drain a little so the connection can be reused; the answer itself
	// does not matter beyond its status.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "status_" + strconv.Itoa(resp.StatusCode), fmt.Errorf("upstream answered HTTP %d: %w", resp.StatusCode, ErrUpstream)
	}
	return resp.StatusCode, "", nil
}
