//go:build traefikreal

package traefikreal

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/traefikload"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// forwardDeadline is the forward deadline of the fault suite. A reply must
// come within it plus forwardSlack plus the machine's timer lag at that
// moment (upstreamtest.LagProbe); the slack covers the client -> Traefik
// hop, which the in-process suites do not have.
const (
	forwardDeadline = 300 * time.Millisecond
	forwardSlack    = upstreamtest.ReplySlack
	forwardHeader   = traefikload.ForwardHeader
)

func forwardConfig(format string) map[string]any {
	return traefikload.ForwardConfig(format, forwardDeadline)
}

// forwardRoute is one fault case behind its own router.
type forwardRoute struct {
	platform, format string
	c                upstreamtest.Case
	up               *upstreamtest.Upstream
}

// TestForwardFaults runs the shared upstream matrix (healthy, down, slow
// past the deadline, 500, garbage, empty, reset, invalid replies) through
// real Traefik: every case has its router, imgate middleware and a
// Traefik service pointing at a real loopback upstream (a closed port for
// "down"). Each reply must be exact, carry the right result, come within
// the deadline, and the upstream must have received the enriched callback.
func TestForwardFaults(t *testing.T) {
	forwardFaults(t, false)
}

// forwardFaults runs the matrix through the Yaegi plugin, or through the
// WASM plugin set up as docs/traefik.md tells users to: a buffering
// middleware after it, and the service's serversTransport
// responseHeaderTimeout at the forward deadline, since the WASM plugin
// cannot stop waiting for the service itself. Traefik then answers a slow
// service with 504 at the deadline, which imgate turns into the fallback.
func forwardFaults(t *testing.T, wasm bool) {
	routes := map[string]route{}
	cases := map[string]forwardRoute{}
	var names []string
	for _, platform := range []string{"tencent", "openim"} {
		for _, format := range []string{"normalized", "native"} {
			for _, c := range upstreamtest.Matrix(platform, format, forwardDeadline) {
				name := platform + "-" + format + "-" + c.Name
				up := c.Start()
				t.Cleanup(up.Close)
				cases[name] = forwardRoute{platform, format, c, up}
				r := route{host: name + ".forward.test", middleware: forwardConfig(format), service: up.URL}
				if wasm {
					r.plugin, r.buffered = WasmPluginName, true
					r.transport = map[string]any{"forwardingTimeouts": map[string]any{"responseHeaderTimeout": forwardDeadline.String()}}
				}
				routes[name] = r
				names = append(names, name)
			}
		}
	}
	var tr *Traefik
	if wasm {
		tr = startWasm(t, Options{})
	} else {
		tr = startImgate(t, Options{})
	}
	apply(t, tr, dynamicConfig(routes))
	client := Client()
	for _, name := range names {
		fc := cases[name]
		t.Run(fc.platform+"/"+fc.format+"/"+fc.c.Name, func(t *testing.T) {
			want, wantResult := fc.c.Reply, ""
			if fc.c.Fallback() {
				want, wantResult = upstreamtest.FallbackReply(fc.platform, "deny"), "fallback"
			}
			cb := upstreamtest.BeforeCallback(fc.platform)
			probe := upstreamtest.StartLagProbe(forwardDeadline)
			start := time.Now()
			status, decision, body := send(t, client, cb.Request(tr.URL), routes[name].host, forwardHeader)
			elapsed := time.Since(start)
			result := strings.SplitN(decision, ";", 2)[0]
			if status != http.StatusOK || body != want {
				t.Errorf("reply %d %s, want 200 %s (decision %s)", status, body, want, decision)
			}
			if wantResult != "" && result != wantResult || wantResult == "" && result == "fallback" {
				t.Errorf("result %q (decision %s)", result, decision)
			}
			if ok, allowed := probe.InTime(elapsed, forwardSlack); !ok {
				t.Errorf("reply took %s, deadline %s, allowed %s", elapsed, forwardDeadline, allowed)
			}
			t.Logf("reply after %s (%s)", elapsed.Round(time.Millisecond), decision)
			if fc.c.Fallback() {
				reasons := fc.c.Reasons
				if wasm && fc.c.Name == "slow" {
					// Traefik's 504 may come just before the deadline.
					reasons = append(reasons, "status_504")
				}
				checkFallbackReason(t, tr, name+"@file", reasons, wasm)
			}
			if fc.c.Down {
				return
			}
			got := fc.up.WaitRequests(1, 5*time.Second)
			if len(got) != 1 {
				t.Fatalf("upstream got %d requests, want 1", len(got))
			}
			for _, p := range cb.Check(got[0], fc.format) {
				t.Error(p)
			}
		})
	}
}

// checkFallbackReason finds the ERROR line imgate wrote to Traefik's log
// for the fallback of middleware and checks its reason is one the matrix
// allows: it shows what a real Traefik service makes of each fault (a dead
// or resetting upstream is its 502).
//
// The WASM plugin is not told its middleware's name: its lines say
// middleware="" and Traefik's middlewareName field names it.
func checkFallbackReason(t *testing.T, tr *Traefik, middleware string, reasons []string, wasm bool) {
	t.Helper()
	prefix := "imgate middleware=" + middleware + " result=fallback "
	l, ok := tr.WaitLog(func(l LogLine) bool {
		if wasm {
			return l.Fields["middlewareName"] == middleware && strings.HasPrefix(l.Message, `imgate middleware="" result=fallback `)
		}
		return l.Plugin == "plugin-"+PluginName && strings.HasPrefix(l.Message, prefix)
	}, 10*time.Second)
	if !ok {
		t.Errorf("no fallback line for %s in traefik's log", middleware)
		return
	}
	if l.Level != "error" {
		t.Errorf("fallback logged at %q, want error: %s", l.Level, l.Message)
	}
	for _, r := range reasons {
		if strings.Contains(l.Message, " reason="+r+" ") {
			return
		}
	}
	t.Errorf("fallback reason not one of %v: %s", reasons, l.Message)
}

// TestForwardAfterCallback checks that imgate behind real Traefik
// acknowledges an after-callback without waiting for a slow service, and
// that the service still receives it, delivered in the background through
// Traefik's proxy after the platform got its answer.
func TestForwardAfterCallback(t *testing.T) {
	const delay = 3 * time.Second
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: delay, Body: `{"decision":"allow"}`})
	defer up.Close()
	tr := startImgate(t, Options{})
	apply(t, tr, dynamicConfig(map[string]route{"after": {host: "after.test", middleware: forwardConfig("normalized"), service: up.URL}}))
	client := Client()
	for i, platform := range []string{"tencent", "openim"} {
		cb := upstreamtest.AfterCallback(platform)
		start := time.Now()
		status, decision, body := send(t, client, cb.Request(tr.URL), "after.test", forwardHeader)
		elapsed := time.Since(start)
		if status != http.StatusOK || body != cb.Reply() || !strings.HasPrefix(decision, "ack;") {
			t.Errorf("%s: reply %d %s (%s), want 200 %s ack", platform, status, body, decision, cb.Reply())
		}
		// Far below the service's delay: the acknowledgement did not wait.
		if elapsed >= delay {
			t.Errorf("%s: acknowledgement took %s behind a %s service", platform, elapsed, delay)
		}
		got := up.WaitRequests(i+1, 10*time.Second)
		if len(got) != i+1 {
			t.Fatalf("%s: service got %d requests, want %d", platform, len(got), i+1)
		}
		for _, p := range cb.Check(got[i], "normalized") {
			t.Errorf("%s: %s", platform, p)
		}
		t.Logf("%s: acknowledged after %s", platform, elapsed.Round(time.Millisecond))
	}
}
