package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// transports are the ways the store's commands travel: core's own client,
// and a host's client through the RedisDo seam (NewWith), here core's
// client behind the seam as go-redis is in Caddy (core cannot import it;
// caddymodule's tests run go-redis itself).
var transports = []struct {
	name string
	opts Options
}{
	{"core", Options{}},
	{"host", Options{Redis: hostTransport}},
}

// hostTransport connects a host's client: core's client, with its replies
// converted to go-redis's conventions.
func hostTransport(s RedisSettings) RedisClient {
	size := s.PoolSize
	if size == 0 {
		size = DefaultStorePoolSize
	}
	c := acquireRedis("host|"+s.Key, redisOptions{addr: s.Addr, tls: s.TLS, username: s.Username, password: s.Password, db: s.DB, poolSize: size})
	do := func(ctx context.Context, args ...interface{}) (interface{}, error) {
		strs := make([]string, len(args))
		for i := range args {
			strs[i] = args[i].(string)
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline: a decision could wait for ever")
		}
		rep, err := redisDo(c, deadline, appendCommand(nil, strs...))
		if err != nil {
			return nil, err
		}
		return goRedisResult(rep)
	}
	return RedisClient{Do: do, Release: func() { releaseRedis(c) }}
}

// goRedisResult is what go-redis's Cmd.Result returns for rep.
func goRedisResult(rep respReply) (interface{}, error) {
	switch rep.kind {
	case '-':
		return nil, RedisErrorReply(rep.str)
	case ':':
		return rep.n, nil
	case '$':
		if rep.n < 0 {
			return nil, ErrRedisNil
		}
		return rep.str, nil
	case '*':
		vs := make([]interface{}, 0, len(rep.elems))
		for _, el := range rep.elems {
			if el.kind == ':' {
				vs = append(vs, el.n)
			} else {
				vs = append(vs, el.str)
			}
		}
		return vs, nil
	}
	return rep.str, nil
}

// fakeDo is a RedisDo that answers from a list, for the reply conversions
// (a unit test: the real server's are above and in TestGoldenRedis).
type fakeReply struct {
	v   interface{}
	err error
}

func fakeTransport(replies []fakeReply, sent *[][]interface{}) Options {
	var mu sync.Mutex
	return Options{Redis: func(_ RedisSettings) RedisClient {
		do := func(ctx context.Context, args ...interface{}) (interface{}, error) {
			mu.Lock()
			defer mu.Unlock()
			// The warm-up load is no decision's.
			if args[0] == "SCRIPT" {
				return "sha", nil
			}
			*sent = append(*sent, args)
			r := replies[0]
			replies = replies[1:]
			return r.v, r.err
		}
		return RedisClient{Do: do}
	}}
}

// TestTransportReplies feeds the store go-redis-shaped replies: results,
// the nil reply, error replies (NOSCRIPT then EVAL), and failures, each
// classified as core's client classifies its own.
func TestTransportReplies(t *testing.T) {
	tests := []struct {
		name    string
		replies []fakeReply
		// verbs are the commands sent; exceeded the check's result; reason
		// the failure's StoreFailureReason, "" for none.
		verbs    string
		exceeded bool
		reason   string
	}{
		{"within rate", []fakeReply{{[]interface{}{int64(0)}, nil}}, "EVALSHA", false, ""},
		{"over rate", []fakeReply{{[]interface{}{int64(1)}, nil}}, "EVALSHA", true, ""},
		{"noscript", []fakeReply{{nil, RedisErrorReply("NOSCRIPT No matching script. Please use EVAL.")}, {[]interface{}{int64(1)}, nil}}, "EVALSHA EVAL", true, ""},
		{"error reply", []fakeReply{{nil, RedisErrorReply("OOM command not allowed")}}, "EVALSHA", false, "error"},
		{"deadline", []fakeReply{{nil, context.DeadlineExceeded}}, "EVALSHA", false, "timeout"},
		{"refused", []fakeReply{{nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}}, "EVALSHA", false, "down"},
		{"not an array", []fakeReply{{"OK", nil}}, "EVALSHA", false, "error"},
		{"no value", []fakeReply{{nil, nil}}, "EVALSHA", false, "error"},
		{"a string value", []fakeReply{{[]interface{}{"1"}, nil}}, "EVALSHA", false, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent [][]interface{}
			e, err := NewWith(Config{
				Rules: []RuleConfig{{Name: "rl", Rate: "5/1m", Action: "deny", StoreFailure: "allow"}},
				Store: StoreConfig{Type: StoreRedis, Address: "redis://127.0.0.1:1", Prefix: "p:"},
			}, fakeTransport(tt.replies, &sent))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			checks := []rateCheck{{rule: e.rules[0], platform: PlatformTencent, id: "ann"}}
			reason, _ := settleRates(e, checks, time.Unix(1700000000, 0).UnixNano())
			var verbs []string
			for _, args := range sent {
				verbs = append(verbs, args[0].(string))
			}
			if strings.Join(verbs, " ") != tt.verbs || reason != tt.reason || checks[0].exceeded != tt.exceeded {
				t.Fatalf("sent %v, reason %q, exceeded %v; want %s, %q, %v", verbs, reason, checks[0].exceeded, tt.verbs, tt.reason, tt.exceeded)
			}
			want := []interface{}{"EVALSHA", rateScriptSHA, "1", "p:rate:rl:tencent:ann", "1700000000000000", e.rules[0].rateInterval, e.rules[0].ratePeriod, "1"}
			if got := sent[0]; len(got) != len(want) || strings.Join(toStrings(got), " ") != strings.Join(toStrings(want), " ") {
				t.Fatalf("sent %v, want %v", got, want)
			}
		})
	}
}

