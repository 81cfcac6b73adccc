package main

import "testing"

func TestParseLoadavg(t *testing.T) {
	l1, l5, l15, err := parseLoadavg("6.03 2.95 1.21 12/129 16812\n")
	if err != nil || l1 != 6.03 || l5 != 2.95 || l15 != 1.21 {
		t.Fatalf("got %v %v %v, %v", l1, l5, l15, err)
	}
	for _, bad := range []string{"", "1.0 2.0", "a 1 2 3/4 5"} {
		if _, _, _, err := parseLoadavg(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCountCPUList(t *testing.T) {
	tests := map[string]int{"0": 1, "0-1": 2, "0-3,6,8-9": 7}
	for list, want := range tests {
		if got, err := countCPUList(list); err != nil || got != want {
			t.Errorf("%q: got %d, %v; want %d", list, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "0-x"} {
		if _, err := countCPUList(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSampleLoad(t *testing.T) {
	s, err := SampleLoad()
	if err != nil {
		t.Skipf("no /proc/loadavg here: %v", err)
	}
	if s.CPUs < 1 || s.Load1 < 0 || s.At.IsZero() {
		t.Fatalf("implausible sample %+v", s)
	}
}
