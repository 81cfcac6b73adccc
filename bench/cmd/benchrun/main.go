// Command benchrun is the imgate benchmark. It exports the tree to measure
// (HEAD, or with -dirty the working tree, whose diff's hash it records),
// builds Caddy with imgate, the bare and plain net/http servers, the status
// quo service, the open-loop client and the WASM plugin from that export,
// starts the setups on loopback (the Traefik ones with the real Traefik
// binary of -traefik and the export as its local plugin) and checks every reply. It then drives each setup with wrk on
// the same callback workloads (closed loop, interleaved, repeated: the
// throughput), drives them again at fixed rates below saturation (open
// loop: the latency), runs the in-process Go benchmarks from the same
// export, records the machine's load around every repeat, and writes
// bench/RESULTS.md, bench/results.png, bench/results.json and the numbers
// of the performance doc (report.PerformanceDoc). Run it through
// bench/run.sh, which installs wrk.
//
//	bench/run.sh            # full run, ~35 minutes
//	bench/run.sh -quick     # smoke run, 1–2 minutes, results in a temp dir
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/imgate/imgate/bench/report"
	"github.com/imgate/imgate/internal/traefikload"
)

type options struct {
	quick         bool
	dirty         bool
	repeats       int
	threads       int
	conns         int
	duration      time.Duration
	warmup        time.Duration
	openConns     int
	openDuration  time.Duration
	openWorkloads string
	goCount       int
	benchtime     string
	out           string
	doc           string
	portBase      int
	pprofDir      string
	traefik       string
	from          string
	skipGo        bool
	rerunGo       bool
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", os.Getenv("BENCH_QUICK") == "1", "smoke run: 1 repeat of 1s runs without warm-up, open loop on the mix only, Go benchmarks once; measures uncommitted changes too; results go to a temp dir unless -out is set (env BENCH_QUICK=1)")
	flag.BoolVar(&o.dirty, "dirty", false, "measure the working tree's uncommitted changes instead of refusing them (the diff's SHA-256 is recorded)")
	flag.IntVar(&o.repeats, "repeats", 3, "repeats of each phase's setup × workload matrix (medians reported)")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.conns, "c", 32, "wrk connections (keep-alive)")
	flag.DurationVar(&o.duration, "d", 6*time.Second, "measured duration of each wrk run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured wrk run before each measured one (whole seconds, 0 for none)")
	flag.IntVar(&o.openConns, "open-c", 64, "open-loop client connections (keep-alive)")
	flag.DurationVar(&o.openDuration, "open-d", 5*time.Second, "length of each open-loop fixed-rate run")
	flag.StringVar(&o.openWorkloads, "open-workloads", strings.Join(DefaultOpenLoopWorkloads, ","), "comma-separated workloads of the open-loop phase, \"all\" for every one, \"\" for none")
	flag.IntVar(&o.goCount, "go-count", 3, "go test -count for the in-process benchmarks")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the in-process benchmarks")
	flag.StringVar(&o.out, "out", "", "RESULTS.md path; results.png and results.json go next to it (default bench/RESULTS.md)")
	flag.StringVar(&o.doc, "doc", report.PerformanceDoc, "doc, relative to the repository, whose generated benchmark section is rewritten when the results go to bench/")
	flag.IntVar(&o.portBase, "port-base", 0, "fixed ports: the service on base, setups on base+1.., the static upstream on base+100, Caddy admin on base+101..; Traefik setups always take free ports (default: free ports)")
	flag.StringVar(&o.pprofDir, "pprof", "", "directory for CPU profiles of setups C, E and T1 taken during the first repeat (via Caddy's admin /debug/pprof, Traefik's api.debug)")
	flag.StringVar(&o.traefik, "traefik", os.Getenv("IMGATE_TRAEFIK"), "Traefik binary of the Traefik setups (bench/run.sh sets IMGATE_TRAEFIK from .ci/traefik-build.sh)")
	flag.StringVar(&o.from, "from", "", "re-render RESULTS.md, the chart and the doc section from this results.json without measuring")
	flag.BoolVar(&o.skipGo, "skip-go", false, "skip the in-process Go benchmarks")
	flag.BoolVar(&o.rerunGo, "rerun-go", false, "with -from: run the in-process Go benchmarks again, from the revision the results record, and replace them")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	repo, _, err := traefikload.RepoRoot()
	if err != nil {
		return err
	}
	if o.quick {
		o.repeats, o.duration, o.warmup, o.openDuration, o.goCount, o.benchtime = 1, time.Second, 0, time.Second, 1, "100ms"
		if o.out == "" {
			dir, err := os.MkdirTemp("", "imgate-bench-quick-")
			if err != nil {
				return err
			}
			o.out = filepath.Join(dir, "RESULTS.md")
		}
	}
	if o.out == "" {
		o.out = filepath.Join(repo, "bench", "RESULTS.md")
	}
	var res *report.Results
	if o.from != "" {
		if res, err = readResults(o.from); err != nil {
			return err
		}
		if o.rerunGo {
			if err := rerunGo(ctx, o, repo, res); err != nil {
				return err
			}
		}
	} else {
		if res, err = measure(ctx, o, repo); err != nil && res == nil {
			return err
		}
	}
	if analysis, aerr := os.ReadFile(filepath.Join(repo, "bench", "analysis.md")); aerr == nil && !o.quick {
		res.Analysis = string(analysis)
	}
	if werr := write(o.out, res); werr != nil {
		return werr
	}
	if publishes(repo, o.out) {
		if derr := UpdateDoc(repo, o.doc, res); derr != nil {
			return derr
		}
		fmt.Printf("regenerated the benchmark section of %s\n", o.doc)
	}
	// A failed Go benchmark step still leaves the wrk results written.
	return err
}

