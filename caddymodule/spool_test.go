package caddymodule

import (
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// spoolConfig is a server whose imgate route forwards everything and
// delivers after-callbacks durably to svc through dir; generation changes
// an unrelated route, so that each load is a real reload.
func spoolConfig(t *testing.T, svc *upstreamtest.DeliveryService, dir string, generation int) string {
	h := &Handler{Config: core.Config{
		Platform:      "tencent",
		DefaultAction: core.ActionForward,
		Delivery:      core.DeliveryConfig{URL: svc.URL + "/after", Spool: dir, RetryMin: "20ms", RetryMax: "100ms"},
	}}
	return serverConfig([]any{
		route("other.test", map[string]any{"handler": "static_response", "body": "generation " + strconv.Itoa(generation)}),
		route("", imgateJSON(t, h), map[string]any{"handler": "static_response", "status_code": 502}),
	}, false)
}

func postAfter(t *testing.T, client *http.Client, member string) (int, string) {
	t.Helper()
	body := `{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"g","Operator_Account":"` + member + `","NewMemberList":[{"Member_Account":"` + member + `"}]}`
	resp, err := client.Post(httpBase+"/im?CallbackCommand=Group.CallbackAfterNewMemberJoin&SdkAppid=1400000001", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, readAll(t, resp)
}

// waitUntil polls cond for a minute: deliveries run in the background.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSpoolCaddy: through a real Caddy, after-callbacks acknowledged while
// the business service is down are each delivered once when it is back;
// 20 reloads keep one delivery worker (no worker per config load), and the
// spool shows in the metrics.
func TestSpoolCaddy(t *testing.T) {
	tester := newTester(t)
	svc := upstreamtest.StartDeliveryService()
	defer svc.Close()
	svc.SetDown(true)
	dir := t.TempDir()
	tester.InitServer(spoolConfig(t, svc, dir, 0), "json")
	for i := 0; i < 10; i++ {
		status, body := postAfter(t, tester.Client, "u"+strconv.Itoa(i))
		if status != http.StatusOK || body != allowReply {
			t.Fatalf("after-callback %d: %d %s", i, status, body)
		}
	}
	waitUntil(t, "failed attempts while the service is down", func() bool { return svc.Attempts() >= 10 })
	if got := scrapeMetrics(t)["caddy_imgate_spool_depth"]; got < 1 {
		t.Errorf("caddy_imgate_spool_depth %v while 10 wait", got)
	}

	settle()
	goroutines := runtime.NumGoroutine()
	for g := 1; g <= 20; g++ {
		loadConfig(t, spoolConfig(t, svc, dir, g))
	}
	tester.Client.CloseIdleConnections()
	settleUntil(func() bool { return runtime.NumGoroutine() <= goroutines+10 })
	if n := runtime.NumGoroutine(); n > goroutines+10 {
		t.Errorf("goroutines grew from %d to %d over 20 reloads", goroutines, n)
	}
	if st := core.Spools(); st.Depth != 10 {
		t.Errorf("spool depth %d after the reloads, want the 10 waiting", st.Depth)
	}

	svc.SetDown(false)
	waitUntil(t, "10 deliveries", func() bool { return len(svc.Accepted()) == 10 })
	for id, n := range svc.Accepted() {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
	waitUntil(t, "an empty spool", func() bool { return core.Spools().Depth == 0 })
	if got := scrapeMetrics(t)[`caddy_imgate_spool_events_total{event="delivered",platform="tencent"}`]; got < 10 {
		t.Errorf("delivered events %v, want at least 10", got)
	}
}
