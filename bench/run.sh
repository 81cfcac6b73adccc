#!/usr/bin/env bash
# The imgate benchmark, one command: installs wrk if missing (Debian/Ubuntu
# apt-get), then builds Caddy with imgate, the bare server and the status
# quo service, measures setups A–E on loopback and writes bench/RESULTS.md,
# bench/results.png and bench/results.json. About 8 minutes.
#
#   bench/run.sh               full run (3 repeats × 6 s per setup and workload)
#   bench/run.sh -quick        smoke run (~1 minute; results in a temp dir)
#   bench/run.sh -pprof DIR    also save CPU profiles of setups C and E
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
