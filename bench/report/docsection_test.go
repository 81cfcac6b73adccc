package report

import (
	"errors"
	"strings"
	"testing"
)

func TestDocSection(t *testing.T) {
	got, err := DocSection(fixture(), "docs/performance.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Numbers from the run of 2026-01-02 (8m0s), **medians of 3 interleaved repeats**, on: 2 CPUs.",
		"Machine load around the repeats: 1-minute load average 1.50–2.50, 2 CPUs online.",
		"[bench/RESULTS.md](../bench/RESULTS.md)",
		"Measured revision: commit `0123456789ab`",
		"| F | setup F |",
		"| workload | A | B | C | D | E | F |",
		"| tencent-join | 40000 | 30000 | 27000 | 12000 | 11000 | 36000 |",
		"served 2.25× the callbacks of the status quo (D) at 0.44× its server CPU per callback, and 0.90× the throughput of Caddy's static reply (B). Against imgate's engine without a gateway (F), the deciding ceiling, C reached 0.75× its throughput.",
		"| C ≥ 0.85 × B throughput | 0.90 (≥ 0.85) | 0.90 (≥ 0.85) | yes |",
		"| mix-deny10 | 80% of B's capacity | 24000 | A 500 µs · B 800 µs · C 1.20 ms · F 600 µs |",
		"| mix-deny10 | 80% of D's capacity | 9600 | D 2.00 ms · E 90.0 ms (saturated) |",
		"| C p99 ≤ 1.2 × B p99 at 80% of B's capacity | **1.50 (≤ 1.20): 1.20 ms vs 800 µs** | NO |",
		"| interpreted plugin < 50 µs per callback | BenchmarkPluginInterpreted | 60.00 µs (< 50.00 µs) | NO |",
		"The same plugin compiled into the binary (`BenchmarkPluginCompiled`) takes 2.40 µs–6.70 µs per callback.",
		"| workload | A | B | C | D | E | F | T0 | T1 | T2 |",
		"| T1 ≥ 0.8 × T0 throughput | **0.40 (≥ 0.80)** | **0.40 (≥ 0.80)** | NO |",
		"In Traefik: Imgate answering from rules in Traefik (T1) reached 0.40× the throughput of Traefik proxying to a static upstream (T0), at 2.50× its server CPU per callback; its open-loop p99 on mix-deny10 was 1.50× T0's (900 µs vs 600 µs) at 50% of T1's capacity and 2.00× T0's (2.00 ms vs 1.00 ms) at 80% of T1's capacity.",
		"Imgate verifying and forwarding in Traefik (T2) reached 0.50× the throughput of the status quo (D: Caddy proxying to the deciding service), at 2.00× its server CPU per callback; its open-loop p99 on mix-deny10 was 1.50× D's (1.50 ms vs 1.00 ms) at 50% of T2's capacity and 1.50× D's (3.00 ms vs 2.00 ms) at 80% of T2's capacity.",
		"| mix-deny10 | 80% of T1's capacity | 6400 | T0 1.00 ms · T1 2.00 ms · T3 1.10 ms |",
		"| workload | A | B | C | D | E | F | T0 | T1 | T2 | T3 |",
		"| T3 ≥ 0.8 × T0 throughput | 0.90 (≥ 0.80) | 0.90 (≥ 0.80) | yes |",
		"| T3 p99 ≤ 1.2 × T0 p99 at 80% of T3's capacity | **1.30 (≤ 1.20): 1.56 ms vs 1.20 ms** | NO |",
		"Imgate's WASM plugin answering from rules in Traefik (T3) reached 0.90× the throughput of Traefik proxying to a static upstream (T0), at 1.11× its server CPU per callback; its open-loop p99 on mix-deny10 was 1.10× T0's (770 µs vs 700 µs) at 50% of T3's capacity and 1.30× T0's (1.56 ms vs 1.20 ms) at 80% of T3's capacity.",
		"Imgate's WASM plugin answering from rules in Traefik (T3) reached 2.25× the throughput of the interpreted plugin answering from the same rules (T1), at 0.44× its server CPU per callback; its open-loop p99 on mix-deny10 was 0.72× T1's (650 µs vs 900 µs) at 50% of T1's capacity and 0.55× T1's (1.10 ms vs 2.00 ms) at 80% of T1's capacity.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, notMeasured) {
		t.Errorf("a complete run's section says %q", notMeasured)
	}
}

func TestDocSectionOfAnOlderRun(t *testing.T) {
	got, err := DocSection(legacyFixture(), "README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[bench/RESULTS.md](bench/RESULTS.md)",
		"not recorded reliably in this run",
		"Machine load during the repeats: not measured in this run.",
		"served 2.25× the callbacks of the status quo (D)",
		"Imgate's engine without a gateway (F), the deciding ceiling: not measured in this run.",
		"Latency at fixed rates (open loop): not measured in this run; its targets:",
		"| C p99 ≤ 1.2 × B p99 at 80% of B's capacity | not measured in this run |",
		"| T1 ≥ 0.8 × T0 throughput | not measured | not measured | NO |",
		"In Traefik (T0, T1, T2, T3): not measured in this run.",
		"| T3 ≥ 0.8 × T0 throughput | not measured | not measured | NO |",
		"| T3 p99 ≤ 1.2 × T0 p99 at 50% of T3's capacity | not measured in this run |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("section lacks %q:\n%s", want, got)
		}
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# Doc\n\n## Performance\n\nintro\n\n" + DocBegin + "\nold numbers\n" + DocEnd + "\n\nafter\n"
	got, err := ReplaceSection(doc, "new numbers\n\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Doc\n\n## Performance\n\nintro\n\n" + DocBegin + "\nnew numbers\n" + DocEnd + "\n\nafter\n"; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	again, err := ReplaceSection(got, "new numbers")
	if err != nil || again != got {
		t.Fatalf("replacing with the same section changed the doc: %v", err)
	}
	for name, bad := range map[string]string{
		"no markers": "# Doc\n",
		"no end":     DocBegin + "\nx\n",
		"two begins": DocBegin + "\n" + DocBegin + "\n" + DocEnd + "\n",
		"two ends":   DocBegin + "\n" + DocEnd + "\n" + DocEnd + "\n",
	} {
		if _, err := ReplaceSection(bad, "x"); !errors.Is(err, ErrNoMarkers) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRelLink(t *testing.T) {
	for doc, want := range map[string]string{
		"README.md":             "bench/RESULTS.md",
		"docs/performance.md":   "../bench/RESULTS.md",
		"docs/a/performance.md": "../../bench/RESULTS.md",
	} {
		if got := relLink(doc, "bench/RESULTS.md"); got != want {
			t.Errorf("%s: %s, want %s", doc, got, want)
		}
	}
}
