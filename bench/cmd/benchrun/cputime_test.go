package main

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "4242 (caddy) S 1 4242 4242 0 -1 4194560 2796 0 0 0 150 37 0 0 20 0 9 0 1234 0 0", 187 * clockTick, true},
		{"name with spaces and parens", "7 (my (odd) prog) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 0 0", 11 * clockTick, true},
		{"truncated", "7 (x) R 1 2 3", 0, false},
		{"no command", "7 x R", 0, false},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 a 6 0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v, ok=%v", tt.name, got, err, tt.want, tt.ok)
		}
	}
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	before, err := CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn CPU until the kernel has accounted several ticks of it; on a
	// busy machine that takes longer than the CPU time itself.
	deadline := time.Now().Add(5 * time.Second)
	after := before
	for after-before < 3*clockTick && time.Now().Before(deadline) {
		for x := 0; x < 1e6; x++ {
			_ = x * x
		}
		if after, err = CPUTime(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after-before < 3*clockTick {
		t.Fatalf("CPU time grew only %v over 5s of busy loop", after-before)
	}
}
