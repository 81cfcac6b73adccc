package main

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/imgate/imgate/bench/report"
)

// Setup is one system under test. Every setup serves the same routes
// (/tencent and /openim/<command>) on its own loopback port.
type Setup struct {
	report.Item
	// Caddyfile names the config in bench/configs for Caddy setups; empty
	// for the bare server.
	Caddyfile string
	// Decides is true when the setup applies the rules, so its replies must
	// equal core.Engine's; false for the fixed allow reply (A, B).
	Decides bool
	// NeedsService is true when it proxies to the status quo service.
	NeedsService bool
}

// Setups in the order each repeat runs them.
var Setups = []Setup{
	{Item: report.Item{ID: "A", Description: "bare Go net/http server returning the fixed allow reply (the ceiling; decides nothing)"}},
	{Item: report.Item{ID: "B", Description: "Caddy `respond` with the fixed allow reply on the same routes (the gateway's own cost; decides nothing)"}, Caddyfile: "B.Caddyfile"},
	{Item: report.Item{ID: "C", Description: "Caddy + imgate answering from rules (verifies the Tencent signature, decodes, applies 5 rules)"}, Caddyfile: "C.Caddyfile", Decides: true},
	{Item: report.Item{ID: "D", Description: "status quo: Caddy `reverse_proxy` to a small Go service that parses the callback and applies the same rules"}, Caddyfile: "D.Caddyfile", Decides: true, NeedsService: true},
	{Item: report.Item{ID: "E", Description: "Caddy + imgate verifying and forwarding every callback (normalized format) to that service, which decides"}, Caddyfile: "E.Caddyfile", Decides: true, NeedsService: true},
}

// Ports are the loopback ports of one run.
type Ports struct{ Base int }

// Setup is the port a setup serves on: Base+1 for A … Base+5 for E.
func (p Ports) Setup(i int) int { return p.Base + 1 + i }

// Admin is the Caddy admin port of setup i (pprof lives there).
func (p Ports) Admin(i int) int { return p.Base + 101 + i }

// Service is the status quo service's port.
func (p Ports) Service() int { return p.Base + 10 }

// Command returns the program and arguments that start setup i, and the
// environment the Caddyfile reads.
func (s Setup) Command(i int, bins Binaries, repo string, ports Ports) (string, []string, []string) {
	if s.Caddyfile == "" {
		return bins.Bare, []string{"-addr", "127.0.0.1:" + strconv.Itoa(ports.Setup(i))}, nil
	}
	env := []string{
		"BENCH_PORT=" + strconv.Itoa(ports.Setup(i)),
		"BENCH_ADMIN_PORT=" + strconv.Itoa(ports.Admin(i)),
		"BENCH_UPSTREAM_PORT=" + strconv.Itoa(ports.Service()),
	}
	return bins.Caddy, []string{"run", "--adapter", "caddyfile", "--config", filepath.Join(repo, "bench", "configs", s.Caddyfile)}, env
}

// URL is the base URL wrk drives.
func (p Ports) URL(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", p.Setup(i)) }
