package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// NextFunc calls the gateway's next handler (Caddy reverse_proxy, a Traefik
// service). It may return an error (Caddy) or report failure only through the
// status it writes (Traefik).
type NextFunc func(w http.ResponseWriter, r *http.Request) error

// UpstreamReply is the normalized upstream protocol's answer.
type UpstreamReply struct {
	Decision string   `json:"decision"`
	Code     int      `json:"code"`
	Message  string   `json:"message"`
	Refuse   []string `json:"refuse"`
}

// Forwarded request headers.
const (
	HeaderPlatform  = "X-Imgate-Platform"
	HeaderEvent     = "X-Imgate-Event"
	HeaderCommand   = "X-Imgate-Command"
	HeaderGroup     = "X-Imgate-Group"
	HeaderActor     = "X-Imgate-Actor"
	HeaderRule      = "X-Imgate-Rule"
	HeaderVerified  = "X-Imgate-Verified"
	HeaderDeadline  = "X-Imgate-Deadline"
	HeaderRequestID = "X-Imgate-Request-Id"
)

var requestSeq atomic.Int64

// requestIDPrefix makes ids from different processes unlikely to collide.
var requestIDPrefix = strconv.FormatInt(time.Now().UnixNano()%(1<<32), 36)

// Deadline returns how long a forwarded callback of the named platform may
// take, or 0 for a name that is no platform.
func (e *Engine) Deadline(platform string) time.Duration {
	if p := platformNamed(platform); p != nil {
		return p.deadline(e.set)
	}
	return 0
}

// Forward sends a callback whose Outcome is ResultForward to next under the
// platform deadline and turns the upstream's answer, or its failure, into
// the platform reply. The deadline counts from start, the request's
// arrival: reading and deciding already spent part of the platform's
// budget. in is the request as read (the native format forwards its body).
// It always returns a finished Outcome before the deadline has passed by
// more than scheduling noise.
//
// After-callbacks, whose answer the platform ignores, are acknowledged at
// once and delivered in the background while a delivery slot is free (see
// Deliveries); when all slots are busy they are delivered inline under the
// same deadline, so a slow upstream slows the platform down instead of
// growing memory.
func (e *Engine) Forward(r *http.Request, in *Input, out *Outcome, start time.Time, next NextFunc) *Outcome {
	ev := out.Event
	if next == nil && (ev.cmd.before || e.spool == nil) {
		return e.fallback(out, "unreachable", fmt.Errorf("no next handler to forward to: %w", ErrUpstream))
	}
	limit := ev.platform.deadline(e.set)
	// Real time, not e.now: the deadline bounds real waiting.
	deadline := start.Add(limit)
	if !ev.cmd.before && e.spool != nil {
		return e.spoolAfter(in, out, start, r.Header.Get("operationID"))
	}
	if !ev.cmd.before && e.deliveries != nil && e.deliveries.acquire() {
		// The request context ends when the gateway's handler returns; the
		// delivery keeps its values (Caddy's reverse_proxy reads them) but
		// not its cancellation, and gets its own deadline instead.
		ctx, cancel := context.WithDeadline(context.WithoutCancel(r.Context()), deadline)
		up, err := e.upstreamRequest(ctx, r, in, out, deadline)
		if err != nil {
			cancel()
			e.deliveries.release(e.fallback(out, "encode", err))
			return out
		}
		background := *out
		go e.deliverInBackground(ctx, cancel, up, &background, start, next)
		return e.Acknowledge(out)
	}
	if !ev.cmd.before && e.deliveries != nil {
		e.deliveries.inline.Add(1)
	}
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	up, err := e.upstreamRequest(ctx, r, in, out, deadline)
	if err != nil {
		cancel()
		return e.fallback(out, "encode", err)
	}
	return e.exchange(ctx, cancel, up, out, next, limit)
}

