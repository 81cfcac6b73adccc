package traefikreal

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// These tests need no Traefik binary: they run in every `go test ./...`.

// TestAddMarker checks the marker router joins the caller's routers
// without changing the caller's map.
func TestAddMarker(t *testing.T) {
	dynamic := map[string]any{"http": map[string]any{
		"routers":  map[string]any{"a": map[string]any{"rule": "Host(`a`)"}},
		"services": map[string]any{"s": map[string]any{}},
	}}
	out, err := addMarker(dynamic, 7)
	if err != nil {
		t.Fatal(err)
	}
	routers := out["http"].(map[string]any)["routers"].(map[string]any)
	if _, ok := routers["a"]; !ok {
		t.Error("caller's router lost")
	}
	marker, ok := routers["traefikreal-generation-7"].(map[string]any)
	if !ok || marker["rule"] != "Path(`/.traefikreal/generation/7`)" || marker["service"] != "noop@internal" {
		t.Errorf("marker router %v", marker)
	}
	if _, ok := out["http"].(map[string]any)["services"]; !ok {
		t.Error("caller's services lost")
	}
	if n := len(dynamic["http"].(map[string]any)["routers"].(map[string]any)); n != 1 {
		t.Errorf("caller's map changed: %d routers", n)
	}
	if _, err := addMarker(map[string]any{"http": "nope"}, 1); !errors.Is(err, ErrTraefik) {
		t.Errorf("http not a map: error %v", err)
	}
}

// TestLogBuffer checks lines split across writes are parsed once whole.
func TestLogBuffer(t *testing.T) {
	b := &logBuffer{}
	b.Write([]byte(`{"level":"debug","plugin":"plugin-imgate","message":"imgate mid`))
	if b.Len() != 0 {
		t.Fatal("a partial line was parsed")
	}
	b.Write([]byte("dleware=x result=deny\"}\npanic: boom\n" + `{"level":"error","error":"plugin: bad","message":"x"}` + "\n"))
	want := []LogLine{
		{Level: "debug", Plugin: "plugin-imgate", Message: "imgate middleware=x result=deny"},
		{Raw: "panic: boom"},
		{Level: "error", Error: "plugin: bad", Message: "x"},
	}
	got := b.Lines()
	if len(got) != len(want) {
		t.Fatalf("%d lines, want %d", len(got), len(want))
	}
	for i := range want {
		g := got[i]
		g.Fields = nil
		if i != 1 {
			g.Raw = ""
		}
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("line %d: %+v, want %+v", i, g, want[i])
		}
	}
	if line, ok := b.pluginFailure(0); !ok || line != "panic: boom" {
		t.Errorf("pluginFailure = %q, %v, want the non-JSON line", line, ok)
	}
	if line, ok := b.pluginFailure(2); !ok || line != got[2].Raw {
		t.Errorf("pluginFailure from 2 = %q, %v", line, ok)
	}
	if _, ok := b.pluginFailure(3); ok {
		t.Error("pluginFailure looked before its start line")
	}
}

// TestBinaryUnset checks a missing binary is an error, never a skip.
func TestBinaryUnset(t *testing.T) {
	t.Setenv("IMGATE_TRAEFIK", "")
	if _, err := Binary(); !errors.Is(err, ErrTraefik) {
		t.Fatalf("Binary() with IMGATE_TRAEFIK unset: %v", err)
	}
	t.Setenv("IMGATE_TRAEFIK", t.TempDir())
	if _, err := Binary(); !errors.Is(err, ErrTraefik) {
		t.Fatalf("Binary() with a directory: %v", err)
	}
}

// TestStaticConfigDebug checks Options.Debug is what turns Traefik's
// pprof endpoints on.
func TestStaticConfigDebug(t *testing.T) {
	for _, debug := range []bool{false, true} {
		api := staticConfig(Options{Debug: debug}, "127.0.0.1:1", "127.0.0.1:2", "/d")["api"].(map[string]any)
		if api["debug"] != debug || api["insecure"] != true {
			t.Errorf("Debug %v: api section %v", debug, api)
		}
	}
}

// TestLinked checks a linked plugin is its directory, not a copy.
func TestLinked(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".traefik.yml"), []byte("runtime: wasm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := Linked("imgate", "example.com/p", dir)
	if p.Name != "imgate" || p.ModuleName != "example.com/p" {
		t.Fatalf("plugin %+v", p)
	}
	at := filepath.Join(t.TempDir(), "p")
	if err := p.Install(at); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(at); err != nil || target != dir {
		t.Fatalf("installed at %s -> %q (%v), want a link to %s", at, target, err, dir)
	}
	if err := p.Install(at); err == nil {
		t.Fatal("installing over an existing path succeeded")
	}
}
