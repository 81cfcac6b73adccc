//go:build traefikreal

package traefikreal

import (
	"net/http"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/upstreamtest"
)

// TestWasmForwardFaults runs the upstream fault matrix through the WASM
// plugin set up as documented (see forwardFaults): every reply exact and
// in time, the service got the enriched callback.
func TestWasmForwardFaults(t *testing.T) {
	forwardFaults(t, true)
}

// TestWasmForwardBodyLength shows the limit docs/traefik.md documents:
// the http-wasm ABI replaces a request's body but not its length, and
// Traefik's proxy sends the length the callback came with. Without a
// buffering middleware after the WASM plugin (which measures the body
// again) Go's transport writes the callback's length of the event and then
// fails the request for the bytes left over: the service gets a cut event,
// and the platform gets the fallback (Traefik's 502) or, when the service
// answered first, the service's answer to a cut event. With buffering the
// service gets the whole event. The native format forwards the callback's
// own body and needs no buffering.
func TestWasmForwardBodyLength(t *testing.T) {
	healthy := upstreamtest.Matrix("openim", "normalized", forwardDeadline)[0]
	nativeCase := upstreamtest.Matrix("openim", "native", forwardDeadline)[1] // deny
	ups := map[string]*upstreamtest.Upstream{}
	for _, name := range []string{"unbuffered", "buffered"} {
		ups[name] = upstreamtest.Start(healthy.Behavior)
		defer ups[name].Close()
	}
	ups["native"] = upstreamtest.Start(nativeCase.Behavior)
	defer ups["native"].Close()
	tr := startWasm(t, Options{})
	apply(t, tr, dynamicConfig(map[string]route{
		"unbuffered": {host: "unbuffered.test", middleware: forwardConfig("normalized"), service: ups["unbuffered"].URL, plugin: WasmPluginName},
		"buffered":   {host: "buffered.test", middleware: forwardConfig("normalized"), service: ups["buffered"].URL, plugin: WasmPluginName, buffered: true},
		"native":     {host: "native.test", middleware: forwardConfig("native"), service: ups["native"].URL, plugin: WasmPluginName},
	}))
	client := Client()
	cb := upstreamtest.BeforeCallback("openim")
	for _, c := range []struct {
		name, format, decision, body string
		whole                        bool
	}{
		{"unbuffered", "normalized", "allow; rule=upstream", healthy.Reply, false},
		{"buffered", "normalized", "allow; rule=upstream", healthy.Reply, true},
		{"native", "native", "deny; rule=upstream", nativeCase.Reply, true},
	} {
		req := cb.Request(tr.URL)
		callbackLength := req.ContentLength
		status, decision, body := send(t, client, req, c.name+".test", forwardHeader)
		cutFallback := !c.whole && decision == "fallback; rule=default" && body == upstreamtest.FallbackReply("openim", "deny")
		if status != http.StatusOK || (decision != c.decision || body != c.body) && !cutFallback {
			t.Errorf("%s: %s, want 200 %q %s", c.name, reply(status, decision, body), c.decision, c.body)
		}
		got := ups[c.name].WaitRequests(1, 5*time.Second)
		if len(got) != 1 {
			t.Fatalf("%s: service got %d requests", c.name, len(got))
		}
		t.Logf("%s: %s; the service got %d bytes (callback %d)", c.name, decision, len(got[0].Body), callbackLength)
		problems := cb.Check(got[0], c.format)
		if c.whole && len(problems) > 0 {
			t.Errorf("%s: %v", c.name, problems)
		}
		if !c.whole && (len(problems) == 0 || int64(len(got[0].Body)) != callbackLength) {
			t.Errorf("%s: the service got %d bytes (callback %d): %s; the limit is gone? check docs/traefik.md", c.name, len(got[0].Body), callbackLength, got[0].Body)
		}
	}
}

