package bench

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikload"
)

// pluginCallbacks are the benchmark's callback types, as wrk sends them.
var pluginCallbacks = []struct {
	name, target, body string
}{
	{"tencent-join", "/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS", "tencent-before-apply-join.json"},
	{"tencent-invite20", "/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android", "tencent-before-invite-join-20.json"},
	{"openim-join", "/openim/callbackBeforeJoinGroupCommand", "openim-before-join-group.json"},
	{"tencent-join-denied", "/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS", "tencent-before-apply-join-banned.json"},
}

// pluginConfig is bench/configs/rules.json as Traefik hands it to the
// plugin: a map decoded from the dynamic configuration.
func pluginConfig(b *testing.B) (map[string]any, core.Config) {
	b.Helper()
	raw, err := os.ReadFile("configs/rules.json")
	if err != nil {
		b.Fatal(err)
	}
	var m map[string]any
	var cfg core.Config
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
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

func benchmarkPlugin(b *testing.B, build func(b *testing.B, config map[string]any, next http.Handler) http.Handler) {
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
	query := "&RequestTime=" + requestTime + "&Sign=" + core.TencentSign(cfg.Tencent.Token, requestTime)
	for _, c := range pluginCallbacks {
		body, err := os.ReadFile("workloads/bodies/" + c.body)
		if err != nil {
			b.Fatal(err)
		}
		target := c.target
		if target[1] == 't' {
			target += query
		}
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
	benchmarkPlugin(b, func(b *testing.B, config map[string]any, next http.Handler) http.Handler {
		return traefikload.NewCompiled(b, config, next)
	})
}

// BenchmarkPluginInterpreted is the same plugin interpreted by Yaegi
// v0.16.1, loaded from its GOPATH layout and .traefik.yml as Traefik does.
func BenchmarkPluginInterpreted(b *testing.B) {
	benchmarkPlugin(b, func(b *testing.B, config map[string]any, next http.Handler) http.Handler {
		return traefikload.New(b, config, next)
	})
}
