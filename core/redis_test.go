package core

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/redistest"
)

// The Redis client against real servers: credentials, databases, TLS, the
// pool, and the faults (a killed server, a paused one). Skipped unless
// IMGATE_REDIS_SERVER is set.

// decideFor decides one join request and fails the test if it took the
// platform's whole deadline: whatever Redis does, the callback is answered
// in time.
func decideFor(t *testing.T, e *Engine, actor string) *Outcome {
	t.Helper()
	start := time.Now()
	out := e.Decide(tencentApply(actor, "g"))
	if took := time.Since(start); took >= DefaultTencentDeadline {
		t.Fatalf("a decision took %s, past the %s deadline", took, DefaultTencentDeadline)
	}
	return out
}

// waitShared decides until the store answers again, for at most a minute
// (backoff is at most a second; a loaded machine gets the rest).
func waitShared(t *testing.T, e *Engine, actor string) *Outcome {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out := decideFor(t, e, actor)
		if out.StoreFailure == "" {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not come back: %s: %v", out.StoreFailure, out.StoreErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var rateRule = []RuleConfig{{Name: "rl", Rate: "1000/1h", Action: "deny"}}

func TestRedisCredentials(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Password: "correct horse"})
	srv.Do(t, "ACL", "SETUSER", "imgate", "on", ">user pass", "~*", "+@all")
	tests := []struct {
		name  string
		store StoreConfig
		// refusal is in the error of a refused login, "" for none.
		refusal string
	}{
		{"password", StoreConfig{Password: "correct horse"}, ""},
		{"acl user", StoreConfig{Address: strings.Replace(srv.URL, "//", "//imgate@", 1), Password: "user pass"}, ""},
		{"wrong password", StoreConfig{Password: "battery staple"}, "WRONGPASS"},
		{"no password", StoreConfig{}, "NOAUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Rules: rateRule, Store: tt.store}
			if cfg.Store.Address == "" {
				cfg.Store.Address = srv.URL
			}
			cfg.Store.Type = StoreRedis
			cfg.Store.Prefix = testPrefix(t)
			cfg.Store.Timeout = roomyTimeout
			e, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			out := decideFor(t, e, "ann")
			if tt.refusal == "" && out.StoreFailure != "" {
				t.Fatalf("store failure %q (%v)", out.StoreFailure, out.StoreErr)
			}
			// The login fails in the background dial: the decision sees
			// it, or the backoff that follows it, with Redis's refusal.
			if tt.refusal != "" && (out.StoreFailure == "" || !strings.Contains(out.StoreErr.Error(), tt.refusal)) {
				t.Fatalf("store failure %q (%v), want one naming %s", out.StoreFailure, out.StoreErr, tt.refusal)
			}
			if out.StoreErr != nil && strings.Contains(out.StoreErr.Error(), "battery") {
				t.Fatalf("the error shows the password: %v", out.StoreErr)
			}
		})
	}
}

// TestRedisDatabase proves the address's database number is used.
func TestRedisDatabase(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := Config{Rules: rateRule, Store: StoreConfig{Type: StoreRedis, Address: srv.URL + "/3", Prefix: testPrefix(t), Timeout: roomyTimeout}}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if out := decideFor(t, e, "ann"); out.StoreFailure != "" {
		t.Fatalf("store failure %s: %v", out.StoreFailure, out.StoreErr)
	}
	if got := srv.DoIn(t, 3, "DBSIZE"); got != "1" {
		t.Fatalf("database 3 holds %s keys, want 1", got)
	}
	if got := srv.DoIn(t, 0, "DBSIZE"); got != "0" {
		t.Fatalf("database 0 holds %s keys, want 0", got)
	}
}

