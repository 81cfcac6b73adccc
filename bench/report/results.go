package report

import (
	"time"
)

// Item names and describes a setup or a workload.
type Item struct {
	ID          string `json:"id"`
	Description string `json:"description"`
}

// Results is everything one benchmark run measured.
type Results struct {
	Started time.Time     `json:"started"`
	Elapsed time.Duration `json:"elapsed"`
	// Command is how the run was started, e.g. "bench/run.sh".
	Command string `json:"command"`
	// Machine describes CPU, kernel, Go and wrk versions.
	Machine []string `json:"machine"`
	// Revision is the code measured; nil in runs made before it was
	// recorded.
	Revision *Revision `json:"revision,omitempty"`
	// Load describes the wrk parameters shared by every setup.
	Load string `json:"load"`
	// Quick marks a smoke run (fewer, shorter repeats): not for publishing.
	Quick bool `json:"quick"`

	Setups    []Item `json:"setups"`
	Workloads []Item `json:"workloads"`
	Repeats   int    `json:"repeats"`

	// Runs are the closed-loop wrk runs (throughput).
	Runs    []WrkRun  `json:"runs"`
	GoBench []GoBench `json:"goBench"`
	// GoBenchCount is the -count the Go benchmarks ran with.
	GoBenchCount int `json:"goBenchCount"`

	// OpenLoopPoints are the fixed rates of the open-loop phase and
	// OpenLoop its runs (latency); OpenLoopLoad describes the client.
	OpenLoopPoints []OpenLoopPoint `json:"openLoopPoints,omitempty"`
	OpenLoop       []OpenLoopRun   `json:"openLoop,omitempty"`
	OpenLoopLoad   string          `json:"openLoopLoad,omitempty"`

	// Loads is the machine's load before and after every repeat.
	Loads []RepeatLoad `json:"loads,omitempty"`

	// Checks are facts verified before measuring (replies, deny share).
	Checks []string `json:"checks"`
	// Analysis is markdown appended verbatim: what limits a missed number,
	// with the profile that shows it.
	Analysis string `json:"analysis"`
}

// Summary is the median of the repeats of one setup on one workload.
type Summary struct {
	Setup    string
	Workload string
	Repeats  int
	RPS      float64
	P50      time.Duration
	P99      time.Duration
	// CPU is the server CPU time per request in µs; ClientCPU is wrk's, 0
	// when not measured.
	CPU       float64
	ClientCPU float64
}

// Summarize reduces the runs to per setup and workload medians, keyed by
// setup then workload.
func Summarize(runs []WrkRun) map[string]map[string]Summary {
	type acc struct{ rps, p50, p99, cpu, client []float64 }
	accs := map[string]map[string]*acc{}
	for _, r := range runs {
		if accs[r.Setup] == nil {
			accs[r.Setup] = map[string]*acc{}
		}
		a := accs[r.Setup][r.Workload]
		if a == nil {
			a = &acc{}
			accs[r.Setup][r.Workload] = a
		}
		a.rps = append(a.rps, r.RPS())
		a.p50 = append(a.p50, float64(r.P50))
		a.p99 = append(a.p99, float64(r.P99))
		a.cpu = append(a.cpu, r.CPUPerRequest())
		a.client = append(a.client, r.ClientCPUPerRequest())
	}
	out := map[string]map[string]Summary{}
	for setup, byWorkload := range accs {
		out[setup] = map[string]Summary{}
		for workload, a := range byWorkload {
			out[setup][workload] = Summary{
				Setup: setup, Workload: workload, Repeats: len(a.rps),
				RPS: Median(a.rps),
				P50: time.Duration(Median(a.p50)),
				P99: time.Duration(Median(a.p99)),
				CPU: Median(a.cpu), ClientCPU: Median(a.client),
			}
		}
	}
	return out
}

// GoBenchSummary is the median of the -count repeats of one Go benchmark.
type GoBenchSummary struct {
	Package     string
	Name        string
	Count       int
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
}

// SummarizeGoBench reduces repeated benchmark lines to medians, in first-seen
// order.
func SummarizeGoBench(lines []GoBench) []GoBenchSummary {
	type acc struct{ ns, bytes, allocs []float64 }
	var order []string
	accs := map[string]*acc{}
	pkgs := map[string]string{}
	for _, b := range lines {
		key := b.Package + " " + b.Name
		a := accs[key]
		if a == nil {
			a = &acc{}
			accs[key] = a
			order = append(order, key)
			pkgs[key] = b.Package
		}
		a.ns = append(a.ns, b.NsPerOp)
		a.bytes = append(a.bytes, b.BytesPerOp)
		a.allocs = append(a.allocs, b.AllocsPerOp)
	}
	out := make([]GoBenchSummary, 0, len(order))
	for _, key := range order {
		a := accs[key]
		name := key[len(pkgs[key])+1:]
		out = append(out, GoBenchSummary{Package: pkgs[key], Name: name, Count: len(a.ns), NsPerOp: Median(a.ns), BytesPerOp: Median(a.bytes), AllocsPerOp: Median(a.allocs)})
	}
	return out
}
