package replicas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikconf"
)

// TestReplicaExamples proves the README's "Many replicas" configs are the
// files in testdata/replicas, verbatim, and that the Caddyfile and the
// Traefik file provider YAML give one and the same imgate config (so the
// replicas share buckets), which loads.
func TestReplicaExamples(t *testing.T) {
	root := filepath.Join("..", "..")
	readme := read(t, filepath.Join(root, "README.md"))
	caddyfile := read(t, filepath.Join(root, "testdata", "replicas", "Caddyfile"))
	traefikYAML := read(t, filepath.Join(root, "testdata", "replicas", "traefik.yml"))
	section := readme[strings.Index(readme, "## Many replicas"):]
	section = section[:strings.Index(section, "\n## ")]
	for name, text := range map[string]string{"Caddyfile": caddyfile, "traefik.yml": traefikYAML} {
		if !strings.Contains(section, "\n"+text+"```") {
			t.Errorf("README's Many replicas section does not show testdata/replicas/%s verbatim", name)
		}
	}

	adapted, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("adapting the Caddyfile: %v %v", err, warnings)
	}
	caddyCfg := imgateHandler(t, adapted)

	configs, err := traefikconf.FromFile([]byte(traefikYAML), ".yml")
	if err != nil {
		t.Fatal(err)
	}
	var traefikCfg core.Config
	if err = traefikconf.Decode(configs["imgate"]["imgate"], &traefikCfg); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(caddyCfg, traefikCfg) {
		t.Fatalf("the gateways' configs differ:\ncaddy   %+v\ntraefik %+v", caddyCfg, traefikCfg)
	}
	if caddyCfg.Store.Type != core.StoreRedis || caddyCfg.Rules[0].StoreFailure != core.StoreFailureLocal {
		t.Fatalf("the example does not share its limit through Redis: %+v", caddyCfg)
	}
	for _, name := range []string{"REDIS_PASSWORD", "TENCENT_CALLBACK_TOKEN"} {
		old, had := os.LookupEnv(name)
		os.Setenv(name, "example-"+name)
		t.Cleanup(func() {
			if had {
				os.Setenv(name, old)
			} else {
				os.Unsetenv(name)
			}
		})
	}
	e, err := core.New(caddyCfg)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	e.Close()
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// imgateHandler finds the one imgate handler in an adapted Caddy config
// and decodes it as Caddy does.
func imgateHandler(t *testing.T, adapted []byte) core.Config {
	t.Helper()
	var found []json.RawMessage
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["handler"] == "imgate" {
				delete(x, "handler")
				raw, err := json.Marshal(x)
				if err != nil {
					t.Fatal(err)
				}
				found = append(found, raw)
				return
			}
			for _, item := range x {
				walk(item)
			}
		case []any:
			for _, item := range x {
				walk(item)
			}
		}
	}
	var tree any
	if err := json.Unmarshal(adapted, &tree); err != nil {
		t.Fatal(err)
	}
	walk(tree)
	if len(found) != 1 {
		t.Fatalf("%d imgate handlers in the adapted Caddyfile, want 1", len(found))
	}
	var cfg core.Config
	dec := json.NewDecoder(strings.NewReader(string(found[0])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}
