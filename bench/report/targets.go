package report

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// RatioTarget compares one setup with another on every workload, using the
// medians of the same run.
type RatioTarget struct {
	Label string
	// Num and Den are setup IDs; the checked value is Num/Den.
	Num, Den string
	// Metric is "rps" (throughput), "p99" (99th percentile latency) or
	// "cpu" (server CPU time per request).
	Metric string
	// Limit bounds the ratio: from below when AtLeast, else from above.
	Limit   float64
	AtLeast bool
}

// RatioTargets are the closed-loop (throughput) targets of the benchmark
// issue. Closed-loop p99 is a queueing figure at saturation and swings
// between runs, so the latency targets are on the open-loop runs instead
// (LatencyTargets).
var RatioTargets = []RatioTarget{
	{Label: "C ≥ 0.85 × B throughput", Num: "C", Den: "B", Metric: "rps", Limit: 0.85, AtLeast: true},
	{Label: "C ≥ 2 × D throughput", Num: "C", Den: "D", Metric: "rps", Limit: 2, AtLeast: true},
	{Label: "T1 ≥ 0.8 × T0 throughput", Num: "T1", Den: "T0", Metric: "rps", Limit: 0.8, AtLeast: true},
	{Label: "T3 ≥ 0.8 × T0 throughput", Num: "T3", Den: "T0", Metric: "rps", Limit: 0.8, AtLeast: true},
}

// LatencyTarget bounds Num's open-loop p99 by Limit × Den's p99, both
// driven at the same fixed rate (open-loop point Point).
type LatencyTarget struct {
	Label    string
	Point    string
	Num, Den string
	Limit    float64
}

// LatencyTargets are the p99 targets, on open-loop runs at 50% and 80% of
// the capacity of the setup each pair is compared with: imgate answering
// (C) against the gateway's static reply (B), imgate forwarding (E)
// against the status quo proxy (D), and the WASM plugin answering in
// Traefik (T3) against Traefik proxying to a static upstream (T0), at
// shares of T3's capacity (the slower side's, which both sustain).
var LatencyTargets = []LatencyTarget{
	{Label: "C p99 ≤ 1.2 × B p99 at 50% of B's capacity", Point: "B50", Num: "C", Den: "B", Limit: 1.2},
	{Label: "C p99 ≤ 1.2 × B p99 at 80% of B's capacity", Point: "B80", Num: "C", Den: "B", Limit: 1.2},
	{Label: "E p99 ≤ 1.15 × D p99 at 50% of D's capacity", Point: "D50", Num: "E", Den: "D", Limit: 1.15},
	{Label: "E p99 ≤ 1.15 × D p99 at 80% of D's capacity", Point: "D80", Num: "E", Den: "D", Limit: 1.15},
	{Label: "T3 p99 ≤ 1.2 × T0 p99 at 50% of T3's capacity", Point: "T3-50", Num: "T3", Den: "T0", Limit: 1.2},
	{Label: "T3 p99 ≤ 1.2 × T0 p99 at 80% of T3's capacity", Point: "T3-80", Num: "T3", Den: "T0", Limit: 1.2},
}

// P99Ratio is Num's open-loop p99 over Den's at one point on one
// workload, both driven at the same fixed rate.
type P99Ratio struct {
	Value    float64
	Num, Den time.Duration
	// Saturated names the sides that fell behind the rate: they measured
	// their backlog, not their latency, so the ratio decides nothing.
	Saturated []string
}

// CompareP99 returns num's p99 over den's at point on workload; false
// when either was not measured there.
func CompareP99(sums map[OpenLoopKey]OpenLoopSummary, point, num, den, workload string) (P99Ratio, bool) {
	n, okNum := sums[OpenLoopKey{point, num, workload}]
	d, okDen := sums[OpenLoopKey{point, den, workload}]
	if !okNum || !okDen || d.P99 == 0 {
		return P99Ratio{}, false
	}
	r := P99Ratio{Value: float64(n.P99) / float64(d.P99), Num: n.P99, Den: d.P99}
	for _, side := range []struct {
		id string
		s  OpenLoopSummary
	}{{num, n}, {den, d}} {
		if side.s.Saturated > 0 {
			r.Saturated = append(r.Saturated, side.id)
		}
	}
	return r, true
}

// Text shows the ratio with both p99s and, when a side saturated, that it
// gives no verdict; limit is the bound shown, empty for none.
func (r P99Ratio) Text(limit string) string {
	text := fmt.Sprintf("%.2f", r.Value)
	if limit != "" {
		text += " (" + limit + ")"
	}
	text += fmt.Sprintf(": %s vs %s", formatLatency(r.Num), formatLatency(r.Den))
	if len(r.Saturated) > 0 {
		text += ", " + strings.Join(r.Saturated, " and ") + " saturated: no verdict"
	}
	return text
}

