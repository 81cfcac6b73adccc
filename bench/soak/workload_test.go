package soak

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// serve sends raw (a whole HTTP/1.1 request, as the soak sends it)
// through engine e in process, next being the route's next handler.
func serve(t *testing.T, e *core.Engine, raw []byte, next core.NextFunc) *httptest.ResponseRecorder {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("the soak's request does not parse: %v\n%s", err, raw)
	}
	r.RemoteAddr = "127.0.0.1:40000"
	w := httptest.NewRecorder()
	e.Serve(w, r, "", next)
	return w
}

// TestSoakCallsAgainstCore: with the soak's configuration, core gives
// every call exactly the reply the soak expects, and each probe the
// answer of the list version on disk and of the configuration's epoch.
func TestSoakCallsAgainstCore(t *testing.T) {
	list := filepath.Join(t.TempDir(), "probe.txt")
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	for _, version := range []int{0, 5, 10, 15} {
		if err := os.WriteFile(list, ListContent(version), 0o644); err != nil {
			t.Fatal(err)
		}
		e, err := core.New(SoakConfig(list, version+1, time.Second, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range SoakCalls() {
			w := serve(t, e, c.Raw("soak.test", requestTime), nil)
			decision := w.Header().Get(DecisionHeader)
			if c.Probe < 0 {
				if !c.Check(w.Code, decision, w.Body.Bytes()) {
					t.Errorf("version %d, %s: %d %q %s, want one of %v", version, c.Name, w.Code, decision, w.Body, c.Want)
				}
				continue
			}
			listed, epoch, ok := c.CheckProbe(w.Code, decision, w.Body.Bytes())
			if !ok || listed != Listed(version, c.Probe) || (listed && epoch != version+1) {
				t.Errorf("version %d, %s: %d %q %s read as listed=%v epoch=%d ok=%v", version, c.Name, w.Code, decision, w.Body, listed, epoch, ok)
			}
		}
		e.Close()
	}
	names := map[string]bool{}
	for _, c := range SoakCalls() {
		if names[c.Name] {
			t.Errorf("two calls named %s", c.Name)
		}
		names[c.Name] = true
	}
}

func TestCheckProbeRefusesOthers(t *testing.T) {
	c := SoakCalls()[len(SoakCalls())-1]
	for _, r := range []struct {
		status         int
		decision, body string
	}{
		{502, "allow; rule=default", OpenIMAllow},
		{200, "allow; rule=banned-openim", OpenIMAllow},
		{200, "deny; rule=probe-openim", OpenIMDeny(5000, "epoch 3")},
		{200, "deny; rule=probe-openim", OpenIMDeny(openimProbeCode, "epoch x")},
		{200, "deny; rule=probe-tencent", TencentDeny(tencentProbeCode, "epoch 3")},
		{200, "", ""},
	} {
		if _, _, ok := c.CheckProbe(r.status, r.decision, []byte(r.body)); ok {
			t.Errorf("%s accepted %d %q %s", c.Name, r.status, r.decision, r.body)
		}
	}
}

// businessService answers as examples/upstream -ban mallory does.
func businessService() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Imgate-Actor") != BannedByUpstream {
			w.Write([]byte(`{"decision":"allow"}`))
			return
		}
		code := "5101"
		if r.Header.Get("X-Imgate-Platform") == core.PlatformTencent {
			code = "10101"
		}
		w.Write([]byte(`{"decision":"deny","code":` + code + `,"message":"you are banned"}`))
	})
}

// TestFaultCallsAgainstCore: each fault call gets its upstream answer
// while the service runs and its fallback when it is down.
func TestFaultCallsAgainstCore(t *testing.T) {
	up := httptest.NewServer(businessService())
	defer up.Close()
	down := upstreamtest.Down()
	defer down.Close()
	e, err := core.New(FaultConfig(250*time.Millisecond, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	for _, c := range FaultCalls() {
		for i, target := range []string{up.URL, down.URL} {
			proxy := upstreamtest.NewProxy(target)
			w := serve(t, e, c.Raw("soak.test", requestTime), proxy.Next)
			proxy.Close()
			decision := w.Header().Get(DecisionHeader)
			if !c.Check(w.Code, decision, w.Body.Bytes()) || (decision == c.Want[1].Decision) != (i == 1) {
				t.Errorf("%s (upstream %v): %d %q %s", c.Name, i == 0, w.Code, decision, w.Body)
			}
		}
	}
	if Budget(core.PlatformTencent) != 2*time.Second || Budget(core.PlatformOpenIM) != FaultOpenIMTimeout {
		t.Error("platform budgets")
	}
}

// TestMemberJoinedAgainstCore: each after-callback of the delivery run is
// acknowledged and spooled as a callback of its own.
func TestMemberJoinedAgainstCore(t *testing.T) {
	svc := upstreamtest.StartDeliveryService()
	defer svc.Close()
	e, err := core.New(DeliveryConfig(svc.URL, t.TempDir(), 10*time.Millisecond, 50*time.Millisecond, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	const n = 6
	for i := 0; i < n; i++ {
		c := MemberJoined(i, 4)
		w := serve(t, e, c.Raw("soak.test", requestTime), nil)
		if !c.Check(w.Code, w.Header().Get(DecisionHeader), w.Body.Bytes()) {
			t.Errorf("%d: %d %q %s", i, w.Code, w.Header().Get(DecisionHeader), w.Body)
		}
	}
	for stop := time.Now().Add(time.Minute); len(svc.Deliveries()) < n && time.Now().Before(stop); {
		time.Sleep(10 * time.Millisecond)
	}
	actors := map[string]bool{}
	for _, d := range svc.Deliveries() {
		actors[d.Actor] = true
	}
	for i := 0; i < n; i++ {
		if !actors["u"+strconv.Itoa(i)] {
			t.Errorf("u%d not delivered (got %v)", i, actors)
		}
	}
}
