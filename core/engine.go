package core

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"
)

// Results: what happened to one callback. Adapters log and count by them.
const (
	ResultAllow        = "allow"        // allowed, reply encoded
	ResultDeny         = "deny"         // denied, reply encoded
	ResultRefuse       = "refuse"       // some invitees refused (Tencent)
	ResultAck          = "ack"          // after-callback acknowledged
	ResultUnknown      = "unknown"      // unknown command, continue reply
	ResultForward      = "forward"      // to be sent upstream (see Engine.Forward)
	ResultFallback     = "fallback"     // upstream failed, fallback decision encoded
	ResultBadRequest   = "bad_request"  // HTTP 400
	ResultTooLarge     = "too_large"    // HTTP 413
	ResultMethod       = "method"       // HTTP 405
	ResultUnauthorized = "unauthorized" // HTTP 401: signature, stale time, secret
	ResultForbidden    = "forbidden"    // HTTP 403: app id, source address
	ResultUnavailable  = "unavailable"  // HTTP 503: the spool cannot take an after-callback
	ResultTooSlow      = "too_slow"     // HTTP 408: the body did not arrive within readTimeout
	ResultError        = "error"        // HTTP 500: a recovered panic
)

// Names that Outcome.Rule takes besides the configured rules' names; no
// rule may be called so.
const (
	RuleDefault  = "default"  // no rule matched: defaultAction decided
	RuleUpstream = "upstream" // the business service decided
)

// Input is one callback request as the engine sees it.
type Input struct {
	Method     string
	Path       string
	RawQuery   string
	RemoteAddr string // "ip:port" or "ip"
	Body       []byte
}

// Outcome is the engine's answer to one callback.
type Outcome struct {
	// Result is one of the Result* constants.
	Result string
	// Status and Body are the HTTP reply to send (Body empty for Forward).
	Status int
	Body   []byte
	// Event is the decoded callback; nil when the request failed before
	// decoding.
	Event *Event
	// Rule is the rule that decided, RuleDefault when none matched,
	// RuleUpstream when the business service decided, or "" before a
	// decision.
	Rule string
	// ForwardedBy is the rule (or RuleDefault) that forwarded the callback
	// when the business service decided it.
	ForwardedBy string
	// Decision is the platform decision encoded in Body: allow, deny,
	// refuse or ack.
	Decision string
	// Refused are the members refused by a partial refusal.
	Refused []string
	// Shadow lists what shadow rules would have done.
	Shadow []ShadowHit
	// Verified says what was verified ("appid,sign", "secret", "none").
	Verified string
	// Reason is a short label for failures and fallbacks (e.g. "signature",
	// "timeout", "status_500"); Err has the detail.
	Reason string
	Err    error
	// Upstream is true when the business service decided.
	Upstream bool
	// DeliveryID is the spool's id of an after-callback spooled for
	// delivery (X-Imgate-Delivery-Id), or of the earlier one a platform
	// retry duplicated.
	DeliveryID string
	// StoreFailure is set when the shared store (store.type redis) could
	// not settle the rate conditions, so each rate rule's storeFailure
	// did: "timeout", "down" or "error" (see StoreFailureReason); StoreErr
	// has the detail. Empty when the store answered or was not asked.
	StoreFailure string
	StoreErr     error
	// Duration is the time spent in imgate, set by Serve.
	Duration time.Duration
}

// Engine decides callbacks for one configuration. It is safe for concurrent
// use and keeps no goroutine of its own: the only goroutines it starts run
// one forwarded request each and end by the platform deadline.
type Engine struct {
	cfg   Config
	set   *settings
	rules []*rule
	cands candidates
	// defaultDenies are the replies of a deny no rule decided (defaultAction
	// deny), by platform index, encoded once (denyReplyOf).
	defaultDenies [][]byte
	lists         map[string]*List
	// fileLists are the lists backed by a file, checked once per decision.
	fileLists []*List
	now       func() time.Time
	// deliveries bounds after-callbacks forwarded in the background.
	deliveries *deliveries
	// deliveryObserver holds the OnDelivery callback.
	deliveryObserver atomic.Value
	// warnings name the verification checks that are off.
	warnings []string
	// spool delivers forwarded after-callbacks durably; nil when off.
	spool  *spool
	closed atomic.Bool
	// store holds rate-limit state (store.go); storeDown, storeTimeouts
	// and storeObserver report its health changes.
	store         *store
	storeDown     atomic.Int64
	storeTimeouts atomic.Int64
	storeObserver atomic.Value
}

