package report

import (
	"time"

	"github.com/imgate/imgate/bench/openloop"
)

// fixture builds Results for two workloads and setups A–F and T0–T3 over
// three repeats, with throughputs per setup scaled so each ratio is known,
// an open-loop phase on mix-deny10, the load per repeat and a clean
// revision.
func fixture() *Results {
	r := legacyFixture()
	r.Machine = []string{"2 CPUs"}
	for _, id := range []string{"F", "T0", "T1", "T2", "T3"} {
		r.Setups = append(r.Setups, Item{ID: id, Description: "setup " + id})
	}
	r.Revision = &Revision{Commit: "0123456789abcdef0123456789abcdef01234567", Tree: "fedcba9876543210fedcba9876543210fedcba98"}
	r.OpenLoopLoad = "open-loop client"
	r.Runs = nil
	// req/s and p99 (µs) per setup; repeats vary around them.
	base := map[string][2]float64{"A": {40000, 1000}, "B": {30000, 2000}, "C": {27000, 2200}, "D": {12000, 5000}, "E": {11000, 5500}, "F": {36000, 1500},
		"T0": {20000, 3000}, "T1": {8000, 9000}, "T2": {6000, 12000}, "T3": {18000, 3300}}
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
					ServerCPU: time.Second, ClientCPU: 500 * time.Millisecond})
			}
		}
		at := time.Date(2026, 1, 2, 3, 4+repeat, 0, 0, time.UTC)
		r.Loads = append(r.Loads, RepeatLoad{Phase: PhaseClosed, Repeat: repeat,
			Before: LoadSample{At: at, Load1: 1.5, Load5: 1.25, Load15: 1, CPUs: 2},
			After:  LoadSample{At: at.Add(time.Minute), Load1: 2.5, Load5: 1.5, Load15: 1.125, CPUs: 2}})
	}
	r.OpenLoopPoints = []OpenLoopPoint{
		{ID: "B50", Of: "B", Fraction: 0.5, Setups: []string{"A", "B", "C", "F"}, Rates: map[string]float64{"mix-deny10": 15000}},
		{ID: "B80", Of: "B", Fraction: 0.8, Setups: []string{"A", "B", "C", "F"}, Rates: map[string]float64{"mix-deny10": 24000}},
		{ID: "D50", Of: "D", Fraction: 0.5, Setups: []string{"D", "E"}, Rates: map[string]float64{"mix-deny10": 6000}},
		{ID: "D80", Of: "D", Fraction: 0.8, Setups: []string{"D", "E"}, Rates: map[string]float64{"mix-deny10": 9600}},
		{ID: "T1-50", Of: "T1", Fraction: 0.5, Setups: []string{"T0", "T1", "T3"}, Rates: map[string]float64{"mix-deny10": 4000}},
		{ID: "T1-80", Of: "T1", Fraction: 0.8, Setups: []string{"T0", "T1", "T3"}, Rates: map[string]float64{"mix-deny10": 6400}},
		{ID: "T2-50", Of: "T2", Fraction: 0.5, Setups: []string{"D", "T2"}, Rates: map[string]float64{"mix-deny10": 3000}},
		{ID: "T2-80", Of: "T2", Fraction: 0.8, Setups: []string{"D", "T2"}, Rates: map[string]float64{"mix-deny10": 4800}},
		{ID: "T3-50", Of: "T3", Fraction: 0.5, Setups: []string{"T0", "T3"}, Rates: map[string]float64{"mix-deny10": 9000}},
		{ID: "T3-80", Of: "T3", Fraction: 0.8, Setups: []string{"T0", "T3"}, Rates: map[string]float64{"mix-deny10": 14400}},
	}
	// p99 (µs) per point and setup: C is 1.1 × B at B50 and 1.5 × B at
	// B80; E at D80 could not keep up (dropped requests); T1 is 1.5 × T0
	// at T1-50 and 2 × T0 at T1-80; T2 is 1.5 × D at both of its points;
	// T3 is 1.1 × T0 at T3-50 and 1.3 × T0 at T3-80, and at T1's points
	// 0.72 × and 0.55 × T1.
	p99 := map[string]map[string]float64{
		"B50":   {"A": 300, "B": 400, "C": 440, "F": 350},
		"B80":   {"A": 500, "B": 800, "C": 1200, "F": 600},
		"D50":   {"D": 1000, "E": 1100},
		"D80":   {"D": 2000, "E": 90000},
		"T1-50": {"T0": 600, "T1": 900, "T3": 650},
		"T1-80": {"T0": 1000, "T1": 2000, "T3": 1100},
		"T2-50": {"D": 1000, "T2": 1500},
		"T2-80": {"D": 2000, "T2": 3000},
		"T3-50": {"T0": 700, "T3": 770},
		"T3-80": {"T0": 1200, "T3": 1560},
	}
	for repeat := 1; repeat <= 3; repeat++ {
		for _, pt := range r.OpenLoopPoints {
			for _, id := range pt.Setups {
				rate := pt.Rates["mix-deny10"]
				run := OpenLoopRun{Setup: id, Workload: "mix-deny10", Point: pt.ID, Repeat: repeat, Result: openloop.Result{
					Rate: rate, Duration: 5 * time.Second, Connections: 64,
					Scheduled: int64(rate * 5), Completed: int64(rate * 5), Elapsed: 5 * time.Second,
					P50: time.Duration(p99[pt.ID][id]/4) * time.Microsecond, P90: time.Duration(p99[pt.ID][id]/2) * time.Microsecond,
					P99: time.Duration(p99[pt.ID][id]) * time.Microsecond, P999: time.Duration(p99[pt.ID][id]*2) * time.Microsecond,
					Max: time.Duration(p99[pt.ID][id]*3) * time.Microsecond, LagP50: 20 * time.Microsecond, LagP99: 90 * time.Microsecond,
				}, ServerCPU: time.Duration(rate*5) * 40 * time.Microsecond, ClientCPU: time.Duration(rate*5) * 10 * time.Microsecond}
				if pt.ID == "D80" && id == "E" {
					run.Dropped = 1000
					run.Completed -= 1000
				}
				r.OpenLoop = append(r.OpenLoop, run)
			}
		}
	}
	return r
}

