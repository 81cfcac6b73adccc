package core

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/redistest"
)

// These tests run against a real redis-server (internal/redistest): they
// are skipped unless IMGATE_REDIS_SERVER is set, as ./test.sh does.

// testPrefix keeps each test's keys apart on a shared server.
func testPrefix(t *testing.T) string {
	return "imgate-test:" + t.Name() + ":"
}

// roomyTimeout is the store timeout of the tests that check what is
// shared, not how fast: a loaded machine must not turn them into tests of
// the failure policy.
const roomyTimeout = "900ms"

// redisEngine builds an engine on srv; it is closed when the test ends.
func redisEngine(t *testing.T, srv *redistest.Server, cfg Config, timeout string) *Engine {
	t.Helper()
	return redisEngineWith(t, srv, cfg, timeout, Options{})
}

// redisEngineWith is redisEngine with a host's options: a transport.
func redisEngineWith(t *testing.T, srv *redistest.Server, cfg Config, timeout string, opts Options) *Engine {
	t.Helper()
	cfg.Store.Type = StoreRedis
	cfg.Store.Address = srv.URL
	cfg.Store.Timeout = timeout
	if cfg.Store.Prefix == "" {
		cfg.Store.Prefix = testPrefix(t)
	}
	if srv.CAFile != "" && cfg.Store.TLSCAFile == "" {
		cfg.Store.TLSCAFile = srv.CAFile
	}
	e, err := NewWith(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

// take settles one check of r for id at now.
func take(t *testing.T, e *Engine, r *rule, id string, now int64) bool {
	t.Helper()
	checks := []rateCheck{{rule: r, platform: PlatformTencent, id: id}}
	if err := e.store.kind.take(e.store, checks, now); err != nil {
		t.Fatalf("take: %v", err)
	}
	return checks[0].exceeded
}

// TestRedisStoreMatchesMemory runs the in-memory limiter's refill steps
// through the Redis script: both admit the same requests at the same
// times.
func TestRedisStoreMatchesMemory(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := redisEngine(t, srv, Config{Rules: []RuleConfig{{Name: "rl", Rate: "2/1m", Action: "deny"}}}, roomyTimeout)
	r := e.rules[0]
	t0 := time.Unix(1700000000, 0).UnixNano()
	steps := []struct {
		key      string
		at       time.Duration
		exceeded bool
	}{
		{"a", 0, false},
		{"a", 0, false},
		{"a", 0, true},                // burst of 2 used up
		{"b", 0, false},               // another key has its own bucket
		{"a", 29 * time.Second, true}, // 0.97 tokens back
		{"a", 31 * time.Second, false},
		{"a", 31 * time.Second, true},
		{"a", 10 * time.Minute, false}, // refilled, capped at the burst
		{"a", 10 * time.Minute, false},
		{"a", 10 * time.Minute, true},
	}
	for i, s := range steps {
		if got := take(t, e, r, s.key, t0+int64(s.at)); got != s.exceeded {
			t.Fatalf("step %d (%s at %s): exceeded %v, want %v", i, s.key, s.at, got, s.exceeded)
		}
	}
}

// TestRedisStoreMatchesMemoryLong compares the script with the in-memory
// limiter over a long irregular sequence at a rate that does not divide
// evenly (7 per minute).
func TestRedisStoreMatchesMemoryLong(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := redisEngine(t, srv, Config{Rules: []RuleConfig{{Name: "rl", Rate: "7/1m", Action: "deny"}}}, roomyTimeout)
	mem := newLimiter(7, time.Minute, 100)
	now := time.Unix(1700000000, 0).UnixNano()
	seed := uint32(12345)
	exceeded := 0
	for i := 0; i < 300; i++ {
		seed = seed*1664525 + 1013904223
		now += int64(seed%9000) * int64(time.Millisecond) // 0-9 s, in whole milliseconds
		want := mem.exceeded(PlatformTencent+"\x00u", now)
		if got := take(t, e, e.rules[0], "u", now); got != want {
			t.Fatalf("request %d: redis exceeded %v, memory %v", i, got, want)
		}
		if want {
			exceeded++
		}
	}
	if exceeded == 0 || exceeded == 300 {
		t.Fatalf("%d of 300 exceeded: the sequence proves nothing", exceeded)
	}
}

// TestRedisStoreStopsAtDecidingRule proves the script spends tokens as
// the rule walk does: an exceeded shadow rule goes on, an exceeded rule
// that decides stops, and later buckets keep their tokens.
func TestRedisStoreStopsAtDecidingRule(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := redisEngine(t, srv, Config{Rules: []RuleConfig{
		{Name: "shadow", Rate: "1/1h", Action: "deny", Shadow: true},
		{Name: "first", Rate: "1/1h", Action: "deny"},
		{Name: "second", Rate: "5/1h", Action: "deny"},
	}}, roomyTimeout)
	now := time.Now().UnixNano()
	newChecks := func() []rateCheck {
		return []rateCheck{
			{rule: e.rules[0], platform: PlatformTencent, id: "u"},
			{rule: e.rules[1], platform: PlatformTencent, id: "u"},
			{rule: e.rules[2], platform: PlatformTencent, id: "u"},
		}
	}
	first := newChecks()
	if err := e.store.kind.take(e.store, first, now); err != nil {
		t.Fatal(err)
	}
	if first[0].exceeded || first[1].exceeded || first[2].exceeded {
		t.Fatalf("first call: %+v", first)
	}
	secondTAT := srv.Do(t, "GET", testPrefix(t)+"rate:second:tencent:u")
	again := newChecks()
	if err := e.store.kind.take(e.store, again, now); err != nil {
		t.Fatal(err)
	}
	if !again[0].exceeded || !again[1].exceeded || again[2].exceeded {
		t.Fatalf("second call: shadow and first must be exceeded, second not settled: %+v", again)
	}
	if got := srv.Do(t, "GET", testPrefix(t)+"rate:second:tencent:u"); got != secondTAT {
		t.Fatalf("the rule after the deciding one spent a token: TAT %s, was %s", got, secondTAT)
	}
}

// TestRedisStoreKeysExpire proves a bucket expires once it would be full
// again, with no cleanup job.
func TestRedisStoreKeysExpire(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := redisEngine(t, srv, Config{Rules: []RuleConfig{{Name: "rl", Rate: "4/1m", Action: "deny"}}}, roomyTimeout)
	now := time.Now().UnixNano()
	take(t, e, e.rules[0], "u", now)
	take(t, e, e.rules[0], "u", now)
	ms, err := strconv.Atoi(srv.Do(t, "PTTL", testPrefix(t)+"rate:rl:tencent:u"))
	if err != nil {
		t.Fatal(err)
	}
	// Two tokens of 15 s each are missing: full again in 30 s.
	if ms <= 25000 || ms > 30000 {
		t.Fatalf("PTTL %d ms, want about 30000", ms)
	}
}

// TestRedisStoreReloadsScript proves a server that lost its scripts (a
// restart, SCRIPT FLUSH) gets the script again through EVAL.
func TestRedisStoreReloadsScript(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e := redisEngineWith(t, srv, Config{Rules: []RuleConfig{{Name: "rl", Rate: "3/1h", Action: "deny"}}}, roomyTimeout, tr.opts)
			now := time.Now().UnixNano()
			take(t, e, e.rules[0], "u", now)
			if got := srv.Do(t, "SCRIPT", "EXISTS", rateScriptSHA); got != "1" {
				t.Fatalf("SCRIPT EXISTS after the first call: %q", got)
			}
			srv.Do(t, "SCRIPT", "FLUSH")
			take(t, e, e.rules[0], "u", now)
			if take(t, e, e.rules[0], "u", now) != false {
				t.Fatal("third token refused")
			}
			if !take(t, e, e.rules[0], "u", now) {
				t.Fatal("fourth token granted: the buckets were not kept across the script reload")
			}
		})
	}
}