// CheckLatency evaluates every latency target on every workload given.
func CheckLatency(sums map[OpenLoopKey]OpenLoopSummary, workloads []Item, targets []LatencyTarget) []Check {
	var out []Check
	for _, t := range targets {
		for _, w := range workloads {
			c := Check{Target: t.Label, Subject: w.ID, Limit: t.Limit}
			r, ok := CompareP99(sums, t.Point, t.Num, t.Den, w.ID)
			if !ok {
				c.Missing, c.Text = true, "not measured"
				out = append(out, c)
				continue
			}
			c.Value = r.Value
			c.Met = r.Value <= t.Limit && len(r.Saturated) == 0
			c.Text = r.Text(fmt.Sprintf("≤ %.2f", t.Limit))
			out = append(out, c)
		}
	}
	return out
}

// GoTarget bounds the median of in-process Go benchmarks whose
// "<package> <name>" matches Match. A zero MaxNs or a negative MaxAllocs
// leaves that bound out.
type GoTarget struct {
	Label     string  `json:"label"`
	Match     string  `json:"match"`
	MaxNs     float64 `json:"maxNs"`
	MaxAllocs float64 `json:"maxAllocs"`
}

// GoTargets are the in-process targets of the benchmark issue.
var GoTargets = []GoTarget{
	{Label: "core before-join decision < 2 µs and < 10 allocs", Match: `(?i)/core Benchmark\S*(before-?apply-?join|before-?join|apply-?join)`, MaxNs: 2000, MaxAllocs: 10},
	{Label: "interpreted plugin < 50 µs per callback", Match: `BenchmarkPluginInterpreted`, MaxNs: 50000, MaxAllocs: -1},
}

// Check is one target evaluated on one workload or benchmark.
type Check struct {
	Target string
	// Subject is the workload or benchmark the value belongs to.
	Subject string
	Value   float64
	Limit   float64
	// Text shows the value against the limit, e.g. "0.91 (≥ 0.85)".
	Text string
	Met  bool
	// Missing is true when a setup or benchmark needed was not measured.
	Missing bool
}

func ratioOf(metric string, s Summary) float64 {
	switch metric {
	case "p99":
		return float64(s.P99)
	case "cpu":
		return s.CPU
	}
	return s.RPS
}

// CheckRatios evaluates every ratio target on every workload, in order.
func CheckRatios(sums map[string]map[string]Summary, workloads []Item, targets []RatioTarget) []Check {
	var out []Check
	for _, t := range targets {
		for _, w := range workloads {
			c := Check{Target: t.Label, Subject: w.ID, Limit: t.Limit}
			num, okNum := sums[t.Num][w.ID]
			den, okDen := sums[t.Den][w.ID]
			if !okNum || !okDen || ratioOf(t.Metric, den) == 0 {
				c.Missing, c.Text = true, "not measured"
				out = append(out, c)
				continue
			}
			c.Value = ratioOf(t.Metric, num) / ratioOf(t.Metric, den)
			op := "≤"
			c.Met = c.Value <= t.Limit
			if t.AtLeast {
				op = "≥"
				c.Met = c.Value >= t.Limit
			}
			c.Text = fmt.Sprintf("%.2f (%s %.2f)", c.Value, op, t.Limit)
			out = append(out, c)
		}
	}
	return out
}

// CheckGoBench evaluates the Go targets on every matching benchmark; a
// target with no matching benchmark yields one Missing check.
func CheckGoBench(sums []GoBenchSummary, targets []GoTarget) ([]Check, error) {
	var out []Check
	for _, t := range targets {
		re, err := regexp.Compile(t.Match)
		if err != nil {
			return nil, fmt.Errorf("go target %q: %w", t.Label, err)
		}
		found := false
		for _, s := range sums {
			if !re.MatchString(s.Package + " " + s.Name) {
				continue
			}
			found = true
			c := Check{Target: t.Label, Subject: s.Name, Value: s.NsPerOp, Limit: t.MaxNs, Met: true}
			c.Text = formatNs(s.NsPerOp)
			if t.MaxNs > 0 {
				c.Met = s.NsPerOp < t.MaxNs
				c.Text += fmt.Sprintf(" (< %s)", formatNs(t.MaxNs))
			}
			if t.MaxAllocs >= 0 {
				c.Met = c.Met && s.AllocsPerOp < t.MaxAllocs
				c.Text += fmt.Sprintf(", %.0f allocs (< %.0f)", s.AllocsPerOp, t.MaxAllocs)
			}
			out = append(out, c)
		}
		if !found {
			out = append(out, Check{Target: t.Label, Subject: "(no benchmark matched " + t.Match + ")", Missing: true, Text: "not measured"})
		}
	}
	return out, nil
}

// formatNs prints a per-operation time with a readable unit.
func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// formatLatency prints a wrk latency in µs or ms.
func formatLatency(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d/time.Microsecond)
}
