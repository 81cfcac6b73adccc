//go:build traefikreal

package traefikreal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wantVersion is the Traefik release the plugin is proven against.
const wantVersion = "v3.7.9"

// TestBinary fails (never skips) when the binary is missing, so a CI run
// without it cannot pass by running nothing.
func TestBinary(t *testing.T) {
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	v, err := Version(bin)
	if err != nil {
		t.Fatal(err)
	}
	if v != wantVersion {
		t.Fatalf("%s is Traefik %s, want %s", bin, v, wantVersion)
	}
}

// TestBrokenPluginIsLoud proves Start fails with Traefik's own error when a
// local plugin does not load, instead of serving without it (Traefik's
// default: "Plugins are disabled because an error has occurred.").
func TestBrokenPluginIsLoud(t *testing.T) {
	broken := LocalPlugin{
		Name:       "broken",
		ModuleName: "example.invalid/broken",
		Install: func(dir string) error {
			files := map[string]string{
				".traefik.yml": "displayName: broken\ntype: middleware\nimport: example.invalid/broken\nsummary: does not compile\ntestData: {}\n",
				"go.mod":       "module example.invalid/broken\n\ngo 1.22\n",
				"broken.go":    "package broken\n\nfunc CreateConfig() *struct{} { return undefinedName }\n",
			}
			for name, content := range files {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	}
	tr, err := Start(Options{Plugins: []LocalPlugin{broken}})
	if err == nil {
		tr.Stop()
		t.Fatal("traefik started with a plugin that does not compile")
	}
	if !strings.Contains(err.Error(), "undefinedName") {
		t.Errorf("error does not carry Traefik's reason: %v", err)
	}
	t.Logf("start failed as it must: %v", err)
}

// TestRefusedConfigIsLoud proves Apply fails, naming the middleware and
// imgate's reason, when the plugin's New refuses a configuration: Traefik
// itself only disables the router (it then answers 404) and logs an error.
func TestRefusedConfigIsLoud(t *testing.T) {
	tr := startImgate(t, Options{})
	bad := map[string]any{"rules": []any{map[string]any{"name": "r", "action": "explode"}}}
	err := tr.Apply(dynamicConfig(map[string]route{"bad": {host: "bad.test", middleware: bad, service: downURL(t)}}), applyTimeout)
	if err == nil {
		t.Fatal("Apply accepted a config imgate refuses")
	}
	for _, want := range []string{"bad@file", "explode"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	t.Logf("apply failed as it must: %v", err)
}
