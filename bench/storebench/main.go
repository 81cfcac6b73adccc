// Command storebench measures what sharing rate limits through Redis costs
// a decision. Two gateways answer the same Tencent join callbacks with the
// same rate rules: Caddy with imgate (the module, as in benchmark setup C;
// its Redis client is go-redis) and imgate's engine in a plain net/http
// server (the deciding ceiling, as in setup F; core's RESP2 client, the
// Traefik plugin's), each once with the buckets in memory (store.type
// memory, the default) and once in a real redis-server on loopback
// (store.type redis, its default 5 ms timeout), side by side in one run. Per repeat, gateway
// and store it measures closed-loop throughput with wrk and latency at
// fixed rates with the open-loop client (bench/openloop), then prints the
// medians, the throughput ratio and the p99 each rate adds, against the
// targets (throughput at least 0.7 of memory, p99 at most 1 ms added), and
// the CPU the gateway and Redis spend per callback. It counts the decisions
// the store did not settle in time (each decided by storeFailure instead):
// a busy machine makes some, and their share is printed.
//
// The actors rotate over 10,000 ids and the groups over 100, so the
// buckets are many and none runs out: both modes allow every callback,
// doing the same work but for where the bucket lives.
//
//	go run ./bench/storebench               # 3 repeats of 10 s phases, about 6 minutes
//	go run ./bench/storebench -quick        # 1 repeat of 3 s phases
//	go run ./bench/storebench -rules 3      # three rate rules per callback, one script
//	go run ./bench/storebench -gateways plain
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

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/imgate/imgate/bench/openloop"
	_ "github.com/imgate/imgate/caddymodule"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/procstat"
	"github.com/imgate/imgate/internal/redistest"
)

// Stores, where a server keeps its buckets.
const (
	modeMemory = "memory"
	modeRedis  = "redis"
)

// Gateways: imgate's engine in plain net/http, and Caddy with imgate.
const (
	gatewayPlain = "plain"
	gatewayCaddy = "caddy"
)

// envCaddy makes the binary run as Caddy (with imgate) instead.
const envCaddy = "STOREBENCH_RUN_CADDY"

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
	if os.Getenv(envCaddy) == "1" {
		caddycmd.Main()
		return
	}
	serve := flag.String("serve", "", "internal: run as the plain server of one store (memory or redis)")
	addr := flag.String("addr", "", "internal: the server's listen address")
	redisURL := flag.String("redis", "", "internal: the Redis the redis store uses")
	prefix := flag.String("prefix", "", "internal: the Redis key prefix")
	timeout := flag.String("timeout", "", "store.timeout of the redis store (default: imgate's, 5ms)")
	pool := flag.Int("pool", 0, "store.poolSize of the redis store (default: imgate's)")
	nRules := flag.Int("rules", 1, "rate rules each callback reaches (1 or 3); the Redis store settles them in one script")
	gateways := flag.String("gateways", "caddy,plain", "gateways to measure: caddy (Caddy + imgate), plain (the engine in net/http)")
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
	rc := runConfig{rules: *nRules, duration: *duration, conns: *conns, repeats: *repeats, redisServer: *redisServer, jsonOut: *jsonOut, timeout: *timeout, pool: *pool}
	var err error
	rc.rates, err = parseRates(*ratesFlag)
	if err == nil && *nRules != 1 && *nRules != 3 {
		err = fmt.Errorf("-rules %d: want 1 or 3", *nRules)
	}
	for _, g := range strings.Split(*gateways, ",") {
		g = strings.TrimSpace(g)
		if g != gatewayPlain && g != gatewayCaddy {
			err = fmt.Errorf("-gateways: %q is not caddy or plain", g)
		}
		rc.gateways = append(rc.gateways, g)
	}
	if err == nil {
		err = run(os.Stdout, rc)
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

// benchConfig is the imgate config of one store: one or three rate rules
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

// serverStats are what a server decided: callbacks, those not allowed
// (none should be), and those whose store did not settle them in time.
type serverStats struct {
	Decisions     int64 `json:"decisions"`
	NotAllowed    int64 `json:"notAllowed"`
	StoreFailures int64 `json:"storeFailures"`
}

func (a serverStats) minus(b serverStats) serverStats {
	return serverStats{Decisions: a.Decisions - b.Decisions, NotAllowed: a.NotAllowed - b.NotAllowed, StoreFailures: a.StoreFailures - b.StoreFailures}
}

// runServer serves the engine of one store on addr until killed.
func runServer(mode, addr, redisURL, prefix string, nRules int, timeout string, pool int) error {
	e, err := core.New(benchConfig(mode, redisURL, prefix, nRules, timeout, pool))
	if err != nil {
		return err
	}
	var decisions, notAllowed, storeFailures atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/storebench/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(serverStats{Decisions: decisions.Load(), NotAllowed: notAllowed.Load(), StoreFailures: storeFailures.Load()})
	})
	// A CPU profile of either store: /debug/pprof/profile?seconds=5.
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
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// runConfig is one invocation's settings.
type runConfig struct {
	rules       int
	gateways    []string
	duration    time.Duration
	conns       int
	rates       []float64
	repeats     int
	redisServer string
	jsonOut     string
	timeout     string
	pool        int
}

