package report

import (
	"testing"
	"time"
)

func TestSummarizeTakesMedians(t *testing.T) {
	sums := Summarize(fixture().Runs)
	got := sums["C"]["tencent-join"]
	want := Summary{Setup: "C", Workload: "tencent-join", Repeats: 3, RPS: 27000, P50: 1100 * time.Microsecond, P99: 2200 * time.Microsecond, CPU: 1e6 / (27000 * 8), ClientCPU: 0.5e6 / (27000 * 8)}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if len(sums) != 10 || len(sums["A"]) != 2 {
		t.Fatalf("want 10 setups × 2 workloads, got %d setups, %d workloads for A", len(sums), len(sums["A"]))
	}
}

func TestSummarizeGoBench(t *testing.T) {
	got := SummarizeGoBench(fixture().GoBench)
	if len(got) != 4 {
		t.Fatalf("got %d summaries, want 4: %+v", len(got), got)
	}
	want := GoBenchSummary{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", Count: 3, NsPerOp: 1500, BytesPerOp: 900, AllocsPerOp: 8}
	if got[0] != want {
		t.Fatalf("got %+v\nwant %+v", got[0], want)
	}
	if got[1].Name != "BenchmarkPluginInterpreted" || got[1].Count != 1 {
		t.Fatalf("second summary %+v", got[1])
	}
}
