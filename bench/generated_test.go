package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/bench/report"
)

// committedResults reads bench/results.json, the raw results of the last
// published run.
func committedResults(t *testing.T) *report.Results {
	t.Helper()
	raw, err := os.ReadFile("results.json")
	if err != nil {
		t.Fatal(err)
	}
	var res report.Results
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	return &res
}

// TestPerformanceDocIsGenerated: the benchmark numbers of the performance
// doc are exactly what the harness renders from the committed results, so
// nobody edits them by hand and they never drift from RESULTS.md.
func TestPerformanceDocIsGenerated(t *testing.T) {
	res := committedResults(t)
	section, err := report.DocSection(res, report.PerformanceDoc)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", report.PerformanceDoc))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	want, err := report.ReplaceSection(doc, section)
	if err != nil {
		t.Fatalf("%s: %v", report.PerformanceDoc, err)
	}
	if want != doc {
		t.Fatalf("the benchmark section of %s differs from what bench/results.json renders; regenerate it with `bench/run.sh -from bench/results.json`, never by hand.\nwant:\n%s", report.PerformanceDoc, section)
	}
}

// TestResultsAreGenerated: RESULTS.md is exactly what the harness renders
// from the committed results.json.
func TestResultsAreGenerated(t *testing.T) {
	res := committedResults(t)
	var b strings.Builder
	if err := report.Markdown(&b, res, "results.png"); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != b.String() {
		t.Fatal("bench/RESULTS.md differs from what bench/results.json renders; regenerate it with `bench/run.sh -from bench/results.json`, never by hand")
	}
}
