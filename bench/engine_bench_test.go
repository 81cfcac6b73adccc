package bench

import (
	"net/http"
	"testing"

	"github.com/imgate/imgate/core"
)

// BenchmarkEngine is imgate's engine answering each bench callback itself,
// as setup F does over plain net/http: the cost of one callback without a
// gateway or an adapter, per kind and platform, with the harness's rules.
func BenchmarkEngine(b *testing.B) {
	benchmarkHandler(b, func(b *testing.B, _ map[string]any, _ http.Handler) http.Handler {
		_, cfg := pluginConfig(b)
		e, err := core.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.Serve(w, r, "", nil) })
	})
}
