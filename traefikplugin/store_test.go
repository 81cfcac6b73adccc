package traefikplugin

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/redistest"
)

func joinRequest(actor string) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
		strings.NewReader(`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"`+actor+`"}`))
}

// closedAddress is a loopback address nothing listens on.
func closedAddress(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestLogStoreUnavailable proves a Redis that cannot be reached is
// reported once on the error stream, and each callback it touches is
// decided by the rule's storeFailure with the reason on its line.
func TestLogStoreUnavailable(t *testing.T) {
	cfg := `{"platform":"tencent","store":{"type":"redis","address":"redis://` + closedAddress(t) + `","timeout":"50ms"},
	  "rules":[{"name":"flood","rate":"100/1h","action":"deny","message":"closed","storeFailure":"deny"}]}`
	m := newTestMiddleware(t, cfg, unusedNext(t))
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, joinRequest("ann"))
		if body := rec.Body.String(); body != `{"ActionStatus":"OK","ErrorInfo":"closed","ErrorCode":1}` {
			t.Fatalf("request %d: %s, want the deny of storeFailure deny", i+1, body)
		}
	}
	errs := logLines(m.errs.String())
	if len(errs) != 1 || !strings.Contains(errs[0], "result=store_unavailable") || !strings.Contains(errs[0], "reason=down") || !strings.Contains(errs[0], "error=") {
		t.Fatalf("error stream %q, want one store_unavailable line", errs)
	}
	debug := logLines(m.debug.String())
	if len(debug) != 3 || !strings.Contains(debug[0], "result=deny") || !strings.Contains(debug[0], "store_failure=down") {
		t.Fatalf("debug stream %q, want three deny lines with store_failure=down", debug)
	}
}

// TestRedisSharedAcrossMiddlewares runs two middlewares (two routers, or
// two Traefik replicas) on one real Redis: a 5/1h rule admits 5 of 10
// alternating callbacks. Interpreted by yaegi test, it proves the client
// runs under Yaegi.
func TestRedisSharedAcrossMiddlewares(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := `{"platform":"tencent","store":{"type":"redis","address":"` + srv.URL + `","prefix":"plugin-` + strconv.FormatInt(time.Now().UnixNano(), 36) + `:","timeout":"900ms"},
	  "rules":[{"name":"flood","rate":"5/1h","action":"deny","message":"slow down"}]}`
	a := newTestMiddleware(t, cfg, unusedNext(t))
	b := newTestMiddleware(t, cfg, unusedNext(t))
	allowed := 0
	for i := 0; i < 10; i++ {
		m := a
		if i%2 == 1 {
			m = b
		}
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, joinRequest("ann"))
		if strings.Contains(rec.Body.String(), `"ErrorCode":0`) {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("%d of 10 allowed across two middlewares, want 5", allowed)
	}
	if errs := a.errs.String() + b.errs.String(); errs != "" {
		t.Fatalf("error lines: %s", errs)
	}
}

// TestRedisConfigChangesCloseEngines changes a middleware's config 30
// times, as Traefik reloads do: the replaced engines give their share of
// the pool back, and Redis never sees more connections than one pool.
func TestRedisConfigChangesCloseEngines(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	name := uniqueName(t)
	goroutines := runtime.NumGoroutine()
	for i := 0; i < 30; i++ {
		// The address changes between two spellings of the same server, so
		// that every other config needs a pool of its own.
		addr := srv.URL
		if i%2 == 1 {
			addr = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
		}
		cfg := CreateConfig()
		body := `{"platform":"tencent","store":{"type":"redis","address":"` + addr + `","timeout":"900ms","poolSize":1},
		  "rules":[{"name":"flood","rate":"5/1h","action":"deny","message":"v` + strconv.Itoa(i) + `"}]}`
		if err := golden.StrictDecoder([]byte(body)).Decode(cfg); err != nil {
			t.Fatal(err)
		}
		h, err := New(context.Background(), unusedNext(t), cfg, name)
		if err != nil {
			t.Fatal(err)
		}
		h.(*Middleware).SetLogOutput(&golden.LockedBuffer{}, &golden.LockedBuffer{})
		h.ServeHTTP(httptest.NewRecorder(), joinRequest("ann"))
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n := srv.Clients(t)
		// The live pool (one connection) and Do's
		// own; the other spelling's pool must be closed.
		if n <= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis sees %d clients after 30 config changes, want at most 2", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// One live connection holds a reader and a writer; the closed ones'
	// ended with them.
	for runtime.NumGoroutine() > goroutines+4 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines grew from %d to %d over 30 config changes", goroutines, runtime.NumGoroutine())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
