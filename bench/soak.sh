#!/usr/bin/env bash
# The imgate soak and fault run, one command: gets the real Traefik v3.7.9
# binary (.ci/traefik-build.sh: about 12 minutes the first time on a
# machine, cached afterwards; or IMGATE_TRAEFIK=/path/to/traefik), then
# runs bench/cmd/soak, which builds Caddy with imgate and the example
# business service from this checkout and, on loopback, soaks Caddy and
# Traefik at a fixed rate while list files and configurations change,
# kills and freezes the business service under load, and delivers 10,000
# after-callbacks durably while the delivery service flaps and Caddy
# restarts. It prints a Markdown report and exits 1 when a check fails.
# Needs only Go. About five minutes by default.
#
#   bench/soak.sh                    default run (1 min soak per gateway)
#   bench/soak.sh -d 30m             a longer soak
#   bench/soak.sh -quick             smoke run, about a minute
#   bench/soak.sh -doc               also rewrite docs/reliability.md's figures
#   bench/soak.sh -gateways caddy    Caddy only (no Traefik build)
#   bench/soak.sh -h                 every option
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
needs_traefik=1
for arg in "$@"; do
	case $arg in
	-h | -help | --help | -traefik | -traefik=* | --traefik | --traefik=*) needs_traefik=0 ;;
	-gateways=caddy | --gateways=caddy) needs_traefik=0 ;;
	esac
done
prev=""
for arg in "$@"; do
	if [ "$prev" = "-gateways" ] || [ "$prev" = "--gateways" ]; then
		case $arg in *traefik*) ;; *) needs_traefik=0 ;; esac
	fi
	prev=$arg
done
if [ -z "${IMGATE_TRAEFIK:-}" ] && [ "$needs_traefik" = 1 ]; then
	IMGATE_TRAEFIK=$(bash .ci/traefik-build.sh)
	export IMGATE_TRAEFIK
fi
exec go run ./bench/cmd/soak "$@"
