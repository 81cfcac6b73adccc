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

// A small Redis client for the shared store: a few pipelined RESP2
// connections to one server, standard library only, so that the same code
// runs in Caddy and interpreted by Yaegi v0.16.1 in Traefik (well-kept
// clients such as go-redis need language features and packages Yaegi
// v0.16.1 cannot run; docs/replicas.md lists them). It knows only what imgate sends:
// AUTH, SELECT, SCRIPT LOAD and PING when it connects, then EVALSHA (EVAL
// when the server lost the script) and SET.
//
// Every connection is pipelined: concurrent decisions queue their commands
// on it, one writer goroutine writes whatever queued in one write, and one
// reader goroutine hands the replies back in order. Many decisions thus share
// each write and read, on both sides of the socket, instead of paying a
// round of system calls each.
//
// Nothing here waits past the caller's deadline: a caller waits for its
// reply, or for a first connection, at most until its deadline, woken by a
// timer rather than a select (Yaegi shares one select case list between
// goroutines); a reply that comes later is dropped. Connections are dialed
// in the background, one at a time, with their own timeout, so a slow
// handshake (TLS) costs no decision its budget. A connection that breaks,
// or whose server stops answering for redisHungAfter, is closed; then the
// client backs off (50 ms doubling to 1 s) and callers fail at once
// instead of waiting; the first dial after the backoff probes the server,
// and the first reply in time ends the outage. A dial goroutine ends within
// redisDialTimeout; a connection's reader and writer end with it, which
// closes when it breaks, hangs for redisHungAfter, or when the last
// engine using the client closes it.

// redisOptions say how to reach one Redis server.
type redisOptions struct {
	// addr is host:port.
	addr string
	// tls, when not nil, wraps the connection (rediss://).
	tls      *tls.Config
	username string
	password string
	db       int
	// poolSize is how many pipelined connections the client keeps.
	poolSize int
}

const (
	// redisDialTimeout bounds a background dial: TCP, TLS, AUTH, SELECT,
	// SCRIPT LOAD and PING. No decision waits for it longer than its own
	// budget.
	redisDialTimeout = time.Second
	// redisBackoffMin and redisBackoffMax bound the pause after a failure
	// during which callers fail at once.
	redisBackoffMin = 50 * time.Millisecond
	redisBackoffMax = time.Second
	// redisHungAfter closes a connection whose oldest unanswered command
	// was sent this long ago: the server stopped answering it.
	redisHungAfter = time.Second
)

// redisConn is one pipelined connection.
type redisConn struct {
	nc net.Conn
	rd *bufio.Reader

	mu sync.Mutex
	// queued wakes the writer when out gets commands.
	queued *sync.Cond
	// out holds the commands queued but not written yet; spare is the
	// buffer being written, swapped back after the write.
	out, spare []byte
	// pending are the calls written or queued, awaiting their replies in
	// order.
	pending []*redisCall
	broken  bool
}

// redisCall is one command awaiting its reply. Exactly one of the reply,
// a broken connection or the caller's timer completes it.
type redisCall struct {
	mu   sync.Mutex
	done bool
	ch   chan struct{}
	rep  respReply
	err  error
	sent time.Time
}

// connWaiter is a caller waiting for the first connection.
type connWaiter struct {
	mu   sync.Mutex
	done bool
	ch   chan *redisConn
	err  error
}

// redisClient is the connections to one server, shared by every engine
// that names the same server and credentials (see acquireRedis).
type redisClient struct {
	key  string
	opts redisOptions

	mu sync.Mutex
	// conns are the live connections; dialing is true while the
	// background dial runs.
	conns     []*redisConn
	dialing   bool
	waiters   []*connWaiter
	downUntil time.Time
	lastErr   error
	refs      int
	closed    bool

	// next spreads calls over the connections.
	next atomic.Int64
	// failures counts consecutive failed calls and dials; it is read
	// without the lock on every decision.
	failures atomic.Int64
}

// redisRegistry shares one client per server and credentials across
// engines: Traefik builds a new engine on every configuration change and
// Caddy on every reload, and neither must open new connections each time.
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
	c.mu.Lock()
	if len(c.conns) == 0 {
		redisStartDial(c, time.Now())
	}
	c.mu.Unlock()
	return c
}

