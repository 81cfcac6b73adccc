package replicas

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/imgate/imgate/caddymodule"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
)

// envCaddy makes the test binary run as Caddy instead of running tests.
const envCaddy = "IMGATE_REPLICAS_RUN_CADDY"

// TestMain runs the binary as Caddy (with the standard modules and imgate,
// as cmd/caddy) when the tests start it as a replica.
func TestMain(m *testing.M) {
	if os.Getenv(envCaddy) == "1" {
		caddycmd.Main()
		return
	}
	os.Exit(m.Run())
}

// deadline is the Tencent callback deadline (imgate's default): no
// callback may take longer, whatever Redis does.
const deadline = core.DefaultTencentDeadline

// startupTimeout bounds a replica's start on a loaded machine.
const startupTimeout = 2 * time.Minute

// replica is one running gateway.
type replica struct {
	name string
	// url is the base URL callbacks are sent to.
	url string
	// logs returns what the gateway logged so far; outageLog and
	// recoveryLog are in the lines it writes when the shared store becomes
	// unavailable and available again.
	logs                   func() string
	outageLog, recoveryLog string
}

// sharedConfig is the imgate config every replica runs: three rate rules,
// one per failure policy, on one Redis.
func sharedConfig(srv *redistest.Server, prefix string) core.Config {
	return core.Config{
		Platform:       "tencent",
		DecisionHeader: "X-Imgate-Decision",
		Store:          core.StoreConfig{Type: "redis", Address: srv.URL, Prefix: prefix, Timeout: "250ms"},
		Rules: []core.RuleConfig{
			{Name: "open", Events: []string{"group.join.apply"}, Actors: []string{"open-*"}, Rate: "1/1h", Action: "deny", Message: "open", StoreFailure: "allow"},
			{Name: "closed", Events: []string{"group.join.apply"}, Actors: []string{"closed-*"}, Rate: "1/1h", Action: "deny", Message: "closed", StoreFailure: "deny"},
			{Name: "join-flood", Events: []string{"group.join.apply"}, Rate: "5/1m", Action: "deny", Message: "slow down", StoreFailure: "local"},
		},
	}
}

// uniquePrefix keeps the keys of each run apart.
func uniquePrefix(t *testing.T) string {
	return "replicas-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
}

var actorSeq atomic.Int64

// freshActor returns an actor no request used yet.
func freshActor(kind string) string {
	return kind + "-" + strconv.FormatInt(actorSeq.Add(1), 10)
}

// reply is a gateway's answer to one callback.
type reply struct {
	status   int
	body     string
	decision string
	took     time.Duration
}

var client = &http.Client{Timeout: time.Minute}

// join sends one join request by actor and fails the test unless it is
// answered with a platform reply within the deadline.
func join(t *testing.T, r replica, actor string) reply {
	t.Helper()
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Type":"Public","Requestor_Account":"` + actor + `"}`
	start := time.Now()
	resp, err := client.Post(r.url+"/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", r.name, err)
	}
	rep := reply{status: resp.StatusCode, body: string(data), decision: resp.Header.Get("X-Imgate-Decision"), took: time.Since(start)}
	if rep.status != http.StatusOK {
		t.Fatalf("%s answered %s with HTTP %d: %s", r.name, actor, rep.status, rep.body)
	}
	if rep.took >= deadline {
		t.Fatalf("%s answered %s after %s, past the %s deadline", r.name, actor, rep.took, deadline)
	}
	return rep
}

func allowed(rep reply) bool { return strings.HasPrefix(rep.decision, "allow;") }

// assertShared sends 10 callbacks of one actor alternately to a and b: a
// 5/1m rule must admit exactly 5 across both.
func assertShared(t *testing.T, a, b replica) {
	t.Helper()
	actor := freshActor("ann")
	n := 0
	var decisions []string
	for i := 0; i < 10; i++ {
		r := a
		if i%2 == 1 {
			r = b
		}
		rep := join(t, r, actor)
		if allowed(rep) {
			n++
		}
		decisions = append(decisions, r.name+": "+rep.decision)
	}
	if n != 5 {
		t.Fatalf("%d of 10 allowed across %s and %s, want 5:\n%s", n, a.name, b.name, strings.Join(decisions, "\n"))
	}
}

