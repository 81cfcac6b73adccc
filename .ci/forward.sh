#!/usr/bin/env bash
# Forwarding suites: real loopback upstreams (internal/upstreamtest) behind
# imgate in core, in an in-process Caddy, and in the Traefik plugin loaded
# as Traefik loads it; the example business service; and the fault
# upstreams themselves under Yaegi (core's forward tests run under Yaegi in
# .ci/traefik.sh). Everything listens on 127.0.0.1 only.
#   .ci/forward.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
module=github.com/imgate/imgate

echo "--- go test forwarding"
go test -count=1 -run 'Forward|Capture|Deliver' ./core/
go test -count=1 ./internal/upstreamtest/ ./examples/upstream/
go test -count=1 -run 'TestForward' ./caddymodule/ ./internal/traefikload/

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgate-forward.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp/bin" go install github.com/traefik/yaegi/cmd/yaegi@v0.16.1
mkdir -p "$tmp/gopath/src/$(dirname "$module")"
ln -s "$repo" "$tmp/gopath/src/$module"
cd "$tmp/gopath/src/$module"
echo "--- yaegi test $module/internal/upstreamtest"
GOPATH="$tmp/gopath" GO111MODULE=off "$tmp/bin/yaegi" test "$module/internal/upstreamtest"
echo "--- yaegi test $module/core (forwarding)"
GOPATH="$tmp/gopath" GO111MODULE=off "$tmp/bin/yaegi" test -run 'Forward|Capture|Deliver' "$module/core"
