package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate/bench/report"
)

// TestSetupsAreConsistent: the setup list, the ratio pairs, the open-loop
// points and the targets name each other correctly, so adding a setup is
// one entry and a typo fails here rather than in an eight-minute run.
func TestSetupsAreConsistent(t *testing.T) {
	ids := map[string]Setup{}
	for _, s := range Setups {
		if _, dup := ids[s.ID]; dup {
			t.Errorf("setup %s listed twice", s.ID)
		}
		ids[s.ID] = s
		switch s.Program {
		case ProgramBare:
			if s.Config != "" || s.Decides {
				t.Errorf("setup %s: the bare server has no config and decides nothing", s.ID)
			}
		case ProgramPlain, ProgramCaddy:
			if _, err := os.Stat(filepath.Join(repoFromHere, "bench", "configs", s.Config)); err != nil {
				t.Errorf("setup %s: %v", s.ID, err)
			}
		case ProgramTraefik:
			if _, err := TraefikDynamic(filepath.Join(repoFromHere, "bench", "configs", s.Config), 1); err != nil {
				t.Errorf("setup %s: %v", s.ID, err)
			}
			if s.Plugin != nil {
				if _, err := s.Plugin.Local(builtPlugins(t, s.Plugin)); err != nil {
					t.Errorf("setup %s: %v", s.ID, err)
				}
			}
		default:
			t.Errorf("setup %s: unknown program %q", s.ID, s.Program)
		}
		if s.Plugin != nil && s.Program != ProgramTraefik {
			t.Errorf("setup %s: a plugin only loads into Traefik", s.ID)
		}
		if s.Profile && s.Program != ProgramCaddy && s.Program != ProgramTraefik {
			t.Errorf("setup %s: only Caddy (admin API) and Traefik (api.debug) serve the profiles -pprof takes", s.ID)
		}
		known := s.Upstream == ""
		for _, u := range Upstreams {
			known = known || s.Upstream == u.Name
		}
		if !known {
			t.Errorf("setup %s: unknown upstream %q", s.ID, s.Upstream)
		}
	}
	for _, pair := range report.RatioPairs {
		for _, id := range pair {
			if _, ok := ids[id]; !ok {
				t.Errorf("ratio pair %v names no setup %s", pair, id)
			}
		}
	}
	for _, rt := range report.RatioTargets {
		if _, ok := ids[rt.Num]; !ok {
			t.Errorf("target %q: no setup %s", rt.Label, rt.Num)
		}
		if _, ok := ids[rt.Den]; !ok {
			t.Errorf("target %q: no setup %s", rt.Label, rt.Den)
		}
	}
	points := map[string]report.OpenLoopPoint{}
	for _, pt := range OpenLoopPoints {
		points[pt.ID] = pt
		if _, ok := ids[pt.Of]; !ok || pt.Fraction <= 0 || pt.Fraction >= 1 {
			t.Errorf("point %s: reference %s, fraction %v", pt.ID, pt.Of, pt.Fraction)
		}
		for _, id := range pt.Setups {
			if _, ok := ids[id]; !ok {
				t.Errorf("point %s runs no setup %s", pt.ID, id)
			}
		}
	}
	for _, lt := range report.LatencyTargets {
		pt, ok := points[lt.Point]
		if !ok {
			t.Errorf("target %q: no open-loop point %s", lt.Label, lt.Point)
			continue
		}
		run := strings.Join(pt.Setups, " ")
		if !strings.Contains(run, lt.Num) || !strings.Contains(run, lt.Den) {
			t.Errorf("target %q compares %s and %s, point %s runs %s", lt.Label, lt.Num, lt.Den, pt.ID, run)
		}
	}
	for _, pair := range report.TraefikPairs {
		for _, id := range []string{pair.Num, pair.Den} {
			if _, ok := ids[id]; !ok {
				t.Errorf("Traefik pair %s/%s names no setup %s", pair.Num, pair.Den, id)
			}
		}
		for _, id := range pair.Points {
			run := strings.Join(points[id].Setups, " ")
			if !strings.Contains(run, pair.Num) || !strings.Contains(run, pair.Den) {
				t.Errorf("Traefik pair %s/%s at point %s, which runs %q", pair.Num, pair.Den, id, run)
			}
		}
	}
	for _, id := range DefaultOpenLoopWorkloads {
		if _, err := selectWorkloads(id); err != nil {
			t.Error(err)
		}
	}
}

