package core

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStoreConfig(t *testing.T) {
	dir := t.TempDir()
	passwordFile := filepath.Join(dir, "password")
	if err := os.WriteFile(passwordFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("no certificate here"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  StoreConfig
		err  string
		// check inspects the settled store on success.
		check func(t *testing.T, s *storeSettings)
	}{
		{name: "ok/default memory", cfg: StoreConfig{}, check: func(t *testing.T, s *storeSettings) {
			if s.kind != StoreMemory {
				t.Errorf("kind %q", s.kind)
			}
		}},
		{name: "ok/redis defaults", cfg: StoreConfig{Type: "redis", Address: "redis://cache.internal"}, check: func(t *testing.T, s *storeSettings) {
			if s.kind != StoreRedis || s.redis.addr != "cache.internal:6379" || s.redis.db != 0 || s.redis.tls != nil ||
				s.prefix != DefaultStorePrefix || s.timeout != DefaultStoreTimeout || s.redis.poolSize != DefaultStorePoolSize {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "ok/redis full", cfg: StoreConfig{Type: "Redis", Address: "rediss://imgate@10.0.0.5:6380/3", PasswordFile: passwordFile, Prefix: "gw1:", Timeout: "20ms", PoolSize: 4}, check: func(t *testing.T, s *storeSettings) {
			if s.redis.addr != "10.0.0.5:6380" || s.redis.db != 3 || s.redis.username != "imgate" || s.redis.password != "s3cret" ||
				s.redis.tls == nil || s.redis.tls.ServerName != "10.0.0.5" || s.prefix != "gw1:" || s.timeout != 20*time.Millisecond || s.redis.poolSize != 4 {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "ok/ipv6", cfg: StoreConfig{Type: "redis", Address: "redis://[::1]:7000"}, check: func(t *testing.T, s *storeSettings) {
			if s.redis.addr != "[::1]:7000" {
				t.Errorf("addr %q", s.redis.addr)
			}
		}},
		{name: "fail/bad type", cfg: StoreConfig{Type: "etcd"}, err: `store.type: "etcd" is not one of memory, redis`},
		{name: "fail/address on memory", cfg: StoreConfig{Address: "redis://x"}, err: "store.address: is set but store.type is memory"},
		{name: "fail/pool on memory", cfg: StoreConfig{PoolSize: 3}, err: "store.poolSize: is set but store.type is memory"},
		{name: "fail/no address", cfg: StoreConfig{Type: "redis"}, err: "store.address: missing"},
		{name: "fail/scheme", cfg: StoreConfig{Type: "redis", Address: "tcp://x:6379"}, err: `store.address: scheme "tcp" is not redis:// or rediss://`},
		{name: "fail/no scheme", cfg: StoreConfig{Type: "redis", Address: "localhost:6379"}, err: "is not redis:// or rediss://"},
		{name: "fail/password in address", cfg: StoreConfig{Type: "redis", Address: "redis://:hunter2@x:6379"}, err: "store.address: holds a password"},
		{name: "fail/db", cfg: StoreConfig{Type: "redis", Address: "redis://x/zero"}, err: `store.address: database "zero" is not a number`},
		{name: "fail/query", cfg: StoreConfig{Type: "redis", Address: "redis://x/0?timeout=1"}, err: "has a query or fragment"},
		{name: "fail/no host", cfg: StoreConfig{Type: "redis", Address: "redis:///0"}, err: "names no host"},
		{name: "fail/user without password", cfg: StoreConfig{Type: "redis", Address: "redis://imgate@x"}, err: `names the user "imgate" but no password is set`},
		{name: "fail/two password sources", cfg: StoreConfig{Type: "redis", Address: "redis://x", Password: "a", PasswordFile: passwordFile}, err: "set only one of store.password, store.passwordEnv and store.passwordFile"},
		{name: "fail/password env unset", cfg: StoreConfig{Type: "redis", Address: "redis://x", PasswordEnv: "IMGATE_TEST_UNSET_REDIS_PASSWORD"}, err: "environment variable IMGATE_TEST_UNSET_REDIS_PASSWORD is unset or empty"},
		{name: "fail/password file empty", cfg: StoreConfig{Type: "redis", Address: "redis://x", PasswordFile: emptyFile}, err: "store.passwordFile: " + emptyFile + " is empty"},
		{name: "fail/timeout", cfg: StoreConfig{Type: "redis", Address: "redis://x", Timeout: "soon"}, err: `store.timeout: "soon" is not a positive duration`},
		{name: "fail/timeout over cap", cfg: StoreConfig{Type: "redis", Address: "redis://x", Timeout: "1100ms"}, err: "store.timeout: 1.1s is over 1s"},
		{name: "fail/negative pool", cfg: StoreConfig{Type: "redis", Address: "redis://x", PoolSize: -1}, err: "store.poolSize: -1 is not between 1 and 64"},
		{name: "fail/huge pool", cfg: StoreConfig{Type: "redis", Address: "redis://x", PoolSize: 65}, err: "store.poolSize: 65 is not between 1 and 64"},
		{name: "fail/ca without tls", cfg: StoreConfig{Type: "redis", Address: "redis://x", TLSCAFile: notPEM}, err: "store.tlsCaFile: is set but the address is redis://"},
		{name: "fail/ca not pem", cfg: StoreConfig{Type: "redis", Address: "rediss://x", TLSCAFile: notPEM}, err: "holds no PEM certificate"},
		{name: "fail/ca missing", cfg: StoreConfig{Type: "redis", Address: "rediss://x", TLSCAFile: filepath.Join(dir, "nope.pem")}, err: "store.tlsCaFile: reading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := (&Config{Store: tt.cfg}).validate()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrConfig) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, &s.store)
		})
	}
}

// TestStoreTimeoutBelowDeadlines proves a decision cannot be configured to
// wait for Redis past a platform's deadline.
func TestStoreTimeoutBelowDeadlines(t *testing.T) {
	cfg := Config{Platform: "tencent", Forward: ForwardConfig{TencentDeadline: "300ms"}, Store: StoreConfig{Type: "redis", Address: "redis://x", Timeout: "300ms"}}
	_, err := cfg.validate()
	if err == nil || !strings.Contains(err.Error(), "store.timeout: 300ms is not below the tencent deadline (300ms)") {
		t.Fatalf("error %v", err)
	}
	cfg.Store.Timeout = "299ms"
	if _, err = cfg.validate(); err != nil {
		t.Fatal(err)
	}
}

// TestStoreClientKey proves which settings share a connection pool.
func TestStoreClientKey(t *testing.T) {
	key := func(c StoreConfig) string {
		t.Helper()
		c.Type = "redis"
		s, err := (&Config{Store: c}).validate()
		if err != nil {
			t.Fatal(err)
		}
		return s.store.clientKey
	}
	base := StoreConfig{Address: "redis://x:6379/0", Password: "a"}
	if key(base) != key(StoreConfig{Address: "redis://x:6379/0", Password: "a", Prefix: "other:", Timeout: "9ms"}) {
		t.Error("prefix and timeout must not split the pool: they are per engine")
	}
	for _, other := range []StoreConfig{
		{Address: "redis://x:6379/1", Password: "a"},
		{Address: "redis://x:6379/0", Password: "b"},
		{Address: "redis://x:6379/0", Password: "a", PoolSize: 3},
	} {
		if key(other) == key(base) {
			t.Errorf("%+v shares the pool of %+v", other, base)
		}
	}
	if strings.Contains(key(base), "a|") || strings.Contains(key(base), "|a") {
		t.Errorf("the key holds the password: %s", key(base))
	}
}

func TestRuleStoreFailure(t *testing.T) {
	tests := []struct {
		rule RuleConfig
		want string
		err  string
	}{
		{RuleConfig{Rate: "5/1m", Action: "deny"}, StoreFailureLocal, ""},
		{RuleConfig{Rate: "5/1m", Action: "deny", StoreFailure: "Allow"}, StoreFailureAllow, ""},
		{RuleConfig{Rate: "5/1m", Action: "deny", StoreFailure: "deny"}, StoreFailureDeny, ""},
		{RuleConfig{Rate: "5/1m", Action: "deny", StoreFailure: "open"}, "", `rules[0].storeFailure: "open" is not one of allow, deny, local`},
		{RuleConfig{Action: "deny", StoreFailure: "deny"}, "", "rules[0].storeFailure: is set but the rule has no rate"},
	}
	for _, tt := range tests {
		e, err := New(Config{Rules: []RuleConfig{tt.rule}})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%+v: error %v, want %q", tt.rule, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := e.rules[0].storeFailure; got != tt.want {
			t.Errorf("%+v: storeFailure %q, want %q", tt.rule, got, tt.want)
		}
	}
}

// TestFingerprintStorePassword proves a rotated Redis password file gives a
// new engine on the next reload.
func TestFingerprintStorePassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(path, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: StoreConfig{Type: "redis", Address: "redis://x", PasswordFile: path}}
	before := Fingerprint(cfg)
	if err := os.WriteFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if Fingerprint(cfg) == before {
		t.Fatal("the fingerprint ignores the password file's content")
	}
}