// measurement is one gateway and store's phases in one repeat.
type measurement struct {
	Gateway string  `json:"gateway"`
	Mode    string  `json:"mode"`
	Repeat  int     `json:"repeat"`
	RPS     float64 `json:"rps"`
	// ServerCPU and RedisCPU are the CPU seconds per 1000 callbacks of the
	// throughput phase.
	ServerCPU float64 `json:"serverCpuPer1k"`
	RedisCPU  float64 `json:"redisCpuPer1k"`
	// Saturated are the throughput phase's decisions; Latency holds one
	// open-loop result per rate and Paced the decisions of those phases.
	Saturated serverStats       `json:"saturated"`
	Latency   []openloop.Result `json:"latency"`
	Paced     serverStats       `json:"paced"`
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
	for _, g := range rc.gateways {
		for _, mode := range []string{modeMemory, modeRedis} {
			s, err := startServer(g, mode, redis.URL, prefix, rc, dir)
			if err != nil {
				return err
			}
			defer s.stop()
			servers[g+"/"+mode] = s
		}
	}
	fmt.Fprintf(w, "storebench: gateways %v, %d rate rule(s) per callback, %d connections, %s phases, rates %v req/s, %d repeat(s); redis-server %s; load average %s\n",
		rc.gateways, rc.rules, rc.conns, rc.duration, rc.rates, rc.repeats, redis.Addr, procstat.LoadAverage())
	var all []measurement
	for rep := 0; rep < rc.repeats; rep++ {
		order := []string{modeMemory, modeRedis}
		if rep%2 == 1 {
			order = []string{modeRedis, modeMemory}
		}
		for _, g := range rc.gateways {
			for _, mode := range order {
				m, err := measure(rc, wrk, script, servers[g+"/"+mode], redis.Pid())
				if err != nil {
					return fmt.Errorf("%s/%s: %w", g, mode, err)
				}
				m.Gateway, m.Mode, m.Repeat = g, mode, rep+1
				fmt.Fprintf(w, "repeat %d %-5s %-6s %8.0f req/s  gateway %.3f CPU-s/1k  redis %.3f CPU-s/1k", m.Repeat, g, mode, m.RPS, m.ServerCPU, m.RedisCPU)
				for _, l := range m.Latency {
					fmt.Fprintf(w, "  @%.0f/s p50 %s p99 %s", l.Rate, ms(l.P50), ms(l.P99))
				}
				fmt.Fprintf(w, "  store failures: %s saturated, %s paced\n", share(m.Saturated), share(m.Paced))
				all = append(all, m)
			}
		}
	}
	fmt.Fprintf(w, "load average at the end: %s\n", procstat.LoadAverage())
	for _, g := range rc.gateways {
		summarize(w, rc, g, all)
	}
	if rc.jsonOut != "" {
		data, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(rc.jsonOut, data, 0o644)
	}
	return nil
}

