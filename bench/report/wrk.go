package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// resultPrefix starts the line bench/lua/callbacks.lua prints in done().
const resultPrefix = "IMGATE-RESULT "

// WrkRun is one measured wrk run against one setup and workload.
type WrkRun struct {
	Setup    string `json:"setup"`
	Workload string `json:"workload"`
	Repeat   int    `json:"repeat"`

	Requests int64         `json:"requests"`
	Duration time.Duration `json:"duration"`
	P50      time.Duration `json:"p50"`
	P90      time.Duration `json:"p90"`
	P99      time.Duration `json:"p99"`
	Max      time.Duration `json:"max"`
	// Errors counts socket errors and timeouts; ErrStatus counts replies
	// with HTTP status above 399. Both must be zero for a valid run.
	Errors    int64 `json:"errors"`
	ErrStatus int64 `json:"errStatus"`
	// ServerCPU is the CPU time the setup's server processes used during
	// the run; ClientCPU is wrk's own (0 when not measured: older runs did
	// not record it).
	ServerCPU time.Duration `json:"serverCpu"`
	ClientCPU time.Duration `json:"clientCpu,omitempty"`
}

// CPUPerRequest is the server CPU time per request in µs.
func (r WrkRun) CPUPerRequest() float64 { return perRequest(r.ServerCPU, r.Requests) }

// ClientCPUPerRequest is wrk's CPU time per request in µs.
func (r WrkRun) ClientCPUPerRequest() float64 { return perRequest(r.ClientCPU, r.Requests) }

// RPS is the run's throughput in requests per second.
func (r WrkRun) RPS() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Duration.Seconds()
}

// Valid reports whether every request got a non-error reply.
func (r WrkRun) Valid() error {
	if r.Requests == 0 {
		return fmt.Errorf("%s/%s: no requests completed", r.Setup, r.Workload)
	}
	if r.Errors != 0 || r.ErrStatus != 0 {
		return fmt.Errorf("%s/%s: %d socket errors and %d error statuses in %d requests", r.Setup, r.Workload, r.Errors, r.ErrStatus, r.Requests)
	}
	return nil
}

// ParseWrk reads the IMGATE-RESULT line from wrk's output.
func ParseWrk(output string) (WrkRun, error) {
	var run WrkRun
	for _, line := range strings.Split(output, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, resultPrefix) {
			continue
		}
		fields := map[string]string{}
		for _, kv := range strings.Fields(line[len(resultPrefix):]) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return run, fmt.Errorf("wrk result field %q is not key=value", kv)
			}
			fields[k] = v
		}
		ints := map[string]int64{}
		for _, k := range []string{"requests", "duration_us", "p50_us", "p90_us", "p99_us", "max_us", "err_connect", "err_read", "err_write", "err_status", "err_timeout"} {
			v, ok := fields[k]
			if !ok {
				return run, fmt.Errorf("wrk result lacks %s", k)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return run, fmt.Errorf("wrk result %s=%q: %w", k, v, err)
			}
			ints[k] = n
		}
		us := func(k string) time.Duration { return time.Duration(ints[k]) * time.Microsecond }
		run.Requests = ints["requests"]
		run.Duration = us("duration_us")
		run.P50, run.P90, run.P99, run.Max = us("p50_us"), us("p90_us"), us("p99_us"), us("max_us")
		run.Errors = ints["err_connect"] + ints["err_read"] + ints["err_write"] + ints["err_timeout"]
		run.ErrStatus = ints["err_status"]
		return run, nil
	}
	return run, fmt.Errorf("wrk output has no %sline (was the script bench/lua/callbacks.lua?)", resultPrefix)
}
