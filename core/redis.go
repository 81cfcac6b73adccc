package core

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A small Redis client for the shared store: a pool of RESP2 connections
// to one server, standard library only, so that the same code runs in
// Caddy and interpreted by Yaegi v0.16.1 in Traefik (well-kept clients such
// as go-redis rely on select, atomic.Pointer, unsafe and newer Go, none of
// which Yaegi v0.16.1 runs). It knows only what imgate sends: AUTH, SELECT
// and PING when it connects, then EVALSHA/EVAL and SET.
//
// Nothing here waits past the caller's deadline: the deadline is set on
// the connection for the exchange, and a caller that needs a connection
// while none is idle waits for one at most until its deadline, woken by a
// timer rather than a select (Yaegi shares one select case list between
// goroutines). Connections are dialed in the background, one at a time,
// with their own timeout, so a slow handshake (TLS) costs no decision its
// budget. After a failure the client backs off (50 ms doubling to 1 s) and
// callers fail at once instead of waiting; the first dial after the
// backoff probes the server, and the first command that succeeds ends the
// outage. No goroutine outlives a dial, and a dial ends within
// redisDialTimeout.

// redisOptions say how to reach one Redis server.
type redisOptions struct {
	// addr is host:port.
	addr string
	// tls, when not nil, wraps the connection (rediss://).
	tls      *tls.Config
	username string
	password string
	db       int
	poolSize int
}

const (
	// redisDialTimeout bounds a background dial: TCP, TLS, AUTH, SELECT
	// and PING. No decision waits for it longer than its own budget.
	redisDialTimeout = time.Second
	// redisBackoffMin and redisBackoffMax bound the pause after a failure
	// during which callers fail at once.
	redisBackoffMin = 50 * time.Millisecond
	redisBackoffMax = time.Second
	// redisTimeoutsBeforeDown is how many consecutive timeouts make the
	// client back off: one slow reply is noise, three are a slow server
	// that would otherwise cost every decision its whole budget.
	redisTimeoutsBeforeDown = 3
)

// redisConn is one connection with its read buffer and a reused command
// buffer.
type redisConn struct {
	nc   net.Conn
	rd   *bufio.Reader
	wbuf []byte
}

// connWaiter is a caller waiting for a connection. Exactly one of the
// hand-off, a failed dial or the caller's timer completes it.
type connWaiter struct {
	mu   sync.Mutex
	done bool
	ch   chan *redisConn
	err  error
}

// redisClient is the pool of connections to one server, shared by every
// engine that names the same server and credentials (see acquireRedis).
type redisClient struct {
	key  string
	opts redisOptions

	mu sync.Mutex
	// idle are the connections ready for use; open counts every
	// established connection, idle or in use; dialing is true while the
	// background dial runs.
	idle      []*redisConn
	open      int
	dialing   bool
	waiters   []*connWaiter
	downUntil time.Time
	lastErr   error
	refs      int
	closed    bool

	// failures counts consecutive failed exchanges and dials; it is read
	// without the lock on every decision.
	failures atomic.Int64
	// dials counts connections established, for tests and stats.
	dials atomic.Int64
}

// redisRegistry shares one client per server and credentials across
// engines: Traefik builds a new engine on every configuration change and
// Caddy on every reload, and neither must open new pools each time.
var redisRegistry = struct {
	sync.Mutex
	byKey map[string]*redisClient
}{byKey: map[string]*redisClient{}}

// acquireRedis returns the shared client for key, creating it, and starts
// its first dial so the first decision finds a connection.
func acquireRedis(key string, opts redisOptions) *redisClient {
	redisRegistry.Lock()
	c := redisRegistry.byKey[key]
	if c == nil {
		c = &redisClient{key: key, opts: opts}
		redisRegistry.byKey[key] = c
	}
	c.refs++
	redisRegistry.Unlock()
	redisWarm(c)
	return c
}

// releaseRedis drops one reference; the last one closes the pool.
// Connections in use are closed when they come back.
func releaseRedis(c *redisClient) {
	redisRegistry.Lock()
	c.refs--
	last := c.refs <= 0
	if last && redisRegistry.byKey[c.key] == c {
		delete(redisRegistry.byKey, c.key)
	}
	redisRegistry.Unlock()
	if !last {
		return
	}
	c.mu.Lock()
	c.closed = true
	idle := c.idle
	c.idle = nil
	c.open -= len(idle)
	waiters := c.waiters
	c.waiters = nil
	c.mu.Unlock()
	for _, conn := range idle {
		conn.nc.Close()
	}
	closedErr := fmt.Errorf("redis %s: client closed: %w", c.opts.addr, ErrStoreDown)
	for _, w := range waiters {
		deliverConn(w, nil, closedErr)
	}
}

// redisClientCount returns how many clients the registry holds.
func redisClientCount() int {
	redisRegistry.Lock()
	defer redisRegistry.Unlock()
	return len(redisRegistry.byKey)
}