// measure runs one server's throughput and latency phases.
func measure(rc runConfig, wrk, script string, s *server, redisPid int) (measurement, error) {
	var m measurement
	before, err := s.stats()
	if err != nil {
		return m, err
	}
	serverCPU0, redisCPU0 := cpuSeconds(s.pid()), cpuSeconds(redisPid)
	if m.RPS, err = runWrk(wrk, script, s.url, rc.conns, rc.duration); err != nil {
		return m, fmt.Errorf("throughput: %w", err)
	}
	requests := m.RPS * rc.duration.Seconds() / 1000
	m.ServerCPU = (cpuSeconds(s.pid()) - serverCPU0) / requests
	m.RedisCPU = (cpuSeconds(redisPid) - redisCPU0) / requests
	middle, err := s.stats()
	if err != nil {
		return m, err
	}
	m.Saturated = middle.minus(before)
	for _, rate := range rc.rates {
		res, err := openloop.Run(context.Background(), openloop.Config{
			Addr: s.addr, Requests: joinRequests(s.addr), Rate: rate, Duration: rc.duration, Connections: rc.conns,
		})
		if err != nil {
			return m, fmt.Errorf("at %.0f/s: %w", rate, err)
		}
		if res.Errors > 0 || res.ErrStatus > 0 || res.Dropped > 0 {
			return m, fmt.Errorf("at %.0f/s: %d errors, %d bad statuses, %d dropped: the server could not keep up", rate, res.Errors, res.ErrStatus, res.Dropped)
		}
		m.Latency = append(m.Latency, res)
	}
	after, err := s.stats()
	if err != nil {
		return m, err
	}
	m.Paced = after.minus(middle)
	if n := m.Saturated.NotAllowed + m.Paced.NotAllowed; n > 0 {
		return m, fmt.Errorf("%d callbacks were not allowed: the stores did unequal work", n)
	}
	return m, nil
}

// share renders the store failures of st as a share of its decisions.
func share(st serverStats) string {
	if st.Decisions == 0 {
		return "n/a"
	}
	return strconv.FormatFloat(100*float64(st.StoreFailures)/float64(st.Decisions), 'f', 2, 64) + "%"
}

