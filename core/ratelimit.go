package core

import (
	"fmt"
	"sync"
	"time"
)

// limiter is a set of token buckets, one per key, with bounded memory.
type limiter struct {
	mu      sync.Mutex
	perNano float64 // tokens added per nanosecond
	burst   float64
	maxKeys int
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   int64
}

func newLimiter(n float64, per time.Duration, maxKeys int) *limiter {
	return &limiter{perNano: n / float64(per), burst: n, maxKeys: maxKeys, buckets: map[string]*bucket{}}
}

// exceeded takes a token for key and reports whether none was left.
func (l *limiter) exceeded(key string, now int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens += float64(now-b.last) * l.perNano
	if b.tokens > l.burst {
		b.tokens = l.burst
	}
	b.last = now
	if b.tokens < 1 {
		return true
	}
	b.tokens--
	return false
}

// evict frees room: buckets that have refilled carry no state worth keeping;
// if none has, arbitrary ones go, which only ever makes the limit lenient.
func (l *limiter) evict(now int64) {
	for k, b := range l.buckets {
		if b.tokens+float64(now-b.last)*l.perNano >= l.burst {
			delete(l.buckets, k)
		}
	}
	target := l.maxKeys - l.maxKeys/10 - 1
	for k := range l.buckets {
		if len(l.buckets) <= target {
			break
		}
		delete(l.buckets, k)
	}
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

func (l *limiter) String() string {
	return fmt.Sprintf("%g per %s", l.burst, time.Duration(l.burst/l.perNano))
}
