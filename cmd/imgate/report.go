package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// report is everything check prints.
type report struct {
	Config        string          `json:"config"`
	Format        string          `json:"format"`
	AdaptWarnings []string        `json:"adaptWarnings,omitempty"`
	Handlers      []handlerReport `json:"handlers"`
	Cases         []caseResult    `json:"cases"`
	Summary       summary         `json:"summary"`
}

type handlerReport struct {
	Label    string   `json:"label"`
	Warnings []string `json:"warnings,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

type summary struct {
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Replayed int `json:"replayed"`
	Errors   int `json:"errors"`
}

func newReport(g *gateway, results []caseResult) *report {
	rep := &report{Config: g.file, Format: g.format, AdaptWarnings: g.adaptWarnings, Cases: results}
	for _, h := range g.handlers {
		rep.Handlers = append(rep.Handlers, handlerReport{Label: h.label, Warnings: h.warnings, Notes: h.notes})
	}
	for _, r := range results {
		switch r.Status {
		case statusPass:
			rep.Summary.Passed++
		case statusFail:
			rep.Summary.Failed++
		case statusReplay:
			rep.Summary.Replayed++
		default:
			rep.Summary.Errors++
		}
	}
	return rep
}

// exitCode is 2 when a case could not run, else 1 when one failed, else 0.
func (rep *report) exitCode() int {
	switch {
	case rep.Summary.Errors > 0:
		return exitUsage
	case rep.Summary.Failed > 0:
		return exitFail
	}
	return exitOK
}

func (rep *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeText prints the handlers found, one block per case and a summary.
func (rep *report) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "imgate check: %s (%s), %d imgate %s\n", rep.Config, rep.Format, len(rep.Handlers), plural(len(rep.Handlers), "handler", "handlers"))
	for _, aw := range rep.AdaptWarnings {
		fmt.Fprintf(&b, "  adapter warning: %s\n", aw)
	}
	for _, h := range rep.Handlers {
		fmt.Fprintf(&b, "  %s\n", h.Label)
		for _, warning := range h.Warnings {
			fmt.Fprintf(&b, "    warning: %s\n", warning)
		}
		for _, note := range h.Notes {
			fmt.Fprintf(&b, "    note: %s\n", note)
		}
	}
	b.WriteString("\n")
	for _, r := range rep.Cases {
		writeCase(&b, r)
	}
	s := rep.Summary
	fmt.Fprintf(&b, "%d passed, %d failed, %d replayed, %d %s (%d %s)\n", s.Passed, s.Failed, s.Replayed, s.Errors,
		plural(s.Errors, "error", "errors"), len(rep.Cases), plural(len(rep.Cases), "case", "cases"))
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCase(b *strings.Builder, r caseResult) {
	const indent = "       "
	fmt.Fprintf(b, "%-7s%s", strings.ToUpper(r.Status), r.Name)
	if r.Handler != "" {
		fmt.Fprintf(b, "  [%s]", r.Handler)
	}
	b.WriteString("\n")
	if r.Status == statusError {
		fmt.Fprintf(b, "%s%s\n\n", indent, r.Error)
		return
	}
	fmt.Fprintf(b, "%sresult   %s  rule %s  verified %s  HTTP %d\n", indent, r.Result, orDash(r.Rule), orDash(r.Verified), r.HTTPStatus)
	fmt.Fprintf(b, "%sreply    %s\n", indent, strings.TrimRight(r.Reply, "\n"))
	if len(r.Refused) > 0 {
		fmt.Fprintf(b, "%srefused  %s\n", indent, strings.Join(r.Refused, ", "))
	}
	if len(r.Shadow) > 0 {
		fmt.Fprintf(b, "%sshadow   %s\n", indent, strings.Join(r.Shadow, ", "))
	}
	if r.Upstream {
		fmt.Fprintf(b, "%supstream decided\n", indent)
	}
	if r.Reason != "" {
		fmt.Fprintf(b, "%sreason   %s\n", indent, r.Reason)
	}
	if len(r.Checked) > 0 {
		fmt.Fprintf(b, "%schecked  %s\n", indent, strings.Join(r.Checked, ", "))
	}
	for _, d := range r.Differences {
		fmt.Fprintf(b, "%s- %s\n", indent, strings.ReplaceAll(d, "\n", "\n"+indent+"  "))
	}
	b.WriteString("\n")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