// spoolAfter writes a forwarded after-callback to the spool and, once it is
// on disk, acknowledges the platform. A platform retry of a callback
// already spooled is acknowledged again without a second entry. When the
// spool cannot take it (full, or a write failed) the platform gets HTTP
// 503, so that a retry of its own (Tencent's, when switched on) applies:
// an after-callback is never acknowledged without being kept.
func (e *Engine) spoolAfter(in *Input, out *Outcome, start time.Time, requestID string) *Outcome {
	ev := out.Event
	call, err := e.PrepareUpstream(in, out, start, requestID)
	if err != nil {
		return failure(ResultUnavailable, http.StatusServiceUnavailable, "encode", err)
	}
	entry := &spoolEntry{
		Version: spoolFormatVersion, ID: deliveryID(ev.Platform, ev.Command, in.Body), Created: start.UnixMilli(),
		Platform: ev.Platform, Event: ev.Event, Command: ev.Command, Group: ev.GroupID,
		RawQuery: call.RawQuery, KeepQuery: call.KeepQuery, Header: call.Header, Body: call.Body,
	}
	// The deadline header is set per attempt.
	delete(entry.Header, HeaderDeadline)
	var claim func(id string, ttl time.Duration) bool
	if e.store.kind.shared {
		claim = func(id string, ttl time.Duration) bool {
			return claimDelivery(e, id, ttl)
		}
	}
	added, err := e.spool.add(entry, start, claim)
	if err != nil {
		reason := "spool_error"
		if errors.Is(err, errSpoolFull) {
			reason = "spool_full"
		}
		fail := failure(ResultUnavailable, http.StatusServiceUnavailable, reason, err)
		fail.Event, fail.Rule, fail.Verified = ev, out.Rule, out.Verified
		return fail
	}
	encodeReply(out, ResultAck, ActionAllow, 0, "", nil)
	out.DeliveryID = entry.ID
	if !added {
		out.Reason = "duplicate"
	}
	return out
}

// claimDelivery marks a delivery id seen in the shared store and reports
// whether this replica is the first to keep it. A store that fails keeps
// the entry (a possible duplicate, never a loss) and counts as a store
// failure in the engine's health reports.
func claimDelivery(e *Engine, id string, ttl time.Duration) bool {
	first, err := e.store.kind.firstSeen(e.store, id, ttl, time.Now())
	if err != nil {
		storeFailed(e, err)
		return true
	}
	storeAnswered(e)
	return first
}

// deliverInBackground runs one after-callback delivery and frees its slot.
func (e *Engine) deliverInBackground(ctx context.Context, cancel context.CancelFunc, up *http.Request, out *Outcome, start time.Time, next NextFunc) {
	result := out
	defer func() {
		if p := recover(); p != nil {
			result = e.fallback(out, "panic", fmt.Errorf("background delivery panicked: %v: %w", p, ErrUpstream))
		}
		e.deliveries.release(result)
		result.Duration = time.Since(start)
		notifyDelivery(e, result)
	}()
	result = e.exchange(ctx, cancel, up, out, next, out.Event.platform.deadline(e.set))
}

// errNextPanicked marks a next that panicked; proxies panic with
// http.ErrAbortHandler when the upstream breaks off in the middle of its
// reply. (A sentinel, not a result struct: Yaegi cannot select on channels
// of interpreted struct types.)
var errNextPanicked = errors.New("next panicked")

// errWaitEnded tells exchange that its context ended before next answered.
var errWaitEnded = errors.New("wait for next ended")

// exchange runs next with up, waits for it until ctx ends, and resolves
// the captured answer. It calls cancel before returning, which tells a
// proxying next to give up, so its goroutine ends soon after a timeout.
func (e *Engine) exchange(ctx context.Context, cancel context.CancelFunc, up *http.Request, out *Outcome, next NextFunc, limit time.Duration) *Outcome {
	defer cancel()
	capture := newCapture(e.set.maxReply)
	// Room for next's result and the deadline's signal, so neither sender
	// ever blocks.
	done := make(chan error, 2)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%v: %w", p, errNextPanicked)
			}
		}()
		done <- next(capture, up)
	}()
	// A plain receive, not a select on done and ctx.Done(): Yaegi v0.16.1
	// keeps one reflect.Select case list per select statement and shares it
	// between goroutines, so concurrent callbacks in Traefik could wait on
	// each other's channels (go test -race flags it in internal/traefikload).
	stop := context.AfterFunc(ctx, func() { done <- errWaitEnded })
	err := <-done
	stop()
	if errors.Is(err, errWaitEnded) {
		capture.abandon()
		return e.fallback(out, ctxReason(ctx), fmt.Errorf("no answer within %s: %w", limit, ErrUpstream))
	}
	status, body, overflow := capture.result()
	if ctx.Err() != nil && (err != nil || status == 0 || status >= 500) {
		// next gave up because the deadline passed: a timeout, not a fault.
		return e.fallback(out, ctxReason(ctx), fmt.Errorf("no answer within %s: %w", limit, ErrUpstream))
	}
	if errors.Is(err, errNextPanicked) {
		return e.fallback(out, "aborted", fmt.Errorf("upstream reply broke off: %s: %w", err.Error(), ErrUpstream))
	}
	if err != nil {
		// A next that reports an error (Caddy) has no usable answer, even if
		// it wrote a status first.
		return e.fallback(out, "unreachable", fmt.Errorf("%s: %w", err.Error(), ErrUpstream))
	}
	return e.resolve(out, status, body, overflow)
}

// ctxReason tells a deadline from a platform that hung up first.
func ctxReason(ctx context.Context) string {
	if ctx.Err() == context.Canceled {
		return "canceled"
	}
	return "timeout"
}

