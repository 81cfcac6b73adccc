// Command benchrun is the imgate benchmark: it builds Caddy with imgate, the
// bare net/http server and the status quo service, starts setups A–E on
// loopback, checks every reply, drives each setup with wrk on the same
// callback workloads (interleaved, repeated), runs the in-process Go
// benchmarks, and writes bench/RESULTS.md, bench/results.png and
// bench/results.json. Run it through bench/run.sh, which installs wrk.
//
//	bench/run.sh            # full run, ~8 minutes
//	bench/run.sh -quick     # smoke run, about 1 minute, results in a temp dir
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
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/imgate/imgate/bench/report"
	"github.com/imgate/imgate/core"
)

// Workloads are the plans in bench/workloads, in report order.
var Workloads = []report.Item{
	{ID: "tencent-join", Description: "Tencent `Group.CallbackBeforeApplyJoinGroup`, signed (Sign/RequestTime), allowed."},
	{ID: "tencent-invite20", Description: "Tencent `Group.CallbackBeforeInviteJoinGroup` inviting 20 members (each checked against the banned list), signed, allowed."},
	{ID: "openim-join", Description: "OpenIM `callbackBeforeJoinGroupCommand` (v3.5+ URL, command appended), allowed."},
	{ID: "mix-deny10", Description: "20 callbacks across the three types, 2 of them (10%) denied by rules: a banned Tencent applicant and an OpenIM join request with spam text. A and B answer allow to all."},
}

