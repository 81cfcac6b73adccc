package traefikconf

import (
	"errors"
	"reflect"
	"testing"

	"github.com/imgate/imgate/core"
)

// dynamicYAML and dynamicTOML are one Traefik dynamic configuration in the
// file provider's two formats, with a router, a service and a middleware
// that is not a plugin around the imgate middleware.
const dynamicYAML = `
http:
  routers:
    im:
      rule: "PathPrefix(` + "`/im`" + `)"
      middlewares: [gate]
      service: app
  middlewares:
    strip:
      stripPrefix:
        prefixes: ["/x"]
    gate:
      plugin:
        imgate:
          tencent:
            appId: "1400000001"
          maxBodyBytes: 1024
          rules:
            - name: cap
              events: ["group.join.invite"]
              maxMembers: 10
              shadow: true
              action: deny
              codes: {tencent: 10101, openim: 5101}
  services:
    app:
      loadBalancer:
        servers: [{url: "http://127.0.0.1:9000"}]
`

const dynamicTOML = `
[http.routers.im]
  rule = "PathPrefix(` + "`/im`" + `)"
  middlewares = ["gate"]
  service = "app"

[http.middlewares.strip.stripPrefix]
  prefixes = ["/x"]

[http.middlewares.gate.plugin.imgate]
  maxBodyBytes = 1024
  [http.middlewares.gate.plugin.imgate.tencent]
    appId = "1400000001"
  [[http.middlewares.gate.plugin.imgate.rules]]
    name = "cap"
    events = ["group.join.invite"]
    maxMembers = 10
    shadow = true
    action = "deny"
    codes = {tencent = 10101, openim = 5101}

[[http.services.app.loadBalancer.servers]]
  url = "http://127.0.0.1:9000"
`

// TestFromFileFormats decodes the same middleware from YAML and TOML:
// both give the plugin the file provider's shape (scalars as strings), the
// same map, and the same Config.
func TestFromFileFormats(t *testing.T) {
	want := PluginConfigs{"gate": {"imgate": {
		"tencent":      map[string]any{"appId": "1400000001"},
		"maxBodyBytes": "1024",
		"rules": []any{map[string]any{
			"name": "cap", "events": []any{"group.join.invite"}, "maxMembers": "10", "shadow": "true", "action": "deny",
			"codes": map[string]any{"tencent": "10101", "openim": "5101"},
		}},
	}}}
	for _, tt := range []struct{ ext, content string }{{".yml", dynamicYAML}, {".yaml", dynamicYAML}, {".toml", dynamicTOML}, {".TOML", dynamicTOML}} {
		got, err := FromFile([]byte(tt.content), tt.ext)
		if err != nil {
			t.Fatalf("%s: %v", tt.ext, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: plugin configs\n  %#v\nwant\n  %#v", tt.ext, got, want)
			continue
		}
		var cfg core.Config
		if err := Decode(got["gate"]["imgate"], &cfg); err != nil {
			t.Fatalf("%s: %v", tt.ext, err)
		}
		if r := cfg.Rules[0]; cfg.MaxBodyBytes != 1024 || r.MaxMembers != 10 || !r.Shadow || r.Codes["openim"] != 5101 {
			t.Errorf("%s: decoded %+v", tt.ext, cfg)
		}
	}
}

// TestFromFileWithoutPlugins: a file without plugin middlewares holds no
// plugin configuration, whatever else it has.
func TestFromFileWithoutPlugins(t *testing.T) {
	for _, tt := range []struct{ ext, content string }{
		{".yml", ""},
		{".yml", "http:\n  middlewares:\n    strip:\n      stripPrefix: {prefixes: [/x]}\n"},
		{".toml", "[http.routers.r]\n  rule = \"Path(`/`)\"\n"},
	} {
		got, err := FromFile([]byte(tt.content), tt.ext)
		if err != nil || len(got) != 0 {
			t.Errorf("%s %q: %v %v, want no plugin configs", tt.ext, tt.content, got, err)
		}
	}
}

// TestFromFileErrors refuses what Traefik's file provider refuses.
func TestFromFileErrors(t *testing.T) {
	for _, tt := range []struct{ name, ext, content string }{
		{"unknown extension", ".ini", "[http]"},
		{"broken yaml", ".yml", "http: [middlewares"},
		{"broken toml", ".toml", "[http.middlewares"},
	} {
		if _, err := FromFile([]byte(tt.content), tt.ext); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if _, err := FromFile(nil, ".conf"); !errors.Is(err, ErrProvider) {
		t.Errorf("unknown extension: %v, want ErrProvider", err)
	}
}
