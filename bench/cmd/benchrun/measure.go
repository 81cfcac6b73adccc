package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/bench/plan"
	"github.com/imgate/imgate/bench/report"
	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
)

// bench is one measuring run in progress: the measured tree, its programs
// and the servers started from them.
type bench struct {
	o           options
	src         string
	bins        map[string]string
	ports       Ports
	plans       map[string][]plan.Request
	requestTime string
	sign        string
	// urls[i] is the base URL the load generators drive for setup i, and
	// pprof[i] the base URL of its /debug/pprof ("" for none).
	urls, pprof []string
	// serving[i] are the processes whose CPU time setup i's requests cost.
	serving [][]Server
	res     *report.Results
}

// measure does the whole run and returns what it measured. When only the
// Go benchmarks fail it returns the other results with the error.
func measure(ctx context.Context, o options, repo string) (*report.Results, error) {
	started := time.Now()
	if _, err := exec.LookPath("wrk"); err != nil {
		return nil, errors.New("wrk is not installed (bench/run.sh installs it with apt-get)")
	}
	openWorkloads, err := selectWorkloads(o.openWorkloads)
	if err != nil {
		return nil, err
	}
	traefikVersion, err := TraefikVersion(o.traefik)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "imgate-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	b := &bench{o: o, src: filepath.Join(tmp, "src")}
	step("exporting the tree to measure")
	rev, err := Snapshot(ctx, repo, b.src, o.dirty || o.quick, Outputs(o.doc))
	if err != nil {
		return nil, err
	}
	if rev.Dirty {
		step(fmt.Sprintf("measuring uncommitted changes to %d files (diff SHA-256 %s)", len(rev.Changed), rev.DiffSHA256))
	}
	load := Load{Threads: o.threads, Conns: o.conns, Duration: o.duration, Warmup: o.warmup}
	openLoad := OpenLoad{Conns: o.openConns, Duration: o.openDuration}
	b.res = &report.Results{
		Started: started, Command: command(o), Machine: append(Machine(), "Traefik "+traefikVersion), Revision: &rev, Load: load.String(), Quick: o.quick,
		Workloads: Workloads, Repeats: o.repeats, GoBenchCount: o.goCount,
	}
	for _, s := range Setups {
		b.res.Setups = append(b.res.Setups, s.Item)
	}
	step("building " + programNames())
	if b.bins, err = Build(ctx, b.src, tmp); err != nil {
		return nil, err
	}
	step("building the WASM plugin of " + setupsWhere(func(s Setup) bool { return s.Plugin != nil && s.Plugin.Wasm }))
	if err := BuildPlugins(ctx, b.bins, b.src); err != nil {
		return nil, err
	}
	rulesPath := rules.Path(b.src)
	cfg, err := rules.Read(rulesPath)
	if err != nil {
		return nil, err
	}
	b.requestTime = strconv.FormatInt(time.Now().Unix(), 10)
	b.sign = core.TencentSign(cfg.Tencent.Token, b.requestTime)
	expect, err := NewExpectation(cfg, b.requestTime)
	if err != nil {
		return nil, err
	}
	b.plans = map[string][]plan.Request{}
	for _, w := range Workloads {
		if b.plans[w.ID], err = plan.Read(plan.Path(b.src, w.ID)); err != nil {
			return nil, err
		}
	}
	mix := b.plans["mix-deny10"]
	b.res.Checks = append(b.res.Checks, fmt.Sprintf("mix-deny10: the rules deny %d of its %d callbacks.", expect.DenyShare(mix), len(mix)))

	if o.portBase > 0 {
		b.ports = FixedPorts(o.portBase, len(Setups))
	} else if b.ports, err = FreePorts(len(Setups)); err != nil {
		return nil, err
	}
	var procs []Server
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	upstreams := map[string]Server{}
	for _, u := range Upstreams {
		port := b.ports.Upstream(u.Name)
		args := []string{"-addr", "127.0.0.1:" + strconv.Itoa(port)}
		if u.Program == ProgramStatusQuo {
			args = append(args, "-rules", rulesPath)
		}
		p, err := Start(ctx, "upstream-"+u.Name, b.bins[u.Program], args, nil, tmp, port)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
		upstreams[u.Name] = p
	}
	b.urls, b.pprof, b.serving = make([]string, len(Setups)), make([]string, len(Setups)), make([][]Server, len(Setups))
	for i, s := range Setups {
		var p Server
		if s.Program == ProgramTraefik {
			step("starting Traefik for setup " + s.ID)
			tr, err := StartTraefik(s, o.traefik, b.src, b.ports.Upstream(s.Upstream), tmp, s.Profile && o.pprofDir != "")
			if err != nil {
				return nil, err
			}
			p, b.urls[i], b.pprof[i] = tr, tr.URL, tr.APIURL
		} else {
			program, args, env := s.Command(i, b.bins, b.src, b.ports)
			proc, err := Start(ctx, "setup-"+s.ID, program, args, env, tmp, b.ports.Setups[i])
			if err != nil {
				return nil, err
			}
			p, b.urls[i] = proc, b.ports.URL(i)
			if s.Program == ProgramCaddy {
				b.pprof[i] = fmt.Sprintf("http://127.0.0.1:%d", b.ports.Admin[i])
			}
		}
		procs = append(procs, p)
		b.serving[i] = []Server{p}
		if s.Upstream != "" {
			b.serving[i] = append(b.serving[i], upstreams[s.Upstream])
		}
	}
	step("checking every reply of every setup")
	client := newClient()
	for i, s := range Setups {
		for _, w := range Workloads {
			if err := expect.Preflight(client, b.urls[i], b.plans[w.ID], s.Decides); err != nil {
				return nil, fmt.Errorf("setup %s, workload %s: %w", s.ID, w.ID, err)
			}
		}
	}
	client.CloseIdleConnections()
	b.res.Checks = append(b.res.Checks,
		"Every program and every Go benchmark was built from one export of the measured tree, taken when the run started (see the revision above); the run refuses a working tree with uncommitted changes unless given `-dirty`, and then records the diff's SHA-256.",
		fmt.Sprintf("Before measuring, every distinct callback of every workload was sent to every setup: %s answered byte-identical to `core.Engine` with bench/configs/rules.json (status 200, application/json), %s with the platform's allow reply.",
			setupsWhere(func(s Setup) bool { return s.Decides }), setupsWhere(func(s Setup) bool { return !s.Decides })),
		"The core benchmarks (`core/bench_test.go`), the engine and plugin benchmarks (`bench/*_bench_test.go`) and every setup decide with the same rules file, bench/configs/rules.json, on the same bodies (bench/workloads/bodies).",
		"Every measured run had zero socket errors and zero non-2xx replies (a run with any is an error).",
		fmt.Sprintf("CPU per request is user+system CPU time (/proc/<pid>/stat, all threads) during the measured run divided by its requests, reported apart for the setup's servers (for %s including the status quo service, for %s the static upstream) and for the load generator (wrk, or the open-loop client), which share the machine. Server CPU does not depend on how much CPU the load generator and other processes left over, so it is the steadiest cost measure on a shared machine.",
			setupsWhere(func(s Setup) bool { return s.Upstream == UpstreamService }), setupsWhere(func(s Setup) bool { return s.Upstream == UpstreamStatic })),
		fmt.Sprintf("Setup order rotates by one each repeat (repeat 1: %s, repeat 2 starts with the second, ...) so drift over the run does not favour a setup; %d repeats × %d workloads × %d setups closed-loop.", strings.Join(setupIDs(), " "), o.repeats, len(Workloads), len(Setups)),
		fmt.Sprintf("Caddy (%s) is cmd/caddy (standard modules + imgate) with default logging (no access log) and GOMAXPROCS default; imgate logs only denials (info) in these workloads, and F logs them likewise.",
			setupsWhere(func(s Setup) bool { return s.Program == ProgramCaddy })),
		fmt.Sprintf("Traefik (%s) is the real binary (%s, built by .ci/traefik-build.sh from the Go module proxy), started by internal/traefikreal on loopback with the file provider serving bench/configs/<setup>.yml, GOMAXPROCS default, log level ERROR (Traefik's default: imgate's denial lines go to its DEBUG stream and are not written) and no access log. %s load the measured export as the local plugin imgate, interpreted by Yaegi; %s load plugin.wasm built from the export by its cmd/imgate-wasm (runtime: wasm); bench/cmd/benchrun's tests check that T1's plugin config, decoded as Traefik decodes it, is exactly bench/configs/rules.json, and that T3's dynamic configuration is T1's.",
			setupsWhere(func(s Setup) bool { return s.Program == ProgramTraefik }), traefikVersion,
			setupsWhere(func(s Setup) bool { return s.Plugin != nil && !s.Plugin.Wasm }), setupsWhere(func(s Setup) bool { return s.Plugin != nil && s.Plugin.Wasm })),
	)

	if err := b.closedLoop(ctx, load); err != nil {
		return nil, err
	}
	if len(openWorkloads) > 0 {
		b.res.OpenLoopLoad = openLoad.String()
		if err := b.openLoop(ctx, openLoad, openWorkloads); err != nil {
			return nil, err
		}
	}
	for _, p := range procs {
		if p.Exited() {
			return nil, fmt.Errorf("%s died during the run; see %s", p.Label(), p.LogPath())
		}
		p.Stop()
	}
	procs = nil

	if !o.skipGo {
		if err := goBench(ctx, o, b.src, b.res); err != nil {
			b.res.Elapsed = time.Since(started)
			b.res.Checks = append(b.res.Checks, "The in-process Go benchmarks failed in this run (rerun them with `bench/run.sh -from bench/results.json -rerun-go`).")
			return b.res, err
		}
	}
	b.res.Elapsed = time.Since(started)
	return b.res, nil
}