// TestRedisFirstSeen proves the dedup primitive: the first call for an id
// wins, on any engine sharing the server (one on core's client, one on a
// host's), until the ttl ends.
func TestRedisFirstSeen(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	a := redisEngineWith(t, srv, Config{}, roomyTimeout, transports[0].opts)
	b := redisEngineWith(t, srv, Config{}, roomyTimeout, transports[1].opts)
	now := time.Now()
	steps := []struct {
		e     *Engine
		id    string
		first bool
	}{
		{a, "delivery-1", true},
		{b, "delivery-1", false},
		{a, "delivery-1", false},
		{b, "delivery-2", true},
	}
	for i, s := range steps {
		first, err := s.e.store.kind.firstSeen(s.e.store, s.id, time.Minute, now)
		if err != nil || first != s.first {
			t.Fatalf("step %d: %v, %v; want %v", i, first, err, s.first)
		}
	}
	ms, err := strconv.Atoi(srv.Do(t, "PTTL", testPrefix(t)+"seen:delivery-1"))
	if err != nil || ms <= 0 || ms > 60000 {
		t.Fatalf("PTTL %d (%v), want at most a minute", ms, err)
	}
	if first, err := a.store.kind.firstSeen(a.store, "short", 20*time.Millisecond, now); err != nil || !first {
		t.Fatalf("short: %v, %v", first, err)
	}
	time.Sleep(300 * time.Millisecond)
	if first, err := b.store.kind.firstSeen(b.store, "short", 20*time.Millisecond, now); err != nil || !first {
		t.Fatalf("after its ttl an id must be new again: %v, %v", first, err)
	}
}

