package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// testDeadline keeps the fault suite fast; replies must come within it
// plus replySlack.
const (
	testDeadline = 250 * time.Millisecond
	replySlack   = upstreamtest.ReplySlack
)

// forwardEngine builds an engine that forwards everything with fallback
// deny, so that a fallback reply differs from the healthy "allow" one.
func forwardEngine(t *testing.T, format string, edit func(*core.Config)) *core.Engine {
	t.Helper()
	cfg := core.Config{
		DefaultAction: core.ActionForward,
		Forward: core.ForwardConfig{
			Format:          format,
			TencentDeadline: testDeadline.String(),
			OpenIMDeadline:  testDeadline.String(),
			Fallback:        core.ActionDeny,
		},
	}
	if edit != nil {
		edit(&cfg)
	}
	e, err := core.New(cfg)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	return e
}

// nextStyles are the two ways a gateway's next reports a dead upstream:
// Caddy's reverse_proxy returns an error, a Traefik service writes 502.
var nextStyles = []string{"error", "status"}

func nextOf(p *upstreamtest.Proxy, style string) core.NextFunc {
	if style == "error" {
		return p.Next
	}
	return p.StatusNext
}

// TestForwardMatrix sends a before-callback of each platform, in each
// upstream format, through a real httputil.ReverseProxy to a real loopback
// upstream that is healthy or faulty, and checks the exact platform reply,
// the time it took, the Outcome, and what the upstream received.
func TestForwardMatrix(t *testing.T) {
	for _, platform := range []string{core.PlatformTencent, core.PlatformOpenIM} {
		for _, format := range []string{core.FormatNormalized, core.FormatNative} {
			for _, style := range nextStyles {
				for _, c := range upstreamtest.Matrix(platform, format, testDeadline) {
					t.Run(platform+"/"+format+"/"+style+"/"+c.Name, matrixCase(platform, format, style, c))
				}
			}
		}
	}
}

// matrixCase returns the parallel subtest for one case. The case reaches
// the closure as parameters: Yaegi shares loop variables between closures
// even when they are copied in the loop body.
func matrixCase(platform, format, style string, c upstreamtest.Case) func(*testing.T) {
	return func(t *testing.T) {
		t.Parallel()
		runMatrixCase(t, platform, format, style, c)
	}
}

func runMatrixCase(t *testing.T, platform, format, style string, c upstreamtest.Case) {
	up := c.Start()
	defer up.Close()
	proxy := upstreamtest.NewProxy(up.URL)
	defer proxy.Close()
	engine := forwardEngine(t, format, nil)
	cb := upstreamtest.BeforeCallback(platform)
	rec := httptest.NewRecorder()
	req := cb.Request("")
	probe := upstreamtest.StartLagProbe(testDeadline)
	start := time.Now()
	out := engine.Serve(rec, req, "", nextOf(proxy, style))
	elapsed := time.Since(start)

	want := c.Reply
	if c.Fallback() {
		want = upstreamtest.FallbackReply(platform, core.ActionDeny)
	}
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("reply %d %s, want 200 %s (result %s, reason %s, err %v)", rec.Code, rec.Body.String(), want, out.Result, out.Reason, out.Err)
	}
	if ok, allowed := probe.InTime(elapsed, replySlack); !ok {
		t.Errorf("reply took %s, deadline %s, allowed %s", elapsed, testDeadline, allowed)
	}
	if c.Fallback() {
		if out.Result != core.ResultFallback || out.Upstream || !containsString(c.Reasons, out.Reason) {
			t.Errorf("outcome %s reason %q upstream %v, want fallback with reason in %v (err %v)", out.Result, out.Reason, out.Upstream, c.Reasons, out.Err)
		}
	} else if !out.Upstream || out.Reason != "" {
		t.Errorf("outcome %s reason %q upstream %v, want the upstream's decision", out.Result, out.Reason, out.Upstream)
	}
	t.Logf("%s/%s/%s/%s: reply after %s (reason %q)", platform, format, style, c.Name, elapsed.Round(time.Millisecond), out.Reason)
	if c.Down {
		return
	}
	got := up.Requests()
	if len(got) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(got))
	}
	checkForwarded(t, got[0], cb, format, "default", start)
}

