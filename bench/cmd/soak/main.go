// Command soak is imgate's soak and fault run (bench/soak.sh): on
// loopback, against Caddy with imgate (built from cmd/caddy) and the real
// Traefik with this checkout as its plugin, it
//
//  1. sends callbacks of both platforms at a fixed high rate (open loop,
//     bench/openloop) and checks every answer is the exact platform
//     reply, with the gateway's goroutines and resident memory flat;
//  2. meanwhile rewrites a list file every 100 ms and reloads the
//     gateway's configuration every second (Caddy's admin /load,
//     Traefik's dynamic file), and checks each probe user's answer
//     against the list versions and configurations in force while it
//     was in flight;
//  3. forwards callbacks to a business service (examples/upstream) that
//     is killed, started again and frozen under load: every callback gets
//     the service's answer or the fallback, within the platform's budget;
//  4. sends 10,000 after-callbacks to Caddy with durable delivery while
//     the delivery service flaps and Caddy is killed and started again
//     once: every acknowledged callback is delivered (sent = delivered).
//
// It prints a Markdown report (and with -doc rewrites the generated
// section of docs/reliability.md) and exits 1 when any check fails.
//
//	bench/soak.sh                 # about five minutes
//	bench/soak.sh -d 30m          # a longer soak
//	bench/soak.sh -quick          # a smoke run of about a minute (CI)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imgate/imgate/bench/soak"
	"github.com/imgate/imgate/internal/traefikload"
)

type options struct {
	gateways, phases string
	traefik          string

	soakDuration  time.Duration
	caddyRate     float64
	traefikRate   float64
	conns         int
	listEvery     time.Duration
	listReload    time.Duration
	listGrace     time.Duration
	reloadEvery   time.Duration
	reloads       string
	faultDuration time.Duration
	faultRate     float64
	faultConns    int
	faultUp       time.Duration
	faultDown     time.Duration
	deadline      time.Duration
	deliveries    int
	deliveryRate  float64
	flapUp        time.Duration
	flapDown      time.Duration
	restartSignal string
	retryMin      time.Duration
	retryMax      time.Duration
	deliveryWait  time.Duration

	quick bool
	out   string
	doc   bool
	keep  bool

	// requestTime signs every Tencent callback of the run; signWindow
	// covers the whole run.
	requestTime string
	signWindow  time.Duration
}

