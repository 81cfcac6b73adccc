#!/usr/bin/env bash
# Benchmark smoke test for CI (about 3 minutes once Traefik is built;
# building it the first time on a machine takes about 12 more, see
# .ci/traefik-build.sh): the bench packages' unit tests (including the check
# that bench/RESULTS.md and docs/performance.md are what bench/results.json
# renders), then one short repeat of the whole benchmark (all setups A–F and
# T0–T3, every workload closed-loop, the open-loop rates on the mix, every
# reply checked, Go benchmarks once). Results go to a temp dir; the
# committed results and docs are not touched; then a short soak and fault
# run on Caddy (bench/soak.sh -quick). Fails if any setup answers wrongly,
# any run has errors, a soak check fails, or a program does not build.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./bench/...
go test ./bench/...
BENCH_QUICK=1 bench/run.sh
# The soak and fault run, shortened (under a minute): Caddy only, its
# configuration not reloaded (a Caddy reload closes idle keep-alive
# connections, which the full run reports; see docs/reliability.md).
bench/soak.sh -quick -gateways caddy -reloads none
