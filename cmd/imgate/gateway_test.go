package main

import (
	"path/filepath"
	"testing"
)

// TestDetectFormat tells a config's format from its name and JSON keys.
func TestDetectFormat(t *testing.T) {
	tests := []struct{ file, content, want string }{
		{"Caddyfile", "", formatCaddyfile},
		{"conf/Caddyfile.prod", "", formatCaddyfile},
		{"site.caddyfile", "", formatCaddyfile},
		{"dynamic.yml", "", formatTraefik},
		{"dynamic.YAML", "", formatTraefik},
		{"dynamic.toml", "", formatTraefik},
		{"caddy.json", `{"apps":{}}`, formatCaddyJSON},
		{"dynamic.json", `{"http":{}}`, formatTraefik},
		{"rules.json", `{"rules":[]}`, formatImgate},
		{"handler.json", `{"handler":"imgate"}`, formatImgate},
		{"nginx.conf", "", ""},
		{"list.json", `[1]`, ""},
	}
	for _, tt := range tests {
		got, err := detectFormat(filepath.FromSlash(tt.file), []byte(tt.content))
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("%s: %q, %v; want %q", tt.file, got, err, tt.want)
		}
	}
}

// TestLoadGatewayFormats loads the shipped examples in every format check
// reads, with their handlers, from the repository root: list files are
// relative to the working directory, as for the gateway.
func TestLoadGatewayFormats(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	dir := filepath.Join("testdata", "check")
	tests := []struct {
		file, format string
		labels       string
	}{
		{"Caddyfile", "", "route /im/tencent; route /im/openim /im/openim/*"},
		{"dynamic.yml", "", "middleware imgate"},
		{"dynamic.toml", "", "middleware imgate"},
		{filepath.Join("..", "caddy", "Caddyfile.example.json"), "", "route /im/tencent; route /im/openim /im/openim/*; route /im/forward /im/forward/*"},
		{"policy.json", "", "config"},
		{filepath.Join("..", "..", "Caddyfile.example"), formatCaddyfile, "route /im/tencent; route /im/openim /im/openim/*; route /im/forward /im/forward/*"},
	}
	for _, tt := range tests {
		g, err := loadGateway(filepath.Join(dir, tt.file), tt.format, "imgate")
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		if got := g.labels(); got != tt.labels {
			t.Errorf("%s: handlers %s, want %s", tt.file, got, tt.labels)
		}
	}
}
