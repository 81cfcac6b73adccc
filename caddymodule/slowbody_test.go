package caddymodule

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// TestSlowBodyCaddy proves that inside a real Caddy a body dripping in
// slower than readTimeout gets HTTP 408 (imgate sets the read deadline
// through Caddy's response writer), and the next callback is answered.
func TestSlowBodyCaddy(t *testing.T) {
	tester := newTester(t)
	h := &Handler{Config: core.Config{Platform: "tencent", ReadTimeout: "300ms"}}
	tester.InitServer(serverConfig([]any{route("", imgateJSON(t, h))}, false), "json")
	path := "/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup"
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"slow-loris-user-with-a-long-id"}`
	status, took, err := upstreamtest.SlowDrip(strings.TrimPrefix(httpBase, "http://"), "slow.test", path, body, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	if status != "HTTP/1.1 408 Request Timeout" || took < 300*time.Millisecond {
		t.Fatalf("slow body: %q after %s, want 408 after the 300ms read timeout", status, took)
	}
	resp, err := tester.Client.Post(httpBase+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, resp); resp.StatusCode != http.StatusOK || got != allowReply {
		t.Errorf("the next callback: %d %s", resp.StatusCode, got)
	}
}