// UpstreamCall is what imgate sends the business service for one
// forwarded callback, whatever carries it: Engine.Forward builds an
// *http.Request from it; a host that is not net/http (the WASM plugin)
// applies it to its own request.
type UpstreamCall struct {
	// Path replaces the callback's path when not "" (forward.path).
	Path string
	// KeepQuery is true when the callback's query goes along (native
	// format); the normalized format sends none. RawQuery is that query,
	// without the credentials the platform put in it (unless
	// forward.keepCredentials).
	KeepQuery bool
	RawQuery  string
	// Header holds the headers to set, canonical keys: the X-Imgate-*
	// headers and, for the normalized format, Content-Type.
	Header map[string]string
	// Body is the normalized event as JSON, or the callback's own body.
	Body []byte
}

// PrepareUpstream describes the upstream call for a callback whose
// Outcome is ResultForward: the body in the configured format and the
// X-Imgate-* headers. deadline is when imgate stops waiting; requestID is
// the id to send, "" for a generated one.
func (e *Engine) PrepareUpstream(in *Input, out *Outcome, deadline time.Time, requestID string) (*UpstreamCall, error) {
	ev := out.Event
	call := &UpstreamCall{Path: e.set.forwardPath, Header: make(map[string]string, 10)}
	query, path := in.RawQuery, in.Path
	if !e.set.keepCreds {
		query, path = ev.platform.scrub(e.set, in)
	}
	if call.Path == "" && path != in.Path {
		call.Path = path
	}
	if e.set.format == FormatNormalized {
		// Raw is filled only here: validating the body costs a second pass
		// that decisions answered from rules do not need.
		if ev.Raw == nil {
			ev.Raw = cleanBody(in.Body)
		}
		body, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encoding event: %s: %w", err.Error(), ErrUpstream)
		}
		call.Body = body
		call.Header["Content-Type"] = "application/json"
	} else {
		call.Body = in.Body
		call.KeepQuery = true
		call.RawQuery = query
	}
	if requestID == "" {
		requestID = requestIDPrefix + "-" + strconv.FormatInt(requestSeq.Add(1), 36)
	}
	h := call.Header
	h[HeaderPlatform] = ev.Platform
	h[HeaderEvent] = ev.Event
	h[HeaderCommand] = ev.Command
	h[HeaderGroup] = ev.GroupID
	h[HeaderActor] = ev.Actor
	h[HeaderRule] = out.Rule
	h[HeaderVerified] = out.Verified
	h[HeaderDeadline] = strconv.FormatInt(deadline.UnixMilli(), 10)
	h[HeaderRequestID] = requestID
	return call, nil
}

// upstreamRequest builds the request sent to next.
func (e *Engine) upstreamRequest(ctx context.Context, r *http.Request, in *Input, out *Outcome, deadline time.Time) (*http.Request, error) {
	call, err := e.PrepareUpstream(in, out, deadline, r.Header.Get("operationID"))
	if err != nil {
		return nil, err
	}
	up := r.Clone(ctx)
	up.URL.RawQuery = call.RawQuery
	if call.Path != "" {
		up.URL.Path, up.URL.RawPath = call.Path, ""
	}
	body := call.Body
	up.Body = io.NopCloser(bytes.NewReader(body))
	up.ContentLength = int64(len(body))
	up.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	up.RequestURI = up.URL.RequestURI()
	up.Header.Del("Content-Length")
	// The reply is parsed, not relayed: a compressed reply would read as
	// garbage. The proxy's transport negotiates and undoes its own gzip.
	up.Header.Del("Accept-Encoding")
	for k, v := range call.Header {
		up.Header[k] = []string{v}
	}
	return up, nil
}

// Resolve turns the upstream's answer to a forwarded callback (status and
// body, already read) into the platform reply, or into the fallback when
// the answer cannot be used. For hosts that call the upstream themselves;
// Forward does this for net/http hosts.
func (e *Engine) Resolve(out *Outcome, status int, body []byte) *Outcome {
	if len(body) > e.set.maxReply {
		return e.resolve(out, status, body[:e.set.maxReply], true)
	}
	return e.resolve(out, status, body, false)
}

// Acknowledge encodes the platform's acknowledgement of an after-callback
// whose Outcome is ResultForward and whose delivery to the upstream is
// reported apart from the reply: Forward's background delivery, or a host
// that delivers before replying (the WASM plugin). The Outcome keeps the
// forwarding rule.
func (e *Engine) Acknowledge(out *Outcome) *Outcome {
	encodeReply(out, ResultAck, ActionAllow, 0, "", nil)
	return out
}

// MaxReplyBytes is the largest upstream reply Resolve accepts
// (forward.maxReplyBytes with its default): a host that reads the reply
// itself reads one byte more, so that Resolve sees an oversized one.
func (e *Engine) MaxReplyBytes() int { return e.set.maxReply }

