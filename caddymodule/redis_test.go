package caddymodule

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
)

// The go-redis client behind Caddy's redis store, against a real
// redis-server (skipped unless IMGATE_REDIS_SERVER is set, as ./test.sh
// does).

// denyReply is the deny of the rules below, by message.
func denyReply(message string) string {
	return `{"ActionStatus":"OK","ErrorInfo":"` + message + `","ErrorCode":1}`
}

// policyConfig has one rate rule per storeFailure, each for its own
// actors: open-* (allow), closed-* (deny), local-* (local, 2 per hour).
func policyConfig(t *testing.T, srv *redistest.Server, prefix string) string {
	return policyConfigWith(t, srv, prefix, "")
}

// policyConfigWith is policyConfig with the redis_client setting client.
func policyConfigWith(t *testing.T, srv *redistest.Server, prefix, client string) string {
	h := &Handler{Name: "policies", RedisClient: client, Config: core.Config{
		Platform: "tencent",
		Rules: []core.RuleConfig{
			{Name: "open", Actors: []string{"open-*"}, Rate: "1000/1h", Action: "deny", Message: "open", StoreFailure: "allow"},
			{Name: "closed", Actors: []string{"closed-*"}, Rate: "1000/1h", Action: "deny", Message: "closed", StoreFailure: "deny"},
			{Name: "local", Actors: []string{"local-*"}, Rate: "2/1h", Action: "deny", Message: "local", StoreFailure: "local"},
		},
		Store: core.StoreConfig{Type: "redis", Address: srv.URL, Prefix: prefix, Timeout: "50ms"},
	}}
	return serverConfig([]any{route("", imgateJSON(t, h))}, false)
}

// joinInTime sends actor's join and fails the test if the answer took the
// Tencent deadline: whatever Redis does, the callback is answered in time.
func joinInTime(t *testing.T, client *http.Client, actor string) string {
	t.Helper()
	start := time.Now()
	got := applyJoinAs(t, client, actor)
	if took := time.Since(start); took >= core.DefaultTencentDeadline {
		t.Fatalf("%s's join took %s, past the %s deadline", actor, took, core.DefaultTencentDeadline)
	}
	return got
}