// publishes reports whether out is the committed bench/RESULTS.md, whose
// numbers the performance doc shows.
func publishes(repo, out string) bool {
	abs, err := filepath.Abs(out)
	return err == nil && abs == filepath.Join(repo, "bench", "RESULTS.md")
}

func readResults(path string) (*report.Results, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	res := &report.Results{}
	if err := json.Unmarshal(raw, res); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// rerunGo runs the Go benchmarks again from the revision res records, and
// refuses when the tree now holds other code.
func rerunGo(ctx context.Context, o options, repo string, res *report.Results) error {
	if res.Revision == nil {
		return errors.New("these results record no revision, so rerun Go benchmarks could not be shown to measure the same code: rerun the whole benchmark")
	}
	src, err := os.MkdirTemp("", "imgate-bench-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	rev, err := Snapshot(ctx, repo, src, res.Revision.Dirty, Outputs(o.doc))
	if err != nil {
		return err
	}
	if rev.Tree != res.Revision.Tree {
		return fmt.Errorf("the tree now is %s, the results measured %s: rerun the whole benchmark", rev.Tree, res.Revision.Tree)
	}
	started := time.Now()
	res.GoBenchCount = o.goCount
	if err := goBench(ctx, o, src, res); err != nil {
		return err
	}
	res.Elapsed += time.Since(started)
	return nil
}

// goBench runs the in-process benchmarks of the measured tree into res.
func goBench(ctx context.Context, o options, src string, res *report.Results) error {
	step("running in-process Go benchmarks")
	lines, _, err := RunGoBench(ctx, src, o.goCount, o.benchtime)
	if err != nil {
		return err
	}
	res.GoBench = lines
	return nil
}

// write saves results.json, the chart and RESULTS.md, and prints the ratios.
func write(out string, res *report.Results) error {
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(raw, '\n'), 0o644); err != nil {
		return err
	}
	chart, err := os.Create(filepath.Join(dir, "results.png"))
	if err != nil {
		return err
	}
	if err := report.Chart(chart, res); err != nil {
		chart.Close()
		return err
	}
	if err := chart.Close(); err != nil {
		return err
	}
	md, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := report.Markdown(md, res, "results.png"); err != nil {
		md.Close()
		return err
	}
	if err := md.Close(); err != nil {
		return err
	}
	lines, err := report.RatioLines(res)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Printf("wrote %s and %s (%s)\n", out, filepath.Join(dir, "results.png"), res.Elapsed.Round(time.Second))
	return nil
}

// cpuProfile saves a CPU profile of the server whose /debug/pprof is at
// base (Caddy's admin API, Traefik's API with api.debug).
func cpuProfile(ctx context.Context, base string, d time.Duration, path string) error {
	if d < time.Second {
		d = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profiling: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profiling %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func command(o options) string {
	cmd := "bench/run.sh"
	if o.quick {
		cmd += " -quick"
	}
	if o.dirty {
		cmd += " -dirty"
	}
	return cmd
}

func step(msg string) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), msg)
}
