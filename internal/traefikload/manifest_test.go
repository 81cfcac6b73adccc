package traefikload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestManifestChecks proves .traefik.yml passes the checks Traefik applies
// to a local plugin, names the package the adapter really has, and that
// Check catches what Traefik refuses.
func TestManifestChecks(t *testing.T) {
	root, module, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(filepath.Join(root, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(module); err != nil {
		t.Fatalf("Traefik would refuse the manifest: %v", err)
	}
	if got := m.PackageName(); got != "traefikplugin" {
		t.Errorf("package name %q, want traefikplugin", got)
	}
	broken := []struct {
		name   string
		mutate func(*Manifest)
		want   string
	}{
		{"fail/type", func(m *Manifest) { m.Type = "provider" }, "type"},
		{"fail/foreign-import", func(m *Manifest) { m.Import = "github.com/other/repo/traefikplugin" }, "related to the module name"},
		{"fail/no-summary", func(m *Manifest) { m.Summary = "" }, "summary"},
		{"fail/no-testdata", func(m *Manifest) { m.TestData = nil }, "testData"},
		{"fail/unsafe", func(m *Manifest) { m.UseUnsafe = true }, "useUnsafe"},
	}
	for _, c := range broken {
		t.Run(c.name, func(t *testing.T) {
			bad := *m
			c.mutate(&bad)
			err := bad.Check(module)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want an error about %s", err, c.want)
			}
		})
	}
}

// TestManifestTestData decodes the manifest's testData the way Traefik
// (and the Plugins Catalog) does, builds the interpreted middleware and
// sends it callbacks the example rules must decide: the testData is a
// working configuration, not decoration.
func TestManifestTestData(t *testing.T) {
	p := Shared(t)
	if len(p.Manifest.TestData) == 0 {
		t.Fatal("manifest has no testData")
	}
	h, err := p.New(context.Background(), failingNext(t), p.Manifest.TestData, UniqueName(t))
	if err != nil {
		t.Fatalf("New with testData: %v", err)
	}
	checkExampleRules(t, h, "")
}

// checkExampleRules sends the example callbacks, signed with token when
// set, and checks replies and decision header.
func checkExampleRules(t *testing.T, h http.Handler, token string) {
	t.Helper()
	for _, c := range ExampleCallbacks(token) {
		t.Run(c.Name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, c.Target, strings.NewReader(c.Body)))
			if rec.Code != http.StatusOK || rec.Body.String() != c.Reply {
				t.Fatalf("reply %d %s, want 200 %s", rec.Code, rec.Body.String(), c.Reply)
			}
			if got := rec.Header().Get("X-Imgate-Decision"); got != c.Decision {
				t.Errorf("decision header %q, want %q", got, c.Decision)
			}
		})
	}
}

// failingNext is a next handler for configs that never forward.
func failingNext(t testing.TB) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		t.Errorf("unexpected forward of %s", req.URL.Path)
		rw.WriteHeader(http.StatusBadGateway)
	})
}
