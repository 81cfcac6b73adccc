package report

import (
	"fmt"
	"time"

	"github.com/imgate/imgate/bench/openloop"
)

// OpenLoopPoint is one fixed request rate of the open-loop phase: a share
// of a reference setup's closed-loop throughput in the same run, offered to
// the setups that can sustain it.
type OpenLoopPoint struct {
	// ID names the point in tables and targets, e.g. "B80".
	ID string `json:"id"`
	// Of is the reference setup whose median closed-loop req/s sets the
	// rate; Fraction is the share of it offered.
	Of       string  `json:"of"`
	Fraction float64 `json:"fraction"`
	// Setups are the setups driven at this rate, in report order.
	Setups []string `json:"setups"`
	// Rates is the offered rate (req/s) per workload, computed during the
	// run; empty when the point has not been run.
	Rates map[string]float64 `json:"rates,omitempty"`
}

// Label describes the rate, e.g. "80% of B's capacity".
func (p OpenLoopPoint) Label() string {
	return fmt.Sprintf("%.0f%% of %s's capacity", p.Fraction*100, p.Of)
}

// OpenLoopRun is one fixed-rate run: requests are sent on a schedule that
// does not wait for replies, and latency is measured from each request's
// scheduled send time, so a stalled server cannot hide its queue. The
// client's result line (openloop.Result) is embedded, so its fields keep
// their JSON names in results.json.
type OpenLoopRun struct {
	Setup    string `json:"setup"`
	Workload string `json:"workload"`
	Point    string `json:"point"`
	Repeat   int    `json:"repeat"`
	openloop.Result
	// ServerCPU is the CPU time of the setup's server processes and
	// ClientCPU that of the load generator during the run.
	ServerCPU time.Duration `json:"serverCpu"`
	ClientCPU time.Duration `json:"clientCpu"`
}

// Achieved is the completed requests per second over Elapsed.
func (r OpenLoopRun) Achieved() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Completed) / r.Elapsed.Seconds()
}

// Saturated reports whether the setup fell behind the offered rate: some
// requests were never sent, or replies trailed the schedule by more than
// a tenth of the offered rate.
func (r OpenLoopRun) Saturated() bool {
	return r.Dropped > 0 || r.Achieved() < 0.9*r.Rate
}

// Valid reports whether every request sent got a 200 reply.
func (r OpenLoopRun) Valid() error {
	if r.Completed == 0 {
		return fmt.Errorf("%s/%s at %s: no requests completed", r.Setup, r.Workload, r.Point)
	}
	if r.Errors != 0 || r.ErrStatus != 0 {
		return fmt.Errorf("%s/%s at %s: %d socket errors and %d error statuses in %d requests", r.Setup, r.Workload, r.Point, r.Errors, r.ErrStatus, r.Scheduled)
	}
	return nil
}

// ServerCPUPerRequest and ClientCPUPerRequest are in µs per completed
// request.
func (r OpenLoopRun) ServerCPUPerRequest() float64 { return perRequest(r.ServerCPU, r.Completed) }
func (r OpenLoopRun) ClientCPUPerRequest() float64 { return perRequest(r.ClientCPU, r.Completed) }

func perRequest(d time.Duration, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(requests)
}

// OpenLoopSummary is the median of the repeats of one setup at one point
// on one workload.
type OpenLoopSummary struct {
	Repeats  int
	Rate     float64
	Achieved float64
	P50      time.Duration
	P99      time.Duration
	P999     time.Duration
	LagP99   time.Duration
	// ServerCPU and ClientCPU are µs per request.
	ServerCPU, ClientCPU float64
	// Saturated counts the repeats in which the setup fell behind.
	Saturated int
}

// OpenLoopKey selects one summary.
type OpenLoopKey struct{ Point, Setup, Workload string }

// SummarizeOpenLoop reduces the open-loop runs to medians.
func SummarizeOpenLoop(runs []OpenLoopRun) map[OpenLoopKey]OpenLoopSummary {
	type acc struct {
		rate, achieved, p50, p99, p999, lag, server, client []float64
		saturated                                           int
	}
	accs := map[OpenLoopKey]*acc{}
	for _, r := range runs {
		k := OpenLoopKey{r.Point, r.Setup, r.Workload}
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
		}
		a.rate = append(a.rate, r.Rate)
		a.achieved = append(a.achieved, r.Achieved())
		a.p50 = append(a.p50, float64(r.P50))
		a.p99 = append(a.p99, float64(r.P99))
		a.p999 = append(a.p999, float64(r.P999))
		a.lag = append(a.lag, float64(r.LagP99))
		a.server = append(a.server, r.ServerCPUPerRequest())
		a.client = append(a.client, r.ClientCPUPerRequest())
		if r.Saturated() {
			a.saturated++
		}
	}
	out := map[OpenLoopKey]OpenLoopSummary{}
	for k, a := range accs {
		out[k] = OpenLoopSummary{
			Repeats: len(a.rate), Rate: Median(a.rate), Achieved: Median(a.achieved),
			P50: time.Duration(Median(a.p50)), P99: time.Duration(Median(a.p99)), P999: time.Duration(Median(a.p999)),
			LagP99: time.Duration(Median(a.lag)), ServerCPU: Median(a.server), ClientCPU: Median(a.client),
			Saturated: a.saturated,
		}
	}
	return out
}

// OpenLoopWorkloads are the workloads the open-loop phase ran, in the
// order of r.Workloads.
func OpenLoopWorkloads(r *Results) []Item {
	ran := map[string]bool{}
	for _, run := range r.OpenLoop {
		ran[run.Workload] = true
	}
	var out []Item
	for _, w := range r.Workloads {
		if ran[w.ID] {
			out = append(out, w)
		}
	}
	return out
}
