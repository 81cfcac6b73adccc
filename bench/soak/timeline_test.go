package soak

import (
	"fmt"
	"testing"
	"time"
)

func TestTimelineInForce(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var tl Timeline
	// Version 1 takes over during [0, 10] ms, 2 during [100, 110], 3 during [200, 205].
	tl.Set(1, at(0), at(10))
	tl.Set(2, at(100), at(110))
	tl.Set(3, at(200), at(205))
	tests := []struct {
		from, to int
		want     string
	}{
		{-50, -10, "[]"},        // before anything
		{-50, 5, "[1]"},         // the first change began
		{20, 90, "[1]"},         // only 1
		{20, 100, "[1 2]"},      // 2's change began at 100
		{105, 106, "[1 2]"},     // during 2's change both may answer
		{111, 150, "[2]"},       // 2's change is complete: 1 is gone
		{110, 150, "[1 2]"},     // at the very end of 2's change, 1 may still answer
		{150, 1000, "[2 3]"},    // 3 took over
		{206, 1000, "[3]"},      // the last version stays in force
		{-100, 1000, "[1 2 3]"}, // everything
	}
	for _, tt := range tests {
		if got := fmt.Sprint(tl.InForce(at(tt.from), at(tt.to))); got != tt.want {
			t.Errorf("InForce(%d, %d ms) = %s, want %s", tt.from, tt.to, got, tt.want)
		}
	}
	if short, long := tl.Spans(); short != 90*time.Millisecond || long != 90*time.Millisecond {
		t.Errorf("Spans = %s, %s", short, long)
	}
	if got := tl.Longest(); got != 10*time.Millisecond {
		t.Errorf("Longest = %s", got)
	}
	var empty Timeline
	if got := empty.InForce(at(0), at(10)); len(got) != 0 {
		t.Errorf("empty timeline: %v", got)
	}
}

func TestTimelineStaleness(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var tl Timeline
	tl.Set(1, at(0), at(10))
	tl.Set(2, at(100), at(110))
	tl.Set(3, at(200), at(205))
	is := func(v int) func(int) bool { return func(x int) bool { return x == v } }
	tests := []struct {
		version, at, to int
		stale           time.Duration
		ok              bool
	}{
		{3, 300, 310, 0, true},                     // the current one
		{2, 150, 160, 0, true},                     // in force then
		{2, 205, 300, 0, true},                     // in force until 3's change ended at 205
		{2, 255, 300, 50 * time.Millisecond, true}, // replaced 50 ms before
		{1, 300, 300, 190 * time.Millisecond, true},
		{4, 0, 300, 0, false}, // never
		{3, 0, 150, 0, false}, // not yet
	}
	for _, tt := range tests {
		stale, ok := tl.Staleness(at(tt.at), at(tt.to), is(tt.version))
		if stale != tt.stale || ok != tt.ok {
			t.Errorf("version %d at [%d, %d]: %s %v, want %s %v", tt.version, tt.at, tt.to, stale, ok, tt.stale, tt.ok)
		}
	}
	if end, ok := tl.LastEnd(at(150)); !ok || !end.Equal(at(110)) {
		t.Errorf("LastEnd(150) = %v %v", end, ok)
	}
	if _, ok := tl.LastEnd(at(5)); ok {
		t.Error("LastEnd before any change ended")
	}
	if got := tl.LongestBetween(at(50), at(250)); got != 10*time.Millisecond {
		t.Errorf("LongestBetween = %s", got)
	}
	if got := tl.LongestBetween(at(150), at(250)); got != 5*time.Millisecond {
		t.Errorf("LongestBetween = %s", got)
	}
}