// New validates cfg and compiles it. Errors name the config key and the reason.
func New(cfg Config) (*Engine, error) {
	return NewWith(cfg, Options{})
}

// NewWith is New with what the host adds (Options): Caddy's own Redis
// client for the shared store.
func NewWith(cfg Config, opts Options) (*Engine, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, set: s, lists: map[string]*List{}, now: time.Now, deliveries: newDeliveries(MaxBackgroundDeliveries), warnings: verificationWarnings(s)}
	for name, lc := range cfg.Lists {
		l, lerr := newList(name, lc, s.listReload)
		if lerr != nil {
			return nil, lerr
		}
		e.lists[name] = l
	}
	if e.rules, err = compileRules(cfg.Rules, e.lists, s); err != nil {
		return nil, err
	}
	if e.cands, err = indexRules(e.rules, cfg.Rules); err != nil {
		return nil, err
	}
	e.defaultDenies = make([][]byte, len(platforms))
	for _, p := range platforms {
		e.defaultDenies[p.index] = denyReplyOf(p, p.defaultDenyCode, "")
	}
	for _, l := range e.lists {
		if l.file != "" {
			e.fileLists = append(e.fileLists, l)
		}
	}
	if s.delivery != nil {
		// Last: an engine that fails to build must not hold a spool.
		if e.spool, err = acquireSpool(*s.delivery); err != nil {
			return nil, err
		}
	}
	// Once nothing can fail: a Redis store holds a share of a connection
	// pool until Close.
	e.store = newStore(s, opts)
	return e, nil
}

// Close releases what the engine shares with other engines: its spool,
// whose worker stops when no engine uses the directory any more, and its
// share of a Redis store's connections, which close with the last share.
// Hosts call it when they drop an engine (Caddy's usage pool, Traefik's
// registry when a config replaces another). An engine is not used after
// Close; a request still running on it decides its rate rules by their
// storeFailure if it finds the connections closed.
func (e *Engine) Close() {
	if !e.closed.CompareAndSwap(false, true) {
		return
	}
	// The spool stays reachable: a request still running on a replaced
	// engine may spool one more entry, which waits on disk for the next
	// worker of that directory.
	if e.spool != nil {
		releaseSpool(e.spool)
	}
	if e.store != nil {
		e.store.kind.close(e.store)
	}
}

// SetClock replaces the clock, for tests of time windows and rates.
func (e *Engine) SetClock(now func() time.Time) {
	e.now = now
	for _, l := range e.lists {
		l.now = now
	}
}

// Warnings lists, in plain words, the verification checks that are off
// because the config sets no credential for them. Adapters log them once
// when they build the engine, so that an open route is never silent.
func (e *Engine) Warnings() []string { return e.warnings }

// List returns a named list, or nil.
func (e *Engine) List(name string) *List { return e.lists[name] }

// Config returns the configuration the engine was built from.
func (e *Engine) Config() Config { return e.cfg }

// ReadInput reads the request body up to the configured limit. It returns
// a finished Outcome (405, 413, 400) when the request cannot be a
// callback. Serve also bounds the read by readTimeout, which needs the
// ResponseWriter; hosts that read the body themselves bound it their way.
func (e *Engine) ReadInput(r *http.Request) (*Input, *Outcome) {
	return readInput(e, nil, r)
}

