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

// Deadline returns how long a forwarded callback of platform may take.
func (e *Engine) Deadline(platform string) time.Duration {
	if platform == PlatformTencent {
		return e.set.tencentDL
	}
	return e.set.openimDL
}

// Forward sends a callback whose Outcome is ResultForward to next under the
// platform deadline and turns the upstream's answer, or its failure, into
// the platform reply. It always returns a finished Outcome before the
// deadline has passed by more than scheduling noise.
//
// After-callbacks, whose answer the platform ignores, are acknowledged at
// once and delivered in the background while a delivery slot is free (see
// Deliveries); when all slots are busy they are delivered inline under the
// same deadline, so a slow upstream slows the platform down instead of
// growing memory.
func (e *Engine) Forward(r *http.Request, out *Outcome, next NextFunc) *Outcome {
	ev := out.Event
	if next == nil {
		return e.fallback(out, "unreachable", fmt.Errorf("no next handler to forward to: %w", ErrUpstream))
	}
	limit := e.Deadline(ev.Platform)
	// Real time, not e.now: the deadline bounds real waiting. It counts
	// from the request's arrival when Serve recorded it: reading and
	// deciding already spent part of the platform's budget.
	begin := out.started
	if begin.IsZero() {
		begin = time.Now()
	}
	deadline := begin.Add(limit)
	if !ev.before && e.deliveries != nil && e.deliveries.acquire() {
		// The request context ends when the gateway's handler returns; the
		// delivery keeps its values (Caddy's reverse_proxy reads them) but
		// not its cancellation, and gets its own deadline instead.
		ctx, cancel := context.WithDeadline(context.WithoutCancel(r.Context()), deadline)
		up, err := e.upstreamRequest(ctx, r, out, deadline)
		if err != nil {
			cancel()
			e.deliveries.release(e.fallback(out, "encode", err))
			return out
		}
		background := *out
		go e.deliverInBackground(ctx, cancel, up, &background, next)
		encodeReply(out, ResultAck, ActionAllow, 0, "", nil)
		return out
	}
	if !ev.before && e.deliveries != nil {
		e.deliveries.inline.Add(1)
	}
	ctx, cancel := context.WithDeadline(r.Context(), deadline)
	up, err := e.upstreamRequest(ctx, r, out, deadline)
	if err != nil {
		cancel()
		return e.fallback(out, "encode", err)
	}
	return e.exchange(ctx, cancel, up, out, next, limit)
}

