package caddymodule

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

// TestMetrics sends one callback of each kind through Caddy and checks the
// counters scraped from the admin /metrics endpoint.
func TestMetrics(t *testing.T) {
	tester := newTester(t)
	h := &Handler{Config: core.Config{
		Tencent: core.TencentConfig{AppID: "1400000001"},
		Rules: []core.RuleConfig{
			{Name: "m-shadow", Events: []string{"group.join.apply"}, Actors: []string{"alice"}, Action: "deny", Shadow: true},
			{Name: "m-ban", Actors: []string{"mallory"}, Action: "deny"},
			{Name: "m-forward", Actors: []string{"forwarded"}, Action: "forward"},
		},
	}}
	down := closedPort(t)
	tester.InitServer(serverConfig([]any{route("", imgateJSON(t, h), map[string]any{
		"handler": "reverse_proxy", "upstreams": []any{map[string]any{"dial": "127.0.0.1:" + strconv.Itoa(down)}},
	})}, false), "json")

	before := scrapeMetrics(t)
	join := func(query, actor string) {
		body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g1","Requestor_Account":"` + actor + `"}`
		resp, err := tester.Client.Post(httpBase+"/im?SdkAppid="+query+"&CallbackCommand=Group.CallbackBeforeApplyJoinGroup", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	join("1400000001", "alice")     // allowed, shadow hit
	join("1400000001", "mallory")   // denied
	join("1400000001", "forwarded") // upstream down: fallback
	join("1400000002", "bob")       // wrong app id
	resp, err := tester.Client.Post(httpBase+"/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeTeleport", "application/json",
		strings.NewReader(`{"CallbackCommand":"Group.CallbackBeforeTeleport"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("unknown command: HTTP %d", resp.StatusCode)
	}

	got := delta(before, scrapeMetrics(t))
	want := map[string]float64{
		`caddy_imgate_decisions_total{event="group.join.apply",platform="tencent",result="allow",rule="default"}`:      1,
		`caddy_imgate_decisions_total{event="group.join.apply",platform="tencent",result="deny",rule="m-ban"}`:         1,
		`caddy_imgate_decisions_total{event="group.join.apply",platform="tencent",result="fallback",rule="m-forward"}`: 1,
		`caddy_imgate_decisions_total{event="group.join.apply",platform="tencent",result="forbidden",rule=""}`:         1,
		`caddy_imgate_decisions_total{event="unknown",platform="tencent",result="unknown",rule="default"}`:             1,
		`caddy_imgate_shadow_hits_total{action="deny",rule="m-shadow"}`:                                                1,
		`caddy_imgate_upstream_fallbacks_total{platform="tencent",reason="unreachable"}`:                               1,
		`caddy_imgate_verification_failures_total{platform="tencent",reason="appid"}`:                                  1,
		`caddy_imgate_unknown_commands_total{command="Group.CallbackBeforeTeleport",platform="tencent"}`:               1,
		`caddy_imgate_decision_duration_seconds_count{platform="tencent",result="allow"}`:                              1,
	}
	for series, n := range want {
		if got[series] != n {
			t.Errorf("%s grew by %v, want %v", series, got[series], n)
		}
	}
	if t.Failed() {
		t.Logf("all changes: %v", got)
	}
}
