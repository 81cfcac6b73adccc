//go:build wasip1

package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/traefikplugin"
)

// engine decides for this instance. Traefik runs the middleware as a pool
// of instances, each built by _initialize from the same configuration.
var engine *core.Engine

// pending is the forwarded callback waiting for handle_response. The host
// keeps an instance to one request from handle_request to
// handle_response, so one slot is enough.
var pending *forwarded

// forwarded is what handle_response needs of a forwarded callback.
type forwarded struct {
	out      *core.Outcome
	start    time.Time
	deadline time.Time
	limit    time.Duration
	// bodyChanged says the service got a body of another length than the
	// callback's (see lengthHint).
	bodyChanged bool
	// headers are the response header names set before imgate ran.
	headers []string
}

// middlewareName is what the log lines' middleware field says: the ABI
// does not tell a guest its name, and Traefik's own log fields
// (middlewareName) carry it.
const middlewareName = ""

// init builds the engine when Traefik instantiates the module. A
// configuration that core or this runtime refuses is logged at ERROR with
// its key and reason, and the instance exits, which fails the middleware
// in Traefik (its router reports the error and serves nothing).
func init() {
	cfg, err := decodeConfig([]byte(hostString(hostGetConfig)))
	if err == nil {
		engine, err = core.New(cfg)
	}
	if err != nil {
		hostLog(levelError, "imgate middleware: "+err.Error())
		os.Exit(1)
	}
	if line := traefikplugin.WarningLog(middlewareName, engine.Warnings()); line != nil {
		hostLog(levelError, string(line))
	}
}

// now is the wall clock: Traefik gives the guest the real wall clock but
// not a real monotonic one, so readings drop the monotonic part.
func now() time.Time { return time.Now().Round(0) }

// handleRequest answers a callback from rules, or prepares the request
// for the router's service and asks the host to call it (result bit 0).
//
//go:wasmexport handle_request
func handleRequest() (next uint64) {
	start := now()
	var out *core.Outcome
	defer func() {
		if p := recover(); p != nil {
			next = 0
			internalError(out, p)
		}
	}()
	req, err := callbackRequest(hostString(hostGetMethod), hostString(hostGetURI), hostString(hostGetSourceAddr), headerValue(kindRequest, "Content-Length"), requestBody{})
	if err != nil {
		out = &core.Outcome{Result: core.ResultBadRequest, Status: http.StatusBadRequest, Body: []byte("imgate: request uri: " + err.Error() + "\n"), Reason: "uri", Err: err}
		finish(out, start)
		return 0
	}
	in, out := engine.ReadInput(req)
	if out == nil {
		out = engine.Decide(in)
	}
	if out.Result != core.ResultForward {
		finish(out, start)
		return 0
	}
	limit := engine.Deadline(out.Event.Platform)
	deadline := start.Add(limit)
	call, err := engine.PrepareUpstream(in, out, deadline, headerValue(kindRequest, "operationID"))
	if err != nil {
		finish(engine.Fallback(out, "encode", err), start)
		return 0
	}
	if uri := upstreamURI(call, req.URL); uri != req.RequestURI {
		hostSetURI(uri)
	}
	// As core.Engine.Forward: the length is the new body's, and the reply
	// is parsed, not relayed, so it must not come compressed. Removing (or
	// setting) the header does not change the length Traefik v3.7.9 sends:
	// its host writes request headers to r.Header only, and the proxy
	// frames the body by r.ContentLength, which the ABI cannot reach (see
	// lengthHint).
	hostRemoveHeader(kindRequest, "Content-Length")
	hostRemoveHeader(kindRequest, "Accept-Encoding")
	for name, value := range call.Header {
		hostSetHeaderValue(kindRequest, name, value)
	}
	writeBody(kindRequest, call.Body)
	hostEnableFeatures(featureBufferResponse)
	pending = &forwarded{out: out, start: start, deadline: deadline, limit: limit, bodyChanged: int64(len(call.Body)) != req.ContentLength, headers: headerNames(kindResponse)}
	return 1
}

