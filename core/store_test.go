package core

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
)

// goldenEngines runs every golden case through engines that build derives
// from the case's config: the shared-store suites hold themselves to the
// same spec as the memory store.
func goldenEngines(t *testing.T, build func(t *testing.T, c *golden.Case, cfg Config) *Engine) {
	golden.RunAll(t, func(t *testing.T, c *golden.Case) []golden.Target {
		var cfg Config
		if err := golden.StrictDecoder(c.Config).Decode(&cfg); err != nil {
			t.Fatalf("config: %v", err)
		}
		e := build(t, c, cfg)
		upstream := c.Upstream.Handler()
		next := func(w http.ResponseWriter, r *http.Request) error {
			upstream.ServeHTTP(w, r)
			return nil
		}
		send := func(t *testing.T, r *http.Request, last bool) golden.Reply {
			rec := httptest.NewRecorder()
			out := e.Serve(rec, r, "", next)
			if out.StoreFailure != "" {
				t.Fatalf("store failure %s: %v", out.StoreFailure, out.StoreErr)
			}
			reply := golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: out.Result + "; rule=" + out.Rule, ShadowSeen: true}
			for _, hit := range out.Shadow {
				reply.Shadow = append(reply.Shadow, hit.Rule)
			}
			return reply
		}
		return []golden.Target{{Name: "shared", Send: send}}
	})
}

// TestGoldenSharedPlanner runs the golden cases through the shared-store
// decision path (rate conditions collected, then settled in one call) with
// in-memory buckets behind it: the planner decides exactly as the
// rule-by-rule walk does.
func TestGoldenSharedPlanner(t *testing.T) {
	goldenEngines(t, func(t *testing.T, c *golden.Case, cfg Config) *Engine {
		e, err := New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		e.store = &store{kind: sharedMemory}
		return e
	})
}

// sharedMemory is the memory store posing as a shared one: the planner
// path with in-memory buckets.
var sharedMemory = &storeKind{name: StoreMemory, shared: true, take: takeLocalStore, firstSeen: memoryFirstSeen, close: func(*store) {}}

// sharedStore is a shared store whose take is fn: the failure policies
// are unit-tested against it (the real outages are in redis_test.go).
func sharedStore(fn func(checks []rateCheck, now int64) error) *store {
	return &store{kind: &storeKind{name: StoreRedis, shared: true, close: func(*store) {},
		take: func(_ *store, checks []rateCheck, now int64) error { return fn(checks, now) }}}
}