// Fallback encodes the configured fallback decision for a forwarded
// callback whose upstream failed; reason labels the failure in logs and
// metrics ("timeout", "unreachable", ...).
func (e *Engine) Fallback(out *Outcome, reason string, err error) *Outcome {
	return e.fallback(out, reason, err)
}

// resolve validates the upstream answer and encodes the platform reply.
func (e *Engine) resolve(out *Outcome, status int, body []byte, overflow bool) *Outcome {
	ev := out.Event
	switch {
	case status == 0:
		return e.fallback(out, "empty", fmt.Errorf("upstream wrote nothing: %w", ErrUpstream))
	case status < 200 || status > 299:
		return e.fallback(out, "status_"+strconv.Itoa(status), fmt.Errorf("upstream answered HTTP %d: %w", status, ErrUpstream))
	case overflow:
		return e.fallback(out, "too_large", fmt.Errorf("upstream reply over %d bytes: %w", e.set.maxReply, ErrUpstream))
	case len(bytes.TrimSpace(body)) == 0:
		return e.fallback(out, "empty", fmt.Errorf("upstream answered an empty body: %w", ErrUpstream))
	}
	if !ev.cmd.before {
		// The platform ignores the answer to after-callbacks; delivery is what counted.
		encodeReply(out, ResultAck, ActionAllow, 0, "", nil)
		upstreamDecided(out)
		return out
	}
	if e.set.format == FormatNative {
		decision, err := ev.platform.checkNative(ev, body)
		if err != nil {
			return e.fallback(out, "invalid", err)
		}
		out.Body = bytes.TrimSpace(body)
		out.Status = http.StatusOK
		out.Decision = decision
		out.Result = ResultAllow
		if decision == ActionDeny {
			out.Result = ResultDeny
		} else if decision == decisionRefuse {
			out.Result = ResultRefuse
		}
		upstreamDecided(out)
		return out
	}
	var reply UpstreamReply
	if err := json.Unmarshal(body, &reply); err != nil {
		return e.fallback(out, "invalid", fmt.Errorf("upstream reply is not JSON: %s: %w", err.Error(), ErrUpstream))
	}
	return e.applyUpstream(out, &reply)
}

// applyUpstream encodes a normalized upstream decision.
func (e *Engine) applyUpstream(out *Outcome, reply *UpstreamReply) *Outcome {
	ev := out.Event
	p := ev.platform
	decision := strings.ToLower(reply.Decision)
	if decision != ActionAllow && decision != ActionDeny {
		return e.fallback(out, "invalid", fmt.Errorf("upstream decision %q is not allow or deny: %w", reply.Decision, ErrUpstream))
	}
	if decision == ActionAllow && len(reply.Refuse) == 0 {
		encodeReply(out, ResultAllow, ActionAllow, 0, "", nil)
		upstreamDecided(out)
		return out
	}
	code := reply.Code
	if code == 0 {
		code = p.defaultDenyCode
	} else if !p.validCode(code) {
		return e.fallback(out, "invalid", fmt.Errorf("upstream code %d is not %s: %w", reply.Code, p.codeRange, ErrUpstream))
	}
	if decision == ActionAllow && ev.cmd.partialRefusal {
		encodeReply(out, ResultRefuse, decisionRefuse, 0, "", reply.Refuse)
	} else {
		// A command that cannot refuse part denies the whole request.
		encodeReply(out, ResultDeny, ActionDeny, code, reply.Message, nil)
	}
	upstreamDecided(out)
	return out
}

// upstreamDecided records that the business service's answer is the
// decision: Rule names the upstream (so the decision header and metrics say
// who decided) and ForwardedBy keeps the rule that forwarded.
func upstreamDecided(out *Outcome) {
	out.Upstream = true
	out.ForwardedBy = out.Rule
	out.Rule = RuleUpstream
}

// fallback encodes the configured fallback decision after an upstream failure.
func (e *Engine) fallback(out *Outcome, reason string, err error) *Outcome {
	ev := out.Event
	out.Reason, out.Err, out.Upstream = reason, err, false
	if out.ForwardedBy != "" {
		// The upstream's answer turned out unusable: it did not decide.
		out.Rule, out.ForwardedBy = out.ForwardedBy, ""
	}
	decision := e.set.fallback
	if d, ok := e.set.fallbackEvents[ev.Event]; ok {
		decision = d
	}
	if !ev.cmd.before || ev.Event == EventUnknown {
		decision = ActionAllow
	}
	encodeReply(out, ResultFallback, decision, ev.platform.defaultDenyCode, "", nil)
	if !ev.cmd.before {
		out.Decision = ResultAck
	}
	return out
}
