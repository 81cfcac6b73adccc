#!/usr/bin/env bash
# Proves the plugin in a real Traefik: builds Traefik v3.7.9 from the Go
# module proxy (.ci/traefik-build.sh; about 12 minutes the first time on a
# machine, cached under ~/.cache/imgate afterwards), then runs
# internal/traefikreal's tests (build tag traefikreal) against it. They
# start the binary with this checkout as a local plugin and run every
# golden case, the README's examples, forwarding faults, list-file and
# configuration reloads and the logs through it; see README "Proven in a
# real Traefik". Then internal/replicas' Traefik tests: a Caddy and this
# Traefik sharing one rate limit on a real Redis (.ci/redis.sh), which is
# killed and restarted mid-run.
#   .ci/traefik-real.sh                 build if needed, then test
#   .ci/traefik-real.sh -run Golden -v  extra flags go to `go test`
#   IMGATE_TRAEFIK=/path/to/traefik ... test that binary (no build)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
if [ -z "${IMGATE_TRAEFIK:-}" ]; then
	IMGATE_TRAEFIK=$(bash .ci/traefik-build.sh)
fi
export IMGATE_TRAEFIK
if [ -z "${IMGATE_REDIS_SERVER:-}" ]; then
	IMGATE_REDIS_SERVER=$(bash .ci/redis.sh)
fi
export IMGATE_REDIS_SERVER
echo "traefik-real: $("$IMGATE_TRAEFIK" version | sed -n 's/^Version: *//p') at $IMGATE_TRAEFIK"
go vet -tags traefikreal ./internal/traefikreal/ ./internal/replicas/
# test.sh's staticcheck does not see files behind the build tag.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags traefikreal ./internal/traefikreal/ ./internal/replicas/
go test -race -count=1 -timeout 10m -tags traefikreal ./internal/traefikreal/ "$@"
# The Caddy + Caddy tests of the package ran in test.sh already.
go test -race -count=1 -timeout 10m -tags traefikreal -run 'Traefik' ./internal/replicas/
