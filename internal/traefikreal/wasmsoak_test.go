//go:build traefikreal

package traefikreal

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikload"
)

// wasmSoakCallbacks is how many callbacks TestWasmSoak sends through one
// router. Before plugin.wasm was lowered (traefikwasm/build
// LowerBulkMemory), Traefik v3.7.9 answered one of them with HTTP 500
// ("wasm error: out of bounds memory access" or a Go runtime throw)
// within the first few thousand, on a CPU where the host's memmove takes
// the path that clobbers RDX (Intel with ERMS and FSRM).
const wasmSoakCallbacks = 10000

// TestWasmSoak sends every golden case's request, round after round, to
// one router with the WASM plugin in the real Traefik, set up as
// docs/traefik.md says (list files under settings.mounts), until
// wasmSoakCallbacks were answered: rules answer some, the router's
// service decides or receives others (a forward rule). Every reply must
// equal byte for byte (status, decision header, body) the compiled
// plugin's for the same request, and Traefik must log no error. Traefik
// keeps a pool of instances (one per processor running a request), each
// of which serves thousands of these callbacks.
func TestWasmSoak(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.ReplaceAll(string(golden.ReadTestdata(t, "configs", "commands.json")), "{testdata}", dir)
	var config map[string]any
	if err := json.Unmarshal([]byte(raw), &config); err != nil {
		t.Fatal(err)
	}
	config["decisionHeader"] = golden.DecisionHeader
	config["rules"] = append(config["rules"].([]any), map[string]any{
		"name": "to-app", "events": []any{"group.join.*", "group.member.*", "group.message.after", "group.info.change.before"}, "action": "forward",
	})
	// The compiled plugin answers every case once: with no signature
	// window, source check or rate rule in the configuration, its replies
	// do not change with time or with the client's address.
	compiled := traefikload.NewCompiled(t, config, soakService())
	want := make([]string, len(cases))
	for i := range cases {
		r, err := cases[i].NewRequest("", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		compiled.ServeHTTP(rec, r)
		want[i] = strconv.Itoa(rec.Code) + " " + rec.Header().Get(golden.DecisionHeader) + "\n" + rec.Body.String()
	}

	tr := startWasm(t, Options{}, dir)
	apply(t, tr, dynamicConfig(map[string]route{"soak": {host: "soak.test", middleware: config, service: serve(t, soakService()), plugin: WasmPluginName, buffered: true}}))
	client := Client()
	start := time.Now()
	sent, forwarded := 0, 0
	for round := 0; sent < wasmSoakCallbacks; round++ {
		for i := range cases {
			r, err := cases[i].NewRequest(tr.URL, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			status, decision, body := send(t, client, r, "soak.test", golden.DecisionHeader)
			sent++
			if got := strconv.Itoa(status) + " " + decision + "\n" + body; got != want[i] {
				t.Fatalf("callback %d (round %d, %s): Traefik answered\n  %s\nthe compiled plugin\n  %s", sent, round, cases[i].Name, got, want[i])
			}
			if decision == "allow; rule=upstream" || decision == "deny; rule=upstream" {
				forwarded++
			}
		}
	}
	if forwarded == 0 {
		t.Error("no callback was decided by the service: the forward path did not run")
	}
	for _, l := range tr.Logs() {
		if level, _ := l.Fields["level"].(string); level == "error" && !strings.Contains(l.Message, "imgate middleware") {
			t.Errorf("traefik logged an error: %s", l.Raw)
		}
	}
	if err := tr.Problems(); err != nil {
		t.Error(err)
	}
	t.Logf("%d callbacks (%d golden cases, %d decided by the service) in %s", sent, len(cases), forwarded, time.Since(start).Round(time.Millisecond))
}

// soakService is the router's service: it denies a forwarded callback
// whose normalized event names members and allows the others, so the
// reply depends on the whole body the plugin sent.
func soakService() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"members":[`) {
			_, _ = io.WriteString(w, `{"decision":"deny","code":10170,"message":"ask an admin"}`)
			return
		}
		_, _ = io.WriteString(w, `{"decision":"allow"}`)
	})
}
