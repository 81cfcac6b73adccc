package wasmhost

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/plan"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikload"
)

// The benchmarks measure one callback answered from rules by the Traefik
// plugin compiled into the binary and by plugin.wasm in the host Traefik
// embeds, on the bench harness's workloads and rules
// (bench/configs/rules.json), so the numbers compare with bench/'s:
//
//	go test -run '^$' -bench . -benchmem ./traefikwasm/wasmhost/

// BenchmarkCompiled is traefikplugin.New called directly after Traefik's
// config decoding.
func BenchmarkCompiled(b *testing.B) {
	benchmarkHandler(b, func(b *testing.B, config map[string]any) http.Handler {
		return traefikload.NewCompiled(b, config, forbiddenNext(b))
	})
}

// BenchmarkWasm is plugin.wasm through http-wasm-host-go on wazero, as
// Traefik v3.7.9 runs it.
func BenchmarkWasm(b *testing.B) {
	benchmarkHandler(b, func(b *testing.B, config map[string]any) http.Handler {
		mw, err := module(b).New(context.Background(), config, forbiddenNext(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { mw.Close(context.Background()) })
		return mw
	})
}

func forbiddenNext(b *testing.B) http.Handler {
	return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		b.Error("the rules answer every benchmark callback; nothing may be forwarded")
	})
}

// benchmarkHandler measures the handler on every single-callback workload
// after checking it answers byte for byte as core does.
func benchmarkHandler(b *testing.B, build func(b *testing.B, config map[string]any) http.Handler) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "bench", "configs", "rules.json"))
	if err != nil {
		b.Fatal(err)
	}
	var config map[string]any
	var cfg core.Config
	if err := json.Unmarshal(raw, &config); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		b.Fatal(err)
	}
	engine, err := core.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	handler := build(b, config)
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	sign := core.TencentSign(cfg.Tencent.Token, requestTime)
	for _, id := range []string{"tencent-join", "tencent-msg", "openim-join", "openim-msg", "openim-invite20"} {
		reqs, err := plan.Read(plan.Path(root, id))
		if err != nil {
			b.Fatal(err)
		}
		body, target := reqs[0].Body, reqs[0].Sign(requestTime, sign)
		b.Run(id, func(b *testing.B) {
			want := httptest.NewRecorder()
			engine.Serve(want, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)), "", nil)
			send := func() *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, AsServed(httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))))
				return rec
			}
			if got := send(); got.Code != want.Code || got.Body.String() != want.Body.String() {
				b.Fatalf("answered %d %q, core %d %q", got.Code, got.Body, want.Code, want.Body)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				send()
			}
		})
	}
}
