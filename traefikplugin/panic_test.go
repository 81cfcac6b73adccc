package traefikplugin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const panicConfig = `{"rules": [{"name": "to-app", "events": ["group.join.apply"], "action": "forward"}], "forward": {"fallback": "deny"}}`

const openimApply = `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"jared"}`

// panickingWriter is a ResponseWriter that panics on every call, like a
// connection torn down under a buggy wrapper.
type panickingWriter struct{}

func (panickingWriter) Header() http.Header         { panic("header on a dead writer") }
func (panickingWriter) Write(p []byte) (int, error) { panic("write on a dead writer") }
func (panickingWriter) WriteHeader(int)             { panic("write header on a dead writer") }

// panickingSink is a log sink that panics.
type panickingSink struct{}

func (panickingSink) Write(p []byte) (int, error) { panic("log sink broke") }

// TestPanicInNext proves a Traefik service that panics while the plugin
// forwards (Traefik's proxy panics with http.ErrAbortHandler when an
// upstream connection breaks) still gets the platform its fallback reply
// in the right format, and is logged.
func TestPanicInNext(t *testing.T) {
	cases := []struct {
		name  string
		value interface{}
	}{
		{"abort-handler", http.ErrAbortHandler},
		{"string", "service bug"},
	}
	for i := range cases {
		c := cases[i]
		t.Run(c.name, func(t *testing.T) {
			next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) { panic(c.value) })
			m := newTestMiddleware(t, panicConfig, next)
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openim/callbackBeforeJoinGroupCommand", strings.NewReader(openimApply)))
			want := `{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`
			if rec.Code != http.StatusOK || rec.Body.String() != want {
				t.Fatalf("reply %d %s, want the fallback deny %s", rec.Code, rec.Body.String(), want)
			}
			if !strings.Contains(m.errs.String(), " result=fallback ") {
				t.Errorf("no fallback line: %q", m.errs.String())
			}
		})
	}
}

// TestPanicInNextAfterAnswer proves a service that writes a complete answer
// and then panics (a proxy aborting mid-stream) is not trusted: the
// platform gets the fallback decision, not the half-delivered answer.
func TestPanicInNextAfterAnswer(t *testing.T) {
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		rw.WriteHeader(http.StatusOK)
		rw.Write([]byte(`{"decision":"allow"}`))
		panic(http.ErrAbortHandler)
	})
	m := newTestMiddleware(t, panicConfig, next)
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openim/callbackBeforeJoinGroupCommand", strings.NewReader(openimApply)))
	want := `{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Fatalf("reply %d %s, want the fallback deny %s", rec.Code, rec.Body.String(), want)
	}
}

// TestPanicNeverEscapes proves panics in the ResponseWriter and in the log
// sinks stay inside the plugin: ServeHTTP returns normally.
func TestPanicNeverEscapes(t *testing.T) {
	cases := []struct {
		name        string
		writer      http.ResponseWriter
		debug, errs bool // sinks that panic
	}{
		{"writer", panickingWriter{}, false, false},
		{"debug-sink", nil, true, false},
		{"error-sink", nil, false, true},
		{"writer-and-sinks", panickingWriter{}, true, true},
	}
	for i := range cases {
		c := cases[i]
		t.Run(c.name, func(t *testing.T) {
			m := newTestMiddleware(t, `{"lists": {"banned": {"values": ["jared"]}}, "rules": [{"name": "b", "actors": ["@banned"], "action": "deny"}]}`, unusedNext(t))
			if c.debug {
				m.debugLog = panickingSink{}
			}
			if c.errs {
				m.errorLog = panickingSink{}
			}
			rec := httptest.NewRecorder()
			var w http.ResponseWriter = rec
			if c.writer != nil {
				w = c.writer
			}
			escaped := servePanicking(m.Middleware, w, httptest.NewRequest(http.MethodPost, "/openim/callbackBeforeJoinGroupCommand", strings.NewReader(openimApply)))
			if escaped != nil {
				t.Fatalf("panic escaped ServeHTTP: %v", escaped)
			}
			if c.writer == nil {
				want := `{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`
				if rec.Code != http.StatusOK || rec.Body.String() != want {
					t.Errorf("reply %d %s, want the deny %s", rec.Code, rec.Body.String(), want)
				}
			}
			if c.debug && !c.errs && !strings.Contains(m.errs.String(), " panic=") {
				t.Errorf("the sink panic was not reported on the error stream: %q", m.errs.String())
			}
		})
	}
}

// servePanicking calls ServeHTTP and returns whatever panic escapes it.
func servePanicking(m *Middleware, w http.ResponseWriter, r *http.Request) (escaped interface{}) {
	defer func() { escaped = recover() }()
	m.ServeHTTP(w, r)
	return nil
}
