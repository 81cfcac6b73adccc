package soak

import (
	"fmt"
	"strings"
	"time"
)

// Markdown renders the report: the run's circumstances, the verdict, and
// one table per phase with a column per gateway.
func Markdown(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s (%s), %s, on: %s.\n\n", r.Date.UTC().Format("2006-01-02 15:04 MST"), r.Elapsed.Round(time.Second), r.Revision, strings.Join(r.Machine, "; "))
	fmt.Fprintf(&b, "Command: `%s`. The machine is shared with other developers' builds and tests while it runs, and the load generators run on the same two cores as the gateways: the load averages before and after each phase say how busy it was, and every latency below carries that noise.\n\n", r.Command)
	if failures := r.Failures(); len(failures) > 0 {
		b.WriteString("**Result: FAIL**\n\n")
		for _, f := range failures {
			b.WriteString("- " + f + "\n")
		}
		b.WriteString("\n")
	} else {
		b.WriteString("**Result: PASS** — every check below held.\n\n")
	}
	if len(r.Soaks) > 0 {
		soakTable(&b, r.Soaks)
	}
	if len(r.Faults) > 0 {
		faultTable(&b, r.Faults)
	}
	for _, d := range r.Delivery {
		deliveryTable(&b, d)
	}
	return b.String()
}

// table writes rows with a label column and one column per gateway.
type table struct {
	b    *strings.Builder
	cols int
}

func newTable(b *strings.Builder, gateways []string) table {
	b.WriteString("| | " + strings.Join(gateways, " | ") + " |\n|---" + strings.Repeat("|---", len(gateways)) + "|\n")
	return table{b: b, cols: len(gateways)}
}

func (t table) row(label string, cells ...string) {
	t.b.WriteString("| " + label + " | " + strings.Join(cells, " | ") + " |\n")
}

func verdict(failures []string) string {
	if len(failures) == 0 {
		return "pass"
	}
	return "**FAIL**"
}

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(100 * time.Millisecond).String()
}

func pct(p Percentiles) string {
	return fmt.Sprintf("%s / %s / %s / %s", ms(p.P50), ms(p.P99), ms(p.P999), ms(p.Max))
}

func examples(b *strings.Builder, title string, e *Examples) {
	if e.Count == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s (%d; the first %d):\n", title, e.Count, len(e.First))
	for _, x := range e.First {
		b.WriteString("- `" + x + "`\n")
	}
}