// sameQuery reports whether two raw queries carry the same parameters.
func sameQuery(a, b string) bool {
	va, errA := url.ParseQuery(a)
	vb, errB := url.ParseQuery(b)
	return errA == nil && errB == nil && va.Encode() == vb.Encode()
}

func containsString(set []string, s string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// checkForwarded checks the X-Imgate-* headers and the body the upstream
// received for cb.
func checkForwarded(t *testing.T, got upstreamtest.Received, cb upstreamtest.Callback, format, rule string, start time.Time) {
	t.Helper()
	headers := map[string]string{
		core.HeaderPlatform: cb.Platform,
		core.HeaderEvent:    cb.Event,
		core.HeaderCommand:  cb.Command,
		core.HeaderGroup:    cb.Group,
		core.HeaderActor:    cb.Actor,
		core.HeaderRule:     rule,
		core.HeaderVerified: "none",
	}
	for name, want := range headers {
		if v := got.Header.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}
	deadline, err := strconv.ParseInt(got.Header.Get(core.HeaderDeadline), 10, 64)
	lo, hi := start.Add(testDeadline).UnixMilli()-1, time.Now().Add(testDeadline).UnixMilli()+1
	if err != nil || deadline < lo || deadline > hi {
		t.Errorf("%s: %q, want unix ms in [%d, %d]", core.HeaderDeadline, got.Header.Get(core.HeaderDeadline), lo, hi)
	}
	id := got.Header.Get(core.HeaderRequestID)
	if want := cb.Header["operationID"]; want != "" && id != want {
		t.Errorf("%s: %q, want OpenIM's operationID %q", core.HeaderRequestID, id, want)
	} else if id == "" {
		t.Errorf("%s is empty", core.HeaderRequestID)
	}
	if ae := got.Header.Get("Accept-Encoding"); strings.Contains(ae, "br") || strings.Contains(ae, "zstd") {
		t.Errorf("Accept-Encoding %q passed through: the reply must stay readable", ae)
	}
	if got.Method != http.MethodPost {
		t.Errorf("method %s, want POST", got.Method)
	}
	target := cb.Target
	path, query := target, ""
	if i := strings.IndexByte(target, '?'); i >= 0 {
		path, query = target[:i], target[i+1:]
	}
	if got.Path != path {
		t.Errorf("path %q, want %q", got.Path, path)
	}
	if format == core.FormatNative {
		// Compared as parsed values: a ReverseProxy built for an older go.mod
		// (the yaegi binary) re-encodes every query (GODEBUG
		// urlmaxqueryparams), which sorts it without changing it.
		if !sameQuery(got.RawQuery, query) || string(got.Body) != cb.Body {
			t.Errorf("native request changed:\n query %q\n want  %q\n body %s\n want %s", got.RawQuery, query, got.Body, cb.Body)
		}
		return
	}
	if got.RawQuery != "" {
		t.Errorf("normalized request kept the query %q", got.RawQuery)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var ev struct {
		Platform, Event, Phase, Command, GroupID, Actor string
		Members                                         []string
		Raw                                             json.RawMessage
	}
	if err := json.Unmarshal(got.Body, &ev); err != nil {
		t.Fatalf("normalized body %s: %v", got.Body, err)
	}
	phase := "after"
	if cb.Before {
		phase = "before"
	}
	if ev.Platform != cb.Platform || ev.Event != cb.Event || ev.Phase != phase || ev.Command != cb.Command || ev.GroupID != cb.Group || ev.Actor != cb.Actor {
		t.Errorf("normalized body %s does not describe %s %s in %s by %s", got.Body, cb.Platform, cb.Event, cb.Group, cb.Actor)
	}
	var raw bytes.Buffer
	if err := json.Compact(&raw, []byte(cb.Body)); err != nil {
		t.Fatal(err)
	}
	var sent bytes.Buffer
	if err := json.Compact(&sent, ev.Raw); err != nil || sent.String() != raw.String() {
		t.Errorf("raw %s, want the original body %s", ev.Raw, raw.String())
	}
}

// TestForwardConfig covers the forwarding settings: the rule named in
// X-Imgate-Rule, forward.path, and per-event fallbacks.
func TestForwardConfig(t *testing.T) {
	tests := []struct {
		name     string
		platform string
		edit     func(*core.Config)
		down     bool
		rule     string
		path     string
		reply    string
	}{
		{
			name: "rule-forwards-to-path", platform: core.PlatformTencent,
			edit: func(c *core.Config) {
				c.DefaultAction = core.ActionAllow
				c.Rules = []core.RuleConfig{{Name: "joins-to-service", Events: []string{"group.join.*"}, Action: core.ActionForward}}
				c.Forward.Path = "/imgate/decide"
			},
			rule: "joins-to-service", path: "/imgate/decide", reply: `{"ActionStatus":"OK","ErrorInfo":"not today","ErrorCode":10150}`,
		},
		{
			name: "fallback-event-override", platform: core.PlatformOpenIM, down: true,
			edit: func(c *core.Config) {
				c.Forward.FallbackEvents = map[string]string{"group.join.apply": core.ActionAllow}
			},
			reply: upstreamtest.OpenIMAllow,
		},
		{
			name: "fallback-other-event", platform: core.PlatformOpenIM, down: true,
			edit: func(c *core.Config) {
				c.Forward.FallbackEvents = map[string]string{"group.create.before": core.ActionAllow}
			},
			reply: upstreamtest.OpenIMDeny,
		},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var up *upstreamtest.Upstream
			if tt.down {
				up = upstreamtest.Down()
			} else {
				up = upstreamtest.Start(upstreamtest.Behavior{Body: `{"decision":"deny","code":10150,"message":"not today"}`})
			}
			defer up.Close()
			proxy := upstreamtest.NewProxy(up.URL)
			defer proxy.Close()
			engine := forwardEngine(t, core.FormatNormalized, tt.edit)
			cb := upstreamtest.BeforeCallback(tt.platform)
			rec := httptest.NewRecorder()
			req := cb.Request("")
			probe := upstreamtest.StartLagProbe(testDeadline)
			start := time.Now()
			out := engine.Serve(rec, req, "", proxy.Next)
			if rec.Body.String() != tt.reply {
				t.Errorf("reply %s, want %s (reason %s)", rec.Body.String(), tt.reply, out.Reason)
			}
			if tt.down {
				return
			}
			got := up.Requests()
			if len(got) != 1 {
				t.Fatalf("upstream got %d requests, want 1", len(got))
			}
			if got[0].Path != tt.path {
				t.Errorf("path %q, want %q", got[0].Path, tt.path)
			}
			if v := got[0].Header.Get(core.HeaderRule); v != tt.rule || out.ForwardedBy != tt.rule || out.Rule != core.RuleUpstream {
				t.Errorf("rule header %q, outcome forwarded by %q, rule %q; want %q, %q, upstream", v, out.ForwardedBy, out.Rule, tt.rule, tt.rule)
			}
			if ok, allowed := probe.InTime(time.Since(start), replySlack); !ok {
				t.Errorf("took %s, allowed %s", time.Since(start), allowed)
			}
		})
	}
}

