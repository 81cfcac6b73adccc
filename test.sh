#!/usr/bin/env bash
# Runs every imgate test. Needs only Go (and bash); downloads yaegi v0.16.1
# and staticcheck through the Go module proxy on first use, and builds a
# real Traefik v3.7.9 from it once per machine (about 10 minutes on 2
# cores; cached in ~/.cache/imgate, see .ci/traefik-build.sh). The
# shared-store tests need a real redis-server: when it is missing,
# .ci/redis.sh installs Debian's package with apt-get (as root), or stops
# here saying how to install it.
#   ./test.sh          everything
#   ./test.sh quick    vet and go test only (no race detector, yaegi, fuzz or smoke)
#
# The test binaries are compiled first, all of them, and only then run one
# package at a time: no test ever shares the machine with the compiler, so
# a cold first run (empty module and build caches) is as green as a warm one.
set -uo pipefail
cd "$(dirname "$0")"
export PATH=/usr/local/go/bin:$PATH

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

bin=$(mktemp -d "${TMPDIR:-/tmp}/imgate-tests.XXXXXX")
trap 'rm -rf "$bin"' EXIT

# tested lists "dir importpath binary" for every package with tests; the
# binary is named after the whole import path, since two packages may share
# a last element (bench/soak and bench/cmd/soak).
tested() {
  go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.Dir}} {{.ImportPath}}{{end}}' ./... |
    while read -r dir path; do
      if [ -n "$dir" ]; then printf '%s %s %s.test\n' "$dir" "$path" "$(printf '%s' "${path#github.com/imgate/imgate/}" | tr / _)"; fi
    done
}

# build_tests compiles one test binary per package into $bin, two at a
# time; any package that does not compile fails the step.
build_tests() {
  tested >"$bin/packages" || return 1
  [ -s "$bin/packages" ] || { echo "no packages with tests found"; return 1; }
  local flags="$*"
  awk '{print $2, $3}' "$bin/packages" |
    xargs -P 2 -n 2 bash -c 'go test '"$flags"' -c -o "$0/$2" "$1" || { echo "build failed: $1"; exit 255; }' "$bin"
}

# run_tests runs each compiled test binary in its package directory, as
# go test does, one package at a time. A package whose binary is missing
# fails: a step that ran nothing must not pass.
run_tests() {
  local status=0 dir path name t0 count=0
  while read -r dir path name; do
    t0=$SECONDS
    if [ ! -x "$bin/$name" ]; then
      printf 'FAIL %-50s no test binary\n' "$path"
      status=1
      continue
    fi
    count=$((count + 1))
    if (cd "$dir" && "$bin/$name" -test.timeout 15m "$@" >"$bin/$name.out" 2>&1); then
      printf 'ok   %-50s %ss\n' "$path" $((SECONDS - t0))
    else
      printf 'FAIL %-50s %ss\n' "$path" $((SECONDS - t0))
      cat "$bin/$name.out"
      status=1
    fi
  done <"$bin/packages"
  echo "$count packages tested"
  [ "$count" -gt 0 ] || status=1
  return $status
}

step "go vet" go vet ./...
# The WASM plugin builds for wasip1 only; building it here also warms Go's
# cache for the tests that run it (traefikwasm/..., internal/traefikreal).
step "WASM plugin (vet, build)" bash -c 'GOOS=wasip1 GOARCH=wasm go vet ./traefikwasm && go run ./cmd/imgate-wasm -o "$1/plugin.wasm"' _ "$bin"
if [ "${1:-}" = quick ]; then
  step "build tests" build_tests
  step "run tests" run_tests
else
  # The real-Traefik step needs a Traefik binary built from the module
  # proxy (about 10 minutes the first time on a machine, then cached):
  # start that build now, beside the steps below, which it would otherwise
  # follow. .ci/traefik-build.sh takes a lock, so the step waits for this
  # build and reuses it (or, if it failed, tries again and says why).
  bash .ci/traefik-build.sh >"$bin/traefik-build.log" 2>&1 &
  step "staticcheck" go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
  step "build tests (-race)" build_tests -race
  step "run tests (-race)" run_tests
  # Under -race, sync.Pool drops pooled values at random, so the WASM
  # plugin's golden run and one-instance soak skip themselves there (each
  # callback would start a Go runtime in wazero); they run here.
  step "WASM plugin in wazero (every golden case; one instance, 20,000 callbacks; no -race)" go test -count=1 ./traefikwasm/wasmhost/
  step "yaegi test (core, traefikplugin)" bash .ci/traefik.sh
  step "fuzz (brief)" bash .ci/fuzz.sh
  step "caddy smoke (Caddyfile.example + vendor samples)" bash .ci/caddy.sh
  step "real Traefik v3.7.9 (every golden case, examples, faults, reloads)" bash .ci/traefik-real.sh
fi

printf '\n'
[ "$failed" = 0 ] || printf 'failed steps: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
