package core_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// newDeliveryService starts a real loopback business service that
// accepts each delivery id once.
func newDeliveryService(t *testing.T) *upstreamtest.DeliveryService {
	svc := upstreamtest.StartDeliveryService()
	t.Cleanup(func() { svc.Close() })
	return svc
}

// spoolEngine builds an engine forwarding every callback, with durable
// delivery of after-callbacks to svc through dir.
func spoolEngine(t *testing.T, svc *upstreamtest.DeliveryService, dir string, tune func(*core.DeliveryConfig)) *core.Engine {
	t.Helper()
	d := core.DeliveryConfig{URL: svc.URL + "/after", Spool: dir, RetryMin: "20ms", RetryMax: "100ms", Timeout: "5s"}
	if tune != nil {
		tune(&d)
	}
	e, err := core.New(core.Config{Platform: "tencent", DefaultAction: "forward", Delivery: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// sendAfter sends a Tencent member-joined after-callback and returns the
// reply and outcome.
func sendAfter(t *testing.T, e *core.Engine, group, member string, requestTime int) (*httptest.ResponseRecorder, *core.Outcome) {
	t.Helper()
	body := `{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"` + group + `","Operator_Account":"` + member + `","NewMemberList":[{"Member_Account":"` + member + `"}]}`
	url := "/im?CallbackCommand=Group.CallbackAfterNewMemberJoin&SdkAppid=1400000001&RequestTime=" + strconv.Itoa(requestTime)
	rec := httptest.NewRecorder()
	out := e.Serve(rec, httptest.NewRequest(http.MethodPost, url, strings.NewReader(body)), "", nil)
	return rec, out
}

// eventually polls cond: deliveries run in the background, and a busy
// machine delays them without it being a fault.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const tencentAck = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`

// TestSpoolSurvivesOutage: callbacks acknowledged while the service is
// down are all delivered, each exactly once, when it comes back.
func TestSpoolSurvivesOutage(t *testing.T) {
	svc := newDeliveryService(t)
	svc.SetDown(true)
	e := spoolEngine(t, svc, t.TempDir(), nil)
	for i := 0; i < 10; i++ {
		rec, out := sendAfter(t, e, "g"+strconv.Itoa(i%3), "u"+strconv.Itoa(i), i)
		if rec.Code != http.StatusOK || rec.Body.String() != tencentAck || out.DeliveryID == "" {
			t.Fatalf("callback %d: %d %s (result %s, reason %s)", i, rec.Code, rec.Body.String(), out.Result, out.Reason)
		}
	}
	eventually(t, "failed attempts while down", func() bool { return svc.Attempts() >= 10 })
	svc.SetDown(false)
	eventually(t, "10 deliveries", func() bool { return len(svc.Accepted()) == 10 })
	for id, n := range svc.Accepted() {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
	for id, attempts := range svc.AttemptHeaders() {
		for i, a := range attempts {
			if a != strconv.Itoa(i+1) {
				t.Errorf("delivery %s: attempt header %q on attempt %d", id, a, i+1)
			}
		}
	}
}

// TestSpoolKeepsGroupOrder: one group's callbacks arrive in the order the
// platform sent them, even when earlier ones had to be retried.
func TestSpoolKeepsGroupOrder(t *testing.T) {
	svc := newDeliveryService(t)
	svc.SetDown(true)
	e := spoolEngine(t, svc, t.TempDir(), func(d *core.DeliveryConfig) { d.Concurrency = 8 })
	var want []string
	for i := 0; i < 20; i++ {
		member := "u" + strconv.Itoa(i)
		sendAfter(t, e, "g1", member, i)
		want = append(want, "g1/"+member)
	}
	svc.SetDown(false)
	eventually(t, "20 deliveries", func() bool { return len(svc.Accepted()) == 20 })
	got := strings.Join(svc.Order(), ",")
	if got != strings.Join(want, ",") {
		t.Errorf("order %s\nwant  %s", got, strings.Join(want, ","))
	}
}

// TestSpoolSurvivesRestart: entries left when the gateway stops are
// delivered by the next one that opens the spool.
func TestSpoolSurvivesRestart(t *testing.T) {
	svc := newDeliveryService(t)
	svc.SetDown(true)
	dir := t.TempDir()
	first, err := core.New(core.Config{Platform: "tencent", DefaultAction: "forward",
		Delivery: core.DeliveryConfig{URL: svc.URL, Spool: dir, RetryMin: "20ms", RetryMax: "100ms"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		sendAfter(t, first, "g", "u"+strconv.Itoa(i), i)
	}
	first.Close() // the gateway stops
	if files, _ := os.ReadDir(filepath.Join(dir, "pending")); len(files) != 5 {
		t.Fatalf("%d files pending after the stop, want 5", len(files))
	}
	svc.SetDown(false)
	spoolEngine(t, svc, dir, nil) // the gateway starts again
	eventually(t, "5 deliveries after the restart", func() bool { return len(svc.Accepted()) == 5 })
	eventually(t, "an empty pending folder", func() bool {
		files, _ := os.ReadDir(filepath.Join(dir, "pending"))
		return len(files) == 0
	})
}

// TestSpoolFull: at its limit the spool refuses with HTTP 503, so the
// platform's own retry applies, and says why.
func TestSpoolFull(t *testing.T) {
	svc := newDeliveryService(t)
	svc.SetDown(true)
	e := spoolEngine(t, svc, t.TempDir(), func(d *core.DeliveryConfig) { d.MaxEntries = 3 })
	for i := 0; i < 3; i++ {
		if rec, _ := sendAfter(t, e, "g", "u"+strconv.Itoa(i), i); rec.Code != http.StatusOK {
			t.Fatalf("callback %d: HTTP %d", i, rec.Code)
		}
	}
	rec, out := sendAfter(t, e, "g", "u9", 9)
	if rec.Code != http.StatusServiceUnavailable || out.Result != core.ResultUnavailable || out.Reason != "spool_full" {
		t.Fatalf("fourth callback: HTTP %d %s (result %s, reason %s)", rec.Code, rec.Body.String(), out.Result, out.Reason)
	}
	if !strings.Contains(rec.Body.String(), "spool full") {
		t.Errorf("reply %q does not say the spool is full", rec.Body.String())
	}
	if st := core.Spools(); st.Rejected < 1 {
		t.Errorf("rejections not counted: %+v", st)
	}
}

// TestSpoolDeduplicatesPlatformRetries: the same callback sent again (a
// platform retry: new RequestTime, same body) is delivered once.
func TestSpoolDeduplicatesPlatformRetries(t *testing.T) {
	svc := newDeliveryService(t)
	e := spoolEngine(t, svc, t.TempDir(), nil)
	_, first := sendAfter(t, e, "g", "u1", 1)
	rec, again := sendAfter(t, e, "g", "u1", 2)
	if rec.Code != http.StatusOK || again.DeliveryID != first.DeliveryID || again.Reason != "duplicate" {
		t.Fatalf("retry: HTTP %d, id %s (first %s), reason %q", rec.Code, again.DeliveryID, first.DeliveryID, again.Reason)
	}
	sendAfter(t, e, "g", "u2", 3)
	eventually(t, "2 deliveries", func() bool { return len(svc.Accepted()) == 2 })
	if n := svc.Accepted()[first.DeliveryID]; n != 1 {
		t.Errorf("the retried callback was delivered %d times", n)
	}
}

// TestSpoolDeadLetter: an entry the service never accepts moves to the
// dead-letter folder after maxAge, and the event says so.
func TestSpoolDeadLetter(t *testing.T) {
	svc := newDeliveryService(t)
	svc.SetFailing(true)
	dir := t.TempDir()
	e := spoolEngine(t, svc, dir, func(d *core.DeliveryConfig) { d.MaxAge = "200ms" })
	var mu sync.Mutex
	var dead []core.SpoolEvent
	e.OnSpoolEvent(func(ev core.SpoolEvent) {
		if ev.Kind == "dead" {
			mu.Lock()
			dead = append(dead, ev)
			mu.Unlock()
		}
	})
	sendAfter(t, e, "g", "u1", 1)
	eventually(t, "a dead-lettered entry", func() bool {
		files, _ := os.ReadDir(filepath.Join(dir, "dead"))
		return len(files) == 1
	})
	eventually(t, "the dead event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dead) == 1
	})
	mu.Lock()
	defer mu.Unlock()
	if dead[0].Reason != "status_500" || dead[0].Attempt < 1 || dead[0].Age < 200*time.Millisecond {
		t.Errorf("dead event %+v", dead[0])
	}
}

// TestSpoolRecoversFromCrashLeftovers: a file half-written when the
// process died (still in tmp) is dropped, and an unreadable one in pending
// is set aside in dead; the rest is delivered.
func TestSpoolRecoversFromCrashLeftovers(t *testing.T) {
	svc := newDeliveryService(t)
	svc.SetDown(true)
	dir := t.TempDir()
	first := spoolEngine(t, svc, dir, nil)
	sendAfter(t, first, "g", "u1", 1)
	first.Close()
	if err := os.WriteFile(filepath.Join(dir, "tmp", "0000000000000000001-000001.json"), []byte(`{"v":1,"id":"half`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pending", "0000000000000000002-000001.json"), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc.SetDown(false)
	spoolEngine(t, svc, dir, nil)
	eventually(t, "the good entry delivered", func() bool { return len(svc.Accepted()) == 1 })
	if files, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(files) != 0 {
		t.Errorf("tmp still holds %d files", len(files))
	}
	if files, _ := os.ReadDir(filepath.Join(dir, "dead")); len(files) != 1 {
		t.Errorf("dead holds %d files, want the unreadable one", len(files))
	}
}

func TestDeliveryConfigErrors(t *testing.T) {
	cases := []struct {
		d    core.DeliveryConfig
		want string
	}{
		{core.DeliveryConfig{URL: "http://127.0.0.1:1"}, "delivery: url and spool go together"},
		{core.DeliveryConfig{Spool: "/tmp/x"}, "delivery: url and spool go together"},
		{core.DeliveryConfig{MaxAge: "1h"}, "url and spool are not set"},
		{core.DeliveryConfig{URL: "ftp://x", Spool: "/tmp/x"}, "delivery.url: \"ftp://x\" is not an http or https URL"},
		{core.DeliveryConfig{URL: "http://x", Spool: "/tmp/x", RetryMin: "2s", RetryMax: "1s"}, "delivery.retryMax"},
		{core.DeliveryConfig{URL: "http://x", Spool: "/tmp/x", MaxAge: "soon"}, "delivery.maxAge"},
	}
	for _, tc := range cases {
		_, err := core.New(core.Config{Delivery: tc.d})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.d, err, tc.want)
		}
	}
}
