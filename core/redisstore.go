package core

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Redis store: rate conditions settled by one Lua script per decision
// (EVALSHA, and EVAL once when the server answers NOSCRIPT, e.g. after a
// restart), dedup by SET NX PX. Every gateway runs the same script on the
// same keys, so Caddy and Traefik replicas share buckets.
//
// Keys: <prefix>rate:<rule>:<platform>:<actor or group id> for a rate
// bucket and <prefix>seen:<id> for a dedup mark. Both expire by
// themselves: a bucket when it would be full again, a mark after its ttl.

// rateScript is GCRA, the generic cell rate algorithm: a token bucket of
// burst N refilled at N per period, kept as one number per bucket, the
// theoretical arrival time (TAT) of the next request, in microseconds. A
// request is within the rate when TAT + period/N - now <= period. It is
// the in-memory limiter's arithmetic: both admit the same requests at the
// same times (TestRedisStoreMatchesMemory).
//
// KEYS: one bucket per rate condition, in rule order. ARGV[1]: now, in
// microseconds since the epoch (the gateway's clock, so that tests can set
// it; replicas' clocks should agree within milliseconds, as NTP keeps
// them). Then per key: the emission interval period/N and the period, in
// microseconds, and "1" when an exceeded bucket ends the evaluation (a
// rule that is not a shadow rule decides, and later rules must not spend
// tokens). It returns one integer per bucket settled: 1 exceeded, 0 a
// token was taken.
const rateScript = `local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 3
  local interval = tonumber(ARGV[base])
  local period = tonumber(ARGV[base + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if not tat or tat < now then tat = now end
  local nextTat = tat + interval
  if nextTat - now > period then
    out[i] = 1
    if ARGV[base + 2] == '1' then return out end
  else
    redis.call('SET', KEYS[i], nextTat, 'PX', math.ceil((nextTat - now) / 1000))
    out[i] = 0
  end
end
return out
`

// rateScriptSHA is the script's SHA1, the name EVALSHA runs it by.
var rateScriptSHA = scriptSHA(rateScript)

func scriptSHA(script string) string {
	sum := sha1.Sum([]byte(script))
	return hex.EncodeToString(sum[:])
}

// redisStore is the shared store's state.
type redisStore struct {
	client  *redisClient
	prefix  string
	timeout time.Duration
}

func newRedisStore(s *storeSettings) *store {
	rs := &redisStore{client: acquireRedis(s.clientKey, s.redis), prefix: s.prefix, timeout: s.timeout}
	return &store{kind: redisStoreKind, redis: rs}
}

// redisStoreKind is the Redis store's function table.
var redisStoreKind = &storeKind{
	name:      StoreRedis,
	shared:    true,
	take:      redisTakeStore,
	firstSeen: redisFirstSeenStore,
	close:     redisCloseStore,
}

func redisTakeStore(s *store, checks []rateCheck, now int64) error {
	return redisTake(s.redis, checks, now)
}

func redisFirstSeenStore(s *store, id string, ttl time.Duration, _ time.Time) (bool, error) {
	return redisFirstSeen(s.redis, id, ttl)
}

func redisCloseStore(s *store) {
	releaseRedis(s.redis.client)
}

// appendRateKey appends the bucket's key, <prefix>rate:<rule>:<platform>:<id>,
// as one argument.
func appendRateKey(buf []byte, prefix string, c *rateCheck) []byte {
	n := len(prefix) + len("rate:") + len(c.rule.name) + 1 + len(c.platform) + 1 + len(c.id)
	buf = append(buf, '$')
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, '\r', '\n')
	buf = append(buf, prefix...)
	buf = append(buf, "rate:"...)
	buf = append(buf, c.rule.name...)
	buf = append(buf, ':')
	buf = append(buf, c.platform...)
	buf = append(buf, ':')
	buf = append(buf, c.id...)
	return append(buf, '\r', '\n')
}