func main() {
	o := &options{}
	flag.StringVar(&o.gateways, "gateways", "caddy,traefik", "gateways to run: caddy, traefik")
	flag.StringVar(&o.phases, "phases", "soak,faults,delivery", "phases to run: soak (with changes under load), faults, delivery (Caddy)")
	flag.StringVar(&o.traefik, "traefik", os.Getenv("IMGATE_TRAEFIK"), "Traefik binary (bench/soak.sh builds one with .ci/traefik-build.sh)")
	flag.DurationVar(&o.soakDuration, "d", time.Minute, "soak length per gateway")
	flag.Float64Var(&o.caddyRate, "caddy-rate", 2000, "callbacks per second to Caddy in the soak")
	flag.Float64Var(&o.traefikRate, "traefik-rate", 500, "callbacks per second to Traefik in the soak (the plugin is interpreted)")
	flag.IntVar(&o.conns, "c", 64, "keep-alive connections of the soak")
	flag.DurationVar(&o.listEvery, "list-every", 100*time.Millisecond, "list file rewrite period")
	flag.DurationVar(&o.listReload, "list-reload", 20*time.Millisecond, "the gateways' listReloadInterval")
	flag.DurationVar(&o.listGrace, "list-grace", 25*time.Millisecond, "how much older than listReloadInterval allows a probe answer may be, on top of the longest list file write around its send: a reload in progress (its neighbours answer from the previous list) on a loaded machine")
	flag.DurationVar(&o.reloadEvery, "reload-every", time.Second, "configuration reload period")
	flag.StringVar(&o.reloads, "reloads", "caddy,traefik", "gateways whose configuration is reloaded during their soak (the list file is rewritten for all); Caddy's reloads close idle keep-alive connections, see docs/reliability.md")
	flag.DurationVar(&o.faultDuration, "fault-d", 20*time.Second, "fault phase length per gateway")
	flag.Float64Var(&o.faultRate, "fault-rate", 200, "callbacks per second in the fault phase")
	flag.IntVar(&o.faultConns, "fault-c", 128, "keep-alive connections of the fault phase")
	flag.DurationVar(&o.faultUp, "fault-up", 3*time.Second, "how long the business service runs between faults")
	flag.DurationVar(&o.faultDown, "fault-down", 2*time.Second, "how long it stays killed, or frozen")
	flag.DurationVar(&o.deadline, "deadline", 250*time.Millisecond, "forward deadline of both platforms in the fault phase")
	flag.IntVar(&o.deliveries, "deliveries", 10000, "after-callbacks of the delivery phase")
	flag.Float64Var(&o.deliveryRate, "delivery-rate", 400, "after-callbacks per second")
	flag.DurationVar(&o.flapUp, "flap-up", 3*time.Second, "how long the delivery service is up between flaps")
	flag.DurationVar(&o.flapDown, "flap-down", 2*time.Second, "how long each flap keeps it down")
	flag.StringVar(&o.restartSignal, "restart", "kill", "how Caddy is stopped mid-delivery: kill (SIGKILL, a crash) or term (graceful)")
	flag.DurationVar(&o.retryMin, "retry-min", 100*time.Millisecond, "delivery.retryMin")
	flag.DurationVar(&o.retryMax, "retry-max", 2*time.Second, "delivery.retryMax")
	flag.DurationVar(&o.deliveryWait, "delivery-wait", 3*time.Minute, "how long to wait for the spool to drain")
	flag.BoolVar(&o.quick, "quick", false, "smoke run: 10 s soaks at lower rates, 8 s of faults, 1,000 deliveries, faults and flaps more often")
	flag.StringVar(&o.out, "out", "", "also write the report to this file")
	flag.BoolVar(&o.doc, "doc", false, "rewrite the generated section of docs/reliability.md with the report")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (logs, spool) and print its path")
	flag.Parse()
	if o.quick {
		o.soakDuration, o.caddyRate, o.traefikRate = 10*time.Second, 500, 200
		o.faultDuration, o.faultUp, o.faultDown = 8*time.Second, 1500*time.Millisecond, time.Second
		o.deliveries, o.deliveryRate = 1000, 200
		o.flapUp, o.flapDown = 1500*time.Millisecond, time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failures, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if len(failures) > 0 {
		fmt.Fprintf(os.Stderr, "soak: FAIL: %d checks failed\n", len(failures))
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options) ([]string, error) {
	if o.restartSignal != "kill" && o.restartSignal != "term" {
		return nil, fmt.Errorf("-restart %q: want kill or term", o.restartSignal)
	}
	repo, _, err := traefikload.RepoRoot()
	if err != nil {
		return nil, err
	}
	gateways := set(o.gateways)
	phases := set(o.phases)
	if gateways["traefik"] && (phases["soak"] || phases["faults"]) && o.traefik == "" {
		return nil, errors.New("no Traefik binary: give -traefik or IMGATE_TRAEFIK, or run bench/soak.sh, which builds it")
	}
	work, err := os.MkdirTemp("", "imgate-soak-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "soak: work directory", work)
	} else {
		defer os.RemoveAll(work)
	}
	started := time.Now()
	total := o.soakDuration*2 + o.faultDuration*2 + o.deliveryWait + time.Hour
	o.signWindow = total.Round(time.Hour)
	o.requestTime = strconv.FormatInt(started.Unix(), 10)

	fmt.Fprintln(os.Stderr, "soak: building cmd/caddy and examples/upstream")
	caddyBin, upstreamBin := filepath.Join(work, "caddy"), filepath.Join(work, "upstream")
	for pkg, out := range map[string]string{"./cmd/caddy": caddyBin, "./examples/upstream": upstreamBin} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir, cmd.Stdout, cmd.Stderr = repo, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build %s: %w", pkg, err)
		}
	}
	r := &soak.Report{Date: started, Machine: machine(o), Revision: revision(repo), Command: command()}

	type target struct {
		name  string
		rate  float64
		start func(dir string) (Gateway, error)
	}
	var targets []target
	if gateways["caddy"] {
		targets = append(targets, target{"caddy", o.caddyRate, func(dir string) (Gateway, error) { return StartCaddy(caddyBin, dir) }})
	}
	if gateways["traefik"] {
		targets = append(targets, target{"traefik", o.traefikRate, func(dir string) (Gateway, error) {
			return StartTraefik(o.traefik, filepath.Join(dir, "traefik.log"))
		}})
	}
	for _, phase := range []string{"soak", "faults"} {
		if !phases[phase] {
			continue
		}
		for _, t := range targets {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			dir := filepath.Join(work, phase+"-"+t.name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "soak: %s on %s\n", phase, t.name)
			gw, err := t.start(dir)
			if err != nil {
				r.Errors = append(r.Errors, fmt.Sprintf("%s %s: starting the gateway: %v", phase, t.name, err))
				continue
			}
			if phase == "soak" {
				every := o.reloadEvery
				if !set(o.reloads)[t.name] {
					every = 0
				}
				res := soakPhase(ctx, o, gw, dir, t.rate, every)
				r.Soaks = append(r.Soaks, res)
				progress(res.Failures())
			} else {
				res := faultsPhase(ctx, o, gw, dir, upstreamBin)
				r.Faults = append(r.Faults, res)
				progress(res.Failures())
			}
			gw.Stop()
		}
	}
	if phases["delivery"] && gateways["caddy"] && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "soak: delivery on caddy")
		dir := filepath.Join(work, "delivery-caddy")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		res := deliveryPhase(ctx, o, caddyBin, dir)
		r.Delivery = append(r.Delivery, res)
		progress(res.Failures())
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.Elapsed = time.Since(started)
	text := soak.Markdown(r)
	fmt.Print(text)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	if o.doc {
		if err := soak.UpdateDoc(filepath.Join(repo, soak.DocPath), text); err != nil {
			return nil, err
		}
		fmt.Fprintln(os.Stderr, "soak: rewrote the generated section of", soak.DocPath)
	}
	return r.Failures(), nil
}