// redisWarm starts a dial when the pool has no connection and is not
// backing off.
func redisWarm(c *redisClient) {
	c.mu.Lock()
	if !c.closed && len(c.idle) == 0 && !c.dialing && c.open < c.opts.poolSize && !time.Now().Before(c.downUntil) {
		c.dialing = true
		go redisDial(c)
	}
	c.mu.Unlock()
}

// redisGet returns a connection, waiting at most until deadline. It fails
// at once while the client backs off after failures.
func redisGet(c *redisClient, deadline time.Time) (*redisConn, error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		conn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return conn, nil
	}
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("redis %s: client closed: %w", c.opts.addr, ErrStoreDown)
	}
	now := time.Now()
	if now.Before(c.downUntil) {
		err := downError(c, c.downUntil.Sub(now))
		c.mu.Unlock()
		return nil, err
	}
	if !c.dialing && c.open < c.opts.poolSize {
		c.dialing = true
		go redisDial(c)
	}
	if c.open == 0 && c.failures.Load() > 0 {
		// Reconnecting after an outage: the dial may take its full
		// timeout, which no decision waits for.
		err := downError(c, 0)
		c.mu.Unlock()
		return nil, err
	}
	w := &connWaiter{ch: make(chan *redisConn, 1)}
	if len(c.waiters) >= 2*c.opts.poolSize+16 {
		c.waiters = liveWaiters(c.waiters)
	}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	wait := deadline.Sub(now)
	if wait < 0 {
		wait = 0
	}
	timer := time.AfterFunc(wait, func() { deliverConn(w, nil, nil) })
	conn := <-w.ch
	timer.Stop()
	if conn != nil {
		return conn, nil
	}
	if w.err != nil {
		return nil, w.err
	}
	return nil, fmt.Errorf("redis %s: no connection free within %s: %w", c.opts.addr, wait, ErrStoreTimeout)
}

// downError describes the outage; c.mu is held.
func downError(c *redisClient, retryIn time.Duration) error {
	last := "connecting"
	if c.lastErr != nil {
		last = c.lastErr.Error()
	}
	if retryIn > 0 {
		return fmt.Errorf("redis %s: unavailable, next attempt in %s (last error: %s): %w", c.opts.addr, retryIn.Round(time.Millisecond), last, ErrStoreDown)
	}
	return fmt.Errorf("redis %s: unavailable, reconnecting (last error: %s): %w", c.opts.addr, last, ErrStoreDown)
}

// deliverConn completes a waiter once; it reports false when the waiter
// was already completed (its timer fired first).
func deliverConn(w *connWaiter, conn *redisConn, err error) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return false
	}
	w.done = true
	w.err = err
	w.ch <- conn
	return true
}

// liveWaiters drops the waiters whose timer fired.
func liveWaiters(waiters []*connWaiter) []*connWaiter {
	live := waiters[:0]
	for _, w := range waiters {
		w.mu.Lock()
		done := w.done
		w.mu.Unlock()
		if !done {
			live = append(live, w)
		}
	}
	for i := len(live); i < len(waiters); i++ {
		waiters[i] = nil
	}
	return live
}

// handOff gives conn to the first waiter still waiting, or makes it idle;
// c.mu is held.
func handOff(c *redisClient, conn *redisConn) {
	for len(c.waiters) > 0 {
		w := c.waiters[0]
		c.waiters[0] = nil
		c.waiters = c.waiters[1:]
		if deliverConn(w, conn, nil) {
			return
		}
	}
	c.idle = append(c.idle, conn)
}

// redisPut returns a healthy connection to the pool.
func redisPut(c *redisClient, conn *redisConn) {
	c.mu.Lock()
	if c.closed {
		c.open--
		c.mu.Unlock()
		conn.nc.Close()
		return
	}
	handOff(c, conn)
	c.mu.Unlock()
}

// redisDrop closes a connection whose exchange failed (its stream may
// hold a late reply) and counts the failure. A broken connection (not a
// timeout) usually means the server went away: the idle connections go
// too, rather than fail one decision each.
func redisDrop(c *redisClient, conn *redisConn, err error) {
	conn.nc.Close()
	var stale []*redisConn
	c.mu.Lock()
	c.open--
	f := c.failures.Add(1)
	c.lastErr = err
	timeout := errors.Is(err, ErrStoreTimeout)
	if !timeout || f >= redisTimeoutsBeforeDown {
		c.downUntil = time.Now().Add(redisBackoff(f))
	}
	if !timeout {
		stale = c.idle
		c.idle = nil
		c.open -= len(stale)
	}
	c.mu.Unlock()
	for _, s := range stale {
		s.nc.Close()
	}
}