// appendRateCall encodes the script call (EVALSHA with the SHA, or EVAL
// with the script) for checks at now.
func appendRateCall(buf []byte, verb, script, prefix string, checks []rateCheck, now int64) []byte {
	buf = appendArrayHeader(buf, 4+4*len(checks))
	buf = appendBulk(buf, verb)
	buf = appendBulk(buf, script)
	buf = appendBulkInt(buf, int64(len(checks)))
	for i := range checks {
		buf = appendRateKey(buf, prefix, &checks[i])
	}
	buf = appendBulkInt(buf, now/int64(time.Microsecond))
	for i := range checks {
		r := checks[i].rule
		buf = appendBulk(buf, r.rateInterval)
		buf = appendBulk(buf, r.ratePeriod)
		if r.shadow {
			buf = appendBulk(buf, "0")
		} else {
			buf = appendBulk(buf, "1")
		}
	}
	return buf
}

// commandBuffers recycles the buffers commands are encoded in: redisDo
// copies a command into the connection's queue before it returns.
var commandBuffers = sync.Pool{New: func() interface{} {
	buf := make([]byte, 0, 512)
	return &buf
}}

// redisTake settles checks in one round trip (two when the server lost
// the script), never waiting past the store's timeout.
func redisTake(rs *redisStore, checks []rateCheck, now int64) error {
	c := rs.client
	deadline := time.Now().Add(rs.timeout)
	buf := commandBuffers.Get().(*[]byte)
	defer commandBuffers.Put(buf)
	cmd := appendRateCall((*buf)[:0], "EVALSHA", rateScriptSHA, rs.prefix, checks, now)
	*buf = cmd
	rep, err := redisDo(c, deadline, cmd)
	if err == nil && rep.kind == '-' && strings.HasPrefix(rep.str, "NOSCRIPT") {
		cmd = appendRateCall(cmd[:0], "EVAL", rateScript, rs.prefix, checks, now)
		*buf = cmd
		rep, err = redisDo(c, deadline, cmd)
	}
	if err != nil {
		return err
	}
	if rep.kind == '-' {
		return fmt.Errorf("redis %s: rate script: %s: %w", c.opts.addr, rep.str, ErrStoreReply)
	}
	if rep.kind != '*' || len(rep.elems) == 0 || len(rep.elems) > len(checks) {
		return fmt.Errorf("redis %s: rate script answered %q with %d values for %d buckets: %w", c.opts.addr, rep.kind, len(rep.elems), len(checks), ErrStoreProtocol)
	}
	for i := range rep.elems {
		if rep.elems[i].kind != ':' {
			return fmt.Errorf("redis %s: rate script value %d is not an integer: %w", c.opts.addr, i+1, ErrStoreProtocol)
		}
	}
	for i := range rep.elems {
		checks[i].exceeded = rep.elems[i].n == 1
	}
	return nil
}

// redisFirstSeen marks id seen for ttl with SET NX PX: "OK" when the key
// was new, a null reply when another delivery (on any replica) set it.
func redisFirstSeen(rs *redisStore, id string, ttl time.Duration) (bool, error) {
	c := rs.client
	ms := int64(ttl / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	cmd := appendArrayHeader(make([]byte, 0, 128), 6)
	cmd = appendBulk(cmd, "SET")
	cmd = appendBulk(cmd, rs.prefix+"seen:"+id)
	cmd = appendBulk(cmd, "1")
	cmd = appendBulk(cmd, "NX")
	cmd = appendBulk(cmd, "PX")
	cmd = appendBulkInt(cmd, ms)
	rep, err := redisDo(c, time.Now().Add(rs.timeout), cmd)
	if err != nil {
		return false, err
	}
	switch {
	case rep.kind == '+' && rep.str == "OK":
		return true, nil
	case rep.kind == '$' && rep.n < 0:
		return false, nil
	case rep.kind == '-':
		return false, fmt.Errorf("redis %s: SET NX: %s: %w", c.opts.addr, rep.str, ErrStoreReply)
	}
	return false, fmt.Errorf("redis %s: SET NX answered %q: %w", c.opts.addr, rep.kind, ErrStoreProtocol)
}
