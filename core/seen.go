package core

import (
	"sync"
	"time"
)

// seenSet remembers ids until their time to live ends, with bounded
// memory: the memory store's dedup primitive (the Redis store uses SET NX
// PX instead).
type seenSet struct {
	mu      sync.Mutex
	until   map[string]int64 // id -> Unix nanoseconds it is remembered until
	maxKeys int
}

func newSeenSet(maxKeys int) *seenSet {
	return &seenSet{until: map[string]int64{}, maxKeys: maxKeys}
}

// seenFirst reports whether id is not remembered at now, and remembers it
// for ttl. When the set is full, expired ids go first, then arbitrary
// ones: forgetting an id can only let a duplicate through (at least once),
// never drop a first delivery.
func seenFirst(s *seenSet, id string, ttl time.Duration, now int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.until[id]; ok && until > now {
		return false
	}
	if len(s.until) >= s.maxKeys {
		for k, until := range s.until {
			if until <= now {
				delete(s.until, k)
			}
		}
		target := s.maxKeys - s.maxKeys/10 - 1
		for k := range s.until {
			if len(s.until) <= target {
				break
			}
			delete(s.until, k)
		}
	}
	s.until[id] = now + int64(ttl)
	return true
}
