// Command storebench measures what sharing rate limits through Redis costs
// a decision: imgate's engine in a plain net/http server (the server of
// benchmark setup F) answers the same Tencent join callbacks with the same
// rate rules, once with the buckets in memory (store.type memory, the
// default) and once in a real redis-server on loopback (store.type redis,
// default 5 ms timeout), side by side in one run. Per repeat and mode it
// measures closed-loop throughput with wrk and latency at fixed rates with
// the open-loop client (bench/openloop), then prints the medians, the
// throughput ratio and the p99 each rate adds, against the targets (p99
// added at most 1 ms, throughput at least 0.7 of memory). It counts the
// decisions the store failed to settle in time (each one decided by
// storeFailure instead), which a valid run has none of.
//
// The actors rotate over 10,000 ids and the groups over 100, so the
// buckets are many and none runs out: both modes allow every callback,
// doing the same work but for where the bucket lives.
//
//	go run ./bench/storebench               # 3 repeats of 10 s phases, about 3 minutes
//	go run ./bench/storebench -quick        # 1 repeat of 3 s phases
//	go run ./bench/storebench -rules 3      # three rate rules per callback, one script
//
// It needs redis-server (IMGATE_REDIS_SERVER or PATH; .ci/redis.sh
// installs it) and wrk (apt-get install wrk, as bench/run.sh does).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imgate/imgate/bench/openloop"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
)

// Modes, the store a server decides with.
const (
	modeMemory = "memory"
	modeRedis  = "redis"
)

// Targets of the shared store (issue 15).
const (
	targetP99Added   = time.Millisecond
	targetThroughput = 0.7
)

// Workload size: distinct actors and groups.
const (
	actors = 10000
	groups = 100
)