// deliverInBackground runs one after-callback delivery and frees its slot.
func (e *Engine) deliverInBackground(ctx context.Context, cancel context.CancelFunc, up *http.Request, out *Outcome, next NextFunc) {
	result := out
	defer func() {
		if p := recover(); p != nil {
			result = e.fallback(out, "panic", fmt.Errorf("background delivery panicked: %v: %w", p, ErrUpstream))
		}
		e.deliveries.release(result)
		if !out.started.IsZero() {
			result.Duration = time.Since(out.started)
		}
		notifyDelivery(e, result)
	}()
	result = e.exchange(ctx, cancel, up, out, next, e.Deadline(out.Event.Platform))
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

// upstreamRequest builds the request sent to next.
func (e *Engine) upstreamRequest(ctx context.Context, r *http.Request, out *Outcome, deadline time.Time) (*http.Request, error) {
	ev := out.Event
	var body []byte
	up := r.Clone(ctx)
	if e.set.format == FormatNormalized {
		// Raw is filled only here: validating the body costs a second pass
		// that decisions answered from rules do not need.
		if ev.Raw == nil && out.input != nil {
			ev.Raw = cleanBody(out.input.Body)
		}
		var err error
		if body, err = json.Marshal(ev); err != nil {
			return nil, fmt.Errorf("encoding event: %s: %w", err.Error(), ErrUpstream)
		}
		up.URL.RawQuery = ""
		up.Header.Set("Content-Type", "application/json")
	} else {
		body = out.input.Body
	}
	if e.set.forwardPath != "" {
		up.URL.Path, up.URL.RawPath = e.set.forwardPath, ""
	}
	up.Body = io.NopCloser(bytes.NewReader(body))
	up.ContentLength = int64(len(body))
	up.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	up.RequestURI = up.URL.RequestURI()
	up.Header.Del("Content-Length")
	// The reply is parsed, not relayed: a compressed reply would read as
	// garbage. The proxy's transport negotiates and undoes its own gzip.
	up.Header.Del("Accept-Encoding")
	h := up.Header
	h.Set(HeaderPlatform, ev.Platform)
	h.Set(HeaderEvent, ev.Event)
	h.Set(HeaderCommand, ev.Command)
	h.Set(HeaderGroup, ev.GroupID)
	h.Set(HeaderActor, ev.Actor)
	h.Set(HeaderRule, out.Rule)
	h.Set(HeaderVerified, out.Verified)
	h.Set(HeaderDeadline, strconv.FormatInt(deadline.UnixMilli(), 10))
	id := r.Header.Get("operationID")
	if id == "" {
		id = requestIDPrefix + "-" + strconv.FormatInt(requestSeq.Add(1), 36)
	}
	h.Set(HeaderRequestID, id)
	return up, nil
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
	if !ev.before {
		// The platform ignores the answer to after-callbacks; delivery is what counted.
		encodeReply(out, ResultAck, ActionAllow, 0, "", nil)
		upstreamDecided(out)
		return out
	}
	if e.set.format == FormatNative {
		if err := validateNative(ev, body); err != nil {
			return e.fallback(out, "invalid", err)
		}
		// One field per statement: Yaegi drops the other values of a
		// multi-assignment that contains a call (Status stayed 0).
		out.Body = bytes.TrimSpace(body)
		out.Result, out.Status = ResultAllow, http.StatusOK
		upstreamDecided(out)
		out.Decision = nativeDecision(ev, body)
		if out.Decision == ActionDeny {
			out.Result = ResultDeny
		} else if out.Decision == "refuse" {
			out.Result = ResultRefuse
		}
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
	decision := strings.ToLower(reply.Decision)
	if decision != ActionAllow && decision != ActionDeny {
		return e.fallback(out, "invalid", fmt.Errorf("upstream decision %q is not allow or deny: %w", reply.Decision, ErrUpstream))
	}
	upstreamDecided(out)
	if decision == ActionAllow && len(reply.Refuse) == 0 {
		encodeReply(out, ResultAllow, ActionAllow, 0, "", nil)
		return out
	}
	code := reply.Code
	if ev.Platform == PlatformTencent {
		if code == 0 {
			code = DefaultTencentDenyCode
		} else if !validTencentCode(code) {
			return e.fallback(out, "invalid", fmt.Errorf("upstream code %d is not a Tencent reject code: %w", reply.Code, ErrUpstream))
		}
		if decision == ActionAllow && ev.partialRefusal {
			encodeReply(out, ResultRefuse, "refuse", 0, "", reply.Refuse)
			return out
		}
	} else if code == 0 {
		code = DefaultOpenIMDenyCode
	} else if !validOpenIMCode(code) {
		return e.fallback(out, "invalid", fmt.Errorf("upstream code %d is not an OpenIM errCode (5000-9999): %w", reply.Code, ErrUpstream))
	}
	// A platform or command that cannot refuse part denies the whole request.
	encodeReply(out, ResultDeny, ActionDeny, code, reply.Message, nil)
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
	if !ev.before || ev.Event == EventUnknown {
		decision = ActionAllow
	}
	code := DefaultTencentDenyCode
	if ev.Platform == PlatformOpenIM {
		code = DefaultOpenIMDenyCode
	}
	encodeReply(out, ResultFallback, decision, code, "", nil)
	if !ev.before {
		out.Decision = ResultAck
	}
	return out
}

// nativeReply is the union of both platforms' reply fields.
type nativeReply struct {
	ActionStatus *string  `json:"ActionStatus"`
	ErrorCode    *int     `json:"ErrorCode"`
	ErrorInfo    *string  `json:"ErrorInfo"`
	Refused      []string `json:"RefusedMembers_Account"`
	ActionCode   *int     `json:"actionCode"`
	ErrCode      *int     `json:"errCode"`
	NextCode     *int     `json:"nextCode"`
}

// validateNative checks that an upstream reply in the platform's own format
// will be understood by the platform as the upstream meant it.
func validateNative(ev *Event, body []byte) error {
	var r nativeReply
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("upstream reply is not JSON: %s: %w", err.Error(), ErrUpstream)
	}
	if ev.Platform == PlatformTencent {
		if r.ActionStatus == nil || r.ErrorCode == nil || r.ErrorInfo == nil {
			return fmt.Errorf("the Tencent reply lacks ActionStatus, ErrorCode or ErrorInfo: %w", ErrUpstream)
		}
		code := *r.ErrorCode
		if code != 0 && !validTencentCode(code) && !(code == 2 && ev.Command == "Group.CallbackBeforeSendMsg") {
			return fmt.Errorf("the Tencent ErrorCode %d is not 0, 1 or 10100-10200: %w", code, ErrUpstream)
		}
		return nil
	}
	if r.ActionCode == nil || r.NextCode == nil {
		return fmt.Errorf("OpenIM reply lacks actionCode or nextCode: %w", ErrUpstream)
	}
	if *r.ActionCode == 0 && *r.NextCode == 1 && (r.ErrCode == nil || !validOpenIMCode(*r.ErrCode)) {
		return fmt.Errorf("OpenIM rejection without an errCode in 5000-9999: %w", ErrUpstream)
	}
	if *r.ActionCode != 0 && *r.NextCode == 1 {
		// OpenIM v3.7+ ignores this combination: the upstream meant deny, the platform would allow.
		return fmt.Errorf("OpenIM reply with actionCode %d does not reject since v3.7: %w", *r.ActionCode, ErrUpstream)
	}
	return nil
}

func nativeDecision(ev *Event, body []byte) string {
	var r nativeReply
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	if ev.Platform == PlatformTencent {
		if *r.ErrorCode != 0 {
			return ActionDeny
		}
		if len(r.Refused) > 0 {
			return "refuse"
		}
		return ActionAllow
	}
	if *r.NextCode == 1 {
		return ActionDeny
	}
	return ActionAllow
}