// releaseRedis drops one reference; the last one closes the connections,
// failing the calls still waiting on them.
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
	conns := c.conns
	c.conns = nil
	waiters := c.waiters
	c.waiters = nil
	c.mu.Unlock()
	closedErr := fmt.Errorf("redis %s: client closed: %w", c.opts.addr, ErrStoreDown)
	for _, conn := range conns {
		redisBreak(c, conn, closedErr, false)
	}
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

// redisStartDial starts a background dial when the pool has room and the
// client is not backing off; c.mu is held.
func redisStartDial(c *redisClient, now time.Time) {
	if c.closed || c.dialing || len(c.conns) >= c.opts.poolSize || now.Before(c.downUntil) {
		return
	}
	c.dialing = true
	go redisDial(c)
}

// redisPick returns a connection for one call. It fails at once while the
// client backs off after failures, and waits for a first connection at
// most until deadline.
func redisPick(c *redisClient, deadline time.Time) (*redisConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("redis %s: client closed: %w", c.opts.addr, ErrStoreDown)
	}
	var now time.Time
	if c.failures.Load() > 0 {
		now = time.Now()
		if now.Before(c.downUntil) {
			err := downError(c, c.downUntil.Sub(now))
			c.mu.Unlock()
			return nil, err
		}
	}
	n := len(c.conns)
	if n < c.opts.poolSize && !c.dialing {
		if now.IsZero() {
			now = time.Now()
		}
		redisStartDial(c, now)
	}
	if n > 0 {
		conn := c.conns[int(uint64(c.next.Add(1))%uint64(n))]
		c.mu.Unlock()
		return conn, nil
	}
	if c.failures.Load() > 0 {
		// Reconnecting after an outage: the dial may take its full
		// timeout, which no decision waits for.
		err := downError(c, 0)
		c.mu.Unlock()
		return nil, err
	}
	w := &connWaiter{ch: make(chan *redisConn, 1)}
	c.waiters = append(c.waiters, w)
	c.mu.Unlock()
	wait := time.Until(deadline)
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
	return nil, fmt.Errorf("redis %s: not connected within %s: %w", c.opts.addr, wait, ErrStoreTimeout)
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

// redisDo sends one encoded command and returns its reply, waiting at
// most until deadline. An error reply is a reply, not an error.
func redisDo(c *redisClient, deadline time.Time, cmd []byte) (respReply, error) {
	conn, err := redisPick(c, deadline)
	if err != nil {
		return respReply{}, err
	}
	now := time.Now()
	call := &redisCall{ch: make(chan struct{}, 1), sent: now}
	conn.mu.Lock()
	if conn.broken {
		conn.mu.Unlock()
		return respReply{}, fmt.Errorf("redis %s: connection lost: %w", c.opts.addr, ErrStoreDown)
	}
	conn.pending = append(conn.pending, call)
	wake := len(conn.out) == 0
	conn.out = append(conn.out, cmd...)
	conn.mu.Unlock()
	if wake {
		conn.queued.Signal()
	}
	wait := deadline.Sub(now)
	if wait < 0 {
		wait = 0
	}
	timer := time.AfterFunc(wait, func() {
		completeCall(call, respReply{}, fmt.Errorf("redis %s: no reply within %s: %w", c.opts.addr, wait, ErrStoreTimeout))
	})
	<-call.ch
	timer.Stop()
	if call.err != nil {
		if errors.Is(call.err, ErrStoreTimeout) {
			redisTimedOut(c, conn)
		}
		return respReply{}, call.err
	}
	redisSucceeded(c)
	return call.rep, nil
}

// completeCall completes a call once; it reports false when it was
// already completed.
func completeCall(call *redisCall, rep respReply, err error) bool {
	call.mu.Lock()
	defer call.mu.Unlock()
	if call.done {
		return false
	}
	call.done = true
	call.rep = rep
	call.err = err
	call.ch <- struct{}{}
	return true
}

