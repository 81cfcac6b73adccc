package report

import (
	"testing"
	"time"

	"github.com/imgate/imgate/bench/openloop"
)

func TestOpenLoopRun(t *testing.T) {
	ok := OpenLoopRun{Result: openloop.Result{Rate: 1000, Scheduled: 5000, Completed: 5000, Elapsed: 5 * time.Second}, ServerCPU: 200 * time.Millisecond, ClientCPU: 50 * time.Millisecond}
	if ok.Achieved() != 1000 || ok.Saturated() || ok.Valid() != nil || ok.ServerCPUPerRequest() != 40 || ok.ClientCPUPerRequest() != 10 {
		t.Errorf("a run that kept up: achieved %v saturated %v valid %v", ok.Achieved(), ok.Saturated(), ok.Valid())
	}
	behind := ok
	behind.Elapsed = 6 * time.Second // replies trailed the schedule by a second
	if !behind.Saturated() {
		t.Error("a run 17% behind its rate is not saturated")
	}
	dropped := ok
	dropped.Dropped, dropped.Completed = 1, 4999
	if !dropped.Saturated() || dropped.Valid() != nil {
		t.Error("dropped requests: saturated, but still a valid measurement")
	}
	for name, bad := range map[string]OpenLoopRun{
		"nothing":  {Result: openloop.Result{Rate: 1}},
		"errors":   {Result: openloop.Result{Completed: 10, Errors: 1}},
		"statuses": {Result: openloop.Result{Completed: 10, ErrStatus: 1}},
	} {
		if bad.Valid() == nil {
			t.Errorf("%s: valid", name)
		}
	}
}

func TestSummarizeOpenLoop(t *testing.T) {
	r := fixture()
	sums := SummarizeOpenLoop(r.OpenLoop)
	c := sums[OpenLoopKey{"B80", "C", "mix-deny10"}]
	if c.Repeats != 3 || c.Rate != 24000 || c.P99 != 1200*time.Microsecond || c.Saturated != 0 || c.ServerCPU != 40 || c.ClientCPU != 10 {
		t.Errorf("C at B80: %+v", c)
	}
	if e := sums[OpenLoopKey{"D80", "E", "mix-deny10"}]; e.Saturated != 3 {
		t.Errorf("E at D80: %+v", e)
	}
	if ws := OpenLoopWorkloads(r); len(ws) != 1 || ws[0].ID != "mix-deny10" {
		t.Errorf("open-loop workloads %+v", ws)
	}
	if (OpenLoopPoint{Of: "B", Fraction: 0.8}).Label() != "80% of B's capacity" {
		t.Error("point label")
	}
}
