package core

import (
	"errors"
	"time"
)

// The store is where rate-limit (and, for after-callback delivery,
// deduplication) state lives: in this process (memory, the default) or in
// Redis, shared by every gateway replica that names the same server and
// key prefix. The engine asks the store, never Redis itself.
//
// A rate rule's condition is settled by the store. In memory each rule's
// token buckets decide inline, as they always did. On a shared store the
// rate conditions a callback reaches are collected in rule order and
// settled together by one script in one round trip (see pickRuleShared);
// when the store fails or does not answer within store.timeout, each
// rule's storeFailure decides: allow (the rate condition does not hold),
// deny (it holds) or local (this replica's in-memory buckets decide).

// Store kinds (store.type).
const (
	StoreMemory = "memory"
	StoreRedis  = "redis"
)

// Store failure policies (a rule's storeFailure).
const (
	StoreFailureAllow = "allow"
	StoreFailureDeny  = "deny"
	StoreFailureLocal = "local"
)

// storeKind is one implementation of the store, a table of plain
// functions built once at package level, like the platform table: Yaegi
// v0.16.1 (Traefik) calls an interpreted function value far more cheaply
// than an interpreted method, and a function value stored in a struct
// built per engine kept every engine alive under Yaegi (Traefik's repeated
// New calls grew the heap by one engine each), so the per-engine store
// holds only data.
type storeKind struct {
	// name is StoreMemory or StoreRedis.
	name string
	// shared is true when other replicas see the same state; rate
	// conditions are then settled by take, once per decision. When false,
	// each rule's own in-memory buckets decide inline (ruleMatch), which
	// allocates nothing.
	shared bool
	// take settles rate checks in order: for each it takes a token from
	// the check's bucket and sets exceeded when none was left. It stops
	// after the first exceeded check whose rule is not a shadow rule: that
	// rule decides, and later rules must not spend tokens. now is the
	// engine's clock in Unix nanoseconds. An error means nothing was
	// settled.
	take func(s *store, checks []rateCheck, now int64) error
	// firstSeen reports whether id was not seen within ttl, and marks it
	// seen for ttl from now: the after-callback dedup primitive. On error
	// the caller decides (a delivery should go ahead: at least once).
	firstSeen func(s *store, id string, ttl time.Duration, now time.Time) (bool, error)
	// close releases what the store holds (Redis connections).
	close func(s *store)
}

// store is one engine's store: its kind and its state.
type store struct {
	kind *storeKind
	// seen is the memory store's dedup set.
	seen *seenSet
	// redis is the Redis store's state (redisstore.go).
	redis *redisStore
}

// rateCheck is one rate condition to settle: rule's bucket for id (the
// actor or group) on platform.
type rateCheck struct {
	rule     *rule
	platform string
	id       string
	exceeded bool
}

// newStore builds the configured store.
func newStore(s *settings, opts Options) *store {
	if s.store.kind == StoreRedis {
		return newRedisStore(&s.store, opts)
	}
	return &store{kind: memoryStore, seen: newSeenSet(s.rateMaxKeys)}
}

// memoryStore is today's in-process state: each rule's token buckets and
// a bounded set of seen ids.
var memoryStore = &storeKind{
	name:      StoreMemory,
	take:      takeLocalStore,
	firstSeen: memoryFirstSeen,
	close:     func(*store) {},
}

func takeLocalStore(_ *store, checks []rateCheck, now int64) error {
	return takeLocal(checks, now)
}

func memoryFirstSeen(s *store, id string, ttl time.Duration, now time.Time) (bool, error) {
	first := seenFirst(s.seen, id, ttl, now.UnixNano())
	return first, nil
}

// takeLocal settles checks with the rules' in-memory buckets.
func takeLocal(checks []rateCheck, now int64) error {
	for i := range checks {
		c := &checks[i]
		c.exceeded = c.rule.rate.exceeded(c.platform+"\x00"+c.id, now)
		if c.exceeded && !c.rule.shadow {
			return nil
		}
	}
	return nil
}

// settleRates asks the shared store to settle checks; when it fails, each
// rule's storeFailure settles its check instead. It returns the failure's
// reason ("timeout", "down", "error") and error, or "" and nil.
func settleRates(e *Engine, checks []rateCheck, now int64) (string, error) {
	err := e.store.kind.take(e.store, checks, now)
	if err == nil {
		storeAnswered(e)
		return "", nil
	}
	reason := storeFailed(e, err)
	for i := range checks {
		c := &checks[i]
		switch c.rule.storeFailure {
		case StoreFailureAllow:
			c.exceeded = false
		case StoreFailureDeny:
			c.exceeded = true
		default:
			c.exceeded = c.rule.rate.exceeded(c.platform+"\x00"+c.id, now)
		}
		if c.exceeded && !c.rule.shadow {
			break
		}
	}
	return reason, err
}

// storeAnswered records a store call that succeeded.
func storeAnswered(e *Engine) {
	if e.storeTimeouts.Load() != 0 {
		e.storeTimeouts.Store(0)
	}
	storeAvailable(e)
}

// storeFailed records a store call that failed and returns its reason.
// A late reply now and then (a busy gateway) is no outage to report; a run
// of them is.
func storeFailed(e *Engine, err error) string {
	reason := StoreFailureReason(err)
	if reason != "timeout" || e.storeTimeouts.Add(1) >= storeTimeoutsReported {
		storeUnavailable(e, reason, err)
	}
	return reason
}

// StoreFailureReason labels a store error for logs and metrics: "timeout"
// (no answer within store.timeout), "error" (an error reply or a broken
// reply) or "down" (unreachable, or backing off after failures).
func StoreFailureReason(err error) string {
	switch {
	case errors.Is(err, ErrStoreTimeout):
		return "timeout"
	case errors.Is(err, ErrStoreReply) || errors.Is(err, ErrStoreProtocol):
		return "error"
	}
	return "down"
}

// storeTimeoutsReported is how many decisions in a row must miss their
// budget before an engine reports the store unavailable; any other failure
// is reported at once.
const storeTimeoutsReported = 10

// StoreEvent reports a change of the shared store's health as one engine
// saw it on a decision: the first failure after success (Available false,
// with the reason and error; for timeouts, the tenth in a row) and the
// first success after it.
type StoreEvent struct {
	Available bool
	Reason    string
	Err       error
}

// storeObserver wraps the OnStore callback: atomic.Value needs one
// concrete type.
type storeObserver struct {
	fn func(StoreEvent)
}

// OnStore registers fn to be called when the shared store becomes
// unavailable or available again, so that adapters log the change once
// instead of on every callback (each Outcome still carries StoreFailure).
// It runs on the request's goroutine; the last registration wins.
func (e *Engine) OnStore(fn func(StoreEvent)) {
	e.storeObserver.Store(storeObserver{fn})
}

func storeAvailable(e *Engine) {
	if e.storeDown.Load() == 0 || !e.storeDown.CompareAndSwap(1, 0) {
		return
	}
	notifyStore(e, StoreEvent{Available: true})
}

func storeUnavailable(e *Engine, reason string, err error) {
	if !e.storeDown.CompareAndSwap(0, 1) {
		return
	}
	notifyStore(e, StoreEvent{Reason: reason, Err: err})
}

// notifyStore drops an observer's panic: a log line must not fail the
// callback.
func notifyStore(e *Engine, ev StoreEvent) {
	defer func() { _ = recover() }()
	if v, ok := e.storeObserver.Load().(storeObserver); ok && v.fn != nil {
		v.fn(ev)
	}
}