// waitShared probes r until it decides from Redis again: a fresh actor of
// the closed rule (storeFailure deny) is allowed only when Redis answers.
func waitShared(t *testing.T, r replica) {
	t.Helper()
	end := time.Now().Add(time.Minute)
	for {
		if allowed(join(t, r, freshActor("closed"))) {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s did not decide from Redis again within a minute", r.name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// assertOutage kills Redis mid-run: every callback to a and b is still
// answered in time, each rule by its storeFailure, the gateways log the
// outage, and when Redis is back sharing resumes.
func assertOutage(t *testing.T, srv *redistest.Server, a, b replica) {
	t.Helper()
	waitShared(t, a)
	waitShared(t, b)
	srv.Kill(t)
	for _, r := range []replica{a, b} {
		open, closed, local := freshActor("open"), freshActor("closed"), freshActor("bob")
		for i := 0; i < 3; i++ {
			if rep := join(t, r, open); !allowed(rep) {
				t.Fatalf("%s, Redis down, request %d of %s: %s, want allow (storeFailure allow)", r.name, i+1, open, rep.decision)
			}
			if rep := join(t, r, closed); rep.decision != "deny; rule=closed" {
				t.Fatalf("%s, Redis down, request %d of %s: %s, want deny by closed (storeFailure deny)", r.name, i+1, closed, rep.decision)
			}
		}
		// local: this replica's own buckets, 5 per minute.
		for i := 0; i < 6; i++ {
			rep := join(t, r, local)
			if want := i < 5; allowed(rep) != want {
				t.Fatalf("%s, Redis down, request %d of %s: %s; want the local bucket to admit 5", r.name, i+1, local, rep.decision)
			}
		}
	}
	srv.Restart(t)
	waitShared(t, a)
	waitShared(t, b)
	assertShared(t, a, b)
	for _, r := range []replica{a, b} {
		logs := r.logs()
		if !strings.Contains(logs, r.outageLog) || !strings.Contains(logs, r.recoveryLog) {
			t.Errorf("%s logged no %q and %q lines:\n%s", r.name, r.outageLog, r.recoveryLog, tail(logs))
		}
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}

// Caddy logs an outage at warn and the recovery at info.
const (
	caddyOutageLog   = "shared store unavailable"
	caddyRecoveryLog = "shared store available again"
)

// startCaddy runs this test binary as Caddy with one imgate route, on a
// free loopback port, until the test ends.
func startCaddy(t *testing.T, name string, cfg core.Config) replica {
	t.Helper()
	handler := map[string]any{}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err = json.Unmarshal(data, &handler); err != nil {
		t.Fatal(err)
	}
	handler["handler"] = "imgate"
	dir := t.TempDir()
	for attempt := 0; attempt < 3; attempt++ {
		addr := freeAddr(t)
		caddyCfg := map[string]any{
			"admin":   map[string]any{"disabled": true},
			"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "INFO"}}},
			"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"imgate": map[string]any{
				"listen":          []string{addr},
				"routes":          []any{map[string]any{"handle": []any{handler}}},
				"automatic_https": map[string]any{"disable": true},
			}}}},
		}
		cfgData, err := json.Marshal(caddyCfg)
		if err != nil {
			t.Fatal(err)
		}
		cfgPath := filepath.Join(dir, "caddy.json")
		if err = os.WriteFile(cfgPath, cfgData, 0o600); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, fmt.Sprintf("caddy-%d.log", attempt))
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "run", "--config", cfgPath)
		cmd.Env = append(os.Environ(), envCaddy+"=1", "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
		cmd.Stdout = logFile
		cmd.Stderr = logFile
		if err = cmd.Start(); err != nil {
			t.Fatal(err)
		}
		logFile.Close()
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		logs := func() string {
			data, _ := os.ReadFile(logPath)
			return string(data)
		}
		r := replica{name: name, url: "http://" + addr, logs: logs, outageLog: caddyOutageLog, recoveryLog: caddyRecoveryLog}
		if waitUp(r.url, exited) {
			t.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
				if t.Failed() {
					t.Logf("%s's log ends:\n%s", name, tail(logs()))
				}
			})
			return r
		}
		cmd.Process.Kill()
		<-exited
		if !strings.Contains(logs(), "address already in use") {
			t.Fatalf("%s did not start:\n%s", name, tail(logs()))
		}
	}
	t.Fatalf("%s: no free port after 3 attempts", name)
	return replica{}
}

// waitUp waits until url answers HTTP, or the process exits.
func waitUp(url string, exited chan struct{}) bool {
	end := time.Now().Add(startupTimeout)
	for time.Now().Before(end) {
		select {
		case <-exited:
			return false
		default:
		}
		resp, err := http.Get(url + "/im")
		if err == nil {
			resp.Body.Close()
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestCaddyCaddyShareBucket: two Caddy replicas, one Redis, one limit.
func TestCaddyCaddyShareBucket(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := sharedConfig(srv, uniquePrefix(t))
	a := startCaddy(t, "caddy-a", cfg)
	b := startCaddy(t, "caddy-b", cfg)
	assertShared(t, a, b)
}

// TestCaddyCaddyRedisOutage kills and restarts Redis under two Caddy
// replicas.
func TestCaddyCaddyRedisOutage(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := sharedConfig(srv, uniquePrefix(t))
	a := startCaddy(t, "caddy-a", cfg)
	b := startCaddy(t, "caddy-b", cfg)
	assertOutage(t, srv, a, b)
}
