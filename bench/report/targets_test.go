package report

import (
	"math"
	"strings"
	"testing"
)

func TestCheckRatios(t *testing.T) {
	r := fixture()
	checks := CheckRatios(Summarize(r.Runs), r.Workloads, RatioTargets)
	if len(checks) != len(RatioTargets)*len(r.Workloads) {
		t.Fatalf("got %d checks", len(checks))
	}
	want := map[string]struct {
		value float64
		met   bool
	}{
		RatioTargets[0].Label: {0.9, true},  // C/B req/s 27000/30000
		RatioTargets[1].Label: {2.25, true}, // C/D req/s 27000/12000
		RatioTargets[2].Label: {0.4, false}, // T1/T0 req/s 8000/20000
		RatioTargets[3].Label: {0.9, true},  // T3/T0 req/s 18000/20000
	}
	for _, c := range checks {
		w := want[c.Target]
		if math.Abs(c.Value-w.value) > 1e-9 || c.Met != w.met || c.Missing {
			t.Errorf("%s on %s: value %v met %v missing %v, want %v %v", c.Target, c.Subject, c.Value, c.Met, c.Missing, w.value, w.met)
		}
	}
}

func TestCheckRatiosMissesAndMissing(t *testing.T) {
	r := fixture()
	sums := Summarize(r.Runs)
	c := sums["C"]["tencent-join"]
	c.RPS = 20000 // 0.67 × B
	sums["C"]["tencent-join"] = c
	delete(sums["D"], "mix-deny10")
	checks := CheckRatios(sums, r.Workloads, RatioTargets)
	for _, ch := range checks {
		switch {
		case ch.Target == RatioTargets[0].Label && ch.Subject == "tencent-join":
			if ch.Met {
				t.Errorf("C/B 0.67 reported as met")
			}
		case ch.Target == RatioTargets[1].Label && ch.Subject == "mix-deny10":
			if !ch.Missing || ch.Met {
				t.Errorf("missing D reported as %+v", ch)
			}
		}
	}
}

func TestCheckGoBench(t *testing.T) {
	checks, err := CheckGoBench(SummarizeGoBench(fixture().GoBench), GoTargets)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 2 {
		t.Fatalf("got %d checks: %+v", len(checks), checks)
	}
	if !checks[0].Met || checks[0].Value != 1500 {
		t.Errorf("core before-join 1.5 µs, 8 allocs: %+v", checks[0])
	}
	if checks[1].Met || checks[1].Value != 60000 {
		t.Errorf("interpreted plugin 60 µs reported met: %+v", checks[1])
	}
	none, err := CheckGoBench(nil, GoTargets[:1])
	if err != nil || len(none) != 1 || !none[0].Missing || none[0].Met {
		t.Fatalf("no benchmarks: %+v, %v", none, err)
	}
	if _, err := CheckGoBench(nil, []GoTarget{{Label: "bad", Match: "("}}); err == nil {
		t.Fatal("bad pattern accepted")
	}
}

func TestCheckLatency(t *testing.T) {
	r := fixture()
	sums := SummarizeOpenLoop(r.OpenLoop)
	checks := CheckLatency(sums, OpenLoopWorkloads(r), LatencyTargets)
	want := []struct {
		value float64
		met   bool
	}{{1.1, true}, {1.5, false}, {1.1, true}, {45, false}, {1.1, true}, {1.3, false}}
	if len(checks) != len(want) {
		t.Fatalf("got %d checks: %+v", len(checks), checks)
	}
	for i, c := range checks {
		if math.Abs(c.Value-want[i].value) > 1e-9 || c.Met != want[i].met || c.Missing {
			t.Errorf("%s: %+v, want %v met=%v", c.Target, c, want[i].value, want[i].met)
		}
	}
	if !strings.HasSuffix(checks[3].Text, "E saturated: no verdict") {
		t.Errorf("saturated E not named: %q", checks[3].Text)
	}
	// A saturated reference decides nothing either, however the ratio looks.
	b := sums[OpenLoopKey{"B50", "B", "mix-deny10"}]
	b.Saturated = 1
	sums[OpenLoopKey{"B50", "B", "mix-deny10"}] = b
	if c := CheckLatency(sums, OpenLoopWorkloads(r), LatencyTargets[:1])[0]; c.Met || !strings.HasSuffix(c.Text, "B saturated: no verdict") {
		t.Errorf("saturated B: %+v", c)
	}
	missing := CheckLatency(sums, []Item{{ID: "tencent-join"}}, LatencyTargets[:1])
	if len(missing) != 1 || !missing[0].Missing || missing[0].Met {
		t.Fatalf("a workload without open-loop runs: %+v", missing)
	}
}
