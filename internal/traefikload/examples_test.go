package traefikload

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"gopkg.in/yaml.v3"
)

// TestExamples proves the Traefik configuration examples in
// testdata/traefik (the README's) work: the plugin config of the file
// provider YAML, the Kubernetes Middleware resource and the Docker labels,
// each decoded the way that Traefik provider decodes it (traefikconf.FromFile,
// FromCRD, FromLabels), decodes to one and the same Config, and the
// interpreted middleware built from each decides the example callbacks;
// the static configs name this module under the plugin name the dynamic
// configs use.
func TestExamples(t *testing.T) {
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	_, module, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	configs, err := ExampleConfigs(filepath.Join(dir, "traefik"))
	if err != nil {
		t.Fatal(err)
	}
	want := compiledConfig(t, configs["file-provider"])
	for name, config := range configs {
		t.Run(name, func(t *testing.T) {
			if got := compiledConfig(t, config); !reflect.DeepEqual(got, want) {
				t.Fatalf("decodes to\n  %+v\nwant (file provider)\n  %+v", got, want)
			}
			ReplaceString(config, ExampleListFile, filepath.Join(dir, "lists", "banned.txt"))
			h, err := Shared(t).New(context.Background(), failingNext(t), config, UniqueName(t))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			checkExampleRules(t, h, ExampleToken)
		})
	}
	for _, file := range []string{"static-local.yml", "static-catalog.yml"} {
		var static struct {
			Experimental struct {
				Plugins map[string]struct {
					ModuleName string `yaml:"moduleName"`
				} `yaml:"plugins"`
				LocalPlugins map[string]struct {
					ModuleName string `yaml:"moduleName"`
				} `yaml:"localPlugins"`
			} `yaml:"experimental"`
		}
		data, err := os.ReadFile(filepath.Join(dir, "traefik", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &static); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		plugins := static.Experimental.LocalPlugins
		if plugins == nil {
			plugins = static.Experimental.Plugins
		}
		if got := plugins["imgate"].ModuleName; got != module {
			t.Errorf("%s: experimental plugin imgate has moduleName %q, want %s", file, got, module)
		}
	}
}
