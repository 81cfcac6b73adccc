package report

import "testing"

const goBenchOutput = `goos: linux
goarch: amd64
pkg: github.com/imgate/imgate/core
cpu: Intel(R) Xeon(R)
BenchmarkDecide/tencent-before-apply-join-2         	  812345	      1450 ns/op	     912 B/op	       9 allocs/op
BenchmarkDecide/openim-before-join-2                	  712345	      1650.5 ns/op	     1012 B/op	      11 allocs/op
PASS
ok  	github.com/imgate/imgate/core	3.1s
pkg: github.com/imgate/imgate/bench
BenchmarkPluginInterpreted 	   10000	    25000 ns/op
`

func TestParseGoBench(t *testing.T) {
	got, err := ParseGoBench(goBenchOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := []GoBench{
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/tencent-before-apply-join", NsPerOp: 1450, BytesPerOp: 912, AllocsPerOp: 9},
		{Package: "github.com/imgate/imgate/core", Name: "BenchmarkDecide/openim-before-join", NsPerOp: 1650.5, BytesPerOp: 1012, AllocsPerOp: 11},
		{Package: "github.com/imgate/imgate/bench", Name: "BenchmarkPluginInterpreted", NsPerOp: 25000, BytesPerOp: -1, AllocsPerOp: -1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseGoBenchRejectsLineWithoutTime(t *testing.T) {
	if _, err := ParseGoBench("BenchmarkX-2   100   12 B/op\n"); err == nil {
		t.Fatal("no error for a line without ns/op")
	}
}
