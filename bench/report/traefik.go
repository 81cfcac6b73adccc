package report

import (
	"fmt"
	"sort"
	"strings"
)

// TraefikPair compares a Traefik setup with its baseline the way C is
// compared with B: closed-loop throughput and server CPU per request on
// every workload, and open-loop p99 at fixed rates where both ran. The
// rates are shares of the Traefik setup's own capacity, which its
// baseline sustains as well, so the p99 ratio is the latency imgate adds
// at a load it carries.
type TraefikPair struct {
	Num, Den string
	// NumIs and DenIs say what each side is, e.g. "imgate answering from
	// rules in Traefik (T1)".
	NumIs, DenIs string
	// Points are the open-loop points whose p99 are compared.
	Points []string
}

// TraefikPairs answer a Traefik user's first question, what the plugin
// costs: imgate answering from rules in Traefik (T1) against Traefik
// proxying to a static upstream (T0), the ratio of issue 13; imgate
// forwarding in Traefik (T2) against the status quo (D); the WASM plugin
// answering from rules (T3) against T0, and against the interpreted
// plugin (T1) at T1's rates, which both sustain.
var TraefikPairs = []TraefikPair{
	{Num: "T1", Den: "T0", NumIs: "imgate answering from rules in Traefik (T1)", DenIs: "Traefik proxying to a static upstream (T0)", Points: []string{"T1-50", "T1-80"}},
	{Num: "T2", Den: "D", NumIs: "imgate verifying and forwarding in Traefik (T2)", DenIs: "the status quo (D: Caddy proxying to the deciding service)", Points: []string{"T2-50", "T2-80"}},
	{Num: "T3", Den: "T0", NumIs: "imgate's WASM plugin answering from rules in Traefik (T3)", DenIs: "Traefik proxying to a static upstream (T0)", Points: []string{"T3-50", "T3-80"}},
	{Num: "T3", Den: "T1", NumIs: "imgate's WASM plugin answering from rules in Traefik (T3)", DenIs: "the interpreted plugin answering from the same rules (T1)", Points: []string{"T1-50", "T1-80"}},
}

// traefikSetups are the Traefik setups the pairs name, sorted.
func traefikSetups() []string {
	var ids []string
	seen := map[string]bool{}
	for _, p := range TraefikPairs {
		for _, id := range []string{p.Num, p.Den} {
			if !seen[id] && strings.HasPrefix(id, "T") {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// measuredTraefik reports whether the run measured any Traefik setup.
func measuredTraefik(r *Results) bool {
	for _, s := range r.Setups {
		for _, id := range traefikSetups() {
			if s.ID == id {
				return true
			}
		}
	}
	return false
}

// pointLabel describes point id as the run defined it, e.g. "80% of T0's
// capacity".
func pointLabel(r *Results, id string) string {
	for _, pt := range r.OpenLoopPoints {
		if pt.ID == id {
			return pt.Label()
		}
	}
	return id
}

// p99Cell is Num/Den's p99 at point on workload for a table, "–" when
// either was not measured there.
func p99Cell(sums map[OpenLoopKey]OpenLoopSummary, point, num, den, workload string) string {
	r, ok := CompareP99(sums, point, num, den, workload)
	if !ok {
		return "–"
	}
	return r.Text("")
}

// writeTraefik writes the RESULTS.md section on the Traefik setups: per
// pair, the closed-loop ratios on every workload and the open-loop p99
// ratios where both setups ran at the same rate.
func writeTraefik(p func(string, ...interface{}), r *Results, sums map[string]map[string]Summary, olSums map[OpenLoopKey]OpenLoopSummary) {
	if !measuredTraefik(r) {
		p("Traefik setups (%s): %s.\n\n", strings.Join(traefikSetups(), ", "), notMeasured)
		return
	}
	p("Medians of the same run: closed-loop throughput and server CPU per request on every workload, and open-loop p99 at fixed rates (\"–\" where the workload was not run open loop); a ratio where either side saturated gives no verdict.\n\n")
	for _, pair := range TraefikPairs {
		p("**%s/%s**: %s against %s.\n\n", pair.Num, pair.Den, pair.NumIs, pair.DenIs)
		p("| Workload | req/s | server CPU/req |")
		for _, pt := range pair.Points {
			p(" p99 at %s |", pointLabel(r, pt))
		}
		p("\n|---|---|---|%s\n", strings.Repeat("---|", len(pair.Points)))
		for _, w := range r.Workloads {
			p("| %s | %s | %s |", w.ID, ratioCell(sums, pair.Num, pair.Den, w.ID, "rps"), ratioCell(sums, pair.Num, pair.Den, w.ID, "cpu"))
			for _, pt := range pair.Points {
				p(" %s |", p99Cell(olSums, pt, pair.Num, pair.Den, w.ID))
			}
			p("\n")
		}
		p("\n")
	}
}

// traefikSentence states, for the performance doc, what the plugin costs
// in Traefik: throughput and CPU ratios as ranges over the workloads, p99
// ratios at every open-loop point.
func traefikSentence(r *Results, sums map[string]map[string]Summary, olSums map[OpenLoopKey]OpenLoopSummary) string {
	if !measuredTraefik(r) {
		return fmt.Sprintf("In Traefik (%s): %s.", strings.Join(traefikSetups(), ", "), notMeasured)
	}
	var parts []string
	for _, pair := range TraefikPairs {
		text := fmt.Sprintf("%s reached %s the throughput of %s, at %s its server CPU per callback", upperFirst(pair.NumIs),
			ratioRange(sums, r.Workloads, pair.Num, pair.Den, "rps"), pair.DenIs, ratioRange(sums, r.Workloads, pair.Num, pair.Den, "cpu"))
		for _, w := range OpenLoopWorkloads(r) {
			var p99s []string
			for _, pt := range pair.Points {
				c, ok := CompareP99(olSums, pt, pair.Num, pair.Den, w.ID)
				if !ok {
					continue
				}
				cell := fmt.Sprintf("%.2f× %s's (%s vs %s) at %s", c.Value, pair.Den, formatLatency(c.Num), formatLatency(c.Den), pointLabel(r, pt))
				if len(c.Saturated) > 0 {
					cell += " (" + strings.Join(c.Saturated, " and ") + " saturated: no verdict)"
				}
				p99s = append(p99s, cell)
			}
			if len(p99s) > 0 {
				text += fmt.Sprintf("; its open-loop p99 on %s was %s", w.ID, strings.Join(p99s, " and "))
			}
		}
		parts = append(parts, text+".")
	}
	return "In Traefik: " + strings.Join(parts, " ")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// traefikLines are the open-loop p99 ratios of the Traefik pairs for the
// terminal.
func traefikLines(r *Results, olSums map[OpenLoopKey]OpenLoopSummary) []string {
	var out []string
	for _, pair := range TraefikPairs {
		for _, w := range OpenLoopWorkloads(r) {
			for _, pt := range pair.Points {
				if c, ok := CompareP99(olSums, pt, pair.Num, pair.Den, w.ID); ok {
					out = append(out, fmt.Sprintf("     %s/%s p99 at %s [%s]: %s", pair.Num, pair.Den, pointLabel(r, pt), w.ID, c.Text("")))
				}
			}
		}
	}
	return out
}