func soakTable(b *strings.Builder, soaks []*SoakResult) {
	b.WriteString("### Soak at a fixed rate, with changes under load\n\n")
	var names []string
	for _, s := range soaks {
		names = append(names, s.Gateway)
	}
	t := newTable(b, names)
	cells := func(f func(s *SoakResult) string) []string {
		out := make([]string, len(soaks))
		for i, s := range soaks {
			out[i] = f(s)
		}
		return out
	}
	t.row("offered rate × duration, connections", cells(func(s *SoakResult) string {
		return fmt.Sprintf("%.0f/s × %s, %d", s.Rate, s.Duration, s.Connections)
	})...)
	t.row("load average before → after (1, 5, 15 min)", cells(func(s *SoakResult) string { return s.LoadBefore + " → " + s.LoadAfter })...)
	t.row("machine: latest wake-up of a 5 ms sleep", cells(func(s *SoakResult) string { return ms(s.MaxLag) + " late" })...)
	t.row("callbacks answered / scheduled", cells(func(s *SoakResult) string {
		return fmt.Sprintf("%d / %d", s.Client.Completed, s.Client.Scheduled)
	})...)
	t.row("failed (of which sent during a reload or within 0.5 s after it), never sent, not 200", cells(func(s *SoakResult) string {
		return fmt.Sprintf("%d (%d), %d, %d", s.Client.Errors, s.FailedAtReload, s.Client.Dropped, s.Client.NonOK)
	})...)
	t.row("wrong answers", cells(func(s *SoakResult) string { return fmt.Sprint(s.Wrong.Count) })...)
	t.row("latency p50 / p99 / p99.9 / max, from the scheduled send", cells(func(s *SoakResult) string { return pct(s.Client.Latency) })...)
	t.row("list file versions (one every …, longest write)", cells(func(s *SoakResult) string {
		return fmt.Sprintf("%d (%s, %s)", s.ListVersions, ms(s.ListEvery), ms(s.ListWriteMax))
	})...)
	t.row("`listReloadInterval`, grace", cells(func(s *SoakResult) string { return ms(s.ListReload) + ", " + ms(s.ListGrace) })...)
	t.row("probe answers: all, decisive, older than `listReloadInterval` allows (by at most)", cells(func(s *SoakResult) string {
		return fmt.Sprintf("%d, %d, %d (%s)", s.Probes, s.Decisive, s.Graced, ms(s.MaxStale))
	})...)
	t.row("answers older than that allows (beyond the allowance)", cells(func(s *SoakResult) string { return fmt.Sprint(s.ListMismatches.Count) })...)
	t.row("configuration reloads (one every …), new engines, longest", cells(func(s *SoakResult) string {
		if s.ReloadEvery == 0 {
			return "off"
		}
		return fmt.Sprintf("%d (%s), %d, %s", s.Reloads, ms(s.ReloadEvery), s.Epochs, ms(s.ReloadMax))
	})...)
	t.row("answers matching no configuration in force; failed reloads", cells(func(s *SoakResult) string {
		return fmt.Sprintf("%d; %d", s.EpochMismatches.Count, s.ReloadErrors.Count)
	})...)
	t.row("goroutines idle before → after (under load, early → late)", cells(func(s *SoakResult) string {
		m := s.Memory
		return fmt.Sprintf("%d → %d (%d → %d)", m.IdleBefore.Goroutines, m.IdleAfter.Goroutines, m.LoadStart.Goroutines, m.LoadEnd.Goroutines)
	})...)
	t.row("RSS idle before; under load early → late; idle after", cells(func(s *SoakResult) string {
		m := s.Memory
		return fmt.Sprintf("%s; %s → %s; %s", MiB(m.IdleBefore.RSS), MiB(m.LoadStart.RSS), MiB(m.LoadEnd.RSS), MiB(m.IdleAfter.RSS))
	})...)
	t.row("verdict", cells(func(s *SoakResult) string { return verdict(s.Failures()) })...)
	for _, s := range soaks {
		examples(b, s.Gateway+": callbacks without an answer", &s.Failed)
		examples(b, s.Gateway+": wrong answers", &s.Wrong)
		examples(b, s.Gateway+": list mismatches", &s.ListMismatches)
		examples(b, s.Gateway+": configuration mismatches", &s.EpochMismatches)
		examples(b, s.Gateway+": failed reloads", &s.ReloadErrors)
		for _, f := range s.Memory.Failures() {
			b.WriteString("\n" + s.Gateway + ": " + f + "\n")
		}
	}
	b.WriteString("\n")
}

