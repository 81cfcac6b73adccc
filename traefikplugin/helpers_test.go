package traefikplugin

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/imgate/imgate/internal/golden"
)

// These tests run compiled (go test) and interpreted (yaegi test, see
// .ci/traefik.sh), so they use only the standard library and avoid the
// constructs Yaegi v0.16.1 gets wrong (see docs/design.md).

var testNameSeq struct {
	sync.Mutex
	n int
}

// uniqueName returns a middleware name no other test uses: engines are
// shared by name.
func uniqueName(t *testing.T) string {
	testNameSeq.Lock()
	defer testNameSeq.Unlock()
	testNameSeq.n++
	return t.Name() + "-" + strconv.Itoa(testNameSeq.n) + "@file"
}

// testMiddleware builds the middleware from a JSON config (the Caddy form
// of the same keys) and captures its log lines.
type testMiddleware struct {
	*Middleware
	debug, errs *golden.LockedBuffer
}

func newTestMiddleware(t *testing.T, configJSON string, next http.Handler) *testMiddleware {
	t.Helper()
	cfg := CreateConfig()
	if err := golden.StrictDecoder([]byte(configJSON)).Decode(cfg); err != nil {
		t.Fatalf("config: %v", err)
	}
	h, err := New(context.Background(), next, cfg, uniqueName(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	m, ok := h.(*Middleware)
	if !ok {
		t.Fatal("New did not return a *Middleware")
	}
	tm := &testMiddleware{Middleware: m, debug: &golden.LockedBuffer{}, errs: &golden.LockedBuffer{}}
	m.SetLogOutput(tm.debug, tm.errs)
	return tm
}

// staticNext is a Traefik service answering status and body.
func staticNext(status int, body string) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.WriteHeader(status)
		rw.Write([]byte(body))
	})
}

// unusedNext fails the test when a config that never forwards forwards.
func unusedNext(t *testing.T) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		t.Errorf("unexpected forward of %s", req.URL.Path)
		rw.WriteHeader(http.StatusBadGateway)
	})
}

// logLines splits captured log text into lines.
func logLines(text string) []string {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