// tencentApply is a Tencent join request by actor to group.
func tencentApply(actor, group string) *Input {
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"` + group + `","Type":"Public","Requestor_Account":"` + actor + `"}`
	return &Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(body)}
}

// plannerRules exercise the order in which rate tokens are spent: a shadow
// rate rule, a deciding rate rule, a rule without rate that decides, and a
// rate rule after it that must never spend a token.
var plannerRules = []RuleConfig{
	{Name: "shadow-rate", Rate: "1/1h", Action: "deny", Shadow: true},
	{Name: "actor-rate", Rate: "2/1h", Action: "deny", Message: "actor"},
	{Name: "group-rate", Rate: "3/1h", RateBy: "group", Action: "deny", Message: "group"},
	{Name: "vip", Actors: []string{"vip*"}, Action: "allow"},
	{Name: "after-vip", Rate: "1/1h", Action: "deny", Message: "never for vips"},
}

// TestSharedPlannerSpendsTokensAsMemory drives the same callbacks through
// the in-memory walk and the shared planner and compares every outcome
// and every bucket afterwards.
func TestSharedPlannerSpendsTokensAsMemory(t *testing.T) {
	walk, err := New(Config{Rules: plannerRules})
	if err != nil {
		t.Fatal(err)
	}
	planned, err := New(Config{Rules: plannerRules})
	if err != nil {
		t.Fatal(err)
	}
	planned.store = &store{kind: sharedMemory}
	clock := time.Unix(1700000000, 0)
	walk.SetClock(func() time.Time { return clock })
	planned.SetClock(func() time.Time { return clock })
	inputs := []*Input{}
	for i := 0; i < 4; i++ {
		for _, actor := range []string{"vip1", "ann", "bob", "cat", "dan"} {
			inputs = append(inputs, tencentApply(actor, "g"+strconv.Itoa(i%2)))
		}
	}
	deciders := map[string]int{}
	for i, in := range inputs {
		a := walk.Decide(in)
		b := planned.Decide(in)
		if a.Result != b.Result || a.Rule != b.Rule || string(a.Body) != string(b.Body) || fmt.Sprint(a.Shadow) != fmt.Sprint(b.Shadow) {
			t.Fatalf("request %d: walk %s/%s %v, planner %s/%s %v", i, a.Result, a.Rule, a.Shadow, b.Result, b.Rule, b.Shadow)
		}
		deciders[a.Rule]++
	}
	for _, rule := range []string{"actor-rate", "group-rate", "vip", "after-vip", RuleDefault} {
		if deciders[rule] == 0 {
			t.Fatalf("no request was decided by %s (%v): the sequence proves too little", rule, deciders)
		}
	}
	for i := range walk.rules {
		if walk.rules[i].rate == nil {
			continue
		}
		a, b := walk.rules[i].rate, planned.rules[i].rate
		if a.size() != b.size() {
			t.Fatalf("rule %s: %d buckets in the walk, %d in the planner", walk.rules[i].name, a.size(), b.size())
		}
		for key, bucket := range a.buckets {
			if other := b.buckets[key]; other == nil || *other != *bucket {
				t.Fatalf("rule %s bucket %q: walk %+v, planner %+v", walk.rules[i].name, key, bucket, other)
			}
		}
	}
	if planned.rules[4].rate.size() != 2 {
		t.Fatalf("after-vip holds %d buckets, want 2 (never vip1)", planned.rules[4].rate.size())
	}
}

// failingTake is a shared store that cannot be reached.
func failingTake(err error) *store {
	return sharedStore(func([]rateCheck, int64) error { return err })
}

func TestStoreFailurePolicies(t *testing.T) {
	down := fmt.Errorf("redis 127.0.0.1:1: connection refused: %w", ErrStoreDown)
	tests := []struct {
		policy string
		// results of three requests by one actor against a 2/1h rule.
		want []string
	}{
		{StoreFailureAllow, []string{ResultAllow, ResultAllow, ResultAllow}},
		{StoreFailureDeny, []string{ResultDeny, ResultDeny, ResultDeny}},
		{StoreFailureLocal, []string{ResultAllow, ResultAllow, ResultDeny}},
		{"", []string{ResultAllow, ResultAllow, ResultDeny}},
	}
	for _, tt := range tests {
		t.Run("policy="+tt.policy, func(t *testing.T) {
			e, err := New(Config{Rules: []RuleConfig{{Name: "rl", Rate: "2/1h", Action: "deny", StoreFailure: tt.policy}}})
			if err != nil {
				t.Fatal(err)
			}
			e.store = failingTake(down)
			for i, want := range tt.want {
				out := e.Decide(tencentApply("ann", "g"))
				if out.Result != want || out.StoreFailure != "down" || out.StoreErr != down {
					t.Fatalf("request %d: %s (store %q, %v), want %s with store failure down", i+1, out.Result, out.StoreFailure, out.StoreErr, want)
				}
			}
		})
	}
}

// TestStoreFailureMixedPolicies proves each rule keeps its own policy and
// the rule order holds: a failed store never lets a later rule spend a
// token that the walk would not.
func TestStoreFailureMixedPolicies(t *testing.T) {
	e, err := New(Config{Rules: []RuleConfig{
		{Name: "shadow-deny", Rate: "5/1h", Action: "deny", Shadow: true, StoreFailure: "deny"},
		{Name: "open", Rate: "1/1h", Action: "deny", StoreFailure: "allow"},
		{Name: "closed", Rate: "1/1h", Action: "deny", StoreFailure: "deny", Message: "closed"},
		{Name: "local", Rate: "1/1h", Action: "deny", StoreFailure: "local"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e.store = failingTake(fmt.Errorf("slow: %w", ErrStoreTimeout))
	out := e.Decide(tencentApply("ann", "g"))
	if out.Result != ResultDeny || out.Rule != "closed" || out.StoreFailure != "timeout" {
		t.Fatalf("got %s by %s (store %q)", out.Result, out.Rule, out.StoreFailure)
	}
	if len(out.Shadow) != 1 || out.Shadow[0].Rule != "shadow-deny" {
		t.Fatalf("shadow hits %v, want shadow-deny", out.Shadow)
	}
	if n := e.rules[3].rate.size(); n != 0 {
		t.Fatalf("the local rule after the deciding one spent a token (%d buckets)", n)
	}
}

// TestStoreEvents proves an outage and the recovery are reported once
// each, not on every callback.
func TestStoreEvents(t *testing.T) {
	e, err := New(Config{Rules: []RuleConfig{{Name: "rl", Rate: "100/1h", Action: "deny"}}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	e.OnStore(func(ev StoreEvent) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Available {
			events = append(events, "available")
		} else {
			events = append(events, "unavailable:"+ev.Reason)
		}
	})
	failing := true
	e.store = sharedStore(func(checks []rateCheck, now int64) error {
		if failing {
			return fmt.Errorf("refused: %w", ErrStoreDown)
		}
		return takeLocal(checks, now)
	})
	for i := 0; i < 3; i++ {
		e.Decide(tencentApply("ann", "g"))
	}
	failing = false
	for i := 0; i < 3; i++ {
		if out := e.Decide(tencentApply("ann", "g")); out.StoreFailure != "" {
			t.Fatalf("store failure %q after recovery", out.StoreFailure)
		}
	}
	failing = true
	e.Decide(tencentApply("ann", "g"))
	want := "unavailable:down available unavailable:down"
	if got := strings.Join(events, " "); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// TestStoreEventsIgnoreStrayTimeouts proves late replies now and then are
// no outage to log, while a run of them is.
func TestStoreEventsIgnoreStrayTimeouts(t *testing.T) {
	e, err := New(Config{Rules: []RuleConfig{{Name: "rl", Rate: "100/1h", Action: "deny"}}})
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	e.OnStore(func(StoreEvent) { events++ })
	late := 0
	e.store = sharedStore(func(checks []rateCheck, now int64) error {
		if late > 0 {
			late--
			return fmt.Errorf("no reply in time: %w", ErrStoreTimeout)
		}
		return takeLocal(checks, now)
	})
	for i := 0; i < 5; i++ {
		late = storeTimeoutsReported - 1
		for j := 0; j < storeTimeoutsReported; j++ {
			e.Decide(tencentApply("ann"+strconv.Itoa(j), "g"))
		}
	}
	if events != 0 {
		t.Fatalf("%d events for stray timeouts, want none", events)
	}
	late = storeTimeoutsReported
	for j := 0; j <= storeTimeoutsReported; j++ {
		e.Decide(tencentApply("bob"+strconv.Itoa(j), "g"))
	}
	if events != 2 {
		t.Fatalf("%d events for a run of timeouts and the recovery, want 2", events)
	}
}

// TestStoreNotAskedWithoutRate proves a callback that reaches no rate rule
// costs no store call.
func TestStoreNotAskedWithoutRate(t *testing.T) {
	e, err := New(Config{Rules: []RuleConfig{
		{Name: "banned", Actors: []string{"mallory"}, Action: "deny"},
		{Name: "rl", Events: []string{"group.create.before"}, Rate: "1/1h", Action: "deny"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	e.store = sharedStore(func(checks []rateCheck, now int64) error {
		calls++
		return takeLocal(checks, now)
	})
	e.Decide(tencentApply("mallory", "g"))
	e.Decide(tencentApply("ann", "g"))
	if calls != 0 {
		t.Fatalf("%d store calls for callbacks no rate rule applies to", calls)
	}
}

func TestSeenFirst(t *testing.T) {
	s := newSeenSet(100)
	t0 := time.Unix(1700000000, 0).UnixNano()
	steps := []struct {
		id    string
		at    time.Duration
		first bool
	}{
		{"a", 0, true},
		{"a", time.Second, false},
		{"b", time.Second, true},
		{"a", 59 * time.Second, false},
		{"a", 60 * time.Second, true}, // the minute is over
		{"a", 61 * time.Second, false},
	}
	for i, st := range steps {
		if got := seenFirst(s, st.id, time.Minute, t0+int64(st.at)); got != st.first {
			t.Fatalf("step %d (%s at %s): first %v, want %v", i, st.id, st.at, got, st.first)
		}
	}
}

// TestSeenBounded proves the memory dedup set stays under its cap and
// keeps the ids still within their ttl when expired ones can go.
func TestSeenBounded(t *testing.T) {
	s := newSeenSet(100)
	t0 := time.Unix(1700000000, 0).UnixNano()
	seenFirst(s, "keep", time.Hour, t0)
	for i := 0; i < 1000; i++ {
		seenFirst(s, "old"+strconv.Itoa(i), time.Millisecond, t0+int64(i)*int64(time.Second))
		if len(s.until) > 100 {
			t.Fatalf("after %d ids the set holds %d, cap 100", i+1, len(s.until))
		}
	}
	if seenFirst(s, "keep", time.Hour, t0+int64(1000*time.Second)) {
		t.Fatal("an id within its ttl was forgotten while expired ones could go")
	}
}

func TestMemoryStoreFirstSeen(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	for i, want := range []bool{true, false} {
		first, err := e.store.kind.firstSeen(e.store, "delivery-1", time.Minute, now)
		if err != nil || first != want {
			t.Fatalf("call %d: %v, %v; want %v", i+1, first, err, want)
		}
	}
}