// TestForwardConcurrent sends 200 callbacks at once to an upstream that
// sleeps past the deadline: every one must get the fallback reply in time,
// and once the burst is over no goroutine may be left behind.
func TestForwardConcurrent(t *testing.T) {
	const callbacks = 200
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: 10 * time.Second, Body: `{"decision":"allow"}`})
	defer up.Close()
	proxy := upstreamtest.NewProxy(up.URL)
	defer proxy.Close()
	engine := forwardEngine(t, core.FormatNormalized, nil)
	cb := upstreamtest.BeforeCallback(core.PlatformTencent)
	baseline := runtime.NumGoroutine()

	var wg sync.WaitGroup
	latencies := make([]time.Duration, callbacks)
	bodies := make([]string, callbacks)
	release := make(chan struct{})
	for i := 0; i < callbacks; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := cb.Request("")
			rec := httptest.NewRecorder()
			<-release
			start := time.Now()
			engine.Serve(rec, req, "", proxy.Next)
			latencies[i] = time.Since(start)
			bodies[i] = rec.Body.String()
		}(i)
	}
	probe := upstreamtest.StartLagProbe(testDeadline)
	close(release)
	wg.Wait()
	var worst time.Duration
	for i := 0; i < callbacks; i++ {
		if bodies[i] != upstreamtest.TencentDeny {
			t.Errorf("callback %d got %s, want the fallback %s", i, bodies[i], upstreamtest.TencentDeny)
		}
		if latencies[i] > worst {
			worst = latencies[i]
		}
	}
	// Two shared cores run 200 proxied requests plus the upstream: allow
	// scheduling noise (more under the race detector), still far inside
	// Tencent's 2 s budget.
	slack := upstreamtest.ReplySlack
	if raceDetector {
		slack = 2 * upstreamtest.ReplySlack
	}
	if ok, allowed := probe.InTime(worst, slack); !ok {
		t.Errorf("slowest reply took %s, deadline %s, allowed %s", worst, testDeadline, allowed)
	}
	t.Logf("%d callbacks, slowest reply %s, deadline %s", callbacks, worst.Round(time.Millisecond), testDeadline)

	// The proxy cancelled every upstream request at the deadline; the
	// goroutines that ran next must be gone, with the upstream still up.
	proxy.Close()
	now := waitGoroutines(baseline, 5*time.Second)
	if now > baseline {
		t.Errorf("%d goroutines after the burst, %d before", now, baseline)
	}
	if active := up.Active(); active != 0 {
		t.Errorf("upstream still answers %d requests the gateway gave up on", active)
	}
}

