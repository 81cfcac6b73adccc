//go:build traefikreal

package traefikreal

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikload"
	"github.com/imgate/imgate/internal/upstreamtest"
	"gopkg.in/yaml.v3"
)

// TestExamples serves the README's Traefik examples (testdata/traefik)
// from a real Traefik and sends each the example callbacks:
//   - file-provider: dynamic.yml itself is Traefik's dynamic file, with only
//     the ban-list path and the im-app service URL pointed at this machine;
//   - docker-labels and kubernetes: the labels of docker-compose.yml and the
//     Middleware resource of middleware-k8s.yml, decoded as Traefik's Docker
//     and CRD providers decode them (traefikconf.FromLabels, FromCRD), are
//     added to that file as middlewares of their own, behind routers
//     Host(`<example>.examples.test`);
//   - manifest-testData: the testData of .traefik.yml, the configuration the
//     Plugins Catalog builds the middleware with (no token, so its Tencent
//     callbacks are unsigned).
//
// No example rule forwards, so the im-app service must get no request.
func TestExamples(t *testing.T) {
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	examples := filepath.Join(dir, "traefik")
	listFile := filepath.Join(dir, "lists", "banned.txt")
	imApp := upstreamtest.Start(upstreamtest.Behavior{Status: http.StatusTeapot})
	defer imApp.Close()

	data, err := os.ReadFile(filepath.Join(examples, "dynamic.yml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), traefikload.ExampleListFile, listFile)
	text = strings.ReplaceAll(text, "http://127.0.0.1:9000", imApp.URL)
	var dynamic map[string]any
	if err := yaml.Unmarshal([]byte(text), &dynamic); err != nil {
		t.Fatal(err)
	}
	configs, err := traefikload.ExampleConfigs(examples)
	if err != nil {
		t.Fatal(err)
	}
	httpSection := dynamic["http"].(map[string]any)
	routers := httpSection["routers"].(map[string]any)
	middlewares := httpSection["middlewares"].(map[string]any)
	hosts := map[string]string{"file-provider": "file-provider.examples.test"}
	root, _, err := traefikload.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := traefikload.ReadManifest(filepath.Join(root, traefikload.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	configs["manifest-testData"] = manifest.TestData
	for _, example := range []string{"docker-labels", "kubernetes", "manifest-testData"} {
		config := configs[example]
		traefikload.ReplaceString(config, traefikload.ExampleListFile, listFile)
		hosts[example] = example + ".examples.test"
		middlewares[example] = map[string]any{"plugin": map[string]any{PluginName: config}}
		routers[example] = map[string]any{
			"entryPoints": []any{EntryPoint},
			"rule":        "Host(`" + hosts[example] + "`) && PathPrefix(`/im`)",
			"middlewares": []any{example},
			"service":     "im-app",
		}
	}

	tr := startImgate(t, Options{})
	apply(t, tr, dynamic)
	client := Client()
	for _, example := range []string{"file-provider", "docker-labels", "kubernetes", "manifest-testData"} {
		token := traefikload.ExampleToken
		if example == "manifest-testData" {
			token = ""
		}
		for _, cb := range traefikload.ExampleCallbacks(token) {
			t.Run(example+"/"+cb.Name, func(t *testing.T) {
				req, err := http.NewRequest(http.MethodPost, tr.URL+cb.Target, strings.NewReader(cb.Body))
				if err != nil {
					t.Fatal(err)
				}
				status, decision, body := send(t, client, req, hosts[example], "X-Imgate-Decision")
				if status != http.StatusOK || body != cb.Reply || decision != cb.Decision {
					t.Errorf("reply %s\n  want %s", reply(status, decision, body), reply(http.StatusOK, cb.Decision, cb.Reply))
				}
			})
		}
	}
	if n := len(imApp.Requests()); n != 0 {
		t.Errorf("im-app got %d requests; no example rule forwards", n)
	}
}
