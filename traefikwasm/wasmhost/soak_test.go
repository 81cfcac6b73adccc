package wasmhost

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikload"
)

// soakCallbacks is how many callbacks TestSoak sends through one
// instance. The crash it guards against (heap corruption by wazero
// v1.8.0's memmove call, see build.LowerBulkMemory) showed after 2,000 to
// 8,000 of the benchmark's callbacks on one instance; this test's mix,
// with its huge bodies, brought it out within the first 500 when
// plugin.wasm was not lowered. It shows only on a CPU where the host's
// memmove takes the path that clobbers RDX (Intel with ERMS and FSRM, as
// this project's machines); build.CountBulkMemory's checks hold on any.
const soakCallbacks = 20000

// TestSoak drives one guest instance through tens of thousands of
// callbacks: every golden case's request (both platforms, every command,
// bad input, oversized and huge bodies, failed verification, unknown
// commands) in turn, some answered from rules and some forwarded to the
// router's service (before-callbacks decided by it, after-callbacks
// delivered). The configuration is commands.json (lists from a file)
// plus a forward rule; every reply must equal, byte for byte (status,
// decision header, body), the compiled plugin's for the same request, and
// the pool must never have needed a second instance.
func TestSoak(t *testing.T) {
	skipUnderRace(t)
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := testdataDir(t)
	raw := strings.ReplaceAll(string(golden.ReadTestdata(t, "configs", "commands.json")), "{testdata}", dir)
	var config map[string]any
	if err := json.Unmarshal([]byte(raw), &config); err != nil {
		t.Fatal(err)
	}
	config["decisionHeader"] = golden.DecisionHeader
	config["rules"] = append(config["rules"].([]any), map[string]any{
		"name": "to-app", "events": []any{"group.join.*", "group.member.*", "group.message.after", "group.info.change.before"}, "action": "forward",
	})
	// The compiled plugin answers every case once, before the wasm
	// plugin's instance exists: the configuration has no signature
	// window or rate rule, so its replies do not change with time. The
	// host's pool is a sync.Pool: an idle instance goes back to the
	// processor (P) that ran the request and another P does not see it,
	// and two garbage collections while it is idle drop it. With one P,
	// and little allocated between two calls of the wasm plugin, the
	// same instance serves every callback.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	compiled := traefikload.NewCompiled(t, config, soakUpstream())
	want := make([]string, len(cases))
	for i := range cases {
		want[i] = serve(t, compiled, &cases[i], time.Now())
	}
	var log logs
	mw, err := module(t).New(context.Background(), config, soakUpstream(), log.logf, dir)
	if err != nil {
		t.Fatalf("wasm middleware: %v; log: %s", err, logText(log.all()))
	}
	t.Cleanup(func() { mw.Close(context.Background()) })

	forwarded, sent := 0, 0
	for round := 0; sent < soakCallbacks; round++ {
		for i := range cases {
			got := serve(t, mw, &cases[i], time.Now())
			sent++
			if got != want[i] {
				t.Fatalf("callback %d (round %d, %s): the wasm plugin answered\n  %s\nthe compiled plugin\n  %s\nlog: %s", sent, round, cases[i].Name, got, want[i], logText(log.all()))
			}
			if strings.Contains(got, "; rule=upstream") {
				forwarded++
			}
		}
		for _, l := range log.all() {
			if strings.Contains(l.msg, "panic=") || strings.Contains(l.msg, "wasm error") {
				t.Fatalf("round %d: %s", round, l.msg)
			}
		}
		log.reset()
	}
	if n := mw.Instances(); n != 1 {
		t.Errorf("%d guest instances served the callbacks, want one", n)
	}
	if forwarded == 0 {
		t.Error("no callback was decided by the service: the forward path did not run")
	}
	t.Logf("%d callbacks (%d golden cases, %d decided by the service) through one instance", sent, len(cases), forwarded)
}

// serve sends the case's request built for now and returns the reply as
// "<status> <decision>\n<body>".
func serve(t *testing.T, h http.Handler, c *golden.Case, now time.Time) string {
	t.Helper()
	r, err := c.NewRequest("", now)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, AsServed(r))
	return strconv.Itoa(rec.Code) + " " + rec.Header().Get(golden.DecisionHeader) + "\n" + rec.Body.String()
}

// soakUpstream is the router's service: it denies a forwarded callback
// whose normalized event names members and allows the others, so the
// reply depends on the body the plugin sent.
func soakUpstream() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"members":[`) {
			_, _ = io.WriteString(w, `{"decision":"deny","code":10170,"message":"ask an admin"}`)
			return
		}
		_, _ = io.WriteString(w, `{"decision":"allow"}`)
	})
}
