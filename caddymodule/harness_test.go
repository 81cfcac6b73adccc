package caddymodule

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// The in-process Caddy that caddytest starts listens for admin requests on
// localhost:2999 and serves the test routes on :9080 (the Caddy project's
// test ports). Every config loaded here keeps admin on 2999, or caddytest
// would lose the server.
const (
	adminAddr = "localhost:2999"
	httpBase  = "http://127.0.0.1:9080"
)

// TestMain holds an exclusive lock on a file in the temp directory while
// the tests run: caddytest uses fixed ports, so two test processes of this
// package (e.g. `go test ./...` next to `go test ./caddymodule`) would
// otherwise load their configs into one another's Caddy.
//
// It also starts the in-process Caddy itself and waits for it as long as a
// loaded machine needs. caddytest would start it on first use but wait only
// 10 s, then skip every test that needs it (a silent pass), and it gives a
// config load 5 s: both ran out on a cold 2-core machine while other
// packages compiled.
func TestMain(m *testing.M) {
	flag.Parse()
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "imgate-caddytest.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "caddymodule tests: opening lock file:", err)
		os.Exit(1)
	}
	if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		fmt.Fprintln(os.Stderr, "caddymodule tests: locking:", err)
		os.Exit(1)
	}
	caddytest.Default.LoadRequestTimeout = loadedMachineTimeout
	caddytest.Default.TestRequestTimeout = loadedMachineTimeout
	if !testing.Short() {
		if err = startCaddy(); err != nil {
			fmt.Fprintln(os.Stderr, "caddymodule tests:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	lock.Close() // releases the lock
	os.Exit(code)
}

// loadedMachineTimeout bounds one config load or test request: generous,
// because a test must not fail for a machine that is busy, only for a
// Caddy that does not answer.
const loadedMachineTimeout = 2 * time.Minute

// startCaddy runs Caddy in this process with an admin endpoint on
// adminAddr, as caddytest does, and waits until the endpoint answers. It
// first waits for the port to be free: the test process that held the lock
// before may still be exiting with its Caddy listening, and configs loaded
// into that one would meet its older code.
func startCaddy() error {
	deadline := time.Now().Add(loadedMachineTimeout)
	for _, addr := range []string{adminAddr, strings.TrimPrefix(httpBase, "http://")} {
		for {
			conn, derr := net.DialTimeout("tcp", addr, time.Second)
			if derr != nil {
				break
			}
			conn.Close()
			if time.Now().After(deadline) {
				return fmt.Errorf("in-process caddy: %s still taken by another process after %s", addr, loadedMachineTimeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	f, err := os.CreateTemp("", "imgate-caddytest-*.caddyfile")
	if err != nil {
		return err
	}
	if _, err = fmt.Fprintf(f, "{\n\tadmin %s\n}\n", adminAddr); err != nil {
		return err
	}
	f.Close()
	os.Args = []string{"caddy", "run", "--config", f.Name(), "--adapter", "caddyfile"}
	go caddycmd.Main()
	deadline = time.Now().Add(loadedMachineTimeout)
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		resp, gerr := client.Get("http://" + adminAddr + "/config/")
		if gerr == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("in-process caddy: admin endpoint %s not up after %s: %w", adminAddr, loadedMachineTimeout, gerr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// server is the JSON config of one HTTP server on :9080 whose routes are
// given; loopback is a trusted proxy, so X-Forwarded-For sets the client
// IP as a load balancer in front of Caddy would.
func serverConfig(routes []any, accessLog bool) string {
	srv := map[string]any{
		"listen": []string{":9080"},
		"routes": routes,
		"trusted_proxies": map[string]any{
			"source": "static",
			"ranges": []string{"127.0.0.1/32", "::1/128"},
		},
		"automatic_https": map[string]any{"disable": true},
	}
	if accessLog {
		srv["logs"] = map[string]any{}
	}
	cfg := map[string]any{
		"admin": map[string]any{"listen": adminAddr},
		"logging": map[string]any{"logs": map[string]any{
			"default": map[string]any{"level": "ERROR"},
		}},
		"apps": map[string]any{"http": map[string]any{
			"http_port":  9080,
			"https_port": 9443,
			"servers":    map[string]any{"imgate": srv},
		}},
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// caddyfileGlobals is the global options block matching serverConfig.
const caddyfileGlobals = `{
	admin localhost:2999
	http_port 9080
	https_port 9443
	auto_https off
	log {
		level ERROR
	}
	servers {
		trusted_proxies static 127.0.0.1/32 ::1/128
	}
}
`

// route is one JSON route: handlers run in order, for requests to host
// (any host when empty).
func route(host string, handlers ...any) map[string]any {
	r := map[string]any{"handle": handlers, "terminal": true}
	if host != "" {
		r["match"] = []any{map[string]any{"host": []string{host}}}
	}
	return r
}

// imgateJSON returns h as the handler's JSON object.
func imgateJSON(t testing.TB, h *Handler) map[string]any {
	t.Helper()
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err = json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["handler"] = "imgate"
	return m
}

// closedPort returns a loopback port nothing listens on: an upstream that
// is down.
func closedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// newTester returns a caddytest client; the test is skipped with -short.
func newTester(t *testing.T) *caddytest.Tester {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an in-process Caddy")
	}
	return caddytest.NewTester(t)
}

// scrapeMetrics returns the caddy_imgate_* samples of the admin /metrics
// endpoint, keyed by their text form `name{labels}`.
func scrapeMetrics(t testing.TB) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + adminAddr + "/metrics")
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	defer resp.Body.Close()
	samples := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "caddy_imgate_") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return samples
}

// delta returns the samples that grew from before to after, by how much.
func delta(before, after map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}
