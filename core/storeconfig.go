package core

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// StoreConfig says where rate-limit state lives. The default, memory, keeps
// it in the gateway process, so every replica counts on its own; redis
// keeps it in one Redis (or Valkey) server that every replica using the
// same address and prefix shares: a "5/1m" rule then admits 5 per minute
// across all of them.
type StoreConfig struct {
	// Type is "memory" or "redis". Default: "memory".
	Type string `json:"type,omitempty"`

	// Address is the Redis server: "redis://host:6379/0", or
	// "rediss://host:6380/0" for TLS. The path is the database number
	// (default 0); a user name for Redis ACLs may come before the host
	// ("redis://imgate@host:6379"), the password never: use Password,
	// PasswordEnv or PasswordFile. Required for redis.
	Address string `json:"address,omitempty"`

	// Password authenticates to Redis (AUTH). Prefer PasswordEnv or
	// PasswordFile, which keep it out of config files. Default: "" (no
	// AUTH).
	Password string `json:"password,omitempty"`

	// PasswordEnv names an environment variable holding the password; it
	// must be set and non-empty when the config loads. Default: "".
	PasswordEnv string `json:"passwordEnv,omitempty"`

	// PasswordFile is the path of a file holding the password (surrounding
	// whitespace ignored); it must exist and not be empty. Default: "".
	PasswordFile string `json:"passwordFile,omitempty"`

	// Prefix starts every key imgate writes, so that several imgate
	// deployments (or other applications) can share one Redis database.
	// Replicas that must share limits use the same prefix. Default:
	// "imgate:".
	Prefix string `json:"prefix,omitempty"`

	// Timeout is the most a decision waits for Redis, connection included;
	// past it, each rate rule's storeFailure decides. It must stay below
	// every platform deadline. Default: "5ms".
	Timeout string `json:"timeout,omitempty"`

	// PoolSize is how many connections one gateway process keeps to the
	// server, shared by every route naming the same server and
	// credentials. Traefik (core's client) pipelines concurrent decisions
	// on each connection; Caddy (go-redis) sends one command per
	// connection at a time. Default: 2 in Traefik, 10 per CPU in Caddy.
	PoolSize int `json:"poolSize,omitempty"`

	// TLSCAFile is a PEM file of the certificate authorities that sign the
	// server's certificate, for rediss:// to a private CA. Default: ""
	// (the system's roots).
	TLSCAFile string `json:"tlsCaFile,omitempty"`
}

// Store defaults.
const (
	DefaultStorePrefix   = "imgate:"
	DefaultStoreTimeout  = 5 * time.Millisecond
	DefaultStorePoolSize = 2
	// MaxStorePoolSize caps store.poolSize: each connection carries any
	// number of concurrent decisions and holds two goroutines.
	MaxStorePoolSize = 64
	// MaxStoreTimeout caps store.timeout: a decision waits at most this
	// for Redis, far below the platforms' budgets.
	MaxStoreTimeout = time.Second
)

// storeSettings are the parsed store settings.
type storeSettings struct {
	kind    string
	prefix  string
	timeout time.Duration
	redis   redisOptions
	// clientKey identifies the connection pool: engines naming the same
	// server, database, user, password, TLS roots and pool size share one.
	clientKey string
	// poolSize is store.poolSize as configured, 0 when left out (core's
	// client then keeps DefaultStorePoolSize, a host's client its own
	// default).
	poolSize int
	// password is the resolved password, for the config's fingerprint.
	password string
}

