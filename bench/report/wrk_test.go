package report

import (
	"strings"
	"testing"
	"time"
)

const wrkOutput = `Running 1s test @ http://127.0.0.1:18999
  2 threads and 4 connections
Requests/sec:   1356.74
IMGATE-RESULT requests=1365 duration_us=1006090 bytes=757773 p50_us=2357 p90_us=5215 p99_us=7910 max_us=11970 mean_us=2904.2 err_connect=0 err_read=1 err_write=0 err_status=3 err_timeout=2
`

func TestParseWrk(t *testing.T) {
	run, err := ParseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := WrkRun{Requests: 1365, Duration: 1006090 * time.Microsecond, P50: 2357 * time.Microsecond, P90: 5215 * time.Microsecond,
		P99: 7910 * time.Microsecond, Max: 11970 * time.Microsecond, Errors: 3, ErrStatus: 3}
	if run != want {
		t.Fatalf("got %+v\nwant %+v", run, want)
	}
	if rps := run.RPS(); rps < 1356 || rps > 1357 {
		t.Fatalf("RPS = %f, want 1356.7", rps)
	}
	if err := run.Valid(); err == nil {
		t.Fatal("a run with errors is valid")
	}
}

func TestParseWrkErrors(t *testing.T) {
	for name, out := range map[string]string{
		"no result line": "Requests/sec: 1000\n",
		"missing field":  "IMGATE-RESULT requests=1 duration_us=1\n",
		"not a number":   strings.Replace(wrkOutput, "p99_us=7910", "p99_us=x", 1),
		"not key=value":  strings.Replace(wrkOutput, "bytes=757773", "bytes", 1),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseWrk(out); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func TestWrkRunValid(t *testing.T) {
	tests := []struct {
		name string
		run  WrkRun
		ok   bool
	}{
		{"clean", WrkRun{Requests: 10, Duration: time.Second}, true},
		{"nothing", WrkRun{}, false},
		{"status errors", WrkRun{Requests: 10, ErrStatus: 1}, false},
		{"socket errors", WrkRun{Requests: 10, Errors: 1}, false},
	}
	for _, tt := range tests {
		if err := tt.run.Valid(); (err == nil) != tt.ok {
			t.Errorf("%s: Valid() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
