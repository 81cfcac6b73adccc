// Package bench is the imgate benchmark: bench/run.sh (bench/cmd/benchrun)
// measures Caddy + imgate against bare net/http, imgate's engine in plain
// net/http, Caddy's own `respond` and the status quo service, for
// throughput with wrk and for latency at fixed rates with the open-loop
// client (bench/openloop). Its Go benchmarks compare imgate's engine, the
// Traefik plugin compiled and the same plugin interpreted by Yaegi, loaded
// the way Traefik loads it, on the same callbacks and rules as the load
// runs. Results: bench/RESULTS.md; the numbers of docs/performance.md are
// generated from them (generated_test.go keeps both honest).
package bench
