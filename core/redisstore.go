package core

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// redisStore is the shared store's state. Its commands go through core's
// own client, or, when the host gave one (NewWith), through the host's
// Redis client (do): what is asked is the same either way.
type redisStore struct {
	client  *redisClient
	do      RedisDo
	release func()
	// waiting counts the commands waiting for do (maxTransportWaiting).
	waiting atomic.Int64
	addr    string
	prefix  string
	timeout time.Duration
}

func newRedisStore(s *storeSettings, opts Options) *store {
	rs := &redisStore{addr: s.redis.addr, prefix: s.prefix, timeout: s.timeout}
	if opts.Redis != nil {
		client := opts.Redis(redisSettingsOf(s))
		rs.do = client.Do
		rs.release = client.Release
		// Connect and load the script now, outside any decision's budget.
		go loadScript(rs)
	} else {
		rs.client = acquireRedis(s.clientKey, s.redis)
	}
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
	switch {
	case s.redis.client != nil:
		releaseRedis(s.redis.client)
	case s.redis.release != nil:
		s.redis.release()
	}
}

// rateKey is a bucket's key, <prefix>rate:<rule>:<platform>:<id>.
func rateKey(prefix string, c *rateCheck) string {
	return prefix + "rate:" + c.rule.name + ":" + c.platform + ":" + c.id
}

// appendRateCall appends the script call's arguments (EVALSHA with the
// SHA, or EVAL with the script) for checks at now.
func appendRateCall(args []string, verb, script, prefix string, checks []rateCheck, now int64) []string {
	args = append(args, verb, script, strconv.Itoa(len(checks)))
	for i := range checks {
		args = append(args, rateKey(prefix, &checks[i]))
	}
	args = append(args, strconv.FormatInt(now/int64(time.Microsecond), 10))
	for i := range checks {
		r := checks[i].rule
		stops := "1"
		if r.shadow {
			stops = "0"
		}
		args = append(args, r.rateInterval, r.ratePeriod, stops)
	}
	return args
}

// redisCommand is a command's arguments and, for core's client, their
// encoding; commands recycles them: both transports are done with them
// when they return (core's client copies the encoding into the
// connection's queue).
type redisCommand struct {
	args []string
	buf  []byte
}

var commands = sync.Pool{New: func() interface{} {
	return &redisCommand{args: make([]string, 0, 16), buf: make([]byte, 0, 512)}
}}

// storeDo sends one command through the store's transport, waiting at
// most until deadline. An error reply is a reply, not an error.
func storeDo(rs *redisStore, deadline time.Time, cmd *redisCommand) (respReply, error) {
	if rs.do != nil {
		return transportDo(rs, deadline, cmd.args)
	}
	cmd.buf = appendCommand(cmd.buf[:0], cmd.args...)
	return redisDo(rs.client, deadline, cmd.buf)
}

// redisTake settles checks in one round trip (two when the server lost
// the script), never waiting past the store's timeout.
func redisTake(rs *redisStore, checks []rateCheck, now int64) error {
	deadline := time.Now().Add(rs.timeout)
	cmd := commands.Get().(*redisCommand)
	defer commands.Put(cmd)
	cmd.args = appendRateCall(cmd.args[:0], "EVALSHA", rateScriptSHA, rs.prefix, checks, now)
	rep, err := storeDo(rs, deadline, cmd)
	if err == nil && rep.kind == '-' && strings.HasPrefix(rep.str, "NOSCRIPT") {
		cmd.args[0] = "EVAL"
		cmd.args[1] = rateScript
		rep, err = storeDo(rs, deadline, cmd)
	}
	if err != nil {
		return err
	}
	if rep.kind == '-' {
		return fmt.Errorf("redis %s: rate script: %s: %w", rs.addr, rep.str, ErrStoreReply)
	}
	if rep.kind != '*' || len(rep.elems) == 0 || len(rep.elems) > len(checks) {
		return fmt.Errorf("redis %s: rate script answered %q with %d values for %d buckets: %w", rs.addr, rep.kind, len(rep.elems), len(checks), ErrStoreProtocol)
	}
	for i := range rep.elems {
		if rep.elems[i].kind != ':' {
			return fmt.Errorf("redis %s: rate script value %d is not an integer: %w", rs.addr, i+1, ErrStoreProtocol)
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
	ms := int64(ttl / time.Millisecond)
	if ms < 1 {
		ms = 1
	}
	cmd := commands.Get().(*redisCommand)
	defer commands.Put(cmd)
	cmd.args = append(cmd.args[:0], "SET", rs.prefix+"seen:"+id, "1", "NX", "PX", strconv.FormatInt(ms, 10))
	rep, err := storeDo(rs, time.Now().Add(rs.timeout), cmd)
	if err != nil {
		return false, err
	}
	switch {
	case rep.kind == '+' && rep.str == "OK":
		return true, nil
	case rep.kind == '$' && rep.n < 0:
		return false, nil
	case rep.kind == '-':
		return false, fmt.Errorf("redis %s: SET NX: %s: %w", rs.addr, rep.str, ErrStoreReply)
	}
	return false, fmt.Errorf("redis %s: SET NX answered %q: %w", rs.addr, rep.kind, ErrStoreProtocol)
}
