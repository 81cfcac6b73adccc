package soak

import (
	"strings"
	"testing"
	"time"
)

// passingReport is a run in which every check holds.
func passingReport() *Report {
	mem := Memory{
		IdleBefore: Sample{Goroutines: 10, RSS: 50 << 20}, LoadStart: Sample{Goroutines: 80, RSS: 60 << 20},
		LoadEnd: Sample{Goroutines: 78, RSS: 62 << 20}, IdleAfter: Sample{Goroutines: 11, RSS: 62 << 20},
	}
	s := &SoakResult{
		Gateway: "Caddy + imgate", Rate: 2000, Duration: time.Minute, Connections: 64,
		Client: Client{Scheduled: 120000, Completed: 120000, Latency: Percentiles{P50: time.Millisecond}},
		Probes: 60000, Decisive: 30000, ListVersions: 600, ListEvery: 100 * time.Millisecond,
		ListReload: 20 * time.Millisecond, ReloadEvery: time.Second, Reloads: 60, Epochs: 30, Memory: mem,
	}
	f := &FaultResult{
		Gateway: "Caddy + imgate", Rate: 200, Duration: 20 * time.Second, Deadline: 250 * time.Millisecond,
		Client: Client{Scheduled: 4000, Completed: 4000}, Upstream: 2500, Fallback: 1500, Kills: 2, Restarts: 2, Freezes: 2,
	}
	d := &DeliveryResult{Gateway: "Caddy + imgate", Callbacks: 10000, Acked: 10000, Delivered: 10000, Flaps: 5, Restarted: true, RestartSignal: "kill"}
	return &Report{Date: time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC), Revision: "revision abc", Machine: []string{"2 CPUs"}, Command: "bench/soak.sh",
		Soaks: []*SoakResult{s}, Faults: []*FaultResult{f}, Delivery: []*DeliveryResult{d}}
}

func TestReportPasses(t *testing.T) {
	r := passingReport()
	if f := r.Failures(); len(f) != 0 {
		t.Fatalf("failures %v", f)
	}
	md := Markdown(r)
	for _, want := range []string{"**Result: PASS**", "| callbacks answered / scheduled | 120000 / 120000 |", "| delivered, lost | 10000, 0 |", "| business service killed, restarted, frozen | 2, 2, 2 times |", "shared with other developers"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

// TestReportFailures: each broken check fails the run and is named.
func TestReportFailures(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(r *Report)
		want   string
	}{
		{"socket errors", func(r *Report) { r.Soaks[0].Client.Errors = 3 }, "3 callbacks failed"},
		{"wrong answer", func(r *Report) { r.Soaks[0].Wrong.Add("x") }, "1 wrong answers"},
		{"list mismatch", func(r *Report) { r.Soaks[0].ListMismatches.Add("x") }, "matched no list version"},
		{"epoch mismatch", func(r *Report) { r.Soaks[0].EpochMismatches.Add("x") }, "matched no configuration"},
		{"vacuous list check", func(r *Report) { r.Soaks[0].Decisive = 0 }, "proved nothing"},
		{"goroutine leak", func(r *Report) { r.Soaks[0].Memory.IdleAfter.Goroutines = 10 + GoroutineMargin + 1 }, "goroutines grew"},
		{"memory growth", func(r *Report) { r.Soaks[0].Memory.LoadEnd.RSS = 200 << 20 }, "resident memory grew"},
		{"no reloads", func(r *Report) { r.Soaks[0].Reloads = 0 }, "no reload"},
		{"late fallback", func(r *Report) { r.Faults[0].OverBudget = 1 }, "after the platform's budget"},
		{"no freeze", func(r *Report) { r.Faults[0].Freezes = 0 }, "frozen 0 times"},
		{"lost delivery", func(r *Report) { r.Delivery[0].Lost = 2 }, "2 acknowledged callbacks never delivered"},
		{"unacknowledged", func(r *Report) { r.Delivery[0].Acked = 9999 }, "1 of 10000 callbacks never acknowledged"},
		{"no restart", func(r *Report) { r.Delivery[0].Restarted = false }, "did not restart"},
		{"phase error", func(r *Report) { r.Errors = append(r.Errors, "traefik: starting") }, "traefik: starting"},
	}
	for _, c := range cases {
		r := passingReport()
		c.break_(r)
		failures := strings.Join(r.Failures(), "\n")
		if !strings.Contains(failures, c.want) {
			t.Errorf("%s: failures %q lack %q", c.name, failures, c.want)
		}
		if md := Markdown(r); !strings.Contains(md, "**Result: FAIL**") || !strings.Contains(md, c.want) {
			t.Errorf("%s: report does not fail with %q", c.name, c.want)
		}
	}
	r := passingReport()
	r.Soaks[0].ReloadEvery, r.Soaks[0].Reloads = 0, 0
	if f := r.Failures(); len(f) != 0 {
		t.Errorf("reloads switched off: %v", f)
	}
}

func TestReplaceSection(t *testing.T) {
	page := "# Reliability\n\nintro\n\n" + DocBegin + "\nold figures\n" + DocEnd + "\n\noutro\n"
	got, err := ReplaceSection(page, "new figures\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Reliability\n\nintro\n\n" + DocBegin + "\nnew figures\n" + DocEnd + "\n\noutro\n"; got != want {
		t.Errorf("got %q", got)
	}
	if _, err := ReplaceSection("no markers", "x"); err == nil {
		t.Error("a page without markers was accepted")
	}
}