func faultTable(b *strings.Builder, faults []*FaultResult) {
	b.WriteString("### Upstream faults under load\n\n")
	var names []string
	for _, f := range faults {
		names = append(names, f.Gateway)
	}
	t := newTable(b, names)
	cells := func(fn func(f *FaultResult) string) []string {
		out := make([]string, len(faults))
		for i, f := range faults {
			out[i] = fn(f)
		}
		return out
	}
	t.row("offered rate × duration, connections", cells(func(f *FaultResult) string {
		return fmt.Sprintf("%.0f/s × %s, %d", f.Rate, f.Duration, f.Connections)
	})...)
	t.row("load average before → after", cells(func(f *FaultResult) string { return f.LoadBefore + " → " + f.LoadAfter })...)
	t.row("machine: latest wake-up of a 5 ms sleep", cells(func(f *FaultResult) string { return ms(f.MaxLag) + " late" })...)
	t.row("business service killed, restarted, frozen", cells(func(f *FaultResult) string {
		return fmt.Sprintf("%d, %d, %d times", f.Kills, f.Restarts, f.Freezes)
	})...)
	t.row("callbacks answered / scheduled", cells(func(f *FaultResult) string {
		return fmt.Sprintf("%d / %d", f.Client.Completed, f.Client.Scheduled)
	})...)
	t.row("failed, never sent, not 200; wrong answers", cells(func(f *FaultResult) string {
		return fmt.Sprintf("%d, %d, %d; %d", f.Client.Errors, f.Client.Dropped, f.Client.NonOK, f.Wrong.Count)
	})...)
	t.row("decided by the service, fallbacks", cells(func(f *FaultResult) string { return fmt.Sprintf("%d, %d", f.Upstream, f.Fallback) })...)
	t.row("forward deadline", cells(func(f *FaultResult) string { return ms(f.Deadline) })...)
	t.row("latency p50 / p99 / p99.9 / max, send → answer", cells(func(f *FaultResult) string { return pct(f.Latency) })...)
	t.row("fallbacks only", cells(func(f *FaultResult) string { return pct(f.FallbackLatency) })...)
	t.row("answers after the deadline (by at most); after the platform's budget", cells(func(f *FaultResult) string {
		over := time.Duration(0)
		if f.Latency.Max > f.Deadline {
			over = f.Latency.Max - f.Deadline
		}
		return fmt.Sprintf("%d (%s); %d", f.OverDeadline, ms(over), f.OverBudget)
	})...)
	t.row("verdict", cells(func(f *FaultResult) string { return verdict(f.Failures()) })...)
	for _, f := range faults {
		examples(b, f.Gateway+": callbacks without an answer", &f.Failed)
		examples(b, f.Gateway+": wrong answers", &f.Wrong)
		examples(b, f.Gateway+": failed fault injections", &f.FaultErrors)
	}
	b.WriteString("\n")
}

func deliveryTable(b *strings.Builder, d *DeliveryResult) {
	b.WriteString("### Durable delivery while the service flaps and the gateway restarts\n\n")
	t := newTable(b, []string{d.Gateway})
	t.row("after-callbacks (both platforms, groups), rate", fmt.Sprintf("%d (%d groups), %.0f/s", d.Callbacks, d.Groups, d.Rate))
	t.row("load average before → after", d.LoadBefore+" → "+d.LoadAfter)
	t.row("delivery service down (refused or 503), down/up", fmt.Sprintf("%d times, %s / %s", d.Flaps, d.FlapDown, d.FlapUp))
	t.row("gateway restart", fmt.Sprintf("%s after %d callbacks, down %s", d.RestartSignal, d.RestartAfter, ms(d.RestartGap)))
	t.row("`retryMin`, `retryMax`", ms(d.RetryMin)+", "+ms(d.RetryMax))
	t.row("acknowledged (sent), re-sends by the platform", fmt.Sprintf("%d, %d", d.Acked, d.Resent))
	t.row("delivered, lost", fmt.Sprintf("%d, %d", d.Delivered, d.Lost))
	t.row("duplicate deliveries (deduplicated by the service), attempts", fmt.Sprintf("%d, %d", d.Duplicates, d.Attempts))
	t.row("delivery latency p50 / p99 / p99.9 / max, arrival → accepted", pct(d.Latency))
	t.row("sending took, then delivery drained in", d.SendTime.Round(100*time.Millisecond).String()+", "+d.DrainTime.Round(100*time.Millisecond).String())
	t.row("wrong answers", fmt.Sprint(d.Wrong.Count))
	t.row("verdict", verdict(d.Failures()))
	examples(b, d.Gateway+": wrong answers", &d.Wrong)
	examples(b, d.Gateway+": errors", &d.Errors)
	b.WriteString("\n")
}
