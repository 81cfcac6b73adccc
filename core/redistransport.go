package core

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// The Redis transport seam. What the store asks Redis (the script, its
// keys and arguments, SET NX PX, EVAL after NOSCRIPT) and what it makes of
// the replies are core's; how a command travels is the transport's: core's
// own pipelined RESP2 client (redis.go), which the Traefik plugin uses
// since Yaegi cannot run a well-kept client, or a client the host brings,
// such as go-redis in Caddy (NewWith). The store's budget holds either
// way: the host's client gets a context whose deadline is the decision's.

// RedisDo sends one command to Redis and returns its reply as go-redis's
// Cmd.Result does: an integer as int64, a simple or bulk string as string,
// an array as []interface{} (a nil element as nil). A nil reply returns
// ErrRedisNil, an error reply RedisErrorReply(the server's text); any other
// error means the server was not reached or did not answer. It returns by
// ctx's deadline and does not keep args.
type RedisDo func(ctx context.Context, args ...interface{}) (interface{}, error)

// ErrRedisNil is what a RedisDo returns for a nil reply (go-redis:
// redis.Nil). A distinct error rather than a nil value, so that a
// transport that loses a reply cannot pass for "already seen".
var ErrRedisNil = errors.New("redis nil reply")

// RedisErrorReply is the error a RedisDo returns for the server's error
// reply text ("NOSCRIPT No matching script..."); it wraps ErrStoreReply.
func RedisErrorReply(text string) error {
	return fmt.Errorf("%w: %s", ErrStoreReply, text)
}

// RedisSettings are a redis store's connection settings as core resolved
// them from the config (address parsed, password read from its source, TLS
// roots loaded), for a host that connects with its own client.
type RedisSettings struct {
	// Addr is the server's host:port.
	Addr string
	// TLS is the rediss:// configuration (TLS 1.2 or newer, the server
	// name, store.tlsCaFile's roots); nil for redis://.
	TLS *tls.Config
	// Username is the ACL user, "" for none; Password the resolved
	// password, "" for no AUTH.
	Username string
	Password string
	// DB is the database number.
	DB int
	// PoolSize is store.poolSize, 0 when the config leaves it to the
	// client's default.
	PoolSize int
	// Key identifies these settings without revealing the password (it
	// holds a hash of it): configs with equal keys can share a client.
	Key string
}

// RedisClient is a host's Redis client as one engine uses it. (A struct,
// not two results: Yaegi v0.16.1 mixes up the results of a function value
// returning two function values.)
type RedisClient struct {
	// Do sends the engine's commands.
	Do RedisDo
	// Release gives the engine's share of the client back; the engine's
	// Close calls it once. Nil when there is nothing to release.
	Release func()
}

// Options are what a host adds to a Config when it builds an engine with
// NewWith.
type Options struct {
	// Redis, when set, connects a redis store through the host's own
	// Redis client instead of core's: NewWith calls it once with the
	// store's settings. It is not called for the memory store. Default:
	// nil (core's client).
	Redis func(RedisSettings) RedisClient
}

func redisSettingsOf(s *storeSettings) RedisSettings {
	o := s.redis
	var tc *tls.Config
	if o.tls != nil {
		tc = o.tls.Clone()
	}
	return RedisSettings{Addr: o.addr, TLS: tc, Username: o.username, Password: o.password, DB: o.db, PoolSize: s.poolSize, Key: s.clientKey}
}

// transportDo sends one command through the host's client, waiting at most
// until deadline, and reads its reply as core's client would have.
func transportDo(rs *redisStore, deadline time.Time, args []string) (respReply, error) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	boxed := make([]interface{}, len(args))
	for i := range args {
		boxed[i] = args[i]
	}
	v, err := rs.do(ctx, boxed...)
	if err != nil {
		return transportError(rs, err)
	}
	return transportReply(rs, v)
}

// transportError turns a RedisDo error into a reply (nil, error replies)
// or a store error classified as core's client classifies its own.
func transportError(rs *redisStore, err error) (respReply, error) {
	switch {
	case errors.Is(err, ErrRedisNil):
		return respReply{kind: '$', n: -1}, nil
	case errors.Is(err, ErrStoreReply):
		return respReply{kind: '-', str: strings.TrimPrefix(err.Error(), ErrStoreReply.Error()+": ")}, nil
	case errors.Is(err, ErrStoreTimeout) || errors.Is(err, ErrStoreDown) || errors.Is(err, ErrStoreProtocol):
		return respReply{}, err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return respReply{}, fmt.Errorf("redis %s: no reply within %s: %s: %w", rs.addr, rs.timeout, err.Error(), ErrStoreTimeout)
	}
	return respReply{}, fmt.Errorf("redis %s: %s: %w", rs.addr, err.Error(), ErrStoreDown)
}

// transportReply converts a RedisDo reply; imgate's commands never get
// arrays inside arrays.
func transportReply(rs *redisStore, v interface{}) (respReply, error) {
	if vs, ok := v.([]interface{}); ok {
		rep := respReply{kind: '*', n: int64(len(vs)), elems: make([]respScalar, 0, len(vs))}
		for i := range vs {
			elem, err := transportScalar(rs, vs[i])
			if err != nil {
				return respReply{}, err
			}
			rep.elems = append(rep.elems, elem)
		}
		return rep, nil
	}
	if v == nil {
		return respReply{}, fmt.Errorf("redis %s: no reply and no error: %w", rs.addr, ErrStoreProtocol)
	}
	elem, err := transportScalar(rs, v)
	if err != nil {
		return respReply{}, err
	}
	return respReply{kind: elem.kind, str: elem.str, n: elem.n}, nil
}

func transportScalar(rs *redisStore, v interface{}) (respScalar, error) {
	switch x := v.(type) {
	case int64:
		return respScalar{kind: ':', n: x}, nil
	case string:
		// A simple or a bulk string: imgate reads only "OK" from either.
		return respScalar{kind: '+', str: x}, nil
	case nil:
		return respScalar{kind: '$', n: -1}, nil
	}
	return respScalar{}, fmt.Errorf("redis %s: a reply of a type imgate does not read: %w", rs.addr, ErrStoreProtocol)
}

// loadScript connects a host's client and loads the rate script in the
// background when a store is built, so that the first decision finds a
// connection and EVALSHA the script; a failure is left to the decisions,
// which fall back to EVAL.
func loadScript(rs *redisStore) {
	cmd := &redisCommand{args: []string{"SCRIPT", "LOAD", rateScript}}
	_, _ = storeDo(rs, time.Now().Add(redisDialTimeout), cmd)
}