// TestGoldenRedis runs every golden case with its state in Redis: the
// shared store answers the spec exactly as memory does.
// Every transport runs it: core's client and a host's (NewWith).
func TestGoldenRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			n := 0
			goldenEngines(t, func(t *testing.T, c *golden.Case, cfg Config) *Engine {
				n++
				cfg.Store.Prefix = "imgate-golden-" + tr.name + ":" + strconv.Itoa(n) + ":"
				return redisEngineWith(t, srv, cfg, roomyTimeout, tr.opts)
			})
			keys := srv.Do(t, "KEYS", "imgate-golden-"+tr.name+":*")
			if !strings.Contains(keys, ":rate:rate-actor-b:tencent:jared") {
				t.Fatalf("no rate bucket of the golden rate cases in Redis: %q", keys)
			}
		})
	}
}

// TestRedisEnginesShareBuckets is two replicas in one process: engines
// built from the same config (as two gateways would be) admit 5 of 10
// alternating callbacks for a 5/1m rule, whichever transport each uses
// (Caddy's client and Traefik's core client share buckets).
func TestRedisEnginesShareBuckets(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, pair := range [][2]int{{0, 0}, {0, 1}, {1, 1}} {
		a, b := transports[pair[0]], transports[pair[1]]
		t.Run(a.name+"+"+b.name, func(t *testing.T) {
			enginesShareBuckets(t, srv, a.opts, b.opts)
		})
	}
}

func enginesShareBuckets(t *testing.T, srv *redistest.Server, optsA, optsB Options) {
	cfg := Config{Rules: []RuleConfig{{Name: "join-flood", Rate: "5/1m", Action: "deny"}}}
	a := redisEngineWith(t, srv, cfg, roomyTimeout, optsA)
	b := redisEngineWith(t, srv, cfg, roomyTimeout, optsB)
	allowed := 0
	for i := 0; i < 10; i++ {
		e := a
		if i%2 == 1 {
			e = b
		}
		out := e.Decide(tencentApply("ann", "g"))
		if out.StoreFailure != "" {
			t.Fatalf("request %d: store failure %s: %v", i+1, out.StoreFailure, out.StoreErr)
		}
		if out.Result == ResultAllow {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("%d of 10 allowed across two engines, want 5", allowed)
	}
}
