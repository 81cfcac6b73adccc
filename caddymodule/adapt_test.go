package caddymodule

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

// TestAdaptExample adapts the repository's Caddyfile.example and compares
// it with testdata/caddy/Caddyfile.example.json, the JSON config the README
// documents: the directive is ordered before reverse_proxy without an
// `order` line, snippets expand inside the imgate block, and every
// subdirective lands on its JSON key. Regenerate the file with
// `go run ./cmd/caddy adapt --config Caddyfile.example --pretty`.
func TestAdaptExample(t *testing.T) {
	root := filepath.Join("..")
	caddyfileText, err := os.ReadFile(filepath.Join(root, "Caddyfile.example"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(root, "testdata", "caddy", "Caddyfile.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt(caddyfileText, map[string]any{"filename": "Caddyfile.example"})
	if err != nil {
		t.Fatalf("adapting: %v", err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	if a, b := normalizeJSON(t, got), normalizeJSON(t, want); a != b {
		t.Errorf("adapted Caddyfile.example differs from testdata/caddy/Caddyfile.example.json\ngot:\n%s", a)
	}
	// Every imgate handler in it must provision: its config is valid.
	handlers := findImgateHandlers(t, got)
	if len(handlers) != 3 {
		t.Fatalf("found %d imgate handlers, want 3 (tencent, openim, forward)", len(handlers))
	}
	for _, raw := range handlers {
		h := provisionJSON(t, raw, "..")
		if err := h.Cleanup(); err != nil {
			t.Error(err)
		}
	}
}

// findImgateHandlers returns the JSON of every object with "handler":
// "imgate", wherever it is nested.
func findImgateHandlers(t *testing.T, config []byte) []json.RawMessage {
	t.Helper()
	var tree any
	if err := json.Unmarshal(config, &tree); err != nil {
		t.Fatal(err)
	}
	var found []json.RawMessage
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["handler"] == "imgate" {
				delete(x, "handler")
				data, _ := json.Marshal(x)
				found = append(found, data)
				return
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(tree)
	return found
}

func normalizeJSON(t *testing.T, data []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
