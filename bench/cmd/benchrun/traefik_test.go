package main

import (
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
}