func set(list string) map[string]bool {
	out := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out[s] = true
		}
	}
	return out
}

// progress prints a phase's failures as they happen.
func progress(failures []string) {
	for _, f := range failures {
		fmt.Fprintln(os.Stderr, "soak: FAIL:", f)
	}
}

// machine describes where the run happened.
func machine(o *options) []string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	out := []string{fmt.Sprintf("%s, %d CPUs shared by the load generators, the gateways and the upstreams (loopback)", model, runtime.NumCPU())}
	if v, err := exec.Command("uname", "-sr").Output(); err == nil {
		out = append(out, strings.TrimSpace(string(v)))
	}
	out = append(out, runtime.Version())
	if o.traefik != "" {
		if v, err := exec.Command(o.traefik, "version").Output(); err == nil {
			for _, line := range strings.Split(string(v), "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Version:"); ok {
					out = append(out, "Traefik "+strings.TrimSpace(rest))
				}
			}
		}
	}
	return out
}

// revision names the measured code: the commit, and whether the working
// tree had changes.
func revision(repo string) string {
	head, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "revision unknown"
	}
	rev := "revision " + strings.TrimSpace(string(head))
	if dirty, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(dirty))) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}

// command is how the run was started, for the report.
func command() string {
	args := os.Args[1:]
	return strings.TrimSpace("bench/soak.sh " + strings.Join(args, " "))
}