// closedLoop is the throughput phase: every setup on every workload with
// wrk, repeated, the setup order rotating each repeat.
func (b *bench) closedLoop(ctx context.Context, load Load) error {
	for repeat := 1; repeat <= b.o.repeats; repeat++ {
		err := b.withLoad(report.PhaseClosed, repeat, func() error {
			for _, w := range Workloads {
				planFile := plan.Path(b.src, w.ID)
				for k := range Setups {
					i := (k + repeat - 1) % len(Setups)
					if err := b.wrkRun(ctx, load, repeat, i, w.ID, planFile); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) wrkRun(ctx context.Context, load Load, repeat, i int, workload, planFile string) error {
	s := Setups[i]
	url := b.urls[i]
	if b.o.warmup > 0 {
		if _, err := Wrk(ctx, b.src, load, b.o.warmup, url, planFile, b.requestTime, b.sign); err != nil {
			return err
		}
	}
	var profile chan error
	if b.o.pprofDir != "" && repeat == 1 && s.Profile {
		profile = make(chan error, 1)
		go func() {
			profile <- cpuProfile(ctx, b.pprof[i], b.o.duration-time.Second, filepath.Join(b.o.pprofDir, s.ID+"-"+workload+".pprof"))
		}()
	}
	var run report.WrkRun
	cpu, err := b.serverCPU(i, func() (err error) {
		run, err = Wrk(ctx, b.src, load, b.o.duration, url, planFile, b.requestTime, b.sign)
		return err
	})
	if err != nil {
		return err
	}
	run.ServerCPU = cpu
	if profile != nil {
		if err := <-profile; err != nil {
			return err
		}
	}
	run.Setup, run.Workload, run.Repeat = s.ID, workload, repeat
	if err := run.Valid(); err != nil {
		return err
	}
	step(fmt.Sprintf("closed %d/%d  %-16s %s  %8.0f req/s  p50 %6d µs  p99 %6d µs  CPU/req server %5.1f µs, wrk %5.1f µs", repeat, b.o.repeats, workload, s.ID, run.RPS(), run.P50.Microseconds(), run.P99.Microseconds(), run.CPUPerRequest(), run.ClientCPUPerRequest()))
	b.res.Runs = append(b.res.Runs, run)
	return nil
}

// openLoop is the latency phase: at each point's fixed rate, its setups on
// the open-loop workloads, repeated, the setup order rotating each repeat.
func (b *bench) openLoop(ctx context.Context, load OpenLoad, workloads []string) error {
	points, err := pointRates(OpenLoopPoints, report.Summarize(b.res.Runs), workloads)
	if err != nil {
		return err
	}
	b.res.OpenLoopPoints = points
	index := map[string]int{}
	for i, s := range Setups {
		index[s.ID] = i
	}
	for repeat := 1; repeat <= b.o.repeats; repeat++ {
		err := b.withLoad(report.PhaseOpen, repeat, func() error {
			for _, w := range workloads {
				for _, pt := range points {
					for k := range pt.Setups {
						id := pt.Setups[(k+repeat-1)%len(pt.Setups)]
						if err := b.openRun(ctx, load, repeat, index[id], w, pt, pt.Rates[w]); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) openRun(ctx context.Context, load OpenLoad, repeat, i int, workload string, pt report.OpenLoopPoint, rate float64) error {
	s := Setups[i]
	var run report.OpenLoopRun
	cpu, err := b.serverCPU(i, func() (err error) {
		run, err = OpenLoop(ctx, b.bins[ProgramOpenLoop], load, rate, b.urls[i], plan.Path(b.src, workload), b.requestTime, b.sign)
		return err
	})
	if err != nil {
		return err
	}
	run.ServerCPU = cpu
	run.Setup, run.Workload, run.Point, run.Repeat = s.ID, workload, pt.ID, repeat
	if err := run.Valid(); err != nil {
		return err
	}
	saturated := ""
	if run.Saturated() {
		saturated = "  SATURATED"
	}
	step(fmt.Sprintf("open %d/%d  %-16s %-3s %s  %7.0f req/s offered  p50 %6d µs  p99 %6d µs  lag p99 %5d µs%s", repeat, b.o.repeats, workload, pt.ID, s.ID, run.Rate, run.P50.Microseconds(), run.P99.Microseconds(), run.LagP99.Microseconds(), saturated))
	b.res.OpenLoop = append(b.res.OpenLoop, run)
	return nil
}

// serverCPU runs f, which drives setup i, and returns the CPU time the
// setup's servers used meanwhile.
func (b *bench) serverCPU(i int, f func() error) (time.Duration, error) {
	before, err := cpuOf(b.serving[i])
	if err != nil {
		return 0, err
	}
	if err := f(); err != nil {
		return 0, err
	}
	after, err := cpuOf(b.serving[i])
	if err != nil {
		return 0, err
	}
	return after - before, nil
}

// withLoad runs one repeat of a phase and records the machine's load
// before and after it.
func (b *bench) withLoad(phase string, repeat int, f func() error) error {
	before, err := SampleLoad()
	if err != nil {
		return fmt.Errorf("sampling the load: %w", err)
	}
	step(fmt.Sprintf("%s repeat %d/%d, load before: %s", phase, repeat, b.o.repeats, before))
	if err := f(); err != nil {
		return err
	}
	after, err := SampleLoad()
	if err != nil {
		return fmt.Errorf("sampling the load: %w", err)
	}
	b.res.Loads = append(b.res.Loads, report.RepeatLoad{Phase: phase, Repeat: repeat, Before: before, After: after})
	return nil
}

// pointRates sets each point's offered rate per workload from its
// reference setup's closed-loop median.
func pointRates(points []report.OpenLoopPoint, sums map[string]map[string]report.Summary, workloads []string) ([]report.OpenLoopPoint, error) {
	out := make([]report.OpenLoopPoint, len(points))
	for i, pt := range points {
		pt.Rates = map[string]float64{}
		for _, w := range workloads {
			s, ok := sums[pt.Of][w]
			if !ok || s.RPS <= 0 {
				return nil, fmt.Errorf("open-loop point %s: setup %s has no closed-loop throughput on %s", pt.ID, pt.Of, w)
			}
			pt.Rates[w] = pt.Fraction * s.RPS
		}
		out[i] = pt
	}
	return out, nil
}

// selectWorkloads parses -open-workloads.
func selectWorkloads(list string) ([]string, error) {
	list = strings.TrimSpace(list)
	if list == "" {
		return nil, nil
	}
	known := map[string]bool{}
	var all []string
	for _, w := range Workloads {
		known[w.ID] = true
		all = append(all, w.ID)
	}
	if list == "all" {
		return all, nil
	}
	var out []string
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if !known[id] {
			return nil, fmt.Errorf("-open-workloads: unknown workload %q (known: %s)", id, strings.Join(all, ", "))
		}
		out = append(out, id)
	}
	return out, nil
}

// setupsWhere lists the setups that keep says, e.g. "C, D and E".
func setupsWhere(keep func(Setup) bool) string {
	var ids []string
	for _, s := range Setups {
		if keep(s) {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) < 2 {
		return strings.Join(ids, "")
	}
	return strings.Join(ids[:len(ids)-1], ", ") + " and " + ids[len(ids)-1]
}

func setupIDs() []string {
	ids := make([]string, len(Setups))
	for i, s := range Setups {
		ids[i] = s.ID
	}
	return ids
}

func programNames() string {
	var names []string
	for _, p := range Programs {
		names = append(names, p.Package)
	}
	return strings.Join(names, ", ")
}