// summarize prints one gateway's medians side by side and the targets.
func summarize(w io.Writer, rc runConfig, gateway string, all []measurement) {
	med := func(mode string, f func(m measurement) float64) float64 {
		var xs []float64
		for _, m := range all {
			if m.Gateway == gateway && m.Mode == mode {
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
	both := func(f func(m measurement) float64) (float64, float64) {
		return med(modeMemory, f), med(modeRedis, f)
	}
	name := map[string]string{gatewayCaddy: "Caddy + imgate (go-redis)", gatewayPlain: "imgate's engine in plain net/http (core's RESP2 client)"}[gateway]
	fmt.Fprintf(w, "\n%s, medians of %d repeat(s), %d rate rule(s) per callback:\n\n", name, rc.repeats, rc.rules)
	fmt.Fprintf(w, "| | memory | redis | redis vs memory |\n|---|---|---|---|\n")
	mem, red := both(func(m measurement) float64 { return m.RPS })
	ratio := red / mem
	fmt.Fprintf(w, "| throughput (wrk, %d connections) | %.0f req/s | %.0f req/s | %.2f× (target ≥ %.1f×: %s) |\n", rc.conns, mem, red, ratio, targetThroughput, verdict(ratio >= targetThroughput))
	mem, red = both(func(m measurement) float64 { return m.ServerCPU })
	fmt.Fprintf(w, "| gateway CPU per 1000 callbacks | %.1f ms | %.1f ms | %+.1f ms |\n", mem*1000, red*1000, (red-mem)*1000)
	_, red = both(func(m measurement) float64 { return m.RedisCPU })
	fmt.Fprintf(w, "| redis-server CPU per 1000 callbacks | — | %.1f ms | |\n", red*1000)
	for i, rate := range rc.rates {
		i := i
		for _, p := range []struct {
			name string
			get  func(r openloop.Result) time.Duration
		}{{"p50", func(r openloop.Result) time.Duration { return r.P50 }}, {"p99", func(r openloop.Result) time.Duration { return r.P99 }}} {
			memD, redD := both(func(m measurement) float64 { return float64(p.get(m.Latency[i])) })
			added := time.Duration(redD - memD)
			note := ""
			if p.name == "p99" {
				note = fmt.Sprintf(" (target ≤ %s: %s)", ms(targetP99Added), verdict(added <= targetP99Added))
			}
			fmt.Fprintf(w, "| %s at %.0f req/s (open loop) | %s | %s | %+.3f ms%s |\n", p.name, rate, ms(time.Duration(memD)), ms(time.Duration(redD)), float64(added)/float64(time.Millisecond), note)
		}
	}
	sat, paced := serverStats{}, serverStats{}
	for _, m := range all {
		if m.Gateway == gateway && m.Mode == modeRedis {
			sat.Decisions += m.Saturated.Decisions
			sat.StoreFailures += m.Saturated.StoreFailures
			paced.Decisions += m.Paced.Decisions
			paced.StoreFailures += m.Paced.StoreFailures
		}
	}
	fmt.Fprintf(w, "| decided by storeFailure (over the 5 ms budget) | — | %s saturated, %s paced | |\n", share(sat), share(paced))
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

// server is one gateway and store's process.
type server struct {
	addr, url string
	// statsURL serves the decision counts: the plain server's
	// /storebench/stats, or Caddy's admin /metrics.
	statsURL string
	caddy    bool
	cmd      *exec.Cmd
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer starts this binary as the gateway's server for one store.
func startServer(gateway, mode, redisURL, prefix string, rc runConfig, dir string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{addr: addr, url: "http://" + addr}
	if gateway == gatewayPlain {
		s.statsURL = s.url + "/storebench/stats"
		s.cmd = exec.Command(os.Args[0], "-serve", mode, "-addr", addr, "-redis", redisURL, "-prefix", prefix, "-rules", strconv.Itoa(rc.rules),
			"-timeout", rc.timeout, "-pool", strconv.Itoa(rc.pool))
	} else {
		admin, err := freeAddr()
		if err != nil {
			return nil, err
		}
		s.caddy = true
		s.statsURL = "http://" + admin + "/metrics"
		config, err := caddyConfig(addr, admin, benchConfig(mode, redisURL, prefix, rc.rules, rc.timeout, rc.pool))
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, "caddy-"+mode+".json")
		if err := os.WriteFile(path, config, 0o600); err != nil {
			return nil, err
		}
		s.cmd = exec.Command(os.Args[0], "run", "--config", path)
		s.cmd.Env = append(os.Environ(), envCaddy+"=1", "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	}
	s.cmd.Stdout, s.cmd.Stderr = os.Stderr, os.Stderr
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := s.stats(); err == nil {
			if resp, err := http.Get(s.url + "/"); err == nil {
				resp.Body.Close()
				return s, nil
			}
		}
	}
	s.stop()
	return nil, fmt.Errorf("the %s/%s server did not start on %s", gateway, mode, addr)
}

// caddyConfig is a Caddy JSON config serving the imgate handler on addr,
// with the admin API (metrics) on admin and logs at warn, as in
// benchmark setup C.
func caddyConfig(addr, admin string, cfg core.Config) ([]byte, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	handler := map[string]any{}
	if err := json.Unmarshal(raw, &handler); err != nil {
		return nil, err
	}
	handler["handler"] = "imgate"
	return json.Marshal(map[string]any{
		"admin":   map[string]any{"listen": admin},
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "WARN"}}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"bench": map[string]any{
			"listen":          []string{addr},
			"routes":          []any{map[string]any{"handle": []any{handler}}},
			"automatic_https": map[string]any{"disable": true},
		}}}},
	})
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// stats reads the server's decision counts.
func (s *server) stats() (serverStats, error) {
	var st serverStats
	resp, err := http.Get(s.statsURL)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if !s.caddy {
		err = json.NewDecoder(resp.Body).Decode(&st)
		return st, err
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		v, perr := strconv.ParseFloat(line[i+1:], 64)
		if perr != nil {
			continue
		}
		switch {
		case strings.HasPrefix(line, "caddy_imgate_decisions_total{"):
			st.Decisions += int64(v)
			if !strings.Contains(line, `result="allow"`) {
				st.NotAllowed += int64(v)
			}
		case strings.HasPrefix(line, "caddy_imgate_store_failures_total{"):
			st.StoreFailures += int64(v)
		}
	}
	return st, sc.Err()
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