type options struct {
	quick     bool
	repeats   int
	threads   int
	conns     int
	duration  time.Duration
	warmup    time.Duration
	goCount   int
	benchtime string
	out       string
	portBase  int
	pprofDir  string
	from      string
	skipGo    bool
	rerunGo   bool
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", os.Getenv("BENCH_QUICK") == "1", "smoke run: 1 repeat of 1s after 1s warm-up, Go benchmarks once; results go to a temp dir unless -out is set (env BENCH_QUICK=1)")
	flag.IntVar(&o.repeats, "repeats", 3, "repeats of the whole setup × workload matrix (medians reported)")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.conns, "c", 32, "wrk connections (keep-alive)")
	flag.DurationVar(&o.duration, "d", 6*time.Second, "measured duration of each wrk run (whole seconds)")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured wrk run before each measured one (whole seconds, 0 for none)")
	flag.IntVar(&o.goCount, "go-count", 3, "go test -count for the in-process benchmarks")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime for the in-process benchmarks")
	flag.StringVar(&o.out, "out", "", "RESULTS.md path; results.png and results.json go next to it (default bench/RESULTS.md)")
	flag.IntVar(&o.portBase, "port-base", 18080, "setups listen on base+1..base+5, the service on base+10, Caddy admin on base+101..")
	flag.StringVar(&o.pprofDir, "pprof", "", "directory for CPU profiles of setups C and E taken during the first repeat (via Caddy's admin /debug/pprof)")
	flag.StringVar(&o.from, "from", "", "re-render RESULTS.md and the chart from this results.json without measuring")
	flag.BoolVar(&o.skipGo, "skip-go", false, "skip the in-process Go benchmarks")
	flag.BoolVar(&o.rerunGo, "rerun-go", false, "with -from: run the in-process Go benchmarks again and replace them in the results")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	if o.quick {
		o.repeats, o.duration, o.warmup, o.goCount, o.benchtime = 1, time.Second, time.Second, 1, "100ms"
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
		raw, err := os.ReadFile(o.from)
		if err != nil {
			return err
		}
		res = &report.Results{}
		if err := json.Unmarshal(raw, res); err != nil {
			return fmt.Errorf("%s: %w", o.from, err)
		}
		if o.rerunGo {
			started := time.Now()
			res.GoBenchCount = o.goCount
			if err := goBench(ctx, o, repo, res); err != nil {
				return err
			}
			res.Elapsed += time.Since(started)
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
	// A failed Go benchmark step still leaves the wrk results written.
	return err
}

// goBench runs the in-process benchmarks into res.
func goBench(ctx context.Context, o options, repo string, res *report.Results) error {
	step("running in-process Go benchmarks")
	lines, _, err := RunGoBench(ctx, repo, o.goCount, o.benchtime)
	if err != nil {
		return err
	}
	res.GoBench = lines
	return nil
}

// measure does the whole run and returns what it measured. When only the
// Go benchmarks fail it returns the wrk results with the error.
func measure(ctx context.Context, o options, repo string) (*report.Results, error) {
	started := time.Now()
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, errors.New("wrk is not installed (bench/run.sh installs it with apt-get)")
	}
	load := Load{Threads: o.threads, Conns: o.conns, Duration: o.duration, Warmup: o.warmup}
	res := &report.Results{
		Started: started, Command: command(o), Machine: append(Machine(), Revision(repo)), Load: load.String(), Quick: o.quick,
		Workloads: Workloads, Repeats: o.repeats, GoBenchCount: o.goCount,
	}
	for _, s := range Setups {
		res.Setups = append(res.Setups, s.Item)
	}
	tmp, err := os.MkdirTemp("", "imgate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	step("building cmd/caddy, bench/bare, bench/statusquo")
	bins, err := Build(ctx, repo, tmp)
	if err != nil {
		return nil, err
	}
	rulesPath := filepath.Join(repo, "bench", "configs", "rules.json")
	cfg, err := readRules(rulesPath)
	if err != nil {
		return nil, err
	}
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	expect, err := NewExpectation(cfg, requestTime)
	if err != nil {
		return nil, err
	}
	plans := map[string][]PlanRequest{}
	for _, w := range Workloads {
		if plans[w.ID], err = ReadPlan(planPath(repo, w.ID)); err != nil {
			return nil, err
		}
	}
	mix := plans["mix-deny10"]
	res.Checks = append(res.Checks, fmt.Sprintf("mix-deny10: the rules deny %d of its %d callbacks.", expect.DenyShare(mix), len(mix)))

	ports := Ports{Base: o.portBase}
	var procs []*Proc
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	svc, err := Start(ctx, "statusquo", bins.StatusQuo, []string{"-addr", "127.0.0.1:" + strconv.Itoa(ports.Service()), "-rules", rulesPath}, nil, tmp, ports.Service())
	if err != nil {
		return nil, err
	}
	procs = append(procs, svc)
	// serving are the processes whose CPU time a setup's requests cost.
	serving := make([][]*Proc, len(Setups))
	for i, s := range Setups {
		program, args, env := s.Command(i, bins, repo, ports)
		p, err := Start(ctx, "setup-"+s.ID, program, args, env, tmp, ports.Setup(i))
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		serving[i] = []*Proc{p}
		if s.NeedsService {
			serving[i] = append(serving[i], svc)
		}
	}
	step("checking every reply of every setup")
	client := newClient()
	for i, s := range Setups {
		for _, w := range Workloads {
			if err := expect.Preflight(client, ports.URL(i), plans[w.ID], s.Decides); err != nil {
				return nil, fmt.Errorf("setup %s, workload %s: %w", s.ID, w.ID, err)
			}
		}
	}
	client.CloseIdleConnections()
	res.Checks = append(res.Checks,
		"Before measuring, every distinct callback of every workload was sent to every setup: C, D and E answered byte-identical to `core.Engine` with bench/configs/rules.json (status 200, application/json), A and B with the platform's allow reply.",
		"Every measured wrk run had zero socket errors and zero non-2xx replies (a run with any is an error).",
		"Server CPU per request is the user+system CPU time (/proc/<pid>/stat, all threads) of the setup's server processes during the measured run divided by its requests; for D and E it includes the status quo service. Unlike req/s and latency it does not depend on how much CPU wrk and other processes left over, so it is the steadiest cost measure on a shared machine.",
		fmt.Sprintf("Setup order rotates by one each repeat (repeat 1: A B C D E, repeat 2: B C D E A, ...) so drift over the run does not favour a setup; %d repeats × %d workloads × %d setups.", o.repeats, len(Workloads), len(Setups)),
		"Caddy (B–E) is cmd/caddy (standard modules + imgate) with default logging (no access log) and GOMAXPROCS default; imgate logs only denials (info) in these workloads.",
	)

	sign := core.TencentSign(cfg.Tencent.Token, requestTime)
	for repeat := 1; repeat <= o.repeats; repeat++ {
		for _, w := range Workloads {
			plan := planPath(repo, w.ID)
			for k := range Setups {
				i := (k + repeat - 1) % len(Setups)
				s := Setups[i]
				if o.warmup > 0 {
					if _, err := Wrk(ctx, repo, load, o.warmup, ports.URL(i), plan, requestTime, sign); err != nil {
						return nil, err
					}
				}
				var profile chan error
				if o.pprofDir != "" && repeat == 1 && (s.ID == "C" || s.ID == "E") {
					profile = make(chan error, 1)
					go func() {
						profile <- cpuProfile(ctx, ports.Admin(i), o.duration-time.Second, filepath.Join(o.pprofDir, s.ID+"-"+w.ID+".pprof"))
					}()
				}
				cpuBefore, err := cpuOf(serving[i])
				if err != nil {
					return nil, err
				}
				runRes, err := Wrk(ctx, repo, load, o.duration, ports.URL(i), plan, requestTime, sign)
				if err != nil {
					return nil, err
				}
				cpuAfter, err := cpuOf(serving[i])
				if err != nil {
					return nil, err
				}
				runRes.ServerCPU = cpuAfter - cpuBefore
				if profile != nil {
					if err := <-profile; err != nil {
						return nil, err
					}
				}
				runRes.Setup, runRes.Workload, runRes.Repeat = s.ID, w.ID, repeat
				if err := runRes.Valid(); err != nil {
					return nil, err
				}
				step(fmt.Sprintf("repeat %d/%d  %-16s %s  %8.0f req/s  p50 %6d µs  p99 %6d µs  server CPU %5.1f µs/req", repeat, o.repeats, w.ID, s.ID, runRes.RPS(), runRes.P50.Microseconds(), runRes.P99.Microseconds(), runRes.CPUPerRequest()))
				res.Runs = append(res.Runs, runRes)
			}
		}
	}
	for _, p := range procs {
		if p.Exited() {
			return nil, fmt.Errorf("%s died during the run; see %s", p.Name, p.Log)
		}
		p.Stop()
	}
	procs = nil

	if !o.skipGo {
		if err := goBench(ctx, o, repo, res); err != nil {
			res.Elapsed = time.Since(started)
			res.Checks = append(res.Checks, "The in-process Go benchmarks failed in this run (rerun them with `bench/run.sh -from bench/results.json -rerun-go`).")
			return res, err
		}
	}
	res.Elapsed = time.Since(started)
	return res, nil
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

// cpuProfile saves a CPU profile of the Caddy whose admin API is on port.
func cpuProfile(ctx context.Context, port int, d time.Duration, path string) error {
	if d < time.Second {
		d = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, int(d.Seconds()))
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

func readRules(path string) (core.Config, error) {
	var cfg core.Config
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func planPath(repo, workload string) string {
	return filepath.Join(repo, "bench", "workloads", workload+".plan")
}

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the imgate repository (no go.mod found)")
		}
		dir = parent
	}
}

func command(o options) string {
	if o.quick {
		return "bench/run.sh -quick"
	}
	return "bench/run.sh"
}

func step(msg string) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), msg)
}
