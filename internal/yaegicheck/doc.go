// Package yaegicheck rejects the Go constructs that break, silently or
// loudly, when Traefik interprets a package with Yaegi v0.16.1.
//
// Check loads a package directory the way Yaegi does (its own reading of
// `// +build` lines, test files included, `//go:build` ignored), type-checks
// it with go/types and walks the syntax trees for the constructs listed in
// docs/design.md ("The Yaegi construct check"). Every finding names the file
// and line, what goes wrong under Yaegi and what to write instead. A line that
// must keep a construct carries `//yaegicheck:ignore <reason>`, on the line
// itself or alone on the line above.
//
// The package's own test runs Check over every package `yaegi test` runs in
// CI (core, traefikplugin, internal/golden, internal/upstreamtest), so
// `go test ./...` fails on any new finding. It uses only the standard
// library and the go command (for the standard library's export data).
package yaegicheck
