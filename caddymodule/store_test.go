package caddymodule

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
)

// TestObserveStore proves an outage is logged once at warn with its reason
// and error, and the recovery at info.
func TestObserveStore(t *testing.T) {
	obs, logs := observer.New(zapcore.DebugLevel)
	h := &Handler{logger: zap.New(obs)}
	h.observeStore(core.StoreEvent{Reason: "down", Err: errors.New("redis 127.0.0.1:6379: connection refused")})
	h.observeStore(core.StoreEvent{Available: true})
	entries := logs.All()
	if len(entries) != 2 {
		t.Fatalf("%d lines, want 2", len(entries))
	}
	down := entries[0]
	if down.Level != zapcore.WarnLevel || !strings.Contains(down.Message, "shared store unavailable") ||
		down.ContextMap()["store_failure"] != "down" || down.ContextMap()["store_error"] != "redis 127.0.0.1:6379: connection refused" {
		t.Errorf("outage line: %s %q %v", down.Level, down.Message, down.ContextMap())
	}
	if up := entries[1]; up.Level != zapcore.InfoLevel || !strings.Contains(up.Message, "available again") {
		t.Errorf("recovery line: %s %q", up.Level, up.Message)
	}
}

// TestStoreDownInCaddy runs a route whose Redis is unreachable: callbacks
// are answered by the rule's storeFailure, and the metric counts them.
func TestStoreDownInCaddy(t *testing.T) {
	tester := newTester(t)
	h := &Handler{Name: "store-down", Config: core.Config{
		Platform: "tencent",
		Rules: []core.RuleConfig{{
			Name: "closed-flood", Events: []string{"group.join.apply"}, Rate: "100/1h",
			Action: "deny", Message: "closed", StoreFailure: "deny",
		}},
		Store: core.StoreConfig{Type: "redis", Address: "redis://127.0.0.1:" + strconv.Itoa(closedPort(t)), Timeout: "50ms"},
	}}
	tester.InitServer(serverConfig([]any{route("", imgateJSON(t, h))}, false), "json")
	before := scrapeMetrics(t)
	for i := 0; i < 3; i++ {
		if got := applyJoin(t, tester.Client); got != `{"ActionStatus":"OK","ErrorInfo":"closed","ErrorCode":1}` {
			t.Fatalf("request %d: %s, want the deny of storeFailure deny", i+1, got)
		}
	}
	got := delta(before, scrapeMetrics(t))
	if n := got[`caddy_imgate_store_failures_total{platform="tencent",reason="down"}`]; n != 3 {
		t.Fatalf("store failures counted: %v", got)
	}
}

// redisRateConfig is rateConfig with the bucket in Redis.
func redisRateConfig(t *testing.T, srv *redistest.Server, prefix, message string, generation int) string {
	h := &Handler{Config: core.Config{
		Platform: "tencent",
		Rules: []core.RuleConfig{{
			Name: "join-flood", Events: []string{"group.join.apply"}, Rate: "2/1h",
			Action: "deny", Message: message, StoreFailure: "allow",
		}},
		Store: core.StoreConfig{Type: "redis", Address: srv.URL, Prefix: prefix, Timeout: "900ms", PoolSize: 2},
	}}
	return serverConfig([]any{
		route("other.test", map[string]any{"handler": "static_response", "body": fmt.Sprintf("generation %d", generation)}),
		route("", imgateJSON(t, h)),
	}, false)
}

// TestRedisReload proves, on a real Redis, that the bucket lives in Redis
// (a changed config keeps counting where the old one stopped, as another
// replica would), and that 100 reloads neither pile up connections nor
// leak goroutines or files: each engine's share of the pool is given back
// when Caddy drops it.
func TestRedisReload(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	tester := newTester(t)
	prefix := "caddy-reload-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	tester.InitServer(redisRateConfig(t, srv, prefix, "slow down", 0), "json")
	for i, want := range []string{allowReply, allowReply} {
		if got := applyJoin(t, tester.Client); got != want {
			t.Fatalf("request %d: %s, want %s", i+1, got, want)
		}
	}
	loadConfig(t, redisRateConfig(t, srv, prefix, "changed", 1))
	tester.Client.CloseIdleConnections()
	if got := applyJoin(t, tester.Client); got != `{"ActionStatus":"OK","ErrorInfo":"changed","ErrorCode":1}` {
		t.Fatalf("after a config change: %s, want the shared bucket to be empty still", got)
	}
	settle()
	goroutines, fds := runtime.NumGoroutine(), openFiles(t)
	for i := 1; i <= 100; i++ {
		loadConfig(t, redisRateConfig(t, srv, prefix, []string{"a", "b"}[i%2], i+1))
		if i%10 == 0 {
			tester.Client.CloseIdleConnections()
			applyJoin(t, tester.Client)
			// The pool holds at most 2; Do's own connection is the third.
			if n := srv.Clients(t); n > 3 {
				t.Fatalf("after %d reloads Redis sees %d clients, want at most 3", i, n)
			}
			// One go-redis client for every config, holding at most 2.
			if n := pooledClients(t, 1)[0].PoolStats().TotalConns; n > 2 {
				t.Fatalf("after %d reloads the go-redis pool holds %d connections, want at most 2", i, n)
			}
		}
	}
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
	// A config without Redis releases the last share: the connections close.
	loadConfig(t, rateConfig(t, "memory", 200))
	deadline := time.Now().Add(time.Minute)
	for srv.Clients(t) != 1 || pooledCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Redis still sees %d clients, and %d go-redis clients are pooled, after no config uses it", srv.Clients(t), pooledCount())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