// legacyFixture is a run as the harness recorded it before the revision,
// setup F, the open-loop phase, wrk's CPU and the load were recorded.
func legacyFixture() *Results {
	r := &Results{
		Command: "bench/run.sh", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: 8 * time.Minute,
		Load: "wrk -t2 -c32 -d8s", Repeats: 3, GoBenchCount: 3,
		Machine:   []string{"2 CPUs", "code at commit b7c2320"},
		Checks:    []string{"replies checked"},
		Analysis:  "## What limits C\n\nThe profile shows JSON decoding.",
		Workloads: []Item{{ID: "tencent-join", Description: "Tencent join"}, {ID: "mix-deny10", Description: "mix"}},
	}
	for _, id := range []string{"A", "B", "C", "D", "E"} {
		r.Setups = append(r.Setups, Item{ID: id, Description: "setup " + id})
	}
	base := map[string]float64{"A": 40000, "B": 30000, "C": 27000, "D": 12000, "E": 11000}
	for repeat := 1; repeat <= 3; repeat++ {
		for _, w := range r.Workloads {
			for _, s := range r.Setups {
				r.Runs = append(r.Runs, WrkRun{Setup: s.ID, Workload: w.ID, Repeat: repeat, Requests: int64(base[s.ID] * 8), Duration: 8 * time.Second,
					P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 4 * time.Millisecond, Max: 9 * time.Millisecond, ServerCPU: time.Second})
			}
		}
	}
	r.GoBench = []GoBench{
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 1500, BytesPerOp: 900, AllocsPerOp: 8},
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 1400, BytesPerOp: 900, AllocsPerOp: 8},
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 3000, BytesPerOp: 900, AllocsPerOp: 8},
		{Package: "github.com/imgate/imgate/bench", Name: "BenchmarkPluginInterpreted", NsPerOp: 60000, BytesPerOp: 9000, AllocsPerOp: 200},
		{Package: "github.com/imgate/imgate/bench", Name: "BenchmarkPluginCompiled/tencent-join", NsPerOp: 2400, BytesPerOp: 1600, AllocsPerOp: 13},
		{Package: "github.com/imgate/imgate/bench", Name: "BenchmarkPluginCompiled/tencent-invite20", NsPerOp: 6700, BytesPerOp: 4400, AllocsPerOp: 39},
	}
	return r
}
