#!/usr/bin/env bash
# Runs every imgate test. Needs only Go (and bash); downloads yaegi v0.16.1
# through the Go module proxy on first use.
#   ./test.sh          everything
#   ./test.sh quick    go test only (no race detector, yaegi, fuzz or smoke)
set -uo pipefail
cd "$(dirname "$0")"

passed=0 failed=0 failures=()
step() {
  local name=$1; shift
  printf '\n=== %s\n' "$name"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); printf -- '--- %s ok (%ss)\n' "$name" $((SECONDS - t0))
  else
    failed=$((failed + 1)); failures+=("$name"); printf -- '--- %s FAILED (%ss)\n' "$name" $((SECONDS - t0))
  fi
}

step "go vet" go vet ./...
if [ "${1:-}" = quick ]; then
  step "go test" go test ./...
else
  step "go test -race" go test -race -timeout 15m ./...
  step "yaegi test (core, traefikplugin)" bash .ci/traefik.sh
  step "fuzz (brief)" bash .ci/fuzz.sh
  step "caddy smoke (Caddyfile.example + vendor samples)" bash .ci/caddy.sh
fi

printf '\n'
[ "$failed" = 0 ] || printf 'failed steps: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
