package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// rateConfig is a Tencent route whose rule denies the third join request
// of an actor within an hour, plus an unrelated route whose body changes
// with generation so that each load is a real reload (Caddy ignores a
// config identical to the running one).
func rateConfig(t *testing.T, message string, generation int) string {
	h := &Handler{Config: core.Config{
		Platform: "tencent",
		Rules: []core.RuleConfig{{
			Name: "join-flood", Events: []string{"group.join.apply"}, Rate: "2/1h",
			Action: "deny", Message: message,
		}},
	}}
	return serverConfig([]any{
		route("other.test", map[string]any{"handler": "static_response", "body": fmt.Sprintf("generation %d", generation)}),
		route("", imgateJSON(t, h)),
	}, false)
}

func applyJoin(t *testing.T, client *http.Client) string {
	t.Helper()
	return applyJoinAs(t, client, "alice")
}

// applyJoinAs is actor's join request to group g1.
func applyJoinAs(t *testing.T, client *http.Client, actor string) string {
	t.Helper()
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g1","Type":"Public","Requestor_Account":"` + actor + `","ApplyMsg":"hi"}`
	resp, err := client.Post(httpBase+"/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup&SdkAppid=1", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return readAll(t, resp)
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// loadConfig posts a JSON config to the admin API, as `caddy reload` does.
func loadConfig(t *testing.T, config string) {
	t.Helper()
	// A kept-alive connection from an earlier test may belong to an admin
	// endpoint that a later load replaced: it would read a reset.
	http.DefaultClient.CloseIdleConnections()
	resp, err := http.Post("http://"+adminAddr+"/load", "application/json", strings.NewReader(config))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("load: HTTP %d: %s", resp.StatusCode, readAll(t, resp))
	}
}

const (
	allowReply = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	floodReply = `{"ActionStatus":"OK","ErrorInfo":"slow down","ErrorCode":1}`
)

// TestReloadKeepsState checks that an unchanged imgate config keeps its
// engine (the rate bucket keeps counting) through a reload, that a changed
// config starts from a fresh engine, and that engines of configs no longer
// loaded are released.
func TestReloadKeepsState(t *testing.T) {
	tester := newTester(t)
	tester.InitServer(rateConfig(t, "slow down", 0), "json")
	for i, want := range []string{allowReply, allowReply} {
		if got := applyJoin(t, tester.Client); got != want {
			t.Fatalf("request %d: %s, want %s", i+1, got, want)
		}
	}
	loadConfig(t, rateConfig(t, "slow down", 1))
	// The old server closes its keep-alive connections on reload; a reused
	// one would read EOF.
	tester.Client.CloseIdleConnections()
	if got := applyJoin(t, tester.Client); got != floodReply {
		t.Fatalf("after an unchanged reload: %s, want the bucket to be empty: %s", got, floodReply)
	}
	loadConfig(t, rateConfig(t, "easy", 2))
	tester.Client.CloseIdleConnections()
	if got := applyJoin(t, tester.Client); got != allowReply {
		t.Fatalf("after a config change: %s, want a fresh bucket: %s", got, allowReply)
	}
	if n := poolSize(); n != 1 {
		t.Errorf("%d engines pooled after the old config went away, want 1", n)
	}
}

// TestReloadNoLeak reloads 100 times, alternating two imgate configs so
// engines are built and released, and checks that goroutines and open
// files do not grow.
func TestReloadNoLeak(t *testing.T) {
	tester := newTester(t)
	tester.InitServer(rateConfig(t, "a", 0), "json")
	applyJoin(t, tester.Client)
	settle()
	goroutines, fds := runtime.NumGoroutine(), openFiles(t)
	for i := 1; i <= 100; i++ {
		loadConfig(t, rateConfig(t, []string{"a", "b"}[i%2], i))
		if i%10 == 0 {
			// The replaced server closed its keep-alive connections; a
			// reused one would read EOF.
			tester.Client.CloseIdleConnections()
			applyJoin(t, tester.Client)
		}
	}
	loadConfig(t, rateConfig(t, "a", 0))
	tester.Client.CloseIdleConnections()
	applyJoin(t, tester.Client)
	const tolerance = 10
	settleUntil(func() bool {
		return runtime.NumGoroutine() <= goroutines+tolerance && openFiles(t) <= fds+tolerance
	})
	if g := runtime.NumGoroutine(); g > goroutines+tolerance {
		t.Errorf("goroutines grew from %d to %d over 100 reloads", goroutines, g)
	}
	if f := openFiles(t); f > fds+tolerance {
		t.Errorf("open files grew from %d to %d over 100 reloads", fds, f)
	}
	if n := poolSize(); n != 1 {
		t.Errorf("%d engines pooled, want 1", n)
	}
	t.Logf("after 100 reloads: goroutines %d -> %d, open files %d -> %d", goroutines, runtime.NumGoroutine(), fds, openFiles(t))
}

// settle lets servers of replaced configs finish shutting down and idle
// client connections close.
func settle() {
	http.DefaultClient.CloseIdleConnections()
	for i := 0; i < 20; i++ {
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
}

// settleUntil settles until flat holds or a minute has passed: a loaded
// machine finishes shutting replaced servers down later, which is no leak;
// what stays after a minute is.
func settleUntil(flat func() bool) {
	deadline := time.Now().Add(time.Minute)
	settle()
	for !flat() && time.Now().Before(deadline) {
		settle()
	}
}

func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(entries)
}

func poolSize() int {
	n := 0
	engines.Range(func(_, _ any) bool { n++; return true })
	return n
}
