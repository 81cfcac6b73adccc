#!/usr/bin/env bash
# The imgate benchmark, one command: installs wrk if missing (Debian/Ubuntu
# apt-get), exports the committed tree (uncommitted changes are refused
# unless -dirty is given, and then their diff's SHA-256 is recorded), builds
# Caddy with imgate, the bare and plain net/http servers, the status quo
# service and the open-loop client from that export, measures setups A–F on
# loopback (closed-loop wrk for throughput, fixed rates for latency) and
# writes bench/RESULTS.md, bench/results.png, bench/results.json and the
# numbers of docs/performance.md. About 25 minutes.
#
#   bench/run.sh               full run (3 repeats per phase)
#   bench/run.sh -quick        smoke run (1–2 minutes; results in a temp dir)
#   bench/run.sh -dirty        measure uncommitted changes too
#   bench/run.sh -pprof DIR    also save CPU profiles of setups C and E
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
exec go run ./bench/cmd/benchrun "$@"