// waitAllowed sends closed-actor joins until one is allowed: the store
// answers (its failure policy denies), for at most a minute.
func waitAllowed(t *testing.T, client *http.Client) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for joinInTime(t, client, "closed-ann") != allowReply {
		if time.Now().After(deadline) {
			t.Fatal("the store did not answer within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pooledClients returns the pooled go-redis clients, failing unless
// exactly n are pooled.
func pooledClients(t *testing.T, n int) []*redis.Client {
	t.Helper()
	var clients []*redis.Client
	redisClients.Range(func(_, val any) bool {
		clients = append(clients, val.(*pooled[*redis.Client]).value)
		return true
	})
	if len(clients) != n {
		t.Fatalf("%d go-redis clients pooled, want %d", len(clients), n)
	}
	return clients
}

// TestGoRedisServesCaddy proves Caddy's decisions travel through go-redis:
// the server sees RESP3 connections (go-redis's HELLO 3; core's client
// speaks RESP2 and sends no HELLO), as many as the pooled client holds.
func TestGoRedisServesCaddy(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	tester := newTester(t)
	tester.InitServer(policyConfig(t, srv, "caddy-goredis-"+t.Name()+":"), "json")
	waitAllowed(t, tester.Client)
	client := pooledClients(t, 1)[0]
	var resp3, others int
	list := srv.Do(t, "CLIENT", "LIST")
	for _, line := range strings.Split(list, "\n") {
		switch {
		case strings.TrimSpace(line) == "" || strings.Contains(line, "cmd=client|list"):
			// Do's own connection.
		case strings.Contains(line, " resp=3"):
			resp3++
		default:
			others++
		}
	}
	if resp3 == 0 || others != 0 {
		t.Fatalf("%d RESP3 and %d other imgate connections, want go-redis's only:\n%s", resp3, others, list)
	}
	if total := int(client.PoolStats().TotalConns); total != resp3 {
		t.Fatalf("go-redis holds %d connections, the server sees %d", total, resp3)
	}
	loadConfig(t, rateConfig(t, "memory", 0))
	tester.Client.CloseIdleConnections()
	deadline := time.Now().Add(time.Minute)
	for pooledCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the go-redis client outlived every config that used it")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := client.Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("the released client still answers: %v", err)
	}
}

// TestImgateClientServesCaddy: with redis_client imgate, Caddy's decisions
// travel through core's pipelined client instead: the server sees RESP2
// connections only, and no go-redis client is pooled.
func TestImgateClientServesCaddy(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	tester := newTester(t)
	tester.InitServer(policyConfigWith(t, srv, "caddy-imgate-"+t.Name()+":", RedisClientImgate), "json")
	waitAllowed(t, tester.Client)
	pooledClients(t, 0)
	var resp2, others int
	list := srv.Do(t, "CLIENT", "LIST")
	for _, line := range strings.Split(list, "\n") {
		switch {
		case strings.TrimSpace(line) == "" || strings.Contains(line, "cmd=client|list"):
			// Do's own connection.
		case strings.Contains(line, " resp=2"):
			resp2++
		default:
			others++
		}
	}
	if resp2 == 0 || others != 0 {
		t.Fatalf("%d RESP2 and %d other imgate connections, want core's client's only:\n%s", resp2, others, list)
	}
	// The local rule still shares its bucket through Redis: two joins of
	// one actor pass, the third is denied.
	for i, want := range []string{allowReply, allowReply, denyReply("local")} {
		if got := joinInTime(t, tester.Client, "local-bo"); got != want {
			t.Fatalf("join %d of local-bo: %s, want %s", i+1, got, want)
		}
	}
	loadConfig(t, rateConfig(t, "memory", 0))
}

// TestCheckRedisClient: the client is one of two, and only for a redis
// store; a setting that would do nothing is an error, not ignored.
func TestCheckRedisClient(t *testing.T) {
	for _, c := range []struct {
		client, store string
		ok            bool
	}{
		{"", "", true},
		{"", core.StoreRedis, true},
		{RedisClientGoRedis, core.StoreRedis, true},
		{RedisClientImgate, core.StoreRedis, true},
		{RedisClientImgate, "", false},
		{RedisClientGoRedis, core.StoreMemory, false},
		{"rueidis", core.StoreRedis, false},
	} {
		err := checkRedisClient(c.client, c.store)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, errRedisClient)) {
			t.Errorf("client %q, store %q: %v, want ok %v", c.client, c.store, err, c.ok)
		}
	}
}

// pooledCount is how many go-redis clients are pooled.
func pooledCount() int {
	n := 0
	redisClients.Range(func(_, _ any) bool {
		n++
		return true
	})
	return n
}

// TestGoRedisOutageInCaddy kills Redis, then pauses it, under Caddy: every
// callback is still answered within the Tencent deadline, by each rule's
// storeFailure, and sharing resumes when the server answers again.
func TestGoRedisOutageInCaddy(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	tester := newTester(t)
	prefix := "caddy-outage-" + t.Name() + ":"
	tester.InitServer(policyConfig(t, srv, prefix), "json")
	waitAllowed(t, tester.Client)
	policies := func(when string) {
		t.Helper()
		for i := 0; i < 3; i++ {
			for _, tt := range []struct{ actor, want string }{
				{"open-" + when, allowReply},            // allow: as if under the rate
				{"closed-" + when, denyReply("closed")}, // deny: as if over it
				{"local-" + when, []string{allowReply, allowReply, denyReply("local")}[i]},
			} {
				if got := joinInTime(t, tester.Client, tt.actor); got != tt.want {
					t.Fatalf("%s, request %d of %s: %s, want %s by the failure policy", when, i+1, tt.actor, got, tt.want)
				}
			}
		}
	}
	srv.Kill(t)
	policies("killed")
	srv.Restart(t)
	waitAllowed(t, tester.Client)
	// The local rule's bucket is back in Redis.
	joinInTime(t, tester.Client, "local-shared")
	if got := srv.Do(t, "EXISTS", prefix+"rate:local:tencent:local-shared"); got != "1" {
		t.Fatalf("after the restart the local rule's bucket is not in Redis: EXISTS %q", got)
	}
	srv.Pause(t, 4*time.Second)
	policies("paused")
	waitAllowed(t, tester.Client)
}

