#!/usr/bin/env bash
# Runs the tests of every package Traefik interprets (core, traefikplugin)
# and of the test-support packages they use (internal/golden,
# internal/upstreamtest) under Yaegi v0.16.1, the
# interpreter every Traefik v3 release embeds: passing `go test` proves
# nothing for Traefik. Yaegi reads sources GOPATH-style, so the repository
# is symlinked to <gopath>/src/github.com/imgate/imgate and the packages are
# named by import path. Needs only Go; yaegi comes through the module proxy.
#   .ci/traefik.sh            all four packages
#   .ci/traefik.sh -run Gold  extra flags go to `yaegi test`
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
module=github.com/imgate/imgate
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imgate-yaegi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

GOBIN="$tmp/bin" go install github.com/traefik/yaegi/cmd/yaegi@v0.16.1
mkdir -p "$tmp/gopath/src/$(dirname "$module")"
ln -s "$repo" "$tmp/gopath/src/$module"

cd "$tmp/gopath/src/$module"
status=0
for pkg in core traefikplugin internal/golden internal/upstreamtest internal/redistest; do
  echo "--- yaegi test $module/$pkg"
  start=$SECONDS
  if GOPATH="$tmp/gopath" GO111MODULE=off "$tmp/bin/yaegi" test "$@" "$module/$pkg"; then
    echo "--- ok $module/$pkg ($((SECONDS - start))s)"
  else
    echo "--- FAIL $module/$pkg ($((SECONDS - start))s)"
    status=1
  fi
done
exit $status
