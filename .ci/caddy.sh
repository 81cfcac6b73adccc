#!/usr/bin/env bash
# Smoke test of the Caddy build: builds cmd/caddy, runs it on
# Caddyfile.example (gateway :8080, admin localhost:2019) and runs
# internal/smoke, which sends the four vendor sample callbacks
# (testdata/seeds) plus a rule denial and a forward fallback and checks the
# exact replies and the metrics. Needs only Go and bash. Exits non-zero on
# any mismatch; bounded: about 10 s after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
caddy_pid=""
cleanup() {
	if [ -n "$caddy_pid" ]; then
		kill "$caddy_pid" 2>/dev/null || true
		wait "$caddy_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "caddy.sh: building cmd/caddy and internal/smoke"
go build -o "$tmp/caddy" ./cmd/caddy
go build -o "$tmp/smoke" ./internal/smoke
"$tmp/caddy" list-modules | grep -qx 'http.handlers.imgate' || { echo "caddy.sh: imgate module not in the build"; exit 1; }

for port in 8080 2019; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "caddy.sh: port $port is already in use; stop what listens there"
		exit 1
	fi
done

"$tmp/caddy" run --config Caddyfile.example >"$tmp/caddy.log" 2>&1 &
caddy_pid=$!
if ! timeout 60 "$tmp/smoke" -gateway http://127.0.0.1:8080 -admin http://localhost:2019; then
	echo "caddy.sh: FAILED; caddy log:"
	cat "$tmp/caddy.log"
	exit 1
fi
