package traefikload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/upstreamtest"
)

// forwardDeadline keeps the Traefik fault suite fast; every reply must come
// within it plus forwardSlack (plus the machine's timer lag at that moment,
// see upstreamtest.LagProbe).
const (
	forwardDeadline = 250 * time.Millisecond
	forwardSlack    = upstreamtest.ReplySlack
)

func forwardConfig(format string) map[string]any { return ForwardConfig(format, forwardDeadline) }

// TestForwardFaultsInterpreted runs the shared upstream matrix through the
// plugin as Traefik runs it (interpreted by Yaegi, config decoded with
// mapstructure) and through the compiled package, with a real
// httputil.ReverseProxy as next, which is what a Traefik service is: it
// reports a dead upstream only as a 502. Each reply must be exact, carry
// the right result, and arrive within the deadline + 50 ms.
func TestForwardFaultsInterpreted(t *testing.T) {
	for _, platform := range []string{"tencent", "openim"} {
		for _, format := range []string{"normalized", "native"} {
			for _, c := range upstreamtest.Matrix(platform, format, forwardDeadline) {
				t.Run(platform+"/"+format+"/"+c.Name, forwardCase(platform, format, c))
			}
		}
	}
}

func forwardCase(platform, format string, c upstreamtest.Case) func(*testing.T) {
	return func(t *testing.T) {
		up := c.Start()
		defer up.Close()
		proxy := upstreamtest.NewProxy(up.URL)
		defer proxy.Close()
		builds := []struct {
			name    string
			handler http.Handler
		}{
			{"interpreted", New(t, forwardConfig(format), proxy.Handler())},
			{"compiled", NewCompiled(t, forwardConfig(format), proxy.Handler())},
		}
		want, wantResult := c.Reply, ""
		if c.Fallback() {
			want, wantResult = upstreamtest.FallbackReply(platform, "deny"), "fallback"
		}
		cb := upstreamtest.BeforeCallback(platform)
		for i, b := range builds {
			rec := httptest.NewRecorder()
			req := cb.Request("")
			probe := upstreamtest.StartLagProbe(forwardDeadline)
			start := time.Now()
			b.handler.ServeHTTP(rec, req)
			elapsed := time.Since(start)
			result := strings.SplitN(rec.Header().Get(ForwardHeader), ";", 2)[0]
			if rec.Code != http.StatusOK || rec.Body.String() != want {
				t.Errorf("%s: reply %d %s, want 200 %s (result %s)", b.name, rec.Code, rec.Body.String(), want, result)
			}
			if wantResult != "" && result != wantResult || wantResult == "" && result == "fallback" {
				t.Errorf("%s: result %q", b.name, result)
			}
			if ok, allowed := probe.InTime(elapsed, forwardSlack); !ok {
				t.Errorf("%s: reply took %s, deadline %s, allowed %s", b.name, elapsed, forwardDeadline, allowed)
			}
			t.Logf("%s: reply after %s (%s)", b.name, elapsed.Round(time.Millisecond), result)
			if c.Down {
				continue
			}
			got := up.Requests()
			if len(got) != i+1 {
				t.Fatalf("%s: upstream got %d requests, want %d", b.name, len(got), i+1)
			}
			checkReceived(t, b.name, got[i], cb, format)
		}
	}
}

// checkReceived reports what the upstream got wrongly.
func checkReceived(t *testing.T, build string, got upstreamtest.Received, cb upstreamtest.Callback, format string) {
	t.Helper()
	for _, p := range cb.Check(got, format) {
		t.Errorf("%s: %s", build, p)
	}
}

// TestForwardAfterCallbackInterpreted checks that the interpreted plugin
// acknowledges an after-callback at once while a slow upstream still
// receives it after ServeHTTP returned.
func TestForwardAfterCallbackInterpreted(t *testing.T) {
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: 3 * time.Second, Body: `{"decision":"allow"}`})
	defer up.Close()
	proxy := upstreamtest.NewProxy(up.URL)
	defer proxy.Close()
	handler := New(t, forwardConfig("normalized"), proxy.Handler())
	for i, platform := range []string{"tencent", "openim"} {
		cb := upstreamtest.AfterCallback(platform)
		rec := httptest.NewRecorder()
		start := time.Now()
		handler.ServeHTTP(rec, cb.Request(""))
		elapsed := time.Since(start)
		if rec.Body.String() != cb.Reply() || !strings.HasPrefix(rec.Header().Get(ForwardHeader), "ack;") {
			t.Errorf("%s: reply %s (%s), want %s ack", platform, rec.Body.String(), rec.Header().Get(ForwardHeader), cb.Reply())
		}
		// The upstream takes three seconds: an acknowledgement that
		// waited for it would take longer than this.
		if elapsed > upstreamtest.ReplySlack {
			t.Errorf("%s: acknowledgement took %s behind a 3 s upstream", platform, elapsed)
		}
		got := up.WaitRequests(i+1, time.Second)
		if len(got) != i+1 {
			t.Fatalf("%s: upstream got %d requests, want %d", platform, len(got), i+1)
		}
		checkReceived(t, "interpreted", got[i], cb, "normalized")
	}
}
