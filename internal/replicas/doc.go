// Package replicas holds the end-to-end tests of several gateway replicas
// sharing rate limits through one real Redis: two Caddy processes, and a
// Caddy next to a real Traefik v3.7.9 running the plugin interpreted (build
// tag traefikreal, run by .ci/traefik-real.sh). A 5/1m rule admits exactly
// 5 callbacks across both replicas; Redis is killed mid-run and every
// callback is still answered in time, by each rule's storeFailure; Redis
// restarts and sharing resumes. The Caddy processes are this package's
// test binary re-executed as Caddy (see TestMain), so no separate build is
// needed. The tests run when IMGATE_REDIS_SERVER names redis-server, as
// ./test.sh sets it.
package replicas
