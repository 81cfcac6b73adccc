package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/imgate/imgate/core"
)

// TestIsolatedNextKeepsRequestStateApart checks that what the upstream
// handler writes into vars and the replacer stays out of the request's own
// tables (which Caddy's access log reads after imgate returned), while the
// upstream still sees the request's vars and placeholders.
func TestIsolatedNextKeepsRequestStateApart(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/im", nil)
	repl := caddy.NewReplacer()
	repl.Set("http.request.marker", "from-request")
	vars := map[string]any{caddyhttp.ClientIPVarKey: "203.0.113.7"}
	ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
	ctx = context.WithValue(ctx, caddyhttp.VarsCtxKey, vars)
	r = r.WithContext(ctx)

	var seenIP, seenMarker any
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, up *http.Request) error {
		seenIP = caddyhttp.GetVar(up.Context(), caddyhttp.ClientIPVarKey)
		urepl := up.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
		seenMarker, _ = urepl.Get("http.request.marker")
		caddyhttp.SetVar(up.Context(), "reverse_proxy_upstream", "10.0.0.1:9000")
		urepl.Set("http.reverse_proxy.upstream.address", "10.0.0.1:9000")
		return nil
	})
	if err := isolatedNext(r, next)(httptest.NewRecorder(), r.Clone(r.Context())); err != nil {
		t.Fatal(err)
	}
	if seenIP != "203.0.113.7" || seenMarker != "from-request" {
		t.Errorf("upstream saw client IP %v and marker %v, want the request's", seenIP, seenMarker)
	}
	if _, leaked := vars["reverse_proxy_upstream"]; leaked {
		t.Error("the upstream's SetVar reached the request's vars table")
	}
	if _, leaked := repl.Get("http.reverse_proxy.upstream.address"); leaked {
		t.Error("the upstream's placeholder reached the request's replacer")
	}
}

// TestLateUpstreamDoesNotRace forwards to a reverse_proxy whose backend
// answers after the deadline, with Caddy's access log on, and waits for the
// late proxies to finish. Its handle_response route sets a var when the
// late answer arrives, i.e. writes Caddy's vars table (a plain map) while
// or after Caddy logs the finished request. Run with -race. (With the
// request's own tables shared instead, this setup does not trip the
// detector: the shared replacer's mutex happens to order the accesses; the
// isolation itself is proven by TestIsolatedNextKeepsRequestStateApart.)
func TestLateUpstreamDoesNotRace(t *testing.T) {
	tester := newTester(t)
	var inflight sync.WaitGroup
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Done()
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte(`{"decision":"deny"}`))
	}))
	defer slow.Close()
	h := &Handler{Config: core.Config{
		DefaultAction: "forward",
		Forward:       core.ForwardConfig{TencentDeadline: "50ms", Fallback: "allow"},
	}}
	tester.InitServer(serverConfig([]any{route("", imgateJSON(t, h), map[string]any{
		"handler": "reverse_proxy", "upstreams": []any{map[string]any{"dial": strings.TrimPrefix(slow.URL, "http://")}},
		"handle_response": []any{map[string]any{"routes": []any{map[string]any{"handle": []any{
			map[string]any{"handler": "vars", "late_upstream_answer": "yes"},
			map[string]any{"handler": "copy_response"},
		}}}}},
	})}, true), "json")

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g1","Requestor_Account":"alice"}`
			resp, err := tester.Client.Post(httpBase+"/im?CallbackCommand=Group.CallbackBeforeApplyJoinGroup", "application/json", strings.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			got := readAll(t, resp)
			resp.Body.Close()
			// The upstream would deny: the fallback allow proves the
			// deadline answered first, however busy the machine is.
			if got != allowReply {
				t.Errorf("reply %s, want the fallback allow %s", got, allowReply)
			}
		}()
	}
	wg.Wait()
	time.Sleep(400 * time.Millisecond) // let the abandoned proxies finish
	inflight.Wait()
}
