package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/plan"
	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikload"
)

// benchCallback is one callback as the load generators send it.
type benchCallback struct {
	name string
	plan.Request
}

// benchCallbacks are the single-callback workloads of bench/workloads (one
// per kind and platform, the same rule work on both platforms) plus a
// denied Tencent join: the same requests wrk and the open-loop client send.
func benchCallbacks(tb testing.TB) []benchCallback {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("workloads", "*.plan"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []benchCallback
	for _, path := range paths {
		reqs, err := plan.Read(path)
		if err != nil {
			tb.Fatal(err)
		}
		if len(reqs) == 1 {
			out = append(out, benchCallback{strings.TrimSuffix(filepath.Base(path), ".plan"), reqs[0]})
		}
	}
	if len(out) == 0 {
		tb.Fatal("no single-callback workloads in bench/workloads")
	}
	for _, c := range out {
		if c.name == "tencent-join" {
			denied := c
			denied.name, denied.BodyFile = "tencent-join-denied", "tencent-before-apply-join-banned.json"
			if denied.Body, err = os.ReadFile(filepath.Join("workloads", "bodies", denied.BodyFile)); err != nil {
				tb.Fatal(err)
			}
			return append(out, denied)
		}
	}
	tb.Fatal("no tencent-join workload")
	return nil
}

// pluginConfig is bench/configs/rules.json as Traefik hands it to the
// plugin: a map decoded from the dynamic configuration.
func pluginConfig(b *testing.B) (map[string]any, core.Config) {
	b.Helper()
	path, err := rules.File()
	if err != nil {
		b.Fatal(err)
	}
	m, err := rules.ReadMap(path)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := rules.Read(path)
	if err != nil {
		b.Fatal(err)
	}
	return m, cfg
}

// discardWriter is a ResponseWriter that keeps only the status and body
// of the last reply, so the benchmark measures the plugin, not a recorder.
type discardWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(status int) {
	w.status = status
}
func (w *discardWriter) Write(p []byte) (int, error) { return w.body.Write(p) }

func (w *discardWriter) reset() {
	for k := range w.header {
		delete(w.header, k)
	}
	w.status = 0
	w.body.Reset()
}

// readerBody is a request body that can be rewound without allocating.
type readerBody struct{ *bytes.Reader }

func (readerBody) Close() error { return nil }

// benchmarkHandler measures the handler build returns on every bench
// callback, after checking it answers byte-identical to core.Engine.
func benchmarkHandler(b *testing.B, build func(b *testing.B, config map[string]any, next http.Handler) http.Handler) {
	config, cfg := pluginConfig(b)
	engine, err := core.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.Error("the rules answer every benchmark callback; nothing may be forwarded")
	})
	handler := build(b, config, next)
	requestTime := strconv.FormatInt(time.Now().Unix(), 10)
	sign := core.TencentSign(cfg.Tencent.Token, requestTime)
	for _, c := range benchCallbacks(b) {
		body, target := c.Body, c.Sign(requestTime, sign)
		b.Run(c.name, func(b *testing.B) {
			want := httptest.NewRecorder()
			engine.Serve(want, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)), "", nil)
			reader := readerBody{bytes.NewReader(body)}
			req := httptest.NewRequest(http.MethodPost, target, reader)
			w := &discardWriter{header: http.Header{}}
			handler.ServeHTTP(w, req)
			if w.status != http.StatusOK || w.body.String() != want.Body.String() {
				b.Fatalf("plugin answered %d %q, core %d %q", w.status, w.body.String(), want.Code, want.Body.String())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.reset()
				reader.Reset(body)
				handler.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkPluginCompiled is the Traefik plugin compiled into the binary
// (traefikplugin.New called directly after Traefik's config decoding).
func BenchmarkPluginCompiled(b *testing.B) {
	benchmarkHandler(b, func(b *testing.B, config map[string]any, next http.Handler) http.Handler {
		return traefikload.NewCompiled(b, config, next)
	})
}

// BenchmarkPluginInterpreted is the same plugin interpreted by Yaegi
// v0.16.1, loaded from its GOPATH layout and .traefik.yml as Traefik does.
func BenchmarkPluginInterpreted(b *testing.B) {
	benchmarkHandler(b, func(b *testing.B, config map[string]any, next http.Handler) http.Handler {
		return traefikload.New(b, config, next)
	})
}