// waitGoroutines polls until at most want goroutines run or timeout passes.
func waitGoroutines(want int, timeout time.Duration) int {
	stop := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(stop) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDeliveries polls until no background delivery runs.
func waitDeliveries(e *core.Engine, timeout time.Duration) core.DeliveryStats {
	stop := time.Now().Add(timeout)
	for {
		s := e.Deliveries()
		if s.InFlight == 0 || time.Now().After(stop) {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type ctxKey string

// TestForwardAfterCallback checks that after-callbacks are acknowledged at
// once, whatever the upstream does, and still reach the upstream, even
// after the platform's request ended.
func TestForwardAfterCallback(t *testing.T) {
	tests := []struct {
		name      string
		platform  string
		format    string
		behavior  upstreamtest.Behavior
		down      bool
		delivered int64
		reason    string // what OnDelivery hears when the delivery failed
	}{
		{name: "tencent-healthy", platform: core.PlatformTencent, format: core.FormatNormalized, behavior: upstreamtest.Behavior{Delay: 50 * time.Millisecond, Body: `{"decision":"allow"}`}, delivered: 1},
		{name: "openim-native-healthy", platform: core.PlatformOpenIM, format: core.FormatNative, behavior: upstreamtest.Behavior{Body: `{"actionCode":0,"nextCode":0}`}, delivered: 1},
		{name: "tencent-slow", platform: core.PlatformTencent, format: core.FormatNormalized, behavior: upstreamtest.Behavior{Delay: 5 * time.Second}, reason: "timeout"},
		{name: "openim-500", platform: core.PlatformOpenIM, format: core.FormatNormalized, behavior: upstreamtest.Behavior{Status: 500}, reason: "status_500"},
		{name: "openim-down", platform: core.PlatformOpenIM, format: core.FormatNormalized, down: true, reason: "unreachable"},
	}
	for _, tt := range tests {
		tt := tt
		t.Run(tt.name, func(t *testing.T) {
			var up *upstreamtest.Upstream
			if tt.down {
				up = upstreamtest.Down()
			} else {
				up = upstreamtest.Start(tt.behavior)
			}
			defer up.Close()
			proxy := upstreamtest.NewProxy(up.URL)
			defer proxy.Close()
			engine := forwardEngine(t, tt.format, nil)
			// OnDelivery's outcome, or nil from the timer below: Yaegi
			// runs no select safely (docs/design.md).
			ended := make(chan *core.Outcome, 2)
			engine.OnDelivery(func(o *core.Outcome) { ended <- o })
			cb := upstreamtest.AfterCallback(tt.platform)
			// The gateway cancels the request context when its handler
			// returns; its values must stay readable by next.
			ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey("k"), "v"))
			req := cb.Request("").WithContext(ctx)
			var sawValue sync.WaitGroup
			sawValue.Add(1)
			valueSeen := false
			next := func(w http.ResponseWriter, r *http.Request) error {
				valueSeen = r.Context().Value(ctxKey("k")) == "v"
				sawValue.Done()
				return proxy.Next(w, r)
			}
			rec := httptest.NewRecorder()
			start := time.Now()
			out := engine.Serve(rec, req, "", next)
			elapsed := time.Since(start)
			cancel()
			if rec.Body.String() != cb.Reply() || out.Result != core.ResultAck {
				t.Errorf("reply %s result %s, want %s ack", rec.Body.String(), out.Result, cb.Reply())
			}
			// The slow upstream answers two seconds after the deadline: an
			// acknowledgement that waited for it would take longer than this.
			if elapsed > upstreamtest.ReplySlack {
				t.Errorf("acknowledgement took %s: the upstream held it", elapsed)
			}
			stats := waitDeliveries(engine, testDeadline+time.Second)
			sawValue.Wait()
			if !valueSeen {
				t.Error("next lost the request context's values")
			}
			if stats.InFlight != 0 || stats.Delivered != tt.delivered || stats.Delivered+stats.Failed != 1 || stats.Inline != 0 {
				t.Errorf("deliveries %+v, want %d delivered of 1", stats, tt.delivered)
			}
			timeout := time.AfterFunc(time.Second, func() { ended <- nil })
			o := <-ended
			timeout.Stop()
			if o == nil {
				t.Error("OnDelivery was not called when the delivery ended")
			} else if o.Upstream != (tt.delivered == 1) || o.Reason != tt.reason {
				t.Errorf("OnDelivery heard upstream=%v reason %q, want upstream=%v reason %q", o.Upstream, o.Reason, tt.delivered == 1, tt.reason)
			}
			if tt.down {
				return
			}
			got := up.WaitRequests(1, time.Second)
			if len(got) != 1 {
				t.Fatalf("upstream got %d requests, want 1", len(got))
			}
			checkForwarded(t, got[0], cb, tt.format, "default", start)
		})
	}
}

// TestForwardAfterCallbackSaturated fills every background slot with
// deliveries that hang until their deadline: the next after-callbacks are
// delivered inline (and still acknowledged), and the slots free themselves
// once the deadline passes. An inline delivery that fails is the request's
// own outcome, a fallback (which adapters count as an upstream fallback):
// it is not reported to OnDelivery nor counted as a failed background
// delivery (docs/forwarding.md).
func TestForwardAfterCallbackSaturated(t *testing.T) {
	// A long deadline, so filling the slots on a slow interpreter cannot
	// outlast it; a hanging next, so nothing frees a slot before it.
	engine := forwardEngine(t, core.FormatNormalized, func(c *core.Config) { c.Forward.OpenIMDeadline = "1s" })
	var reported, reportedFailed int64
	var mu sync.Mutex
	engine.OnDelivery(func(out *core.Outcome) {
		mu.Lock()
		reported++
		if !out.Upstream {
			reportedFailed++
		}
		mu.Unlock()
	})
	next := func(w http.ResponseWriter, r *http.Request) error {
		switch r.Header.Get("X-Test-Answer") {
		case "now":
			w.Write([]byte(`{"decision":"allow"}`))
			return nil
		case "fail":
			w.WriteHeader(http.StatusInternalServerError)
			return nil
		}
		<-r.Context().Done()
		return r.Context().Err()
	}
	cb := upstreamtest.AfterCallback(core.PlatformOpenIM)
	for i := 0; i < core.MaxBackgroundDeliveries; i++ {
		engine.Serve(httptest.NewRecorder(), cb.Request(""), "", next)
	}
	if s := engine.Deliveries(); s.InFlight != core.MaxBackgroundDeliveries {
		t.Fatalf("deliveries %+v, want every slot busy", s)
	}
	req := cb.Request("")
	req.Header.Set("X-Test-Answer", "now")
	rec := httptest.NewRecorder()
	out := engine.Serve(rec, req, "", next)
	if rec.Body.String() != upstreamtest.OpenIMAllow || !out.Upstream || out.Result != core.ResultAck {
		t.Errorf("inline delivery replied %s result %s upstream %v, want an ack after the upstream answered", rec.Body.String(), out.Result, out.Upstream)
	}
	req = cb.Request("")
	req.Header.Set("X-Test-Answer", "fail")
	rec = httptest.NewRecorder()
	out = engine.Serve(rec, req, "", next)
	if rec.Body.String() != upstreamtest.OpenIMAllow || out.Upstream || out.Result != core.ResultFallback || out.Reason != "status_500" {
		t.Errorf("failed inline delivery replied %s result %s reason %s, want the acknowledgement as a fallback, reason status_500", rec.Body.String(), out.Result, out.Reason)
	}
	if s := engine.Deliveries(); s.Inline != 2 || s.InFlight != core.MaxBackgroundDeliveries {
		t.Errorf("deliveries %+v, want 2 inline beside full slots", s)
	}
	stats := waitDeliveries(engine, 3*time.Second)
	if stats.InFlight != 0 || stats.Failed != core.MaxBackgroundDeliveries || stats.Inline != 2 {
		t.Errorf("deliveries %+v, want %d failed in the background and 2 inline", stats, core.MaxBackgroundDeliveries)
	}
	// A delivery is reported just after its slot is freed.
	for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := reported
		mu.Unlock()
		if n >= core.MaxBackgroundDeliveries {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if reported != core.MaxBackgroundDeliveries || reportedFailed != core.MaxBackgroundDeliveries {
		t.Errorf("OnDelivery saw %d deliveries (%d failed), want only the %d background ones", reported, reportedFailed, core.MaxBackgroundDeliveries)
	}
}

// TestForwardPanickingNext keeps the platform answered when next panics.
func TestForwardPanickingNext(t *testing.T) {
	engine := forwardEngine(t, core.FormatNormalized, nil)
	cb := upstreamtest.BeforeCallback(core.PlatformTencent)
	rec := httptest.NewRecorder()
	out := engine.Serve(rec, cb.Request(""), "", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"decision":`))
		panic(http.ErrAbortHandler)
	})
	if rec.Body.String() != upstreamtest.TencentDeny || out.Reason != "aborted" {
		t.Errorf("reply %s reason %q, want the fallback after an aborted reply", rec.Body.String(), out.Reason)
	}
}

// TestForwardNextIgnoresContext holds the deadline promise for a next that
// does not watch its request's context (a handler that blocks on something
// else, a transport without a deadline of its own): the platform still
// gets the fallback by the deadline. This is why next runs on a goroutine
// of its own rather than on the request's (docs/performance.md, E/D).
func TestForwardNextIgnoresContext(t *testing.T) {
	engine := forwardEngine(t, core.FormatNormalized, nil)
	release := make(chan struct{})
	returned := make(chan struct{})
	next := func(w http.ResponseWriter, r *http.Request) error {
		defer close(returned)
		<-release
		w.Write([]byte(`{"decision":"allow"}`))
		return nil
	}
	probe := upstreamtest.StartLagProbe(testDeadline)
	start := time.Now()
	rec := httptest.NewRecorder()
	out := engine.Serve(rec, upstreamtest.BeforeCallback(core.PlatformTencent).Request(""), "", next)
	elapsed := time.Since(start)
	close(release)
	<-returned
	if rec.Body.String() != upstreamtest.TencentDeny || out.Reason != "timeout" {
		t.Errorf("reply %s reason %q, want the fallback for a timeout", rec.Body.String(), out.Reason)
	}
	if ok, allowed := probe.InTime(elapsed, replySlack); !ok {
		t.Errorf("reply after %s, allowed %s", elapsed, allowed)
	}
}

// TestForwardPlatformHangsUp reports a platform that gave up before the
// deadline as "canceled", not as an upstream timeout.
func TestForwardPlatformHangsUp(t *testing.T) {
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: 5 * time.Second})
	defer up.Close()
	proxy := upstreamtest.NewProxy(up.URL)
	defer proxy.Close()
	engine := forwardEngine(t, core.FormatNormalized, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hangUp := time.AfterFunc(50*time.Millisecond, cancel)
	defer hangUp.Stop()
	probe := upstreamtest.StartLagProbe(50 * time.Millisecond)
	req := upstreamtest.BeforeCallback(core.PlatformOpenIM).Request("").WithContext(ctx)
	start := time.Now()
	out := engine.Serve(httptest.NewRecorder(), req, "", proxy.Next)
	if out.Reason != "canceled" {
		t.Errorf("reason %q, want canceled (err %v)", out.Reason, out.Err)
	}
	if ok, allowed := probe.InTime(time.Since(start), replySlack); !ok {
		t.Errorf("took %s after the platform hung up at 50ms, allowed %s", time.Since(start), allowed)
	}
}

// TestForwardDeadlines checks the deadline defaults and that a deadline
// the platform would outwait is refused at load time: Tencent's budget is
// a fixed 2 s, OpenIM's is the webhooks.yml timeout (at most 15 s).
func TestForwardDeadlines(t *testing.T) {
	tests := []struct {
		name            string
		forward         core.ForwardConfig
		tencent, openim time.Duration
		errKey          string
	}{
		{name: "defaults", tencent: 1500 * time.Millisecond, openim: 3 * time.Second},
		{name: "set", forward: core.ForwardConfig{TencentDeadline: "800ms", OpenIMDeadline: "9s", OpenIMTimeout: "10s"}, tencent: 800 * time.Millisecond, openim: 9 * time.Second},
		{name: "tencent at its budget", forward: core.ForwardConfig{TencentDeadline: "2s"}, errKey: "forward.tencentDeadline"},
		{name: "openim at its timeout", forward: core.ForwardConfig{OpenIMDeadline: "5s"}, errKey: "forward.openimDeadline"},
		{name: "openim timeout over the cap", forward: core.ForwardConfig{OpenIMTimeout: "20s"}, errKey: "forward.openimTimeout"},
		{name: "not a duration", forward: core.ForwardConfig{TencentDeadline: "soon"}, errKey: "forward.tencentDeadline"},
		{name: "bad fallback", forward: core.ForwardConfig{Fallback: "maybe"}, errKey: "forward.fallback"},
		{name: "bad per-event fallback", forward: core.ForwardConfig{FallbackEvents: map[string]string{"group.join.apply": "later"}}, errKey: "forward.fallbackEvents.group.join.apply"},
	}
	for _, tt := range tests {
		e, err := core.New(core.Config{DefaultAction: core.ActionForward, Forward: tt.forward})
		if tt.errKey != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.errKey+":") {
				t.Errorf("%s: error %v, want one naming %s", tt.name, err, tt.errKey)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := e.Deadline(core.PlatformTencent); got != tt.tencent {
			t.Errorf("%s: Tencent deadline %s, want %s", tt.name, got, tt.tencent)
		}
		if got := e.Deadline(core.PlatformOpenIM); got != tt.openim {
			t.Errorf("%s: OpenIM deadline %s, want %s", tt.name, got, tt.openim)
		}
	}
}

// TestForwardRequestID pins down where X-Imgate-Request-Id comes from
// (docs/forwarding.md): the callback's operationID HTTP header, verbatim,
// even when its body carries another operationID and the callback already
// has an X-Imgate-Request-Id header; without the header (every Tencent
// callback), a generated id, different per callback.
func TestForwardRequestID(t *testing.T) {
	engine := forwardEngine(t, core.FormatNormalized, nil)
	var got []string
	next := func(w http.ResponseWriter, r *http.Request) error {
		got = append(got, strings.Join(r.Header.Values(core.HeaderRequestID), ","))
		w.Write([]byte(`{"decision":"allow"}`))
		return nil
	}
	openim := upstreamtest.BeforeCallback(core.PlatformOpenIM)
	openim.Body = strings.Replace(openim.Body, `"operationID":"op-before-1"`, `"operationID":"op-in-body"`, 1)
	req := openim.Request("")
	req.Header.Set("operationID", "op-in-header")
	req.Header.Set(core.HeaderRequestID, "forged-by-caller")
	engine.Serve(httptest.NewRecorder(), req, "", next)

	tencent := upstreamtest.BeforeCallback(core.PlatformTencent)
	for i := 0; i < 2; i++ {
		req = tencent.Request("")
		req.Header.Set(core.HeaderRequestID, "forged-by-caller")
		engine.Serve(httptest.NewRecorder(), req, "", next)
	}
	if len(got) != 3 {
		t.Fatalf("upstream called %d times, want 3", len(got))
	}
	if got[0] != "op-in-header" {
		t.Errorf("OpenIM: %s %q, want the operationID header's op-in-header", core.HeaderRequestID, got[0])
	}
	if got[1] == "" || got[1] == "forged-by-caller" || strings.Contains(got[1], ",") || got[1] == got[2] {
		t.Errorf("Tencent: %s %q then %q, want a generated id, different per callback", core.HeaderRequestID, got[1], got[2])
	}
}
