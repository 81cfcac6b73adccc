package core

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Serve answers one callback completely: it reads and decides the request,
// forwards it through next when a rule says so, and writes the reply. It
// returns the Outcome for the adapter to log and count. clientIP, when not
// empty, replaces r.RemoteAddr for the source allow list (Caddy passes the
// client IP it derived from trusted proxies). A panic is recovered into the
// platform's continue reply when the platform is known, else HTTP 500.
func (e *Engine) Serve(w http.ResponseWriter, r *http.Request, clientIP string, next NextFunc) (out *Outcome) {
	start := time.Now()
	written := false
	defer func() {
		if p := recover(); p != nil {
			out = panicOutcome(out, p)
			if !written {
				writeReply(e, w, out)
			}
		}
		if out != nil {
			out.Duration = time.Since(start)
		}
	}()
	in, out := readInput(e, w, r)
	if out == nil {
		if clientIP != "" {
			in.RemoteAddr = clientIP
		}
		out = decide(e, in)
		if out.Result == ResultForward {
			out = e.Forward(r, in, out, start, next)
		}
	}
	written = true
	writeReply(e, w, out)
	return out
}

// WriteReply writes out's reply (status, body, Content-Type,
// Content-Length and the decision header) to w, as Serve does: for hosts
// that decide with Decide and answer through a ResponseWriter of their own
// (the WASM plugin).
func (e *Engine) WriteReply(w http.ResponseWriter, out *Outcome) {
	writeReply(e, w, out)
}

// writeReply sets the canonical header keys directly: Header.Set would
// canonicalize them again on every callback.
func writeReply(e *Engine, w http.ResponseWriter, out *Outcome) {
	h := w.Header()
	if out.Status == http.StatusOK {
		h["Content-Type"] = []string{"application/json"}
	} else {
		h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(out.Body))}
	if e.cfg.DecisionHeader != "" {
		h.Set(e.cfg.DecisionHeader, out.Result+"; rule="+out.Rule)
	}
	w.WriteHeader(out.Status)
	w.Write(out.Body)
}

// panicOutcome keeps the platform answered after a bug: a known platform
// gets its continue reply, anything else an honest 500.
func panicOutcome(prev *Outcome, p interface{}) *Outcome {
	err := fmt.Errorf("panic: %v: %w", p, ErrUpstream)
	if prev != nil && prev.Event != nil && prev.Event.platform != nil {
		ev := prev.Event
		return &Outcome{Result: ResultFallback, Status: http.StatusOK, Body: ev.platform.allowReply, Event: ev, Rule: prev.Rule, Decision: ActionAllow, Reason: "panic", Err: err}
	}
	return &Outcome{Result: ResultError, Status: http.StatusInternalServerError, Body: []byte("imgate: internal error\n"), Reason: "panic", Err: err}
}
