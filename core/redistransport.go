package core

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// The Redis transport seam. What the store asks Redis (the script, its
// keys and arguments, SET NX PX, EVAL after NOSCRIPT) and what it makes of
// the replies are core's; how a command travels is the transport's: core's
// own pipelined RESP2 client (redis.go), which the Traefik plugin uses
// since Yaegi cannot run a well-kept client, or a client the host brings,
// such as go-redis in Caddy (NewWith). The store's budget holds either
// way: a decision waits for the host's client at most its budget.

// RedisDo sends one command to Redis and returns its reply as go-redis's
// Cmd.Result does: an integer as int64, a simple or bulk string as string,
// an array as []interface{} (a nil element as nil). A nil reply returns
// ErrRedisNil, an error reply RedisErrorReply(the server's text); any other
// error means the server was not reached or did not answer. It returns by
// ctx's deadline.
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

// maxTransportWaiting bounds the commands of one store that wait for a
// host's client at once, answered or not: past it, while the server stalls,
// decisions fail at once instead of leaving one more command waiting
// redisHungAfter each.
const maxTransportWaiting = 1024

// transportCall is one command sent through a host's client. Exactly one of
// the reply and the caller's timer completes it; a reply after the timer is
// dropped, as core's client drops one.
type transportCall struct {
	mu   sync.Mutex
	done bool
	ch   chan struct{}
	v    interface{}
	err  error
}

// transportDo sends one command through the host's client and reads its
// reply as core's client would have, waiting at most until deadline. The
// client itself may wait longer, up to redisHungAfter: a late reply then
// costs only this decision its budget and the connection stays usable (a
// client that cancels a command mid-reply must drop its connection, which
// under load turned every late reply into a reconnection); a server silent
// for redisHungAfter gets the client's connection closed.
func transportDo(rs *redisStore, deadline time.Time, args []string) (respReply, error) {
	if rs.waiting.Add(1) > maxTransportWaiting {
		rs.waiting.Add(-1)
		return respReply{}, fmt.Errorf("redis %s: %d commands wait for the server already: %w", rs.addr, maxTransportWaiting, ErrStoreTimeout)
	}
	boxed := make([]interface{}, len(args))
	for i := range args {
		boxed[i] = args[i]
	}
	call := &transportCall{ch: make(chan struct{}, 1)}
	go runTransport(rs, call, boxed)
	wait := time.Until(deadline)
	if wait < 0 {
		wait = 0
	}
	timer := time.AfterFunc(wait, func() {
		finishTransport(call, nil, fmt.Errorf("redis %s: no reply within %s: %w", rs.addr, wait, ErrStoreTimeout))
	})
	<-call.ch
	timer.Stop()
	if call.err != nil {
		return transportError(rs, call.err)
	}
	return transportReply(rs, call.v)
}

// runTransport runs one command on the host's client.
func runTransport(rs *redisStore, call *transportCall, args []interface{}) {
	defer rs.waiting.Add(-1)
	ctx, cancel := context.WithTimeout(context.Background(), redisHungAfter)
	defer cancel()
	v, err := rs.do(ctx, args...)
	finishTransport(call, v, err)
}

// finishTransport completes a call once.
func finishTransport(call *transportCall, v interface{}, err error) {
	call.mu.Lock()
	defer call.mu.Unlock()
	if call.done {
		return
	}
	call.done = true
	call.v = v
	call.err = err
	call.ch <- struct{}{}
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
		return respReply{}, fmt.Errorf("redis %s: %s: %w", rs.addr, err.Error(), ErrStoreTimeout)
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
