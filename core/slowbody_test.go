package core_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// TestSlowBodyTimesOut proves that a body dripping in slower than
// readTimeout gets HTTP 408 from a net/http server running Engine.Serve,
// and that the server answers the next callback normally.
func TestSlowBodyTimesOut(t *testing.T) {
	e, err := core.New(core.Config{ReadTimeout: "300ms"})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := make(chan *core.Outcome, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outcomes <- e.Serve(w, r, "", nil)
	}))
	defer srv.Close()
	path := "/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup"
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"slow-loris-user-with-a-long-id"}`
	status, took, err := upstreamtest.SlowDrip(strings.TrimPrefix(srv.URL, "http://"), "x", path, body, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("no answer to the slow body: %v", err)
	}
	if status != "HTTP/1.1 408 Request Timeout" {
		t.Fatalf("slow body answered %q after %s, want 408", status, took)
	}
	if took < 300*time.Millisecond {
		t.Errorf("408 after %s, before the 300ms read timeout", took)
	}
	if last := <-outcomes; last.Result != core.ResultTooSlow || last.Reason != "read_timeout" {
		t.Errorf("outcome %+v", last)
	}
	resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the next callback got HTTP %d", resp.StatusCode)
	}
}
