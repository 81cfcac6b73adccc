// Package core decides Tencent Cloud IM and OpenIM group callbacks.
//
// It recognises the platform and command of a callback, verifies it, decodes it
// into a platform-neutral Event, runs the ordered rules and either encodes the
// platform's exact reply or describes the request to forward to the business
// service. It imports only the standard library so that the same code runs
// compiled inside Caddy and interpreted by Yaegi v0.16.1 inside Traefik; see
// docs/design.md for the constructs that rule out.
package core
