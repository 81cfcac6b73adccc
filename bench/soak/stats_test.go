package soak

import (
	"strconv"
	"testing"
	"time"
)

func TestDurations(t *testing.T) {
	var d Durations
	if p := d.Summary(); p.N != 0 || p.Max != 0 {
		t.Errorf("empty: %+v", p)
	}
	for i := 1000; i >= 1; i-- {
		d.Add(time.Duration(i) * time.Millisecond)
	}
	p := d.Summary()
	if p.N != 1000 || p.P50 != 500*time.Millisecond || p.P90 != 900*time.Millisecond || p.P99 != 990*time.Millisecond || p.P999 != 999*time.Millisecond || p.Max != time.Second {
		t.Errorf("%+v", p)
	}
	if n := d.Over(990 * time.Millisecond); n != 10 {
		t.Errorf("Over = %d", n)
	}
}

func TestExamples(t *testing.T) {
	var e Examples
	for i := 0; i < 12; i++ {
		e.Add(strconv.Itoa(i))
	}
	if e.Count != 12 || len(e.First) != examplesKept || e.First[0] != "0" {
		t.Errorf("count %d, first %v", e.Count, e.First)
	}
}