// TestWasmSlowServiceWithoutTimeout shows the other documented limit: the
// WASM plugin cannot stop waiting for the service at the deadline (the
// host calls next synchronously), so without a responseHeaderTimeout the
// platform's reply waits for a slow service. It is still the fallback
// (the answer came after the deadline), logged with reason timeout.
func TestWasmSlowServiceWithoutTimeout(t *testing.T) {
	const delay = 2 * time.Second
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: delay, Body: `{"decision":"allow"}`})
	defer up.Close()
	tr := startWasm(t, Options{})
	apply(t, tr, dynamicConfig(map[string]route{"slow": {host: "slow.test", middleware: forwardConfig("normalized"), service: up.URL, plugin: WasmPluginName, buffered: true}}))
	cb := upstreamtest.BeforeCallback("tencent")
	start := time.Now()
	status, decision, body := send(t, Client(), cb.Request(tr.URL), "slow.test", forwardHeader)
	elapsed := time.Since(start)
	if status != http.StatusOK || decision != "fallback; rule=default" || body != upstreamtest.FallbackReply("tencent", "deny") {
		t.Errorf("reply %s, want the deny fallback", reply(status, decision, body))
	}
	if elapsed < delay {
		t.Errorf("reply after %s, before the %s service answered: the wait was bounded after all", elapsed, delay)
	}
	checkFallbackReason(t, tr, "slow@file", []string{"timeout"}, true)
	t.Logf("reply after %s behind a %s service, deadline %s", elapsed.Round(time.Millisecond), delay, forwardDeadline)
}

// TestWasmAfterCallback checks the WASM plugin's after-callbacks: it
// delivers them to the service before acknowledging (it has no background
// work), so the platform's acknowledgement waits for the service; the
// reply is the same acknowledgement the other runtimes give, and the
// service got the enriched callback.
func TestWasmAfterCallback(t *testing.T) {
	const delay = 500 * time.Millisecond
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: delay, Body: `{"decision":"allow"}`})
	defer up.Close()
	tr := startWasm(t, Options{})
	apply(t, tr, dynamicConfig(map[string]route{"after": {host: "after.test", middleware: forwardConfig("normalized"), service: up.URL, plugin: WasmPluginName, buffered: true}}))
	client := Client()
	for i, platform := range []string{"tencent", "openim"} {
		cb := upstreamtest.AfterCallback(platform)
		start := time.Now()
		status, decision, body := send(t, client, cb.Request(tr.URL), "after.test", forwardHeader)
		elapsed := time.Since(start)
		if status != http.StatusOK || body != cb.Reply() || decision != "ack; rule=default" {
			t.Errorf("%s: reply %s, want 200 ack; rule=default %s", platform, reply(status, decision, body), cb.Reply())
		}
		if elapsed < delay {
			t.Errorf("%s: acknowledged after %s, before the %s service answered", platform, elapsed, delay)
		}
		got := up.WaitRequests(i+1, 10*time.Second)
		if len(got) != i+1 {
			t.Fatalf("%s: service got %d requests, want %d", platform, len(got), i+1)
		}
		for _, p := range cb.Check(got[i], "normalized") {
			t.Errorf("%s: %s", platform, p)
		}
	}
}

// TestWasmReloadWhileServing rewrites the dynamic configuration of a WASM
// middleware while clients keep sending callbacks: every generation is
// live once Traefik serves it and no request fails.
func TestWasmReloadWhileServing(t *testing.T) {
	tr := startWasm(t, Options{})
	service := downURL(t)
	wasmRoutes := func(gen int) map[string]any {
		routes := reloadRoutes(gen, service)
		for name, r := range routes {
			r.plugin = WasmPluginName
			routes[name] = r
		}
		return dynamicConfig(routes)
	}
	apply(t, tr, wasmRoutes(1))
	tf := startTraffic(t, 2, func() *http.Request { return openIMJoin(tr.URL, "mallory") }, "reload.test",
		func(status int, decision, body string) bool { return generationOf(status, decision, body) > 0 })
	client := Client()
	const generations = 5
	for gen := 2; gen <= generations; gen++ {
		time.Sleep(100 * time.Millisecond)
		apply(t, tr, wasmRoutes(gen))
		status, decision, body := send(t, client, openIMJoin(tr.URL, "mallory"), "reload.test", "X-Imgate-Decision")
		if got := generationOf(status, decision, body); got != gen {
			t.Errorf("right after generation %d was live: %s", gen, reply(status, decision, body))
		}
	}
	sent, invalid := tf.end()
	t.Logf("%d callbacks answered across %d reloads", sent, generations-1)
	if len(invalid) > 0 {
		t.Errorf("%d of %d requests failed during reloads, first: %s", len(invalid), sent, invalid[0])
	}
	if sent == 0 {
		t.Error("no traffic during the reloads")
	}
	if err := tr.Problems(); err != nil {
		t.Error(err)
	}
}
