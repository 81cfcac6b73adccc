package upstreamtest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBehaviors checks each upstream answers as its Behavior says, through
// a real HTTP client on loopback.
func TestBehaviors(t *testing.T) {
	tests := []struct {
		name     string
		behavior Behavior
		down     bool
		status   int
		body     string
		fails    bool
	}{
		{name: "healthy", behavior: Behavior{Body: `{"decision":"allow"}`}, status: 200, body: `{"decision":"allow"}`},
		{name: "status-500", behavior: Behavior{Status: 500, Body: "boom"}, status: 500, body: "boom"},
		{name: "empty", behavior: Behavior{}, status: 200, body: ""},
		{name: "reset", behavior: Behavior{Reset: true}, fails: true},
		{name: "down", down: true, fails: true},
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	for _, tt := range tests {
		var u *Upstream
		if tt.down {
			u = Down()
		} else {
			u = Start(tt.behavior)
		}
		resp, err := client.Post(u.URL+"/decide?x=1", "application/json", strings.NewReader(`{"event":"e"}`))
		if tt.fails {
			if err == nil {
				resp.Body.Close()
				t.Errorf("%s: got HTTP %d, want a transport error", tt.name, resp.StatusCode)
			}
			u.Close()
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || string(body) != tt.body {
			t.Errorf("%s: got %d %q, want %d %q", tt.name, resp.StatusCode, body, tt.status, tt.body)
		}
		got := u.Requests()
		if len(got) != 1 || got[0].Path != "/decide" || got[0].RawQuery != "x=1" || string(got[0].Body) != `{"event":"e"}` {
			t.Errorf("%s: recorded %+v", tt.name, got)
		}
		u.Close()
	}
}

// TestSlowUpstreamLetsGo checks a delayed answer ends as soon as the
// client gives up, and that Close does not wait for the delay.
func TestSlowUpstreamLetsGo(t *testing.T) {
	u := Start(Behavior{Delay: 10 * time.Second, Body: "late"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.URL, strings.NewReader("{}"))
	transport := &http.Transport{}
	start := time.Now()
	if resp, err := transport.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatal("a 10 s upstream answered within 100 ms")
	}
	deadline := time.Now().Add(2 * time.Second)
	for u.Active() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if u.Active() != 0 {
		t.Error("the upstream kept answering a request its client abandoned")
	}
	u.Close()
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %s", elapsed)
	}
}

// TestProxyStyles checks the two next styles against a closed port: Next
// returns the error and writes nothing, Handler writes 502.
func TestProxyStyles(t *testing.T) {
	u := Down()
	p := NewProxy(u.URL)
	defer p.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://gateway/cb", strings.NewReader("{}"))
	rec := &recorder{header: http.Header{}}
	if err := p.Next(rec, req); err == nil || rec.status != 0 {
		t.Errorf("Next: err %v status %d, want an error and nothing written", err, rec.status)
	}
	req, _ = http.NewRequest(http.MethodPost, "http://gateway/cb", strings.NewReader("{}"))
	rec = &recorder{header: http.Header{}}
	if err := p.StatusNext(rec, req); err != nil || rec.status != http.StatusBadGateway {
		t.Errorf("StatusNext: err %v status %d, want nil and 502", err, rec.status)
	}
}

type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return len(p), nil
}
func (r *recorder) WriteHeader(s int) { r.status = s }

// TestMatrixShape keeps the shared matrix honest: every platform and
// format has healthy cases, every fault, and platform-specific invalid
// replies.
func TestMatrixShape(t *testing.T) {
	for _, platform := range []string{"tencent", "openim"} {
		for _, format := range []string{"normalized", "native"} {
			names := map[string]bool{}
			for _, c := range Matrix(platform, format, 200*time.Millisecond) {
				names[c.Name] = true
				if c.Fallback() == (len(c.Reasons) == 0) {
					t.Errorf("%s/%s/%s: a fallback case needs reasons, a healthy one none", platform, format, c.Name)
				}
			}
			for _, want := range []string{"allow", "deny", "down", "slow", "status-500", "garbage", "empty", "reset", "code-out-of-range"} {
				if !names[want] {
					t.Errorf("%s/%s lacks %s", platform, format, want)
				}
			}
		}
	}
}

// TestLagProbe checks the allowance: a fast reply passes without waiting,
// a late one only by the measured timer lag.
func TestLagProbe(t *testing.T) {
	p := StartLagProbe(20 * time.Millisecond)
	if ok, allowed := p.InTime(time.Millisecond, 5*time.Millisecond); !ok || allowed != 25*time.Millisecond {
		t.Errorf("fast reply: ok %v allowed %s", ok, allowed)
	}
	lag := p.Lag()
	if lag < 0 || lag > time.Second {
		t.Errorf("lag %s", lag)
	}
	if ok, _ := p.InTime(25*time.Millisecond+lag+time.Millisecond, 5*time.Millisecond); ok {
		t.Error("a reply later than deadline + slack + lag passed")
	}
}