func toStrings(vs []interface{}) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// TestTransportFirstSeen: "OK" marks a new id, the nil reply one seen.
func TestTransportFirstSeen(t *testing.T) {
	var sent [][]interface{}
	e, err := NewWith(Config{Store: StoreConfig{Type: StoreRedis, Address: "redis://127.0.0.1:1", Prefix: "p:"}},
		fakeTransport([]fakeReply{{"OK", nil}, {nil, ErrRedisNil}, {nil, nil}}, &sent))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for i, want := range []bool{true, false} {
		first, err := e.store.kind.firstSeen(e.store, "d1", 1500*time.Millisecond, time.Now())
		if err != nil || first != want {
			t.Fatalf("call %d: %v, %v; want %v", i+1, first, err, want)
		}
	}
	if _, err := e.store.kind.firstSeen(e.store, "d1", time.Second, time.Now()); !errors.Is(err, ErrStoreProtocol) {
		t.Fatalf("a transport answering nothing: %v, want a protocol error, not a seen id", err)
	}
	if got := strings.Join(toStrings(sent[0]), " "); got != "SET p:seen:d1 1 NX PX 1500" {
		t.Fatalf("sent %q", got)
	}
}

// TestTransportBudget: a decision waits for the host's client at most its
// budget, however long the client waits (here until the test lets it go,
// after the decision); the client's own wait is bounded by redisHungAfter.
func TestTransportBudget(t *testing.T) {
	release := make(chan struct{})
	given := make(chan time.Duration, 1)
	opts := Options{Redis: func(_ RedisSettings) RedisClient {
		do := func(ctx context.Context, args ...interface{}) (interface{}, error) {
			if args[0] == "SCRIPT" {
				return "sha", nil
			}
			deadline, _ := ctx.Deadline()
			given <- time.Until(deadline)
			<-release
			return []interface{}{int64(0)}, nil
		}
		return RedisClient{Do: do}
	}}
	e, err := NewWith(Config{
		Rules: []RuleConfig{{Name: "rl", Rate: "5/1m", Action: "deny", StoreFailure: "deny"}},
		Store: StoreConfig{Type: StoreRedis, Address: "redis://127.0.0.1:1", Timeout: "20ms"},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out := e.Decide(tencentApply("ann", "g"))
	close(release)
	if out.Result != ResultDeny || out.StoreFailure != "timeout" || !errors.Is(out.StoreErr, ErrStoreTimeout) {
		t.Fatalf("%s (store %q: %v), want deny by storeFailure after a timeout", out.Result, out.StoreFailure, out.StoreErr)
	}
	if d := <-given; d <= 0 || d > redisHungAfter {
		t.Fatalf("the client was given %s, want at most %s", d, redisHungAfter)
	}
}

// TestTransportSettings: NewWith hands the host the resolved settings
// once per engine, only for a redis store, and Close releases once.
func TestTransportSettings(t *testing.T) {
	var got []RedisSettings
	released := 0
	opts := Options{Redis: func(s RedisSettings) RedisClient {
		got = append(got, s)
		do := func(ctx context.Context, args ...interface{}) (interface{}, error) { return "sha", nil }
		return RedisClient{Do: do, Release: func() { released++ }}
	}}
	mem, err := NewWith(Config{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	mem.Close()
	if len(got) != 0 {
		t.Fatalf("the memory store asked for a Redis client: %+v", got)
	}
	e, err := NewWith(Config{Store: StoreConfig{
		Type: StoreRedis, Address: "rediss://imgate@redis.internal:6380/3", Password: "s3cret pass", PoolSize: 7,
	}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	if len(got) != 1 || released != 1 {
		t.Fatalf("%d clients asked for, %d released; want 1 and 1", len(got), released)
	}
	s := got[0]
	if s.Addr != "redis.internal:6380" || s.Username != "imgate" || s.Password != "s3cret pass" || s.DB != 3 || s.PoolSize != 7 ||
		s.TLS == nil || s.TLS.ServerName != "redis.internal" || s.TLS.MinVersion == 0 {
		t.Fatalf("settings %+v", s)
	}
	if s.Key == "" || strings.Contains(s.Key, "s3cret") {
		t.Fatalf("key %q: empty or holding the password", s.Key)
	}
}
