//go:build traefikreal

package traefikreal

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/upstreamtest"
)

// TestSlowBody proves what bounds a slow body in the real Traefik: the
// entry point's readTimeout, which docs/security.md tells operators to set
// for the callback entry point (Traefik's response writer does not let the
// plugin set a read deadline itself, so imgate's readTimeout cannot act
// here). A body dripping in past it gets HTTP 408 from imgate, whose read
// ends with the deadline, and the next callback is answered normally.
func TestSlowBody(t *testing.T) {
	tr := startImgate(t, Options{ReadTimeout: "1s"})
	apply(t, tr, dynamicConfig(map[string]route{
		"slow": {host: "slow.test", middleware: map[string]any{"platform": "tencent", "readTimeout": "300ms"}, service: downURL(t)},
	}))
	path := "/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup"
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"slow-loris-user-with-a-long-id"}`
	status, took, err := upstreamtest.SlowDrip(strings.TrimPrefix(tr.URL, "http://"), "slow.test", path, body, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	if status != "HTTP/1.1 408 Request Timeout" || took < time.Second {
		t.Fatalf("slow body: %q after %s, want 408 after the entry point's 1s read timeout", status, took)
	}
	req, err := http.NewRequest(http.MethodPost, tr.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	code, _, got := send(t, Client(), req, "slow.test", "")
	if code != http.StatusOK || got != `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}` {
		t.Errorf("the next callback: %d %s", code, got)
	}
}
