package report

import "time"

// fixture builds Results for two workloads and setups A–E over three
// repeats, with throughputs per setup scaled so each ratio is known.
func fixture() *Results {
	r := &Results{
		Command: "bench/run.sh", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: 8 * time.Minute,
		Load: "wrk -t2 -c32 -d8s", Repeats: 3, GoBenchCount: 3,
		Machine:   []string{"2 CPUs"},
		Checks:    []string{"replies checked"},
		Analysis:  "## What limits C\n\nThe profile shows JSON decoding.",
		Workloads: []Item{{ID: "tencent-join", Description: "Tencent join"}, {ID: "mix-deny10", Description: "mix"}},
	}
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		r.Setups = append(r.Setups, Item{ID: id, Description: "setup " + id})
	}
	// req/s and p99 (µs) per setup; repeats vary around them.
	base := map[string][2]float64{"A": {40000, 1000}, "B": {30000, 2000}, "C": {27000, 2200}, "D": {12000, 5000}, "E": {11000, 5500}}
	for repeat := 1; repeat <= 3; repeat++ {
		for _, w := range r.Workloads {
			for _, s := range r.Setups {
				b := base[s.ID]
				scale := []float64{1, 0.9, 1.1}[repeat-1]
				r.Runs = append(r.Runs, WrkRun{Setup: s.ID, Workload: w.ID, Repeat: repeat,
					Requests: int64(b[0] * scale * 8), Duration: 8 * time.Second,
					P50: time.Duration(b[1]/2) * time.Microsecond, P90: time.Duration(b[1]*0.8) * time.Microsecond,
					P99: time.Duration(b[1]*scale) * time.Microsecond, Max: time.Duration(b[1]*3) * time.Microsecond,
					// 1 CPU-second per 8 s run: CPU per request falls as req/s rises.
					ServerCPU: time.Second})
			}
		}
	}
	r.GoBench = []GoBench{
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 1500, BytesPerOp: 900, AllocsPerOp: 8},
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 1400, BytesPerOp: 900, AllocsPerOp: 8},
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 3000, BytesPerOp: 900, AllocsPerOp: 8},
		{Package: "github.com/imgate/imgate/bench", Name: "BenchmarkPluginInterpreted", NsPerOp: 60000, BytesPerOp: 9000, AllocsPerOp: 200},
	}
	return r
}
