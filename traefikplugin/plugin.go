// Package traefikplugin is imgate as a Traefik middleware plugin. Traefik
// interprets it with Yaegi (see .traefik.yml at the repository root): it
// calls CreateConfig, decodes the middleware's dynamic configuration into
// the result with mapstructure, and calls New once per router and again on
// every configuration reload. The plugin answers IM callbacks itself when a
// rule decides and passes the enriched request to the next handler (the
// router's service) when a rule says forward. It imports only the standard
// library and imgate's core.
package traefikplugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/imgate/imgate/core"
)

// errNoNext reports a New call without a next handler.
var errNoNext = errors.New("no next handler")

// Middleware answers IM callbacks on one Traefik router.
type Middleware struct {
	name    string
	next    http.Handler
	engine  *core.Engine
	forward core.NextFunc

	// debugLog and errorLog receive the log lines; Traefik logs them at
	// DEBUG and ERROR level.
	debugLog io.Writer
	errorLog io.Writer
}

// New builds the middleware for one router. Traefik calls it per router
// using the middleware and again on every reload, and never closes a
// handler, so the engine (rate buckets, list files) is shared by middleware
// name and rebuilt only when the config changes; New starts no goroutine.
// An invalid config fails here with the key and the reason.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	if next == nil {
		return nil, fmt.Errorf("imgate middleware %q: %w", name, errNoNext)
	}
	if config == nil {
		config = CreateConfig()
	}
	// Inside Traefik the log package writes to the interpreter's Stderr,
	// which Traefik logs at ERROR level: Traefik's default level, so a
	// route left unverified is seen.
	errorLog := log.Writer()
	engine, err := sharedEngine(name, *config, errorLog)
	if err != nil {
		return nil, fmt.Errorf("imgate middleware %q: %w", name, err)
	}
	m := &Middleware{
		name:     name,
		next:     next,
		engine:   engine,
		debugLog: debugWriter{},
		errorLog: errorLog,
	}
	m.forward = m.serveNext
	// Routers sharing the engine log alike; the latest New reports.
	engine.OnDelivery(m.logDelivery)
	engine.OnSpoolEvent(m.logSpool)
	engine.OnStore(m.logStore)
	return m, nil
}

// SetLogOutput redirects the debug and error log lines, e.g. to silence
// them in benchmarks of the compiled plugin. Traefik never calls it.
func (m *Middleware) SetLogOutput(debug, errs io.Writer) {
	m.debugLog, m.errorLog = debug, errs
}

// ServeHTTP answers one callback. core.Engine.Serve does the whole request
// path and recovers its own panics; the recover here guards the adapter's
// logging, so that no panic ever reaches Traefik.
func (m *Middleware) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	var out *core.Outcome
	defer func() {
		if p := recover(); p != nil {
			m.recovered(rw, out, p)
		}
	}()
	out = m.engine.Serve(rw, req, "", m.forward)
	// Most callbacks are allowed silently: a plain function call decides
	// that, sparing them the method calls of logging (about 2 µs each
	// under Yaegi).
	if core.SeverityOf(out) != core.SeverityDebug {
		m.logOutcome(out)
	}
}

// serveNext forwards to the router's service. Traefik services report
// failure only through the status they write (502, 504), which core turns
// into the fallback decision.
func (m *Middleware) serveNext(rw http.ResponseWriter, req *http.Request) error {
	m.next.ServeHTTP(rw, req)
	return nil
}

// recovered handles a panic that escaped core.Serve or happened while
// logging. When Serve returned, the reply is already written; otherwise the
// client gets an honest 500. Writing may panic again on a broken
// ResponseWriter, which is swallowed as well.
func (m *Middleware) recovered(rw http.ResponseWriter, out *core.Outcome, p interface{}) {
	defer func() { _ = recover() }()
	if out == nil {
		http.Error(rw, "imgate: internal error", http.StatusInternalServerError)
		out = &core.Outcome{Result: core.ResultError, Status: http.StatusInternalServerError}
	}
	line := m.line(out, core.ResultError, out.Rule)
	line = appendField(line, "panic", fmt.Sprint(p))
	m.emit(m.errorLog, line)
}
