package core

import (
	"errors"
	"fmt"
	"io"
	"net/http"
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
	ResultError        = "error"        // HTTP 500: a recovered panic
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
	// Rule is the rule that decided, "default", or "" before a decision.
	Rule string
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
	// Duration is the time spent in imgate, set by Serve.
	Duration time.Duration

	input *Input
	// started is when Serve began reading the request: the forward
	// deadline counts from there, as the platform's budget already runs.
	started time.Time
}

// Engine decides callbacks for one configuration. It is safe for concurrent
// use and keeps no goroutine of its own: the only goroutines it starts run
// one forwarded request each and end by the platform deadline.
type Engine struct {
	cfg   Config
	set   *settings
	rules []*rule
	lists map[string]*List
	now   func() time.Time
	// deliveries bounds after-callbacks forwarded in the background.
	deliveries *deliveries
}

// New validates cfg and compiles it. Errors name the config key and the reason.
func New(cfg Config) (*Engine, error) {
	s, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, set: s, lists: map[string]*List{}, now: time.Now, deliveries: newDeliveries(MaxBackgroundDeliveries)}
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
	return e, nil
}

// SetClock replaces the clock, for tests of time windows and rates.
func (e *Engine) SetClock(now func() time.Time) {
	e.now = now
	for _, l := range e.lists {
		l.now = now
	}
}

// List returns a named list, or nil.
func (e *Engine) List(name string) *List { return e.lists[name] }

// Config returns the configuration the engine was built from.
func (e *Engine) Config() Config { return e.cfg }

// ReadInput reads the request body up to the configured limit. It returns a
// finished Outcome (405, 413, 400) when the request cannot be a callback.
func (e *Engine) ReadInput(r *http.Request) (*Input, *Outcome) {
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
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(e.set.maxBody)+1))
	if err != nil {
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
	if in.Method != "" && in.Method != http.MethodPost {
		return failure(ResultMethod, http.StatusMethodNotAllowed, "method", fmt.Errorf("%s: %w", in.Method, ErrMethod))
	}
	if len(in.Body) > e.set.maxBody {
		return failure(ResultTooLarge, http.StatusRequestEntityTooLarge, "too_large", fmt.Errorf("body over %d bytes: %w", e.set.maxBody, ErrTooLarge))
	}
	ev := &Event{}
	verified, out := e.recognise(in, ev)
	if out != nil {
		return out
	}
	out = &Outcome{Event: ev, Verified: verified, input: in}
	// A new vendor command may shape a field differently from the known
	// commands' structs; it still gets its continue reply when the body is
	// a JSON object, because new commands must never break users' apps.
	if err := e.decode(in, ev); err != nil && !(ev.Event == EventUnknown && isJSONObject(in.Body)) {
		out = failure(ResultBadRequest, http.StatusBadRequest, "bad_body", err)
		out.Event, out.Verified = ev, verified
		return out
	}
	e.decideRules(ev, out)
	return out
}

// recognise finds the platform and command and verifies the request.
func (e *Engine) recognise(in *Input, ev *Event) (string, *Outcome) {
	now := e.now()
	platform := e.set.platform
	if platform == PlatformAuto {
		platform = PlatformOpenIM
		if queryValue(in.RawQuery, "CallbackCommand") != "" {
			platform = PlatformTencent
		}
	}
	ev.Platform = platform
	var verified string
	var err error
	if platform == PlatformTencent {
		ev.Command = queryValue(in.RawQuery, "CallbackCommand")
		if ev.Command == "" {
			return "", failure(ResultBadRequest, http.StatusBadRequest, "no_command", fmt.Errorf("query has no CallbackCommand: %w", ErrNotCallback))
		}
		c, known := lookupTencent(ev.Command)
		ev.Event, ev.before = c.event, c.before
		_ = known
		verified, err = e.verifyTencent(in.RawQuery, now)
	} else {
		cmd, rest, _ := openimCommandOf(in.Path, in.RawQuery)
		if cmd == "" {
			return "", failure(ResultBadRequest, http.StatusBadRequest, "no_command", fmt.Errorf("path %q ends in no OpenIM callback command and the query has no command=: %w", in.Path, ErrNotCallback))
		}
		ev.Command = cmd
		c, _ := lookupOpenIM(cmd)
		ev.Event, ev.before = c.event, c.before
		verified, err = e.verifyOpenIM(rest, in.RawQuery, in.RemoteAddr)
	}
	ev.Phase = phaseOf(ev.before)
	if err != nil {
		out := verifyFailure(err)
		out.Event = ev
		return "", out
	}
	return verified, nil
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

func (e *Engine) decode(in *Input, ev *Event) error {
	var err error
	if ev.Platform == PlatformTencent {
		err = decodeTencent(ev, in.RawQuery, in.Body)
	} else {
		err = decodeOpenIM(ev, in.Body)
	}
	return err
}

// decideRules runs the rules and encodes the decision into out.
func (e *Engine) decideRules(ev *Event, out *Outcome) {
	action, ruleName := e.set.defaultAction, "default"
	var matched []string
	var r *rule
	now := e.now().UnixNano()
	for _, candidate := range e.rules {
		ok, members := candidate.match(ev, now)
		if !ok {
			continue
		}
		if candidate.shadow {
			out.Shadow = append(out.Shadow, ShadowHit{Rule: candidate.name, Action: candidate.action})
			continue
		}
		r, action, ruleName, matched = candidate, candidate.action, candidate.name, members
		break
	}
	out.Rule = ruleName
	switch {
	case action == ActionForward:
		out.Result, out.Decision = ResultForward, ""
	case ev.Event == EventUnknown:
		// New vendor commands must never break users' apps.
		e.encode(out, ResultUnknown, ActionAllow, 0, "", nil)
	case !ev.before:
		e.encode(out, ResultAck, ActionAllow, 0, "", nil)
	case action == ActionAllow:
		e.encode(out, ResultAllow, ActionAllow, 0, "", nil)
	default:
		code, msg := DefaultTencentDenyCode, ""
		if ev.Platform == PlatformOpenIM {
			code = DefaultOpenIMDenyCode
		}
		if r != nil {
			code, msg = r.tencentCode, r.message
			if ev.Platform == PlatformOpenIM {
				code = r.openimCode
			}
		}
		if r != nil && r.members != nil && ev.partialRefusal && len(matched) < len(ev.Members) {
			e.encode(out, ResultRefuse, "refuse", 0, "", matched)
			return
		}
		e.encode(out, ResultDeny, ActionDeny, code, msg, nil)
	}
}

// encode writes the platform reply for a decision into out.
func (e *Engine) encode(out *Outcome, result, decision string, code int, msg string, refused []string) {
	ev := out.Event
	out.Result, out.Status, out.Refused = result, http.StatusOK, refused
	out.Decision = decision
	if result == ResultAck {
		out.Decision = ResultAck
	}
	if ev.Platform == PlatformTencent {
		if decision != ActionDeny {
			code, msg = 0, ""
		}
		out.Body = tencentReply(code, msg, refused)
		return
	}
	out.Body = openimReply(decision == ActionDeny, code, msg, ev.echo)
}
