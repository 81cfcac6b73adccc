package caddymodule

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// forwardDeadline keeps the Caddy fault suite fast; every reply must come
// within it plus forwardSlack (plus the machine's timer lag at that moment,
// see upstreamtest.LagProbe), measured at the client.
const (
	forwardDeadline = 250 * time.Millisecond
	forwardSlack    = upstreamtest.ReplySlack
)

// forwardCase is one route of the fault suite: a platform, a format and an
// upstream, reached through its own host name.
type forwardCase struct {
	host     string
	platform string
	format   string
	c        upstreamtest.Case
	up       *upstreamtest.Upstream
}

// forwardHandler forwards everything with fallback deny, so a fallback
// reply differs from the healthy "allow".
func forwardHandler(t testing.TB, format string) map[string]any {
	return imgateJSON(t, &Handler{Config: core.Config{
		DefaultAction: core.ActionForward,
		Forward: core.ForwardConfig{
			Format:          format,
			TencentDeadline: forwardDeadline.String(),
			OpenIMDeadline:  forwardDeadline.String(),
			Fallback:        core.ActionDeny,
		},
	}})
}

func reverseProxyTo(up *upstreamtest.Upstream) map[string]any {
	return map[string]any{
		"handler":   "reverse_proxy",
		"upstreams": []any{map[string]any{"dial": up.Host()}},
	}
}

// TestForwardFaults runs the shared upstream matrix (healthy, down, slow,
// 500, garbage, empty, reset, out-of-range codes) through a real Caddy:
// imgate followed by reverse_proxy to a loopback upstream, one route per
// case. Each reply must be exact and arrive within the deadline + 50 ms.
func TestForwardFaults(t *testing.T) {
	tester := newTester(t)
	var cases []*forwardCase
	var routes []any
	for _, platform := range []string{core.PlatformTencent, core.PlatformOpenIM} {
		for _, format := range []string{core.FormatNormalized, core.FormatNative} {
			for _, c := range upstreamtest.Matrix(platform, format, forwardDeadline) {
				fc := &forwardCase{
					host:     "case" + strconv.Itoa(len(cases)) + ".imgate.test",
					platform: platform, format: format, c: c, up: c.Start(),
				}
				defer fc.up.Close()
				cases = append(cases, fc)
				routes = append(routes, route(fc.host, forwardHandler(t, format), reverseProxyTo(fc.up)))
			}
		}
	}
	tester.InitServer(serverConfig(routes, false), "json")

	// One after the other: concurrent connection set-up on a small shared
	// machine would be measured as gateway latency.
	for _, fc := range cases {
		name := fc.platform + "/" + fc.format + "/" + fc.c.Name
		problems, took := runForwardCase(fc)
		if problems != "" {
			t.Errorf("%s: %s", name, problems)
		}
		t.Logf("%s: reply after %s", name, took.Round(time.Millisecond))
	}
}

// runForwardCase sends the before-callback and returns what went wrong, or
// "", and how long the reply took.
func runForwardCase(fc *forwardCase) (string, time.Duration) {
	cb := upstreamtest.BeforeCallback(fc.platform)
	req := cb.Request(httpBase)
	req.Host = fc.host
	client := &http.Client{Timeout: 5 * time.Second}
	probe := upstreamtest.StartLagProbe(forwardDeadline)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err.Error(), time.Since(start)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil {
		return err.Error(), elapsed
	}
	var problems []string
	want := fc.c.Reply
	if fc.c.Fallback() {
		want = upstreamtest.FallbackReply(fc.platform, core.ActionDeny)
	}
	if resp.StatusCode != http.StatusOK || string(body) != want {
		problems = append(problems, "reply "+strconv.Itoa(resp.StatusCode)+" "+string(body)+", want 200 "+want)
	}
	if ok, allowed := probe.InTime(elapsed, forwardSlack); !ok {
		problems = append(problems, "reply took "+elapsed.String()+", allowed "+allowed.String())
	}
	if !fc.c.Down {
		got := fc.up.Requests()
		if len(got) != 1 {
			problems = append(problems, "upstream got "+strconv.Itoa(len(got))+" requests, want 1")
		} else {
			problems = append(problems, forwardedProblems(got[0], cb, fc.format)...)
		}
	}
	return strings.Join(problems, "; "), elapsed
}

// forwardedProblems checks what the upstream received through Caddy.
func forwardedProblems(got upstreamtest.Received, cb upstreamtest.Callback, format string) []string {
	var problems []string
	want := map[string]string{
		core.HeaderPlatform: cb.Platform, core.HeaderEvent: cb.Event, core.HeaderCommand: cb.Command,
		core.HeaderGroup: cb.Group, core.HeaderActor: cb.Actor, core.HeaderRule: "default",
	}
	for name, v := range want {
		if got.Header.Get(name) != v {
			problems = append(problems, name+": "+got.Header.Get(name)+", want "+v)
		}
	}
	if got.Header.Get(core.HeaderDeadline) == "" || got.Header.Get(core.HeaderRequestID) == "" {
		problems = append(problems, "no deadline or request id header")
	}
	if format == core.FormatNative {
		if string(got.Body) != cb.Body || !strings.HasSuffix(cb.Target, got.Path+queryPart(got.RawQuery)) {
			problems = append(problems, "native request changed: "+got.Path+"?"+got.RawQuery+" "+string(got.Body))
		}
	} else if !strings.Contains(string(got.Body), `"event":"`+cb.Event+`"`) || !strings.Contains(string(got.Body), `"raw":{`) {
		problems = append(problems, "normalized body "+string(got.Body))
	}
	return problems
}

func queryPart(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// TestForwardAfterCallbackCaddy checks that Caddy acknowledges an
// after-callback at once while a slow upstream still receives it, after
// Caddy finished the request.
func TestForwardAfterCallbackCaddy(t *testing.T) {
	tester := newTester(t)
	up := upstreamtest.Start(upstreamtest.Behavior{Delay: 3 * time.Second, Body: `{"decision":"allow"}`})
	defer up.Close()
	tester.InitServer(serverConfig([]any{route("", forwardHandler(t, core.FormatNormalized), reverseProxyTo(up))}, true), "json")
	for _, platform := range []string{core.PlatformTencent, core.PlatformOpenIM} {
		cb := upstreamtest.AfterCallback(platform)
		before := len(up.Requests())
		start := time.Now()
		resp, err := http.DefaultClient.Do(cb.Request(httpBase))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		if string(body) != cb.Reply() {
			t.Errorf("%s: reply %s, want %s", platform, body, cb.Reply())
		}
		// The upstream takes three seconds: an acknowledgement that
		// waited for it would take longer than this.
		if elapsed > upstreamtest.ReplySlack {
			t.Errorf("%s: acknowledgement took %s behind a 3 s upstream", platform, elapsed)
		}
		got := up.WaitRequests(before+1, time.Second)
		if len(got) != before+1 {
			t.Fatalf("%s: upstream got %d requests, want %d", platform, len(got), before+1)
		}
		if problems := forwardedProblems(got[before], cb, core.FormatNormalized); len(problems) > 0 {
			t.Errorf("%s: %s", platform, strings.Join(problems, "; "))
		}
	}
}
