package soak

import (
	"sort"
	"sync"
	"time"
)

// Timeline records the versions of something that changes while
// callbacks flow — a list file, a gateway configuration, an upstream's
// state — so that each reply can be checked against every version that
// may have produced it. Changes are recorded in order, one at a time:
// each begins after the previous one ended.
type Timeline struct {
	mu      sync.Mutex
	changes []change
}

// change is one version taking over: the change began at begin (the
// first instant the gateway could see it) and was complete at end (from
// then on the gateway can no longer see the version before).
type change struct {
	version    int
	begin, end time.Time
}

// Set records that version took over between begin and end.
func (tl *Timeline) Set(version int, begin, end time.Time) {
	tl.mu.Lock()
	tl.changes = append(tl.changes, change{version: version, begin: begin, end: end})
	tl.mu.Unlock()
}

// Len is the number of changes recorded.
func (tl *Timeline) Len() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return len(tl.changes)
}

// InForce returns the versions that were in force at some instant of
// [from, to], oldest first: a version is in force from the begin of its
// own change to the end of the change that replaced it (the last one
// until now). Before the first change nothing is in force.
func (tl *Timeline) InForce(from, to time.Time) []int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	n := len(tl.changes)
	// Begins and ends only grow: the versions in force form one run
	// [lo, hi] of the changes.
	hi := sort.Search(n, func(i int) bool { return tl.changes[i].begin.After(to) }) - 1
	lo := sort.Search(n, func(i int) bool { return i+1 >= n || !tl.changes[i+1].end.Before(from) })
	var out []int
	for i := lo; i <= hi; i++ {
		out = append(out, tl.changes[i].version)
	}
	return out
}

// Spans returns how long each version was fully in force (from the end
// of its change to the begin of the next), for the report: the shortest
// and the longest.
func (tl *Timeline) Spans() (shortest, longest time.Duration) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for i := 0; i+1 < len(tl.changes); i++ {
		d := tl.changes[i+1].begin.Sub(tl.changes[i].end)
		if i == 0 || d < shortest {
			shortest = d
		}
		if d > longest {
			longest = d
		}
	}
	return shortest, longest
}

// Longest returns the longest change (end - begin): how long a change
// took at worst, e.g. a list file's write or a configuration reload.
func (tl *Timeline) Longest() time.Duration {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var d time.Duration
	for _, c := range tl.changes {
		if c.end.Sub(c.begin) > d {
			d = c.end.Sub(c.begin)
		}
	}
	return d
}

// Staleness says how far before at the newest version for which match
// holds stopped being in force: 0 when such a version was in force at
// some instant of [at, to]; ok is false when none ever was.
func (tl *Timeline) Staleness(at, to time.Time, match func(version int) bool) (stale time.Duration, ok bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	// The newest change that began by to: versions from there back.
	i := sort.Search(len(tl.changes), func(i int) bool { return tl.changes[i].begin.After(to) }) - 1
	for ; i >= 0; i-- {
		if !match(tl.changes[i].version) {
			continue
		}
		if i+1 >= len(tl.changes) {
			return 0, true // still in force
		}
		end := tl.changes[i+1].end
		if !end.Before(at) {
			return 0, true
		}
		return at.Sub(end), true
	}
	return 0, false
}

// LongestBetween returns the longest change that began within [from, to]:
// how slow changes were around that time (a list file's write stalls
// when the machine's file I/O does).
func (tl *Timeline) LongestBetween(from, to time.Time) time.Duration {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var d time.Duration
	i := sort.Search(len(tl.changes), func(i int) bool { return !tl.changes[i].begin.Before(from) })
	for ; i < len(tl.changes) && !tl.changes[i].begin.After(to); i++ {
		if took := tl.changes[i].end.Sub(tl.changes[i].begin); took > d {
			d = took
		}
	}
	return d
}

// LastEnd returns when the newest change that ended by t ended; ok is
// false when none had.
func (tl *Timeline) LastEnd(t time.Time) (end time.Time, ok bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for i := len(tl.changes) - 1; i >= 0; i-- {
		if !tl.changes[i].end.After(t) {
			return tl.changes[i].end, true
		}
	}
	return time.Time{}, false
}