// readInput reads the body under the read deadline when w can set one
// (net/http servers and the gateways' writers that unwrap to them): a
// client that sends a body slowly, a byte at a time, must not hold a
// goroutine and a connection for as long as it likes.
func readInput(e *Engine, w http.ResponseWriter, r *http.Request) (*Input, *Outcome) {
	in := &Input{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, RemoteAddr: r.RemoteAddr}
	if r.Method != http.MethodPost {
		return in, failure(ResultMethod, http.StatusMethodNotAllowed, "method", fmt.Errorf("%s: %w", r.Method, ErrMethod))
	}
	if r.ContentLength > int64(e.set.maxBody) {
		return in, failure(ResultTooLarge, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("content-length %d over %d: %w", r.ContentLength, e.set.maxBody, ErrTooLarge))
	}
	if r.Body == nil {
		return in, nil
	}
	if w != nil {
		// Not supported by every writer (then the gateway's own read
		// timeout bounds the body); the server clears the deadline before
		// the next request on the connection.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(e.set.readTimeout))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(e.set.maxBody)+1))
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return in, failure(ResultTooSlow, http.StatusRequestTimeout, "read_timeout", fmt.Errorf("the body did not arrive within %s: %w", e.set.readTimeout, ErrBadBody))
		}
		return in, failure(ResultBadRequest, http.StatusBadRequest, "read", fmt.Errorf("reading body: %s: %w", err.Error(), ErrBadBody))
	}
	if len(body) > e.set.maxBody {
		return in, failure(ResultTooLarge, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("body over %d bytes: %w", e.set.maxBody, ErrTooLarge))
	}
	in.Body = body
	return in, nil
}

func failure(result string, status int, reason string, err error) *Outcome {
	return &Outcome{Result: result, Status: status, Body: []byte("imgate: " + err.Error() + "\n"), Reason: reason, Err: err}
}

// Decide recognises, verifies, decodes and decides one callback.
func (e *Engine) Decide(in *Input) *Outcome {
	return decide(e, in)
}

// decide and the functions it calls are plain functions, not methods, and
// keep calls few on purpose: under Yaegi v0.16.1 (Traefik) an interpreted
// method call costs about 2 µs and a function call 0.3 µs, and this path runs
// for every callback.
func decide(e *Engine, in *Input) *Outcome {
	if in.Method != "" && in.Method != http.MethodPost {
		return failure(ResultMethod, http.StatusMethodNotAllowed, "method", fmt.Errorf("%s: %w", in.Method, ErrMethod))
	}
	if len(in.Body) > e.set.maxBody {
		return failure(ResultTooLarge, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("body over %d bytes: %w", e.set.maxBody, ErrTooLarge))
	}
	now := e.now()
	var q callbackQuery
	var p *platform
	recognised := false
	for _, candidate := range e.set.platforms {
		if q, recognised = candidate.parse(in); recognised {
			p = candidate
			break
		}
	}
	if p == nil {
		last := e.set.platforms[len(e.set.platforms)-1]
		return failure(ResultBadRequest, http.StatusBadRequest, "no_command", last.notCallback(in))
	}
	if q.duplicate != "" {
		return failure(ResultBadRequest, http.StatusBadRequest, "duplicate", fmt.Errorf("the query holds %s twice: %w", q.duplicate, ErrDuplicate))
	}
	ev := &Event{Platform: p.name, Command: q.command, platform: p, cmd: p.lookup(q.command)}
	ev.Event = ev.cmd.event
	ev.Phase = phaseOf(ev.cmd.before)
	verified, err := p.verify(e.set, q, in.RemoteAddr, now)
	if err != nil {
		out := verifyFailure(err)
		out.Event = ev
		return out
	}
	out := &Outcome{Event: ev, Verified: verified}
	err = p.decode(ev, q, in.Body)
	if err == nil && mayHoldReplacement(in.Body) {
		err = checkIDs(ev)
	}
	// A new vendor command may shape a field differently from the known
	// commands' structs; it still gets its continue reply when the body is
	// a JSON object, because new commands must never break users' apps.
	// Encoding and duplicate-field faults are refused all the same.
	lenient := ev.Event == EventUnknown && isJSONObject(in.Body) && !errors.Is(err, ErrEncoding) && !errors.Is(err, ErrDuplicate)
	if err != nil && !lenient {
		out = failure(ResultBadRequest, http.StatusBadRequest, bodyReason(err), err)
		out.Event = ev
		out.Verified = verified
		return out
	}
	applyRules(e, ev, out, now.UnixNano())
	return out
}

