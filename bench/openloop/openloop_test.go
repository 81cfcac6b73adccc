package openloop

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/plan"
)

// target prepares one plain request for srv.
func target(srv *httptest.Server) (string, [][]byte) {
	addr := strings.TrimPrefix(srv.URL, "http://")
	return addr, Prepare(addr, []plan.Request{{Target: "/openim/x?t={requestTime}", Body: []byte(`{"a":1}`)}}, "1700000000", "sig")
}

func TestRunCountsEveryScheduledRequest(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.RequestURI() != "/openim/x?t=1700000000" || r.ContentLength != 7 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	addr, reqs := target(srv)
	res, err := Run(context.Background(), Config{Addr: addr, Requests: reqs, Rate: 500, Duration: 400 * time.Millisecond, Connections: 4})
	if err != nil {
		t.Fatal(err)
	}
	// The schedule is exact: rate × duration requests, however slow the
	// machine; a slow machine shows in the latencies, not the count.
	if res.Scheduled != 200 || res.Completed != 200 || got.Load() != 200 || res.Dropped != 0 || res.Errors != 0 || res.ErrStatus != 0 {
		t.Fatalf("result %+v, server saw %d", res, got.Load())
	}
	if !(res.P50 > 0 && res.P50 <= res.P99 && res.P99 <= res.P999 && res.P999 <= res.Max) || res.Elapsed < 398*time.Millisecond {
		t.Fatalf("implausible latencies %+v", res)
	}
}

// TestRunMeasuresFromScheduledTime: a server that takes 20 ms per request
// on one connection can serve 50 requests/s; offered 200/s for 250 ms, the
// last of the 50 requests waits behind the others for about 750 ms. A
// closed-loop client would report 20 ms for every request.
func TestRunMeasuresFromScheduledTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	addr, reqs := target(srv)
	res, err := Run(context.Background(), Config{Addr: addr, Requests: reqs, Rate: 200, Duration: 250 * time.Millisecond, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 50 || res.Max < 500*time.Millisecond || res.P99 < 500*time.Millisecond {
		t.Fatalf("queueing not measured: %+v", res)
	}
	if res.LagP99 < 400*time.Millisecond {
		t.Fatalf("send lag %v: requests waiting for the busy connection must show as lag", res.LagP99)
	}
}

func TestRunCountsErrorStatuses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	addr, reqs := target(srv)
	res, err := Run(context.Background(), Config{Addr: addr, Requests: reqs, Rate: 100, Duration: 100 * time.Millisecond, Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrStatus != 10 || res.Completed != 10 {
		t.Fatalf("%+v", res)
	}
}

// TestRunFramings: chunked replies and servers closing the connection
// after each reply are read correctly and reconnected.
func TestRunFramings(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"chunked": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"part":1}`))
			w.(http.Flusher).Flush()
			w.Write([]byte(`{"part":2}`))
		},
		"connection close": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			w.Write([]byte(`{}`))
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			addr, reqs := target(srv)
			res, err := Run(context.Background(), Config{Addr: addr, Requests: reqs, Rate: 200, Duration: 100 * time.Millisecond, Connections: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Completed != 20 || res.Errors != 0 || res.ErrStatus != 0 {
				t.Fatalf("%+v", res)
			}
		})
	}
}

// TestRunDropsWhatAHungServerNeverTakes: the run ends after the drain
// limit and counts what it could not send.
func TestRunDropsWhatAHungServerNeverTakes(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	addr, reqs := target(srv)
	begin := time.Now()
	res, err := Run(context.Background(), Config{Addr: addr, Requests: reqs, Rate: 100, Duration: 100 * time.Millisecond, Connections: 1,
		Drain: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 0 || res.Errors < 1 || res.Dropped < 1 || res.Errors+res.Dropped != res.Scheduled {
		t.Fatalf("%+v", res)
	}
	if took := time.Since(begin); took > 10*time.Second {
		t.Fatalf("a hung server held the run for %v", took)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no requests":    {Rate: 10, Duration: time.Second, Connections: 1},
		"no connections": {Requests: [][]byte{{}}, Rate: 10, Duration: time.Second},
		"no schedule":    {Requests: [][]byte{{}}, Rate: 0.5, Duration: time.Second, Connections: 1},
	} {
		if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFormatParse(t *testing.T) {
	want := Result{Rate: 1000, Scheduled: 5000, Completed: 5000, P99: 1234 * time.Microsecond, LagP99: 80 * time.Microsecond}
	got, err := Parse("some log line\n" + Format(want) + "\n")
	if err != nil || got != want {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := Parse("nothing here\n"); err == nil {
		t.Error("output without a result line parsed")
	}
	if _, err := Parse(ResultPrefix + "{not json\n"); err == nil {
		t.Error("a broken result line parsed")
	}
}

func TestPercentile(t *testing.T) {
	var v []time.Duration
	for i := 1; i <= 1000; i++ {
		v = append(v, time.Duration(i))
	}
	for q, want := range map[float64]time.Duration{0.5: 500, 0.99: 990, 0.999: 999, 1: 1000} {
		if got := percentile(v, q); got != want {
			t.Errorf("p%v = %d, want %d", q*100, got, want)
		}
	}
	if percentile(nil, 0.99) != 0 {
		t.Error("percentile of nothing")
	}
}

// TestRunObserves: with Observe, every request's reply reaches it once,
// with its index, the named header, the body and its send and read times.
func TestRunObserves(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Imgate-Decision", "allow; rule=default")
		w.Write([]byte(r.URL.Query().Get("n")))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	reqs := Prepare(addr, []plan.Request{{Target: "/x?n=0", Body: []byte("{}")}, {Target: "/x?n=1", Body: []byte("{}")}}, "", "")
	var mu sync.Mutex
	seen := map[int]Reply{}
	res, err := Run(context.Background(), Config{
		Addr: addr, Requests: reqs, Rate: 400, Duration: 250 * time.Millisecond, Connections: 3,
		Header: "X-Imgate-Decision",
		Observe: func(r Reply) {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := seen[r.Index]; dup {
				t.Errorf("request %d observed twice", r.Index)
			}
			seen[r.Index] = r
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Completed != 100 || len(seen) != 100 {
		t.Fatalf("completed %d, observed %d, want 100", res.Completed, len(seen))
	}
	for i, r := range seen {
		if r.Err != nil || r.Status != 200 || r.Header != "allow; rule=default" || string(r.Body) != strconv.Itoa(i%2) || r.Sent.IsZero() || r.Done.Before(r.Sent) {
			t.Errorf("request %d: %+v", i, r)
		}
	}
}

// TestRunServerClosesIdleConnections: a server that closes connections
// idle for 2 ms, as a gateway closes its idle keep-alive connections on a
// reload, under a load that keeps two or three of four connections busy
// at times. The client notices each close and never hands a closed
// connection out again; without that, the closed ones pile up on the free
// list and every request sent on one fails. Only a request sent just as
// the server closes its connection may fail, so a few are allowed on a
// busy machine.
func TestRunServerClosesIdleConnections(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(15 * time.Millisecond)
		w.Write([]byte("{}"))
	}))
	srv.Config.IdleTimeout = 2 * time.Millisecond
	srv.Start()
	defer srv.Close()
	addr, reqs := target(srv)
	res, err := Run(context.Background(), Config{Addr: addr, Requests: reqs, Rate: 100, Duration: 2 * time.Second, Connections: 4,
		Observe: func(Reply) {}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled != 200 || res.Completed+res.Errors+res.Dropped != 200 || res.Errors+res.Dropped > 10 {
		t.Fatalf("result %+v: requests sent on connections the server had closed", res)
	}
}