func TestFreePorts(t *testing.T) {
	p, err := FreePorts(len(Setups))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{p.Service: true}
	if seen[p.Static] || p.Static <= 0 {
		t.Fatalf("static upstream port %d repeats or is invalid: %+v", p.Static, p)
	}
	seen[p.Static] = true
	for _, port := range append(append([]int{}, p.Setups...), p.Admin...) {
		if seen[port] || port <= 0 {
			t.Fatalf("port %d repeats or is invalid: %+v", port, p)
		}
		seen[port] = true
	}
	if len(p.Setups) != len(Setups) || len(p.Admin) != len(Setups) {
		t.Fatalf("%+v", p)
	}
}

func TestSetupCommands(t *testing.T) {
	ports := FixedPorts(20000, len(Setups))
	if ports.Upstream(UpstreamStatic) != 20100 || ports.Upstream(UpstreamService) != 20000 {
		t.Errorf("upstream ports %+v", ports)
	}
	bins := map[string]string{ProgramBare: "/b/bare", ProgramPlain: "/b/plain", ProgramCaddy: "/b/caddy"}
	for i, s := range Setups {
		program, args, env := s.Command(i, bins, "/src", ports)
		addr := "127.0.0.1:" + strconv.Itoa(20001+i)
		joined := strings.Join(args, " ")
		switch s.Program {
		case ProgramBare:
			if program != "/b/bare" || joined != "-addr "+addr {
				t.Errorf("%s: %s %s", s.ID, program, joined)
			}
		case ProgramPlain:
			if program != "/b/plain" || joined != "-addr "+addr+" -rules /src/bench/configs/"+s.Config {
				t.Errorf("%s: %s %s", s.ID, program, joined)
			}
		case ProgramCaddy:
			if program != "/b/caddy" || !strings.HasSuffix(joined, "/src/bench/configs/"+s.Config) ||
				strings.Join(env, " ") != "BENCH_PORT="+strconv.Itoa(20001+i)+" BENCH_ADMIN_PORT="+strconv.Itoa(20101+i)+" BENCH_UPSTREAM_PORT=20000" {
				t.Errorf("%s: %s %s %v", s.ID, program, joined, env)
			}
		}
	}
}

func TestSelectWorkloads(t *testing.T) {
	if got, err := selectWorkloads(""); err != nil || got != nil {
		t.Errorf("empty: %v, %v", got, err)
	}
	if got, err := selectWorkloads("all"); err != nil || len(got) != len(Workloads) {
		t.Errorf("all: %v, %v", got, err)
	}
	if got, err := selectWorkloads("tencent-join, mix-deny10"); err != nil || strings.Join(got, ",") != "tencent-join,mix-deny10" {
		t.Errorf("list: %v, %v", got, err)
	}
	if _, err := selectWorkloads("nope"); err == nil {
		t.Error("an unknown workload was accepted")
	}
}

func TestPointRates(t *testing.T) {
	sums := map[string]map[string]report.Summary{"B": {"mix-deny10": {RPS: 30000}}, "D": {"mix-deny10": {RPS: 8000}}, "T1": {"mix-deny10": {RPS: 4000}}, "T2": {"mix-deny10": {RPS: 2000}}, "T3": {"mix-deny10": {RPS: 10000}}}
	points, err := pointRates(OpenLoopPoints, sums, []string{"mix-deny10"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"B50": 15000, "B80": 24000, "D50": 4000, "D80": 6400, "T1-50": 2000, "T1-80": 3200, "T2-50": 1000, "T2-80": 1600, "T3-50": 5000, "T3-80": 8000}
	for _, pt := range points {
		if pt.Rates["mix-deny10"] != want[pt.ID] {
			t.Errorf("%s: rate %v, want %v", pt.ID, pt.Rates["mix-deny10"], want[pt.ID])
		}
	}
	if OpenLoopPoints[0].Rates != nil {
		t.Error("pointRates changed the shared point list")
	}
	if _, err := pointRates(OpenLoopPoints, sums, []string{"tencent-join"}); err == nil {
		t.Error("a workload without closed-loop throughput got a rate")
	}
}

// builtPlugins returns the tree Local should find plugin's folder in: the
// repository for a plugin of sources, and for a WASM plugin a copy of its
// manifest with a plugin.wasm beside it, as BuildPlugins leaves the
// measured tree (the working tree need not hold a build).
func builtPlugins(t *testing.T, plugin *TraefikPlugin) string {
	t.Helper()
	if !plugin.Wasm {
		return repoFromHere
	}
	src := t.TempDir()
	dir := filepath.Join(src, filepath.FromSlash(plugin.Dir))
	manifest, err := os.ReadFile(filepath.Join(repoFromHere, filepath.FromSlash(plugin.Dir), ".traefik.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{".traefik.yml": manifest, wasmFile: []byte("\x00asm\x01\x00\x00\x00")} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}
