package core

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiterRefill(t *testing.T) {
	l := newLimiter(2, time.Minute, 100)
	t0 := time.Unix(1700000000, 0).UnixNano()
	steps := []struct {
		key      string
		at       time.Duration
		exceeded bool
	}{
		{"a", 0, false},
		{"a", 0, false},
		{"a", 0, true},                // burst of 2 used up
		{"b", 0, false},               // another key has its own bucket
		{"a", 29 * time.Second, true}, // 0.97 tokens back
		{"a", 31 * time.Second, false},
		{"a", 31 * time.Second, true},
		{"a", 10 * time.Minute, false}, // refilled, capped at the burst
		{"a", 10 * time.Minute, false},
		{"a", 10 * time.Minute, true},
	}
	for i, s := range steps {
		if got := l.exceeded(s.key, t0+int64(s.at)); got != s.exceeded {
			t.Fatalf("step %d (%s at %s): exceeded %v, want %v", i, s.key, s.at, got, s.exceeded)
		}
	}
}

// TestLimiterBounded proves memory stays under the cap however many keys
// arrive.
func TestLimiterBounded(t *testing.T) {
	keys := 100000
	if testing.Short() {
		keys = 5000
	}
	const max = 1000
	l := newLimiter(5, time.Minute, max)
	t0 := time.Unix(1700000000, 0).UnixNano()
	for i := 0; i < keys; i++ {
		l.exceeded("user"+strconv.Itoa(i), t0+int64(i)*int64(time.Millisecond))
		if len(l.buckets) > max {
			t.Fatalf("after %d keys the limiter holds %d buckets, cap %d", i+1, len(l.buckets), max)
		}
	}
	if l.size() == 0 {
		t.Fatal("limiter dropped everything")
	}
}

// TestLimiterEvictsRefilledFirst proves a drained key survives eviction while
// refilled ones go: dropping it would reset its limit.
func TestLimiterEvictsRefilledFirst(t *testing.T) {
	l := newLimiter(2, time.Minute, 10)
	t0 := time.Unix(1700000000, 0).UnixNano()
	for i := 0; i < 9; i++ {
		l.exceeded("k"+strconv.Itoa(i), t0)
	}
	hot := t0 + int64(50*time.Second)
	l.exceeded("hot", hot)
	l.exceeded("hot", hot)
	if !l.exceeded("hot", hot) {
		t.Fatal("hot not drained")
	}
	l.exceeded("new", hot+int64(5*time.Second))
	if !l.exceeded("hot", hot+int64(5*time.Second)) {
		t.Fatal("the drained key was evicted and its limit reset")
	}
	if l.size() > 10 {
		t.Fatalf("size %d over cap", l.size())
	}
}

// TestEngineRateKeysBounded drives a rate rule with rateLimitMaxKeys through
// Decide.
func TestEngineRateKeysBounded(t *testing.T) {
	e, err := New(Config{RateLimitMaxKeys: 50, Rules: []RuleConfig{{Name: "rl", Rate: "1/1h", Action: "deny"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		body := []byte(`{"GroupId":"g","Requestor_Account":"u` + strconv.Itoa(i) + `"}`)
		out := e.Decide(&Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: body})
		if out.Result != ResultAllow {
			t.Fatalf("request %d: %s", i, out.Result)
		}
		if n := e.rules[0].rate.size(); n > 50 {
			t.Fatalf("after %d actors the rule holds %d buckets, cap 50", i+1, n)
		}
	}
}
