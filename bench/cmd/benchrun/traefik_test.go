package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikconf"
	"github.com/imgate/imgate/internal/traefikload"
	"github.com/imgate/imgate/internal/traefikreal"
	"github.com/imgate/imgate/traefikplugin"
	"github.com/imgate/imgate/traefikwasm/build"
)

// traefikSetup reads bench/configs/<name> as the run hands it to Traefik,
// the upstream on port 18090, and returns its router "callbacks" and, when
// it has one, the imgate plugin's config decoded as Traefik decodes it.
func traefikSetup(t *testing.T, name string) (router map[string]any, dynamic map[string]any, plugin *core.Config) {
	t.Helper()
	dynamic, err := TraefikDynamic(filepath.Join(repoFromHere, "bench", "configs", name), 18090)
	if err != nil {
		t.Fatal(err)
	}
	httpSection := dynamic["http"].(map[string]any)
	routers, _ := httpSection["routers"].(map[string]any)
	if len(routers) != 1 {
		t.Fatalf("%s: %d routers, want the one router callbacks", name, len(routers))
	}
	router, ok := routers["callbacks"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no router callbacks", name)
	}
	if eps, _ := router["entryPoints"].([]any); len(eps) != 1 || eps[0] != traefikreal.EntryPoint || router["rule"] != "PathPrefix(`/`)" {
		t.Errorf("%s: router %v, want every path of entry point %s", name, router, traefikreal.EntryPoint)
	}
	middlewares, _ := httpSection["middlewares"].(map[string]any)
	if len(middlewares) == 0 {
		return router, dynamic, nil
	}
	mw, _ := middlewares["imgate"].(map[string]any)
	conf, _ := mw["plugin"].(map[string]any)[traefikreal.PluginName].(map[string]any)
	if len(middlewares) != 1 || conf == nil {
		t.Fatalf("%s: middlewares %v, want one, the plugin %s", name, middlewares, traefikreal.PluginName)
	}
	if mws, _ := router["middlewares"].([]any); len(mws) != 1 || mws[0] != "imgate" {
		t.Errorf("%s: router middlewares %v, want [imgate]", name, router["middlewares"])
	}
	cfg := traefikplugin.CreateConfig()
	if err := traefikconf.Decode(conf, cfg); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return router, dynamic, cfg
}

// serviceURL is the one server URL of service name in dynamic.
func serviceURL(dynamic map[string]any, name string) string {
	svc, _ := dynamic["http"].(map[string]any)["services"].(map[string]any)[name].(map[string]any)
	lb, _ := svc["loadBalancer"].(map[string]any)
	servers, _ := lb["servers"].([]any)
	if len(servers) != 1 {
		return ""
	}
	url, _ := servers[0].(map[string]any)["url"].(string)
	return url
}

// TestTraefikRulesMatchService: setup T1's plugin decides with exactly the
// rules of rules.json, as Traefik decodes its YAML for the plugin, and C's
// Caddyfile holds the same (TestCaddyfileRulesMatchService).
func TestTraefikRulesMatchService(t *testing.T) {
	want, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	router, _, got := traefikSetup(t, "T1.yml")
	if got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("T1.yml's plugin config differs from rules.json:\n got %+v\nwant %+v", got, want)
	}
	if router["service"] != "noop@internal" {
		t.Errorf("T1.yml: service %v; imgate answers every callback, so nothing may stand behind it", router["service"])
	}
}

// TestTraefikSetups checks what each Traefik setup runs: T0 only proxies
// to its upstream, T2 verifies like T1 and forwards everything normalized
// to the status quo service, like E.
func TestTraefikSetups(t *testing.T) {
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	router, dynamic, plugin := traefikSetup(t, "T0.yml")
	if plugin != nil || router["middlewares"] != nil {
		t.Errorf("T0.yml runs a middleware: %v", router)
	}
	if url := serviceURL(dynamic, router["service"].(string)); url != "http://127.0.0.1:18090" {
		t.Errorf("T0.yml: upstream %q", url)
	}
	router, dynamic, plugin = traefikSetup(t, "T2.yml")
	if plugin == nil || !forwardsEverything(*plugin, cfg) {
		t.Errorf("T2.yml plugin config %+v: want rules.json's verification, no rules, everything forwarded normalized to /imgate/decide", plugin)
	}
	if url := serviceURL(dynamic, router["service"].(string)); url != "http://127.0.0.1:18090" {
		t.Errorf("T2.yml: upstream %q", url)
	}
}

func TestTraefikDynamicRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not-yaml.yml": "http: [",
		"no-http.yml":  "tcp: {}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := TraefikDynamic(path, 1); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file", name, err)
		}
	}
}

// TestTraefikPluginLocal: the tree's own plugin is linked with its go.mod's
// module; a directory without a manifest is refused.
func TestTraefikPluginLocal(t *testing.T) {
	root, module, err := traefikload.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p, err := TraefikPlugin{Dir: "."}.Local(root)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != traefikreal.PluginName || p.ModuleName != module {
		t.Errorf("plugin %s %s, want %s %s", p.Name, p.ModuleName, traefikreal.PluginName, module)
	}
	if p, err := (TraefikPlugin{Dir: "bench", Module: "example.com/wasm"}).Local(root); err == nil {
		t.Errorf("a directory without .traefik.yml was taken as plugin %+v", p)
	}
	if _, err := TraefikVersion(""); err == nil {
		t.Error("no Traefik binary was accepted")
	}
	wasm := TraefikPlugin{Dir: "traefikwasm", Module: build.ModuleName, Wasm: true}
	src := builtPlugins(t, &wasm)
	if p, err := wasm.Local(src); err != nil || p.Name != traefikreal.PluginName || p.ModuleName != build.ModuleName {
		t.Errorf("the built WASM plugin: %+v, %v", p, err)
	}
	if err := os.Remove(filepath.Join(src, "traefikwasm", wasmFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := wasm.Local(src); err == nil {
		t.Error("a WASM plugin without plugin.wasm was taken")
	}
	if _, err := (TraefikPlugin{Dir: ".", Wasm: true}).Local(root); err == nil {
		t.Error("the Yaegi plugin's folder was taken as a WASM plugin")
	}
	if _, err := (TraefikPlugin{Dir: "traefikwasm", Module: build.ModuleName}).Local(root); err == nil {
		t.Error("the WASM plugin's folder was taken as a plugin of sources")
	}
}

// TestTraefikWasmSetup: T3 runs the WASM plugin with T1's dynamic
// configuration (so with exactly rules.json, TestTraefikRulesMatchService),
// and its plugin is the WASM one.
func TestTraefikWasmSetup(t *testing.T) {
	_, t1, _ := traefikSetup(t, "T1.yml")
	_, t3, _ := traefikSetup(t, "T3.yml")
	if !reflect.DeepEqual(t1, t3) {
		t.Errorf("T3.yml's dynamic configuration differs from T1.yml's:\n T3 %v\n T1 %v", t3, t1)
	}
	for _, s := range Setups {
		if s.ID == "T3" && (s.Plugin == nil || !s.Plugin.Wasm || s.Config != "T3.yml" || !s.Decides) {
			t.Errorf("setup T3 is not the WASM plugin deciding with T3.yml: %+v", s)
		}
	}
}

// TestBuildPlugins: every WASM plugin folder gets plugin.wasm from the
// builder program, once, run in the measured tree with -o; a failing
// builder fails the run.
func TestBuildPlugins(t *testing.T) {
	src := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	builder := filepath.Join(t.TempDir(), "imgate-wasm")
	script := "#!/bin/sh\necho \"$PWD $*\" >>" + calls + "\nmkdir -p \"$(dirname \"$2\")\" && echo wasm >\"$2\"\n"
	if err := os.WriteFile(builder, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := BuildPlugins(context.Background(), map[string]string{ProgramWasmBuild: builder}, src); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	for _, s := range Setups {
		if s.Plugin != nil && s.Plugin.Wasm && !strings.Contains(want, s.Plugin.Dir) {
			want += src + " -o " + filepath.Join(src, s.Plugin.Dir, wasmFile) + "\n"
		}
	}
	if want == "" || string(got) != want {
		t.Errorf("builder calls:\n%s\nwant\n%s", got, want)
	}
	if err := os.WriteFile(builder, []byte("#!/bin/sh\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := BuildPlugins(context.Background(), map[string]string{ProgramWasmBuild: builder}, src); err == nil {
		t.Error("a failing builder did not fail the run")
	}
}