// bodyReason labels why a body was refused, for logs and metrics.
func bodyReason(err error) string {
	switch {
	case errors.Is(err, ErrEncoding):
		return "encoding"
	case errors.Is(err, ErrDuplicate):
		return "duplicate"
	case errors.Is(err, ErrCommandMismatch):
		return "command_mismatch"
	}
	return "bad_body"
}

func verifyFailure(err error) *Outcome {
	switch {
	case errors.Is(err, ErrAppID):
		return failure(ResultForbidden, http.StatusForbidden, "appid", err)
	case errors.Is(err, ErrSource):
		return failure(ResultForbidden, http.StatusForbidden, "source", err)
	case errors.Is(err, ErrStale):
		return failure(ResultUnauthorized, http.StatusUnauthorized, "stale", err)
	case errors.Is(err, ErrSecret):
		return failure(ResultUnauthorized, http.StatusUnauthorized, "secret", err)
	}
	return failure(ResultUnauthorized, http.StatusUnauthorized, "signature", err)
}

// decisionRefuse is the decision of a partial refusal: some members are
// refused, the rest are let in.
const decisionRefuse = "refuse"

// applyRules runs the candidate rules for the event and encodes the
// decision into out.
func applyRules(e *Engine, ev *Event, out *Outcome, now int64) {
	if len(e.fileLists) > 0 {
		refreshLists(e.fileLists, now)
	}
	p := ev.platform
	action := e.set.defaultAction
	ruleName := RuleDefault
	r, matched := pickRule(e, ev, out, now)
	if r != nil {
		action = r.action
		ruleName = r.name
	}
	out.Rule = ruleName
	// The common replies are constant per platform, rule and outcome and
	// are set directly; only an echoing allow and a partial refusal are
	// encoded per callback.
	switch {
	case action == ActionForward:
		out.Result = ResultForward
		out.Decision = ""
	case ev.Event == EventUnknown:
		// New vendor commands must never break users' apps.
		answer(out, ResultUnknown, ActionAllow, p.allowReply)
	case !ev.cmd.before:
		answer(out, ResultAck, ResultAck, p.allowReply)
	case action == ActionAllow && len(ev.echo) > 0:
		// Only known before-commands echo (command.echo), so the two
		// cases above never carry an echo.
		encodeReply(out, ResultAllow, ActionAllow, 0, "", nil)
	case action == ActionAllow:
		answer(out, ResultAllow, ActionAllow, p.allowReply)
	case r == nil:
		answer(out, ResultDeny, ActionDeny, e.defaultDenies[p.index])
	case r.members != nil && ev.cmd.partialRefusal && len(matched) < len(ev.Members):
		encodeReply(out, ResultRefuse, decisionRefuse, 0, "", matched)
	default:
		answer(out, ResultDeny, ActionDeny, r.denyReplies[p.index])
	}
}

// answer sets out's reply to one of the replies encoded in advance.
func answer(out *Outcome, result, decision string, body []byte) {
	out.Result = result
	out.Status = http.StatusOK
	out.Decision = decision
	out.Body = body
}

// encodeReply writes the platform reply for a decision into out.
func encodeReply(out *Outcome, result, decision string, code int, msg string, refused []string) {
	ev := out.Event
	out.Result = result
	out.Status = http.StatusOK
	out.Refused = refused
	out.Decision = decision
	if result == ResultAck {
		out.Decision = ResultAck
	}
	out.Body = ev.platform.reply(ev, decision == ActionDeny, code, msg, refused)
}