func main() {
	serve := flag.String("serve", "", "internal: run as the server of one mode (memory or redis)")
	addr := flag.String("addr", "", "internal: the server's listen address")
	redisURL := flag.String("redis", "", "internal: the Redis the redis server uses")
	prefix := flag.String("prefix", "", "internal: the Redis key prefix")
	timeout := flag.String("timeout", "", "store.timeout of the redis mode (default: imgate's, 5ms)")
	pool := flag.Int("pool", 0, "store.poolSize of the redis mode (default: imgate's, 16)")
	nRules := flag.Int("rules", 1, "rate rules each callback reaches (1 or 3); the Redis store settles them in one script")
	duration := flag.Duration("d", 10*time.Second, "length of each throughput and latency phase")
	conns := flag.Int("c", 64, "connections of wrk and of the open-loop client")
	ratesFlag := flag.String("rates", "1000,4000", "fixed rates (req/s) of the latency phases")
	repeats := flag.Int("repeats", 3, "repeats of the whole sequence; medians are reported")
	quick := flag.Bool("quick", false, "one repeat of 3 s phases")
	redisServer := flag.String("redis-server", "", "redis-server to run (default: IMGATE_REDIS_SERVER, else redis-server in PATH)")
	jsonOut := flag.String("json", "", "also write every measurement to this file")
	flag.Parse()
	if *serve != "" {
		if err := runServer(*serve, *addr, *redisURL, *prefix, *nRules, *timeout, *pool); err != nil {
			fmt.Fprintln(os.Stderr, "storebench server:", err)
			os.Exit(1)
		}
		return
	}
	if *quick {
		*duration, *repeats = 3*time.Second, 1
	}
	rates, err := parseRates(*ratesFlag)
	if err == nil && *nRules != 1 && *nRules != 3 {
		err = fmt.Errorf("-rules %d: want 1 or 3", *nRules)
	}
	if err == nil {
		err = run(os.Stdout, runConfig{rules: *nRules, duration: *duration, conns: *conns, rates: rates, repeats: *repeats, redisServer: *redisServer, jsonOut: *jsonOut, timeout: *timeout, pool: *pool})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}

func parseRates(s string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("-rates: %q is not a positive rate", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// benchConfig is the imgate config of one mode: one or three rate rules
// that every callback reaches and none exceeds.
func benchConfig(mode, redisURL, prefix string, nRules int, timeout string, pool int) core.Config {
	cfg := core.Config{
		Platform: "tencent",
		Rules: []core.RuleConfig{
			{Name: "join-flood", Events: []string{"group.join.apply"}, Rate: "600/1m", Action: "deny"},
		},
	}
	if nRules == 3 {
		cfg.Rules = append(cfg.Rules,
			core.RuleConfig{Name: "group-flood", Events: []string{"group.join.apply"}, Rate: "60000/1m", RateBy: "group", Action: "deny"},
			core.RuleConfig{Name: "try-stricter", Events: []string{"group.join.apply"}, Rate: "300/1m", Action: "deny", Shadow: true},
		)
		// The shadow rule is checked first, as a rule being tried usually is.
		cfg.Rules[0], cfg.Rules[2] = cfg.Rules[2], cfg.Rules[0]
	}
	if mode == modeRedis {
		cfg.Store = core.StoreConfig{Type: core.StoreRedis, Address: redisURL, Prefix: prefix, Timeout: timeout, PoolSize: pool}
	}
	return cfg
}

// serverStats are what a server decided, read from /storebench/stats.
type serverStats struct {
	Decisions     int64 `json:"decisions"`
	NotAllowed    int64 `json:"notAllowed"`
	StoreFailures int64 `json:"storeFailures"`
	// Timeouts counts the store failures that waited the whole timeout.
	Timeouts int64 `json:"timeouts"`
}

// runServer serves the engine of mode on addr until killed.
func runServer(mode, addr, redisURL, prefix string, nRules int, timeout string, pool int) error {
	e, err := core.New(benchConfig(mode, redisURL, prefix, nRules, timeout, pool))
	if err != nil {
		return err
	}
	var decisions, notAllowed, storeFailures, timeouts atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/storebench/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(serverStats{Decisions: decisions.Load(), NotAllowed: notAllowed.Load(), StoreFailures: storeFailures.Load(), Timeouts: timeouts.Load()})
	})
	// A CPU profile of either mode: /debug/pprof/profile?seconds=5.
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		out := e.Serve(w, r, "", nil)
		decisions.Add(1)
		if out.Result != core.ResultAllow {
			notAllowed.Add(1)
		}
		if out.StoreFailure != "" {
			storeFailures.Add(1)
		}
		if out.StoreFailure == "timeout" {
			timeouts.Add(1)
		}
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// runConfig is one invocation's settings.
type runConfig struct {
	rules       int
	duration    time.Duration
	conns       int
	rates       []float64
	repeats     int
	redisServer string
	jsonOut     string
	timeout     string
	pool        int
}

// measurement is one mode's phases in one repeat.
type measurement struct {
	Mode   string  `json:"mode"`
	Repeat int     `json:"repeat"`
	RPS    float64 `json:"rps"`
	// ServerCPU and RedisCPU are the CPU seconds per 1000 requests of the
	// throughput phase.
	ServerCPU float64 `json:"serverCpuPer1k"`
	RedisCPU  float64 `json:"redisCpuPer1k"`
	// Latency holds one open-loop result per rate.
	Latency []openloop.Result `json:"latency"`
	Stats   serverStats       `json:"stats"`
}

func run(w io.Writer, rc runConfig) error {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed (apt-get install wrk, as bench/run.sh does)")
	}
	name := rc.redisServer
	if name == "" {
		name = os.Getenv(redistest.EnvServer)
	}
	if name == "" {
		name = "redis-server"
	}
	bin, err := redistest.LookPath(name)
	if err != nil {
		return fmt.Errorf("%v (.ci/redis.sh installs it)", err)
	}
	dir, err := os.MkdirTemp("", "imgate-storebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	redis, err := redistest.Launch(bin, dir, redistest.Options{})
	if err != nil {
		return err
	}
	defer redis.Stop()
	script := filepath.Join(dir, "join.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		return err
	}
	prefix := "storebench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	servers := map[string]*server{}
	for _, mode := range []string{modeMemory, modeRedis} {
		s, err := startServer(mode, redis.URL, prefix, rc)
		if err != nil {
			return err
		}
		defer s.stop()
		servers[mode] = s
	}
	fmt.Fprintf(w, "storebench: %d rate rule(s) per callback, %d connections, %s phases, rates %v req/s, %d repeat(s); redis-server %s\n",
		rc.rules, rc.conns, rc.duration, rc.rates, rc.repeats, redis.Addr)
	var all []measurement
	for rep := 0; rep < rc.repeats; rep++ {
		order := []string{modeMemory, modeRedis}
		if rep%2 == 1 {
			order = []string{modeRedis, modeMemory}
		}
		for _, mode := range order {
			s := servers[mode]
			m := measurement{Mode: mode, Repeat: rep + 1}
			before, err := s.statsNow()
			if err != nil {
				return err
			}
			serverCPU0, redisCPU0 := cpuSeconds(s.pid()), cpuSeconds(redis.Pid())
			if m.RPS, err = runWrk(wrk, script, s.url, rc.conns, rc.duration); err != nil {
				return fmt.Errorf("%s throughput: %w", mode, err)
			}
			requests := m.RPS * rc.duration.Seconds() / 1000
			m.ServerCPU = (cpuSeconds(s.pid()) - serverCPU0) / requests
			m.RedisCPU = (cpuSeconds(redis.Pid()) - redisCPU0) / requests
			for _, rate := range rc.rates {
				res, err := openloop.Run(context.Background(), openloop.Config{
					Addr: s.addr, Requests: joinRequests(s.addr), Rate: rate, Duration: rc.duration, Connections: rc.conns,
				})
				if err != nil {
					return fmt.Errorf("%s at %.0f/s: %w", mode, rate, err)
				}
				if res.Errors > 0 || res.ErrStatus > 0 || res.Dropped > 0 {
					return fmt.Errorf("%s at %.0f/s: %d errors, %d bad statuses, %d dropped: the server could not keep up", mode, rate, res.Errors, res.ErrStatus, res.Dropped)
				}
				m.Latency = append(m.Latency, res)
			}
			after, err := s.statsNow()
			if err != nil {
				return err
			}
			m.Stats = serverStats{Decisions: after.Decisions - before.Decisions, NotAllowed: after.NotAllowed - before.NotAllowed,
				StoreFailures: after.StoreFailures - before.StoreFailures, Timeouts: after.Timeouts - before.Timeouts}
			fmt.Fprintf(w, "repeat %d %-6s %8.0f req/s  server %.3f CPU-s/1k  redis %.3f CPU-s/1k", m.Repeat, mode, m.RPS, m.ServerCPU, m.RedisCPU)
			for _, l := range m.Latency {
				fmt.Fprintf(w, "  @%.0f/s p50 %s p99 %s", l.Rate, ms(l.P50), ms(l.P99))
			}
			fmt.Fprintf(w, "  (%d decisions, %d not allowed, %d store failures, %d of them timeouts)\n", m.Stats.Decisions, m.Stats.NotAllowed, m.Stats.StoreFailures, m.Stats.Timeouts)
			all = append(all, m)
		}
	}
	summarize(w, rc, all)
	if rc.jsonOut != "" {
		data, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(rc.jsonOut, data, 0o644)
	}
	return nil
}

// summarize prints the medians side by side and the targets.
func summarize(w io.Writer, rc runConfig, all []measurement) {
	med := func(mode string, f func(m measurement) float64) float64 {
		var xs []float64
		for _, m := range all {
			if m.Mode == mode {
				xs = append(xs, f(m))
			}
		}
		sort.Float64s(xs)
		n := len(xs)
		if n%2 == 1 {
			return xs[n/2]
		}
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	var failures int64
	for _, m := range all {
		failures += m.Stats.StoreFailures + m.Stats.NotAllowed
	}
	memRPS, redisRPS := med(modeMemory, func(m measurement) float64 { return m.RPS }), med(modeRedis, func(m measurement) float64 { return m.RPS })
	ratio := redisRPS / memRPS
	fmt.Fprintf(w, "\nmedians of %d repeat(s), %d rate rule(s) per callback:\n\n", rc.repeats, rc.rules)
	fmt.Fprintf(w, "| | memory | redis | redis vs memory |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| throughput (wrk, %d connections) | %.0f req/s | %.0f req/s | %.2f× (target ≥ %.1f×: %s) |\n", rc.conns, memRPS, redisRPS, ratio, targetThroughput, verdict(ratio >= targetThroughput))
	fmt.Fprintf(w, "| server CPU per 1000 callbacks | %.3f s | %.3f s | %+.3f s |\n",
		med(modeMemory, func(m measurement) float64 { return m.ServerCPU }), med(modeRedis, func(m measurement) float64 { return m.ServerCPU }),
		med(modeRedis, func(m measurement) float64 { return m.ServerCPU })-med(modeMemory, func(m measurement) float64 { return m.ServerCPU }))
	fmt.Fprintf(w, "| redis-server CPU per 1000 callbacks | — | %.3f s | |\n", med(modeRedis, func(m measurement) float64 { return m.RedisCPU }))
	for i, rate := range rc.rates {
		i := i
		for _, p := range []struct {
			name string
			get  func(r openloop.Result) time.Duration
		}{{"p50", func(r openloop.Result) time.Duration { return r.P50 }}, {"p99", func(r openloop.Result) time.Duration { return r.P99 }}} {
			mem := time.Duration(med(modeMemory, func(m measurement) float64 { return float64(p.get(m.Latency[i])) }))
			red := time.Duration(med(modeRedis, func(m measurement) float64 { return float64(p.get(m.Latency[i])) }))
			note := ""
			if p.name == "p99" {
				note = fmt.Sprintf(" (target ≤ %s: %s)", ms(targetP99Added), verdict(red-mem <= targetP99Added))
			}
			fmt.Fprintf(w, "| %s at %.0f req/s (open loop) | %s | %s | %+.3f ms%s |\n", p.name, rate, ms(mem), ms(red), float64(red-mem)/float64(time.Millisecond), note)
		}
	}
	if failures > 0 {
		fmt.Fprintf(w, "\nINVALID: %d decisions were not allowed or not settled by the store in time; the modes did unequal work\n", failures)
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

// joinRequests are the workload as raw HTTP/1.1 requests for the open-loop
// client, the same callbacks the wrk script sends.
func joinRequests(host string) [][]byte {
	out := make([][]byte, 0, actors)
	for i := 0; i < actors; i++ {
		body := joinBody(i)
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", joinTarget, host, len(body))
		out = append(out, append([]byte(head), body...))
	}
	return out
}

const joinTarget = "/tencent?CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json"

func joinBody(i int) string {
	return fmt.Sprintf(`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#g%d","Type":"Public","Requestor_Account":"user%d","ApplyMsg":"hi"}`, i%groups, i%actors)
}

// wrkScript sends the same rotating callbacks as joinRequests.
var wrkScript = `local i = 0
request = function()
  local body = '{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#g' .. (i % ` + strconv.Itoa(groups) + `) ..
    '","Type":"Public","Requestor_Account":"user' .. (i % ` + strconv.Itoa(actors) + `) .. '","ApplyMsg":"hi"}'
  i = i + 1
  return wrk.format("POST", "` + joinTarget + `", {["Content-Type"] = "application/json"}, body)
end
`

var wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// runWrk drives url closed-loop for d and returns the requests per second.
func runWrk(wrk, script, url string, conns int, d time.Duration) (float64, error) {
	out, err := exec.Command(wrk, "-t1", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d.Seconds()))+"s", "-s", script, url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %v: %s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		return 0, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk printed no Requests/sec:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// server is one mode's server process.
type server struct {
	addr, url string
	cmd       *exec.Cmd
}

func startServer(mode, redisURL, prefix string, rc runConfig) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(os.Args[0], "-serve", mode, "-addr", addr, "-redis", redisURL, "-prefix", prefix, "-rules", strconv.Itoa(rc.rules),
		"-timeout", rc.timeout, "-pool", strconv.Itoa(rc.pool))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{addr: addr, url: "http://" + addr, cmd: cmd}
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := s.statsNow(); err == nil {
			return s, nil
		}
	}
	s.stop()
	return nil, fmt.Errorf("the %s server did not start on %s", mode, addr)
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func (s *server) statsNow() (serverStats, error) {
	var st serverStats
	resp, err := http.Get(s.url + "/storebench/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// cpuSeconds is the user and system CPU time of process pid so far, from
// /proc (0 where there is no /proc).
func cpuSeconds(pid int) float64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return 0
	}
	// The command name may hold spaces; the fields after it do not.
	rest := line[strings.LastIndexByte(line, ')')+2:]
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}
