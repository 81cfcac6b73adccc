package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/imgate/imgate/bench/report"
	"github.com/imgate/imgate/traefikwasm/build"
)

// The programs a run builds from the measured tree, by name, with their
// packages. Setups name their server program here.
const (
	ProgramBare      = "bare"
	ProgramPlain     = "plain"
	ProgramCaddy     = "caddy"
	ProgramStatusQuo = "statusquo"
	ProgramOpenLoop  = "openloop"
	// ProgramWasmBuild builds the WASM plugin (cmd/imgate-wasm) for the
	// setups whose plugin is WASM (BuildPlugins).
	ProgramWasmBuild = "imgate-wasm"
	// ProgramTraefik is the real Traefik binary (-traefik, which
	// bench/run.sh gets from .ci/traefik-build.sh), not built from the
	// measured tree; the tree is its plugin.
	ProgramTraefik = "traefik"
)

// The upstreams a setup may proxy to, each a server of its own that the
// run starts once.
const (
	// UpstreamService is the status quo service (bench/statusquo), which
	// decides with the rules.
	UpstreamService = "service"
	// UpstreamStatic is a bare net/http server (bench/bare, setup A's
	// program) answering the fixed allow reply.
	UpstreamStatic = "static"
)

// Programs are built into the run's temp dir before anything is measured.
var Programs = []struct{ Name, Package string }{
	{ProgramCaddy, "./cmd/caddy"},
	{ProgramBare, "./bench/bare"},
	{ProgramPlain, "./bench/plain"},
	{ProgramStatusQuo, "./bench/statusquo"},
	{ProgramOpenLoop, "./bench/cmd/openloop"},
	{ProgramWasmBuild, "./cmd/imgate-wasm"},
}

// Upstreams are the servers setups proxy to, by name (Upstream*) with
// their program; each runs once per run.
var Upstreams = []struct{ Name, Program string }{
	{UpstreamService, ProgramStatusQuo},
	{UpstreamStatic, ProgramBare},
}

// Setup is one system under test, described as data so that a new gateway
// setup is one more entry. Every setup serves the same routes (/tencent
// and /openim/<command>) on its own loopback port.
type Setup struct {
	report.Item
	// Program is the server the setup runs, one of the Program* names.
	Program string
	// Config is the setup's file in bench/configs: the Caddyfile of a
	// Caddy setup, the dynamic configuration (file provider YAML) of a
	// Traefik setup, the rules of ProgramPlain; empty for ProgramBare.
	// ${BENCH_UPSTREAM_PORT} in a Traefik setup's file is the upstream's
	// port.
	Config string
	// Decides is true when the setup applies the rules, so its replies must
	// equal core.Engine's; false for the fixed allow reply (A, B, T0).
	Decides bool
	// Upstream is the server the setup proxies to (Upstream*), whose CPU
	// then counts as the setup's; empty for none.
	Upstream string
	// Plugin is the local plugin a Traefik setup loads as "imgate", the
	// name its dynamic configuration's middleware uses; nil for none.
	Plugin *TraefikPlugin
	// Profile is true for the setups whose CPU profiles -pprof saves
	// (through Caddy's admin API, or Traefik's api.debug).
	Profile bool
}

// TraefikPlugin is a plugin a Traefik setup loads from
// experimental.localPlugins.
type TraefikPlugin struct {
	// Dir holds the plugin as Traefik reads it from
	// plugins-local/src/<Module>: .traefik.yml with the Go sources Yaegi
	// interprets, or with plugin.wasm (runtime: wasm). Relative to the
	// measured tree; "." is the tree itself, the local plugin the README
	// tells users to set up.
	Dir string
	// Module is the plugin's moduleName; default: the module of Dir's
	// go.mod.
	Module string
	// Wasm says Dir's manifest is runtime: wasm: BuildPlugins writes
	// plugin.wasm, built from the measured tree, into Dir before Traefik
	// starts.
	Wasm bool
}

