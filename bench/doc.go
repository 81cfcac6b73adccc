// Package bench is the imgate benchmark: bench/run.sh (bench/cmd/benchrun)
// measures Caddy + imgate against bare net/http, Caddy's own `respond` and
// the status quo service with wrk, and plugin_bench_test.go compares the
// Traefik plugin compiled with the same plugin interpreted by Yaegi, loaded
// the way Traefik loads it. Results: bench/RESULTS.md.
package bench
