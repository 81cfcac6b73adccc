#!/usr/bin/env bash
# Benchmark smoke test for CI (about 1–2 minutes): the bench packages' unit
# tests, then one short repeat of the whole benchmark (all setups A–E, every
# workload, every reply checked, Go benchmarks once). Results go to a temp
# dir; the committed bench/RESULTS.md is not touched. Fails if any setup
# answers wrongly, any wrk run has errors, or a program does not build.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./bench/...
go test ./bench/...
BENCH_QUICK=1 bench/run.sh