// TestGoRedisConnectionSettings connects go-redis as the store config
// says: rediss:// verified against tlsCaFile, the password from env or
// file, an ACL user, a database; a wrong password or an untrusted server
// leaves the decision to storeFailure.
func TestGoRedisConnectionSettings(t *testing.T) {
	plain := redistest.Start(t, redistest.Options{Password: "correct horse"})
	plain.Do(t, "ACL", "SETUSER", "imgate", "on", ">user pass", "~*", "+@all")
	secure := redistest.Start(t, redistest.Options{TLS: true})
	passwordFile := filepath.Join(t.TempDir(), "redis-password")
	if err := os.WriteFile(passwordFile, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IMGATE_TEST_REDIS_PASSWORD", "correct horse")
	tests := []struct {
		name  string
		srv   *redistest.Server
		store core.StoreConfig
		// db is where the bucket must land; shared is false when the
		// store must fail (storeFailure deny decides).
		db     int
		shared bool
	}{
		{"password from env, database 2", plain, core.StoreConfig{Address: plain.URL + "/2", PasswordEnv: "IMGATE_TEST_REDIS_PASSWORD"}, 2, true},
		{"password from file", plain, core.StoreConfig{Address: plain.URL, PasswordFile: passwordFile}, 0, true},
		{"acl user", plain, core.StoreConfig{Address: strings.Replace(plain.URL, "//", "//imgate@", 1), Password: "user pass"}, 0, true},
		{"wrong password", plain, core.StoreConfig{Address: plain.URL, Password: "battery staple"}, 0, false},
		{"tls", secure, core.StoreConfig{Address: secure.URL, TLSCAFile: secure.CAFile}, 0, true},
		{"tls, untrusted server", secure, core.StoreConfig{Address: secure.URL}, 0, false},
	}
	tester := newTester(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := "caddy-settings-" + strconv.Itoa(i) + ":"
			tt.store.Type, tt.store.Prefix, tt.store.Timeout = "redis", prefix, "900ms"
			h := &Handler{Name: "settings", Config: core.Config{
				Platform: "tencent",
				Rules: []core.RuleConfig{{
					Name: "closed", Events: []string{"group.join.apply"}, Rate: "1000/1h",
					Action: "deny", Message: "closed", StoreFailure: "deny",
				}},
				Store: tt.store,
			}}
			tester.InitServer(serverConfig([]any{route("", imgateJSON(t, h))}, false), "json")
			got := joinInTime(t, tester.Client, "ann")
			if want := map[bool]string{true: allowReply, false: denyReply("closed")}[tt.shared]; got != want {
				t.Fatalf("%s, want %s", got, want)
			}
			if !tt.shared {
				return
			}
			if got := tt.srv.DoIn(t, tt.db, "EXISTS", prefix+"rate:closed:tencent:ann"); got != "1" {
				t.Fatalf("no bucket in database %d: EXISTS %q", tt.db, got)
			}
		})
	}
}

// TestRedisLoggerToCaddy: go-redis's messages reach the log given (Caddy's),
// at debug level, formatted, and not stderr.
func TestRedisLoggerToCaddy(t *testing.T) {
	logs, observed := observer.New(zapcore.DebugLevel)
	logger := redisLogger{log: func() *zap.Logger { return zap.New(logs) }}
	logger.Printf(context.Background(), "dial %s: %v", "127.0.0.1:1", errors.New("refused"))
	entries := observed.All()
	if len(entries) != 1 || entries[0].Level != zapcore.DebugLevel || entries[0].Message != "dial 127.0.0.1:1: refused" ||
		entries[0].LoggerName != "http.handlers.imgate.redis" {
		t.Fatalf("logged %+v, want one debug entry of http.handlers.imgate.redis", entries)
	}
}
