package upstreamtest

import (
	"net/http"
	"time"
)

// Platform replies the matrix expects, byte for byte as core encodes them.
const (
	TencentAllow = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	TencentDeny  = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`
	OpenIMAllow  = `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`
	OpenIMDeny   = `{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`
)

// Case is one upstream behaviour and the platform reply it must produce.
type Case struct {
	// Name describes the behaviour, e.g. "slow" or "status-500".
	Name string
	// Behavior is how the upstream answers; ignored when Down.
	Behavior Behavior
	// Down makes the upstream a closed port.
	Down bool
	// Reply is the exact platform reply; "" means the fallback reply.
	Reply string
	// Reasons are the acceptable Outcome.Reason values of a fallback. A
	// next that returns transport errors (Caddy) says "unreachable"; one
	// that only writes a status (a Traefik service) says "status_502".
	Reasons []string
}

// Fallback reports whether the case must end in the fallback decision.
func (c Case) Fallback() bool { return c.Reply == "" }

// Start runs the case's upstream.
func (c Case) Start() *Upstream {
	if c.Down {
		return Down()
	}
	return Start(c.Behavior)
}

// FallbackReply is the reply to a before-callback when the fallback
// decision is applied with default codes.
func FallbackReply(platform, decision string) string {
	if platform == "tencent" {
		if decision == "deny" {
			return TencentDeny
		}
		return TencentAllow
	}
	if decision == "deny" {
		return OpenIMDeny
	}
	return OpenIMAllow
}

// Matrix returns the healthy and faulty upstreams for a before-callback of
// platform ("tencent" or "openim") in format ("normalized" or "native"),
// for a gateway whose forward deadline is deadline.
func Matrix(platform, format string, deadline time.Duration) []Case {
	healthy := healthyCases(platform, format)
	faults := []Case{
		{Name: "down", Down: true, Reasons: []string{"unreachable", "status_502"}},
		{Name: "slow", Behavior: Behavior{Delay: deadline + 2*time.Second, Body: healthy[0].Behavior.Body}, Reasons: []string{"timeout"}},
		{Name: "status-500", Behavior: Behavior{Status: http.StatusInternalServerError, Body: healthy[0].Behavior.Body}, Reasons: []string{"status_500"}},
		{Name: "garbage", Behavior: Behavior{Body: "<html>oops</html>"}, Reasons: []string{"invalid"}},
		{Name: "empty", Behavior: Behavior{}, Reasons: []string{"empty"}},
		{Name: "reset", Behavior: Behavior{Reset: true}, Reasons: []string{"unreachable", "status_502"}},
	}
	var invalid []Case
	switch {
	case format == "normalized" && platform == "tencent":
		invalid = []Case{
			{Name: "code-out-of-range", Behavior: Behavior{Body: `{"decision":"deny","code":42,"message":"no"}`}, Reasons: []string{"invalid"}},
			{Name: "unknown-decision", Behavior: Behavior{Body: `{"decision":"maybe"}`}, Reasons: []string{"invalid"}},
		}
	case format == "normalized":
		invalid = []Case{
			{Name: "code-out-of-range", Behavior: Behavior{Body: `{"decision":"deny","code":10150,"message":"no"}`}, Reasons: []string{"invalid"}},
			{Name: "unknown-decision", Behavior: Behavior{Body: `{"decision":"maybe"}`}, Reasons: []string{"invalid"}},
		}
	case platform == "tencent":
		invalid = []Case{
			{Name: "code-out-of-range", Behavior: Behavior{Body: `{"ActionStatus":"OK","ErrorInfo":"no","ErrorCode":20000}`}, Reasons: []string{"invalid"}},
			{Name: "missing-fields", Behavior: Behavior{Body: `{"ErrorCode":0}`}, Reasons: []string{"invalid"}},
		}
	default:
		invalid = []Case{
			{Name: "code-out-of-range", Behavior: Behavior{Body: `{"actionCode":0,"errCode":42,"errMsg":"no","errDlt":"","nextCode":1}`}, Reasons: []string{"invalid"}},
			// OpenIM v3.7+ ignores a rejection with actionCode 1: the
			// upstream meant deny, the platform would let the user in.
			{Name: "action-code-1", Behavior: Behavior{Body: `{"actionCode":1,"errCode":5001,"errMsg":"no","errDlt":"","nextCode":1}`}, Reasons: []string{"invalid"}},
		}
	}
	all := append(healthy, faults...)
	return append(all, invalid...)
}

// healthyCases are upstreams that answer allow and deny correctly; the
// first one allows.
func healthyCases(platform, format string) []Case {
	switch {
	case format == "normalized" && platform == "tencent":
		return []Case{
			{Name: "allow", Behavior: Behavior{Body: `{"decision":"allow"}`}, Reply: TencentAllow},
			{Name: "deny", Behavior: Behavior{Body: `{"decision":"deny","code":10150,"message":"not today"}`}, Reply: `{"ActionStatus":"OK","ErrorInfo":"not today","ErrorCode":10150}`},
		}
	case format == "normalized":
		return []Case{
			{Name: "allow", Behavior: Behavior{Body: `{"decision":"allow"}`}, Reply: OpenIMAllow},
			{Name: "deny", Behavior: Behavior{Body: `{"decision":"deny","code":5150,"message":"not today"}`}, Reply: `{"actionCode":0,"errCode":5150,"errMsg":"not today","errDlt":"","nextCode":1}`},
		}
	case platform == "tencent":
		return []Case{
			{Name: "allow", Behavior: Behavior{Body: TencentAllow + "\n"}, Reply: TencentAllow},
			{Name: "deny", Behavior: Behavior{Body: `{"ActionStatus":"OK","ErrorInfo":"not today","ErrorCode":10150}`}, Reply: `{"ActionStatus":"OK","ErrorInfo":"not today","ErrorCode":10150}`},
		}
	}
	return []Case{
		{Name: "allow", Behavior: Behavior{Body: `{"actionCode":0,"nextCode":0}`}, Reply: `{"actionCode":0,"nextCode":0}`},
		{Name: "deny", Behavior: Behavior{Body: `{"actionCode":0,"errCode":5150,"errMsg":"not today","errDlt":"","nextCode":1}`}, Reply: `{"actionCode":0,"errCode":5150,"errMsg":"not today","errDlt":"","nextCode":1}`},
	}
}