// TestRedisTLS proves rediss:// verifies the server against tlsCaFile, and
// refuses a server the roots do not vouch for.
func TestRedisTLS(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{TLS: true})
	e := redisEngine(t, srv, Config{Rules: rateRule}, roomyTimeout)
	if out := decideFor(t, e, "ann"); out.StoreFailure != "" {
		t.Fatalf("store failure %s: %v", out.StoreFailure, out.StoreErr)
	}
	if got := srv.Do(t, "EXISTS", testPrefix(t)+"rate:rl:tencent:ann"); got != "1" {
		t.Fatalf("no bucket written over TLS: %q", got)
	}
	untrusted, err := New(Config{Rules: rateRule, Store: StoreConfig{Type: StoreRedis, Address: srv.URL, Prefix: testPrefix(t), Timeout: roomyTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()
	out := decideFor(t, untrusted, "ann")
	if out.StoreFailure != "down" || !strings.Contains(out.StoreErr.Error(), "TLS handshake") {
		t.Fatalf("a server signed by an unknown CA: store failure %q (%v), want down after a TLS handshake error", out.StoreFailure, out.StoreErr)
	}
}

// TestRedisPoolSharedAndReleased proves engines naming the same server
// share one pool, and the last Close releases it and its connections.
func TestRedisPoolSharedAndReleased(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	before := redisClientCount()
	cfg := Config{Rules: rateRule, Store: StoreConfig{Type: StoreRedis, Address: srv.URL, Prefix: testPrefix(t), Timeout: roomyTimeout, PoolSize: 1}}
	var engines []*Engine
	for i := 0; i < 5; i++ {
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
		if out := decideFor(t, e, "ann"); out.StoreFailure != "" {
			t.Fatalf("store failure %s: %v", out.StoreFailure, out.StoreErr)
		}
	}
	if n := redisClientCount() - before; n != 1 {
		t.Fatalf("5 engines on one server hold %d pools, want 1", n)
	}
	// Do is a client too.
	if n := srv.Clients(t); n != 2 {
		t.Fatalf("the server sees %d clients, want imgate's one connection and Do's own", n)
	}
	for _, e := range engines {
		e.Close()
		e.Close() // twice is harmless
	}
	if n := redisClientCount() - before; n != 0 {
		t.Fatalf("%d pools left after every engine closed", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for srv.Clients(t) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the server still sees %d clients after the pool closed", srv.Clients(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A closed engine still answers, by its failure policy.
	if out := decideFor(t, engines[0], "ann"); out.Result != ResultAllow || out.StoreFailure != "down" {
		t.Fatalf("closed engine: %s (store %q)", out.Result, out.StoreFailure)
	}
}

// TestRedisPoolBounded drives many concurrent decisions through a pool of
// two connections: the server never sees more, and the shared bucket
// counts every decision exactly once.
func TestRedisPoolBounded(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := Config{
		Rules: []RuleConfig{{Name: "rl", Rate: "100/1h", Action: "deny", StoreFailure: "deny"}},
		Store: StoreConfig{Type: StoreRedis, Address: srv.URL, Prefix: testPrefix(t), Timeout: roomyTimeout, PoolSize: 2},
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var mu sync.Mutex
	allowed, failures := 0, 0
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				out := e.Decide(tencentApply("ann", "g"))
				mu.Lock()
				if out.Result == ResultAllow {
					allowed++
				}
				if out.StoreFailure != "" {
					failures++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failures > 0 || allowed != 100 {
		t.Fatalf("%d of 320 allowed with %d store failures, want exactly 100 and none", allowed, failures)
	}
	if n := srv.Clients(t); n > 3 {
		t.Fatalf("the server sees %d clients, want at most the pool's 2 and Do's own", n)
	}
}

// TestRedisOutage kills the server mid-run: every callback is still
// answered in time, by each rule's storeFailure, the outage is reported
// once, and sharing resumes when the server is back; through core's client
// and through a host's.
func TestRedisOutage(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			redisOutage(t, tr.opts)
		})
	}
}

func redisOutage(t *testing.T, opts Options) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := Config{Rules: []RuleConfig{
		{Name: "open", Actors: []string{"open-*"}, Rate: "1/1h", Action: "deny", StoreFailure: "allow"},
		{Name: "closed", Actors: []string{"closed-*"}, Rate: "1/1h", Action: "deny", StoreFailure: "deny"},
		{Name: "local", Actors: []string{"local-*"}, Rate: "2/1h", Action: "deny", StoreFailure: "local"},
	}}
	e := redisEngineWith(t, srv, cfg, "50ms", opts)
	var mu sync.Mutex
	var events []string
	e.OnStore(func(ev StoreEvent) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, strconv.FormatBool(ev.Available)+":"+ev.Reason)
	})
	for _, actor := range []string{"open-a", "closed-a", "local-a"} {
		if out := waitShared(t, e, actor); out.Result != ResultAllow {
			t.Fatalf("%s: %s before the outage", actor, out.Result)
		}
	}
	srv.Kill(t)
	for i := 0; i < 3; i++ {
		for _, tt := range []struct {
			actor, want string
		}{
			{"open-a", ResultAllow},  // allow: as if under the rate, however often
			{"closed-a", ResultDeny}, // deny: as if over it
			{"local-b", []string{ResultAllow, ResultAllow, ResultDeny}[i]}, // this replica's buckets
		} {
			out := decideFor(t, e, tt.actor)
			if out.StoreFailure == "" || out.Result != tt.want {
				t.Fatalf("during the outage, request %d of %s: %s (store %q), want %s by the failure policy", i+1, tt.actor, out.Result, out.StoreFailure, tt.want)
			}
			if !errors.Is(out.StoreErr, ErrStoreDown) && !errors.Is(out.StoreErr, ErrStoreTimeout) {
				t.Fatalf("store error %v", out.StoreErr)
			}
		}
	}
	srv.Restart(t)
	out := waitShared(t, e, "open-b")
	if out.Result != ResultAllow {
		t.Fatalf("after the restart: %s", out.Result)
	}
	// The restarted server is empty; the bucket fills again in Redis.
	if out = decideFor(t, e, "open-b"); out.StoreFailure != "" || out.Result != ResultDeny {
		t.Fatalf("after the restart the shared bucket must decide: %s (store %q)", out.Result, out.StoreFailure)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || !strings.HasPrefix(events[0], "false:") || events[1] != "true:" {
		t.Fatalf("events %v, want one outage and one recovery", events)
	}
}

// TestRedisSlow pauses the server: each decision waits at most the store
// timeout; once the server has not answered for redisHungAfter the
// connection is dropped and decisions stop waiting at all; sharing resumes
// when the server answers again.
func TestRedisSlow(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := redisEngine(t, srv, Config{Rules: []RuleConfig{{Name: "rl", Rate: "1000/1h", Action: "deny", StoreFailure: "allow"}}}, "50ms")
	waitShared(t, e, "ann")
	const pause = 5 * time.Second
	paused := time.Now()
	srv.Pause(t, pause)
	var reasons []string
	for time.Since(paused) < pause-time.Second {
		out := decideFor(t, e, "ann")
		if out.Result != ResultAllow || out.StoreFailure == "" {
			t.Fatalf("decision while paused: %s (store %q)", out.Result, out.StoreFailure)
		}
		if len(reasons) == 0 || reasons[len(reasons)-1] != out.StoreFailure {
			reasons = append(reasons, out.StoreFailure)
		}
		if out.StoreFailure == "down" {
			break
		}
	}
	if len(reasons) < 2 || reasons[0] != "timeout" || reasons[len(reasons)-1] != "down" {
		t.Fatalf("reasons in order %v: want timeouts, then failing at once", reasons)
	}
	waitShared(t, e, "ann")
}
