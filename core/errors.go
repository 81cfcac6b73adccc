package core

import "errors"

// Sentinel errors. Yaegi mishandles custom error types, so every failure is
// one of these, wrapped with context by fmt.Errorf("...: %w", ...).
var (
	// ErrConfig marks an invalid configuration.
	ErrConfig = errors.New("invalid config")
	// ErrMethod marks a request that is not a POST.
	ErrMethod = errors.New("method not allowed")
	// ErrTooLarge marks a body over the configured limit.
	ErrTooLarge = errors.New("body too large")
	// ErrBadBody marks a body that is not the JSON object the command needs.
	ErrBadBody = errors.New("bad body")
	// ErrNotCallback marks a request that carries no recognisable command.
	ErrNotCallback = errors.New("not an IM callback")
	// ErrCommandMismatch marks a body whose command differs from the one in
	// the URL.
	ErrCommandMismatch = errors.New("command mismatch")
	// ErrDuplicate marks a query parameter or a JSON field imgate reads that
	// appears twice: two parsers could read different values.
	ErrDuplicate = errors.New("duplicated")
	// ErrEncoding marks a body or id that is not valid UTF-8.
	ErrEncoding = errors.New("not valid UTF-8")
	// ErrAppID marks a Tencent SdkAppid that is missing or not the configured one.
	ErrAppID = errors.New("sdkappid mismatch")
	// ErrSignature marks a missing or wrong Tencent Sign.
	ErrSignature = errors.New("bad signature")
	// ErrStale marks a Tencent RequestTime outside the window.
	ErrStale = errors.New("stale request time")
	// ErrSecret marks a missing or wrong OpenIM shared secret.
	ErrSecret = errors.New("bad secret")
	// ErrSource marks a source address outside the allow list.
	ErrSource = errors.New("source not allowed")
	// ErrUpstream marks an upstream answer that could not be used.
	ErrUpstream = errors.New("upstream failed")
	// ErrStoreTimeout marks a shared store (Redis) that did not answer
	// within store.timeout.
	ErrStoreTimeout = errors.New("store timeout")
	// ErrStoreDown marks a shared store imgate cannot reach: connections
	// refused or broken, or reconnecting after failures (with backoff).
	ErrStoreDown = errors.New("store unavailable")
	// ErrStoreReply marks an error reply from the shared store (wrong
	// password, out of memory, a read-only replica...).
	ErrStoreReply = errors.New("store error reply")
	// ErrStoreProtocol marks a reply that is not valid RESP2.
	ErrStoreProtocol = errors.New("store protocol error")
)
