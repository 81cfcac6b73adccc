package core

import "time"

// platform is everything the engine knows of one IM platform. tencent.go
// and openim.go each fill one; the engine, the rules and forwarding look the
// entry up instead of branching on the platform's name, so a new platform
// is a new file with its entry (plus a line in platforms, its config section
// in Config and its settings, and its golden cases).
//
// It is a struct of plain function fields, not an interface: Yaegi v0.16.1
// (Traefik) calls an interpreted function value far more cheaply than an
// interpreted method, and this table is used on every callback.
type platform struct {
	// name is the platform's config and event name ("tencent").
	name string
	// index is the platform's position in platforms, for per-platform
	// slices such as a rule's deny codes.
	index int
	// settle validates the platform's config keys and fills its settings.
	settle func(c *Config, s *settings) error
	// credential returns the credential settle resolved (token, secret),
	// so that a config's fingerprint changes when a credential file does.
	credential func(s *settings) string

	// parse recognises the platform's callback in a request: it returns
	// the command and the query values the platform sends, and whether the
	// request is one; notCallback then says what is missing. The query
	// travels by value: a pointer passed through a function value escapes
	// to the heap. The error is built only when no platform takes the
	// request: with platform auto every OpenIM callback is first offered to
	// Tencent.
	parse       func(in *Input) (callbackQuery, bool)
	notCallback func(in *Input) error
	// lookup maps a command word to its event; unknown commands map to
	// EventUnknown, phased by what their name says.
	lookup func(name string) command
	// commands is the command table, for documentation and the rule index.
	commands map[string]command
	// verify checks the request against the configured credentials and
	// returns what it verified, for X-Imgate-Verified.
	verify func(s *settings, q callbackQuery, remote string, now time.Time) (string, error)
	// decode fills ev from the body (ev.Command is set).
	decode func(ev *Event, q callbackQuery, body []byte) error

	// reply encodes a decision: allow (deny false, no refused), deny with a
	// code and message, or a partial refusal of some members.
	reply func(ev *Event, deny bool, code int, msg string, refused []string) []byte
	// allowReply is the plain continue reply, for a request imgate could
	// not finish deciding (a recovered panic).
	allowReply []byte
	// validCode reports whether a deny code is valid on the platform;
	// codeRange says which codes are, for error messages.
	validCode func(code int) bool
	codeRange string
	// defaultDenyCode is the code of a deny without one.
	defaultDenyCode int

	// deadline is how long a forwarded callback may take.
	deadline func(s *settings) time.Duration
	// checkNative validates an upstream reply in the platform's own format
	// and returns the decision it carries: allow, deny or refuse.
	checkNative func(ev *Event, body []byte) (string, error)

	// warnings lists the verification checks the settings leave off.
	warnings func(s *settings) []string

	// scrub returns the request's query and path without the credentials
	// the platform carries in them (Tencent's Sign and RequestTime, the
	// OpenIM secret), for the upstream: the business service gets what it
	// needs, not what would let it, or its logs, call imgate.
	scrub func(s *settings, in *Input) (rawQuery, path string)
}

// platforms is every platform imgate answers, in recognition order: with
// platform "auto", a request belongs to the first platform that parses it.
var platforms = []*platform{tencentPlatform, openimPlatform}

// platformNamed returns the platform called name, or nil.
func platformNamed(name string) *platform {
	for _, p := range platforms {
		if p.name == name {
			return p
		}
	}
	return nil
}

// platformNames lists the platforms' names, for error messages.
func platformNames() []string {
	names := make([]string, 0, len(platforms))
	for _, p := range platforms {
		names = append(names, p.name)
	}
	return names
}

// callbackQuery is what a platform's parse reads from a request before the
// body: the command word and the platform's query and path values. A
// platform fills only the fields it has.
type callbackQuery struct {
	command string
	// rawQuery is the request's query, for values only verification reads.
	rawQuery string
	// Tencent query values.
	appID, clientIP, optPlatform, sign, requestTime string
	// pathRest is the path before an OpenIM command segment, where a
	// shared secret may sit.
	pathRest string
	// duplicate names a parameter the platform reads that appears more
	// than once; decide refuses such a request.
	duplicate string
}

// command describes one platform command word.
type command struct {
	event string
	// before is true when the platform waits for and acts on the reply.
	before bool
	// partialRefusal is true when the reply can refuse some members and
	// let the rest in.
	partialRefusal bool
	// echo names the request fields an allow reply must copy back, for
	// commands whose reply overwrites the request; nil for most.
	echo *echoSpec
}

// phaseOf names a command's phase.
func phaseOf(before bool) string {
	if before {
		return "before"
	}
	return "after"
}
