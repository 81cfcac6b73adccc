package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/bench/report"
)

// SampleLoad reads the load averages and the CPUs online now.
func SampleLoad() (report.LoadSample, error) {
	s := report.LoadSample{At: time.Now().UTC()}
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return s, err
	}
	if s.Load1, s.Load5, s.Load15, err = parseLoadavg(string(raw)); err != nil {
		return s, err
	}
	s.CPUs = runtime.NumCPU()
	if online, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		if n, err := countCPUList(strings.TrimSpace(string(online))); err == nil {
			s.CPUs = n
		}
	}
	return s, nil
}

// parseLoadavg reads the three load averages of /proc/loadavg.
func parseLoadavg(line string) (l1, l5, l15 float64, err error) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return 0, 0, 0, fmt.Errorf("loadavg %q: want three load averages", line)
	}
	var v [3]float64
	for i := range v {
		if v[i], err = strconv.ParseFloat(f[i], 64); err != nil {
			return 0, 0, 0, fmt.Errorf("loadavg %q: %w", line, err)
		}
	}
	return v[0], v[1], v[2], nil
}

// countCPUList counts the CPUs of a kernel CPU list such as "0-3,6,8-9".
func countCPUList(list string) (int, error) {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", list, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("cpu list %q: bad range %q", list, part)
			}
		}
		n += b - a + 1
	}
	return n, nil
}