// redisSucceeded ends an outage after a successful exchange.
func redisSucceeded(c *redisClient) {
	if c.failures.Load() == 0 {
		return
	}
	c.mu.Lock()
	c.failures.Store(0)
	c.downUntil = time.Time{}
	c.lastErr = nil
	c.mu.Unlock()
}

// redisBackoff is the pause after the n-th consecutive failure.
func redisBackoff(n int64) time.Duration {
	d := redisBackoffMin
	for i := int64(1); i < n && d < redisBackoffMax; i++ {
		d *= 2
	}
	if d > redisBackoffMax {
		d = redisBackoffMax
	}
	return d
}

// redisDial establishes one connection in the background and hands it to
// a waiter or the idle list; while callers still wait and the pool has
// room it dials the next one.
func redisDial(c *redisClient) {
	conn, err := dialRedis(c.opts)
	c.mu.Lock()
	c.dialing = false
	if err != nil {
		f := c.failures.Add(1)
		c.lastErr = err
		c.downUntil = time.Now().Add(redisBackoff(f))
		waiters := c.waiters
		c.waiters = nil
		c.mu.Unlock()
		for _, w := range waiters {
			deliverConn(w, nil, err)
		}
		return
	}
	if c.closed {
		c.mu.Unlock()
		conn.nc.Close()
		return
	}
	c.dials.Add(1)
	c.open++
	handOff(c, conn)
	c.waiters = liveWaiters(c.waiters)
	if len(c.waiters) > 0 && c.open < c.opts.poolSize {
		c.dialing = true
		go redisDial(c)
	}
	c.mu.Unlock()
}

// dialRedis connects, authenticates, selects the database and checks the
// server answers, pipelined in one round trip.
func dialRedis(o redisOptions) (*redisConn, error) {
	deadline := time.Now().Add(redisDialTimeout)
	d := net.Dialer{Deadline: deadline}
	nc, err := d.Dial("tcp", o.addr)
	if err != nil {
		return nil, fmt.Errorf("redis %s: %s: %w", o.addr, err.Error(), ErrStoreDown)
	}
	if o.tls != nil {
		tc := tls.Client(nc, o.tls)
		tc.SetDeadline(deadline)
		if err = tc.Handshake(); err != nil {
			nc.Close()
			return nil, fmt.Errorf("redis %s: TLS handshake: %s: %w", o.addr, err.Error(), ErrStoreDown)
		}
		nc = tc
	}
	conn := &redisConn{nc: nc, rd: bufio.NewReaderSize(nc, 1024), wbuf: make([]byte, 0, 512)}
	nc.SetDeadline(deadline)
	var names []string
	buf := conn.wbuf[:0]
	if o.password != "" {
		if o.username != "" {
			buf = appendCommand(buf, "AUTH", o.username, o.password)
		} else {
			buf = appendCommand(buf, "AUTH", o.password)
		}
		names = append(names, "AUTH")
	}
	if o.db != 0 {
		buf = appendCommand(buf, "SELECT", strconv.Itoa(o.db))
		names = append(names, "SELECT")
	}
	buf = appendCommand(buf, "PING")
	names = append(names, "PING")
	if _, err = nc.Write(buf); err != nil {
		nc.Close()
		return nil, fmt.Errorf("redis %s: %s: %w", o.addr, err.Error(), ErrStoreDown)
	}
	for _, name := range names {
		rep, rerr := readReply(conn.rd)
		if rerr != nil {
			nc.Close()
			return nil, exchangeError(o.addr, name, rerr)
		}
		if rep.kind == '-' {
			nc.Close()
			return nil, fmt.Errorf("redis %s: %s: %s: %w", o.addr, name, rep.str, ErrStoreReply)
		}
	}
	return conn, nil
}

// redisExchange sends the command in conn.wbuf and reads its reply, both
// before deadline. An error reply is a reply: the connection stays usable.
func redisExchange(conn *redisConn, addr string, deadline time.Time) (respReply, error) {
	var rep respReply
	if err := conn.nc.SetDeadline(deadline); err != nil {
		return rep, fmt.Errorf("redis %s: %s: %w", addr, err.Error(), ErrStoreDown)
	}
	if _, err := conn.nc.Write(conn.wbuf); err != nil {
		return rep, exchangeError(addr, "write", err)
	}
	rep, err := readReply(conn.rd)
	if err != nil {
		return rep, exchangeError(addr, "read", err)
	}
	return rep, nil
}

// exchangeError classifies an I/O error: a deadline is a timeout, a
// protocol error stays one, anything else means the server is gone.
func exchangeError(addr, op string, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("redis %s: no reply in time: %w", addr, ErrStoreTimeout)
	case errors.Is(err, ErrStoreProtocol):
		return fmt.Errorf("redis %s: %s: %w", addr, op, err)
	}
	return fmt.Errorf("redis %s: %s: %s: %w", addr, op, err.Error(), ErrStoreDown)
}
