// Package report turns raw benchmark output into the published results: it
// parses wrk runs (the IMGATE-RESULT line printed by bench/lua/callbacks.lua)
// and `go test -bench` lines, reduces repeats to medians, checks the
// performance targets of the benchmark issue, and writes bench/RESULTS.md and
// its chart.
package report