// Setups in the order each repeat starts from.
var Setups = []Setup{
	{Item: report.Item{ID: "A", Description: "bare Go net/http server returning the fixed allow reply (decides nothing: the floor of any HTTP server on this machine)"}, Program: ProgramBare},
	{Item: report.Item{ID: "B", Description: "Caddy `respond` with the fixed allow reply on the same routes (the gateway's own cost; decides nothing)"}, Program: ProgramCaddy, Config: "B.Caddyfile"},
	{Item: report.Item{ID: "C", Description: "Caddy + imgate answering from rules (verifies the Tencent signature, decodes, applies the rules of bench/configs/rules.json)"}, Program: ProgramCaddy, Config: "C.Caddyfile", Decides: true, Profile: true},
	{Item: report.Item{ID: "D", Description: "status quo: Caddy `reverse_proxy` to a small Go service that parses the callback and applies the same rules"}, Program: ProgramCaddy, Config: "D.Caddyfile", Decides: true, Upstream: UpstreamService},
	{Item: report.Item{ID: "E", Description: "Caddy + imgate verifying and forwarding every callback (normalized format) to that service, which decides"}, Program: ProgramCaddy, Config: "E.Caddyfile", Decides: true, Upstream: UpstreamService, Profile: true},
	{Item: report.Item{ID: "F", Description: "plain Go net/http serving imgate's engine (`core.Engine`) with the same rules, logging denials like the module (the deciding ceiling: imgate without a gateway)"}, Program: ProgramPlain, Config: "rules.json", Decides: true},
	{Item: report.Item{ID: "T0", Description: "Traefik v3.7.9 routing every callback to a static upstream, a bare net/http server answering the fixed allow reply (Traefik has no static reply of its own: one proxy hop, no plugin; decides nothing)"}, Program: ProgramTraefik, Config: "T0.yml", Upstream: UpstreamStatic},
	{Item: report.Item{ID: "T1", Description: "Traefik v3.7.9 + the imgate plugin (interpreted by Yaegi, this tree as a local plugin) answering from the same rules"}, Program: ProgramTraefik, Config: "T1.yml", Decides: true, Plugin: &TraefikPlugin{Dir: "."}, Profile: true},
	{Item: report.Item{ID: "T2", Description: "Traefik v3.7.9 + the imgate plugin (interpreted) verifying and forwarding every callback (normalized format) to the status quo service, which decides (the Traefik counterpart of E)"}, Program: ProgramTraefik, Config: "T2.yml", Decides: true, Upstream: UpstreamService, Plugin: &TraefikPlugin{Dir: "."}},
	{Item: report.Item{ID: "T3", Description: "Traefik v3.7.9 + imgate's WASM plugin (runtime: wasm, plugin.wasm built from this tree by cmd/imgate-wasm) answering from the same rules as T1"}, Program: ProgramTraefik, Config: "T3.yml", Decides: true, Plugin: &TraefikPlugin{Dir: "traefikwasm", Module: build.ModuleName, Wasm: true}},
}

// Ports are the loopback ports of one run. Traefik setups take free ports
// of their own when they start (internal/traefikreal), so theirs here stay
// unused.
type Ports struct {
	// Setups[i] serves setup i; Admin[i] is its Caddy admin API (pprof).
	Setups, Admin []int
	// Service is the status quo service's port, Static the static
	// upstream's.
	Service, Static int
}

// Upstream is the port of upstream (Upstream*); the service's for none,
// which a Caddyfile without a proxy never reads.
func (p Ports) Upstream(upstream string) int {
	if upstream == UpstreamStatic {
		return p.Static
	}
	return p.Service
}

// FreePorts picks free loopback ports for n setups and the service. All
// are held open until every one is picked, so none repeats.
func FreePorts(n int) (Ports, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	pick := func() (int, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("picking a free loopback port: %w", err)
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	var p Ports
	var err error
	for i := 0; i < n; i++ {
		var s, a int
		if s, err = pick(); err != nil {
			return p, err
		}
		if a, err = pick(); err != nil {
			return p, err
		}
		p.Setups, p.Admin = append(p.Setups, s), append(p.Admin, a)
	}
	if p.Service, err = pick(); err != nil {
		return p, err
	}
	p.Static, err = pick()
	return p, err
}

// FixedPorts lays out ports from base: the service on base, setup i on
// base+1+i, its admin API on base+101+i and the static upstream on
// base+100.
func FixedPorts(base, n int) Ports {
	p := Ports{Service: base, Static: base + 100}
	for i := 0; i < n; i++ {
		p.Setups = append(p.Setups, base+1+i)
		p.Admin = append(p.Admin, base+101+i)
	}
	return p
}

// URL is the base URL the load generators drive for setup i.
func (p Ports) URL(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", p.Setups[i]) }

// Command returns the program and arguments that start setup i from the
// measured tree at src, and the environment its config reads. A Traefik
// setup is started by StartTraefik instead.
func (s Setup) Command(i int, bins map[string]string, src string, ports Ports) (string, []string, []string) {
	addr := "127.0.0.1:" + strconv.Itoa(ports.Setups[i])
	config := filepath.Join(src, "bench", "configs", s.Config)
	switch s.Program {
	case ProgramBare:
		return bins[ProgramBare], []string{"-addr", addr}, nil
	case ProgramPlain:
		return bins[ProgramPlain], []string{"-addr", addr, "-rules", config}, nil
	}
	env := []string{
		"BENCH_PORT=" + strconv.Itoa(ports.Setups[i]),
		"BENCH_ADMIN_PORT=" + strconv.Itoa(ports.Admin[i]),
		"BENCH_UPSTREAM_PORT=" + strconv.Itoa(ports.Upstream(s.Upstream)),
	}
	return bins[ProgramCaddy], []string{"run", "--adapter", "caddyfile", "--config", config}, env
}
