#!/usr/bin/env bash
# The imgate benchmark, one command: installs wrk if missing (Debian/Ubuntu
# apt-get), gets the real Traefik v3.7.9 binary (.ci/traefik-build.sh:
# about 12 minutes the first time on a machine, cached afterwards; or
# IMGATE_TRAEFIK=/path/to/traefik), exports the committed tree (uncommitted
# changes are refused unless -dirty is given, and then their diff's SHA-256
# is recorded), builds Caddy with imgate, the bare and plain net/http
# servers, the status quo service, the open-loop client and the WASM
# plugin from that export, measures setups A–F and the Traefik setups T0–T3 (the export as
# Traefik's local plugin) on loopback (closed-loop wrk for throughput,
# fixed rates for latency) and writes bench/RESULTS.md, bench/results.png,
# bench/results.json and the numbers of docs/performance.md. About 35
# minutes.
#
#   bench/run.sh               full run (3 repeats per phase)
#   bench/run.sh -quick        smoke run (about 2 minutes; results in a temp dir)
#   bench/run.sh -dirty        measure uncommitted changes too
#   bench/run.sh -pprof DIR    also save CPU profiles of setups C, E and T1
#   bench/run.sh -from bench/results.json   re-render without measuring
#   bench/run.sh -h            every option
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
	echo "bench: installing wrk with apt-get" >&2
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq wrk >/dev/null
fi
# Re-rendering (-from) and help start no setup; -traefik names the binary.
needs_traefik=1
for arg in "$@"; do
	case $arg in
	-from | -from=* | --from | --from=* | -traefik | -traefik=* | --traefik | --traefik=* | -h | -help | --help) needs_traefik=0 ;;
	esac
done
if [ -z "${IMGATE_TRAEFIK:-}" ] && [ "$needs_traefik" = 1 ]; then
	IMGATE_TRAEFIK=$(bash .ci/traefik-build.sh)
	export IMGATE_TRAEFIK
fi
exec go run ./bench/cmd/benchrun "$@"