// handleResponse turns the service's answer (or its absence) into the
// platform reply, replacing what the service wrote.
//
//go:wasmexport handle_response
func handleResponse(reqCtx uint32, isError uint32) {
	f := pending
	pending = nil
	if f == nil {
		return
	}
	out := f.out
	defer func() {
		if p := recover(); p != nil {
			internalError(out, p)
		}
	}()
	delivery := out
	if !out.Event.Before() {
		// After-callbacks are acknowledged whatever the delivery gave, as
		// the interpreted plugin does; the delivery is only logged.
		copied := *out
		delivery = &copied
	}
	result := resolve(delivery, f, isError == 1)
	if delivery != out {
		if line := traefikplugin.DeliveryLog(middlewareName, result); line != nil {
			hostLog(levelError, string(line))
		}
		result = engine.Acknowledge(out)
	}
	for _, name := range addedHeaders(f.headers, headerNames(kindResponse)) {
		hostRemoveHeader(kindResponse, name)
	}
	finish(result, f.start)
}

// resolve reads the service's answer and lets core validate it. The host
// calls next synchronously and cannot be told to give up at the deadline,
// so an answer that came too late counts as a timeout, as it does in the
// other runtimes (the platform has stopped waiting by then).
func resolve(out *core.Outcome, f *forwarded, hostErr bool) *core.Outcome {
	switch {
	case hostErr:
		return engine.Fallback(out, "aborted", fmt.Errorf("upstream reply broke off: %w", core.ErrUpstream))
	case now().After(f.deadline):
		return engine.Fallback(out, "timeout", fmt.Errorf("no answer within %s: %w", f.limit, core.ErrUpstream))
	}
	status := int(hostGetStatusCode())
	result := engine.Resolve(out, status, readBody(kindResponse, engine.MaxReplyBytes()))
	if f.bodyChanged && result.Err != nil && (status < 200 || status > 299) {
		result.Err = fmt.Errorf("%w (%s)", result.Err, lengthHint)
	}
	return result
}

// lengthHint explains a failed answer to a forward whose body changed
// length: the ABI replaces the request body but not the request's length,
// and Traefik's proxy sends the callback's length, cutting the body,
// unless a buffering middleware after imgate measures it again.
const lengthHint = "if no buffering middleware follows imgate, the service got the event cut to the callback's length: see docs/traefik.md"

// finish writes the reply and logs the outcome.
func finish(out *core.Outcome, start time.Time) {
	out.Duration = now().Sub(start)
	engine.WriteReply(&hostResponse{header: http.Header{}}, out)
	if line, toErrors := traefikplugin.OutcomeLog(middlewareName, out); line != nil {
		level := levelDebug
		if toErrors {
			level = levelError
		}
		hostLog(level, string(line))
	}
}

// internalError answers a panic with an honest 500 and an ERROR line; a
// second panic while doing so is dropped, so none reaches the host.
func internalError(out *core.Outcome, p any) {
	defer func() { _ = recover() }()
	pending = nil
	if out == nil {
		out = &core.Outcome{}
	}
	hostSetHeaderValue(kindResponse, "Content-Type", "text/plain; charset=utf-8")
	hostSetStatusCode(http.StatusInternalServerError)
	writeBody(kindResponse, []byte("imgate: internal error\n"))
	out.Result = core.ResultError
	line, _ := traefikplugin.OutcomeLog(middlewareName, out)
	hostLog(levelError, string(line)+fmt.Sprintf(" panic=%q", fmt.Sprint(p)))
}

// requestBody reads the callback's body from the host.
type requestBody struct{}

func (requestBody) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	eofLen := hostReadBody(kindRequest, &p[0], uint32(len(p)))
	n := int(uint32(eofLen))
	if eofLen>>32 == 1 {
		return n, io.EOF
	}
	return n, nil
}

// hostResponse is the http.ResponseWriter core.Engine.WriteReply writes
// the reply to: headers go to the host when the status is written.
type hostResponse struct {
	header http.Header
}

func (w *hostResponse) Header() http.Header { return w.header }

func (w *hostResponse) WriteHeader(status int) {
	for name, values := range w.header {
		for i, value := range values {
			if i == 0 {
				hostSetHeaderValue(kindResponse, name, value)
			} else {
				hostAddHeaderValue(kindResponse, name, value)
			}
		}
	}
	hostSetStatusCode(uint32(status))
}

func (w *hostResponse) Write(p []byte) (int, error) {
	writeBody(kindResponse, p)
	return len(p), nil
}