// settleStore validates the store section. It runs after the platforms
// settled, since the timeout must stay below their deadlines.
func settleStore(c *StoreConfig, s *settings) error {
	var err error
	st := &s.store
	if st.kind, err = oneOf("store.type", c.Type, StoreMemory, StoreMemory, StoreRedis); err != nil {
		return err
	}
	if st.kind == StoreMemory {
		for _, err = range []error{
			memoryOnly("store.address", c.Address), memoryOnly("store.password", c.Password),
			memoryOnly("store.passwordEnv", c.PasswordEnv), memoryOnly("store.passwordFile", c.PasswordFile),
			memoryOnly("store.prefix", c.Prefix), memoryOnly("store.timeout", c.Timeout),
			memoryOnly("store.tlsCaFile", c.TLSCAFile),
		} {
			if err != nil {
				return err
			}
		}
		if c.PoolSize != 0 {
			return memoryOnly("store.poolSize", strconv.Itoa(c.PoolSize))
		}
		return nil
	}
	if st.timeout, err = parseDuration("store.timeout", c.Timeout, DefaultStoreTimeout); err != nil {
		return err
	}
	if st.timeout > MaxStoreTimeout {
		return configErr("store.timeout", "%s is over %s: a decision would wait that long for Redis", st.timeout, MaxStoreTimeout)
	}
	for _, p := range s.platforms {
		if d := p.deadline(s); st.timeout >= d {
			return configErr("store.timeout", "%s is not below the %s deadline (%s): a decision would wait for Redis past the platform's budget", st.timeout, p.name, d)
		}
	}
	st.prefix = c.Prefix
	if st.prefix == "" {
		st.prefix = DefaultStorePrefix
	}
	if c.PoolSize < 0 || c.PoolSize > MaxStorePoolSize {
		return configErr("store.poolSize", "%d is not between 1 and %d", c.PoolSize, MaxStorePoolSize)
	}
	st.poolSize = c.PoolSize
	st.redis.poolSize = c.PoolSize
	if st.redis.poolSize == 0 {
		st.redis.poolSize = DefaultStorePoolSize
	}
	if err = parseRedisAddress(c.Address, &st.redis); err != nil {
		return err
	}
	st.password, err = storeCredential(c).resolve()
	if err != nil {
		return err
	}
	st.redis.password = st.password
	if st.redis.username != "" && st.password == "" {
		return configErr("store.address", "names the user %q but no password is set; set store.password, store.passwordEnv or store.passwordFile", st.redis.username)
	}
	if c.TLSCAFile != "" {
		if st.redis.tls == nil {
			return configErr("store.tlsCaFile", "is set but the address is redis://; use rediss:// for TLS")
		}
		pem, rerr := os.ReadFile(c.TLSCAFile)
		if rerr != nil {
			return configErr("store.tlsCaFile", "reading %s: %s", c.TLSCAFile, rerr.Error())
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return configErr("store.tlsCaFile", "%s holds no PEM certificate", c.TLSCAFile)
		}
		st.redis.tls.RootCAs = roots
	}
	sum := sha256.Sum256([]byte(st.password + "\x00" + c.TLSCAFile))
	st.clientKey = strings.Join([]string{c.Address, hex.EncodeToString(sum[:8]), strconv.Itoa(st.poolSize)}, "|")
	return nil
}

// storeCredential is the Redis password's three sources.
func storeCredential(c *StoreConfig) credential {
	return credential{
		inline: c.Password, env: c.PasswordEnv, file: c.PasswordFile,
		inlineKey: "store.password", envKey: "store.passwordEnv", fileKey: "store.passwordFile",
	}
}

// memoryOnly rejects a Redis setting on the memory store: an address
// without store.type redis would otherwise leave every replica counting
// alone while the operator believes the limits are shared.
func memoryOnly(key, value string) error {
	if value == "" {
		return nil
	}
	return configErr(key, "is set but store.type is memory; set store.type to redis to share state through Redis")
}

// parseRedisAddress reads redis://[user@]host[:port][/db] and rediss://.
func parseRedisAddress(addr string, o *redisOptions) error {
	const key = "store.address"
	if strings.TrimSpace(addr) == "" {
		return configErr(key, "missing; give the Redis server as redis://host:6379/0 (rediss:// for TLS)")
	}
	u, err := url.Parse(strings.TrimSpace(addr))
	if err != nil {
		// url's error quotes the address, which may hold a password.
		return configErr(key, "is not a URL such as redis://host:6379/0")
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.tls = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	default:
		return configErr(key, "scheme %q is not redis:// or rediss://", u.Scheme)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return configErr(key, "holds a password; remove it from the address (which is logged) and set store.password, store.passwordEnv or store.passwordFile")
		}
		o.username = u.User.Username()
	}
	if u.Hostname() == "" {
		return configErr(key, "%q names no host", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	o.addr = net.JoinHostPort(u.Hostname(), port)
	if u.RawQuery != "" || u.Fragment != "" {
		return configErr(key, "%q has a query or fragment; imgate reads only redis://[user@]host[:port][/db]", u.Redacted())
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db != "" {
		n, derr := strconv.Atoi(db)
		if derr != nil || n < 0 {
			return configErr(key, "database %q is not a number such as /0", db)
		}
		o.db = n
	}
	return nil
}