// redisWriteLoop writes the commands queued on conn until it breaks or
// closes: whatever queued while it was writing goes in the next write, so
// that when the gateway is busy one write carries many decisions'
// commands. (A caller writing for everyone instead, with no writer
// goroutine to wake, missed the 5 ms budget more often on a saturated
// gateway: while that caller's thread waits for a CPU nobody can write.)
func redisWriteLoop(c *redisClient, conn *redisConn) {
	conn.mu.Lock()
	for {
		for len(conn.out) == 0 && !conn.broken {
			conn.queued.Wait()
		}
		if conn.broken {
			conn.mu.Unlock()
			return
		}
		buf := conn.out
		conn.out = conn.spare[:0]
		conn.mu.Unlock()
		// A server that takes no bytes for this long has stopped.
		err := conn.nc.SetWriteDeadline(time.Now().Add(redisHungAfter))
		if err == nil {
			_, err = conn.nc.Write(buf)
		}
		if err != nil {
			// A partly written command leaves the stream unusable.
			redisBreak(c, conn, exchangeError(c.opts.addr, "write", err), true)
			return
		}
		conn.mu.Lock()
		conn.spare = buf[:0]
	}
}

// redisReadLoop hands each reply to the oldest pending call, until the
// connection breaks or closes.
func redisReadLoop(c *redisClient, conn *redisConn) {
	for {
		rep, err := readReply(conn.rd)
		if err != nil {
			redisBreak(c, conn, exchangeError(c.opts.addr, "read", err), true)
			return
		}
		conn.mu.Lock()
		if len(conn.pending) == 0 {
			conn.mu.Unlock()
			redisBreak(c, conn, fmt.Errorf("redis %s: a reply no command asked for: %w", c.opts.addr, ErrStoreProtocol), true)
			return
		}
		call := conn.pending[0]
		conn.pending[0] = nil
		conn.pending = conn.pending[1:]
		conn.mu.Unlock()
		completeCall(call, rep, nil)
	}
}

// redisBreak closes a connection, fails its pending calls and takes it out
// of the pool; counted says whether it is a failure of the server (else
// the pool is closing).
func redisBreak(c *redisClient, conn *redisConn, err error, counted bool) {
	conn.mu.Lock()
	if conn.broken {
		conn.mu.Unlock()
		return
	}
	conn.broken = true
	pending := conn.pending
	conn.pending = nil
	conn.mu.Unlock()
	conn.queued.Broadcast()
	conn.nc.Close()
	for _, call := range pending {
		completeCall(call, respReply{}, err)
	}
	c.mu.Lock()
	for i, other := range c.conns {
		if other == conn {
			c.conns = append(c.conns[:i], c.conns[i+1:]...)
			break
		}
	}
	if counted && !c.closed {
		f := c.failures.Add(1)
		c.lastErr = err
		c.downUntil = time.Now().Add(redisBackoff(f))
	}
	c.mu.Unlock()
}

// redisTimedOut follows a call that got no reply in time. One late reply
// says little: on a saturated gateway the reader may simply not have run
// yet, and the late reply is dropped. A connection whose oldest command
// has waited redisHungAfter, though, talks to a server that stopped
// answering: it is closed, which backs the client off, so that callers
// stop spending their budgets on it.
func redisTimedOut(c *redisClient, conn *redisConn) {
	conn.mu.Lock()
	hung := len(conn.pending) > 0 && time.Since(conn.pending[0].sent) >= redisHungAfter
	conn.mu.Unlock()
	if hung {
		redisBreak(c, conn, fmt.Errorf("redis %s: no reply for %s: %w", c.opts.addr, redisHungAfter, ErrStoreTimeout), true)
	}
}

// redisSucceeded ends an outage after a reply in time.
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

// redisDial establishes one connection in the background, starts its
// reader and hands it to the callers waiting for a first connection.
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
	c.conns = append(c.conns, conn)
	waiters := c.waiters
	c.waiters = nil
	c.mu.Unlock()
	go redisReadLoop(c, conn)
	go redisWriteLoop(c, conn)
	for _, w := range waiters {
		deliverConn(w, conn, nil)
	}
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
	conn := &redisConn{nc: nc, rd: bufio.NewReaderSize(nc, 16<<10), out: make([]byte, 0, 4096), spare: make([]byte, 0, 4096)}
	conn.queued = sync.NewCond(&conn.mu)
	nc.SetDeadline(deadline)
	var names []string
	var buf []byte
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
	// Loaded here, EVALSHA finds the script on every decision but the
	// first after the server lost it (a restart between dials, SCRIPT
	// FLUSH), which EVAL then reloads.
	buf = appendCommand(buf, "SCRIPT", "LOAD", rateScript)
	names = append(names, "SCRIPT LOAD")
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
	// From here the reader waits for replies as long as it takes, and
	// each flush sets its own write deadline.
	nc.SetDeadline(time.Time{})
	return conn, nil
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
