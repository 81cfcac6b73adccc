package traefikload

import (
	"reflect"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/traefikconf"
)

// TestFromFileShape pins down what Traefik's file provider hands a plugin,
// which a typed YAML map is not: scalars become strings, lists of scalars
// keep their items' types, and an empty map or list becomes "". The plugin
// decodes all of it like the typed form, except an empty map: "tencent: {}"
// arrives as "" and mapstructure refuses it ("expected a map"), so Traefik
// refuses the middleware; the README tells users to leave the key out.
func TestFromFileShape(t *testing.T) {
	typed := map[string]any{
		"maxBodyBytes": 1024,
		"rules": []any{map[string]any{
			"name": "cap", "events": []any{"group.join.invite"}, "maxMembers": 10, "shadow": true, "action": "deny",
		}},
		"openim": map[string]any{"allowedCidrs": []any{}},
	}
	got, err := traefikconf.AsFile(typed)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"maxBodyBytes": "1024",
		"rules": []any{map[string]any{
			"name": "cap", "events": []any{"group.join.invite"}, "maxMembers": "10", "shadow": "true", "action": "deny",
		}},
		"openim": map[string]any{"allowedCidrs": ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("file provider hands\n  %#v\nwant\n  %#v", got, want)
	}
	if a, b := compiledConfig(t, typed), compiledConfig(t, got); !reflect.DeepEqual(a, b) {
		t.Errorf("file shape decodes to %+v, typed to %+v", b, a)
	}

	for _, key := range []string{"tencent", "lists"} {
		empty, err := traefikconf.AsFile(map[string]any{key: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		if empty[key] != "" {
			t.Errorf("%s: {} arrives as %#v, want \"\"", key, empty[key])
		}
		_, err = BuildCompiled(empty, failingNext(t), UniqueName(t))
		if err == nil || !strings.Contains(err.Error(), "expected a map, got 'string'") {
			t.Errorf("%s: {} through the file provider: error %v, want mapstructure's refusal", key, err)
		}
	}
}

// TestFromLabelsShape pins down what the Docker provider hands a plugin:
// every value a string, "rules[N]" keys a list of maps.
func TestFromLabelsShape(t *testing.T) {
	got, err := traefikconf.FromLabels(map[string]string{
		"traefik.http.middlewares.gw.plugin.imgate.maxBodyBytes":      "1024",
		"traefik.http.middlewares.gw.plugin.imgate.rules[0].name":     "cap",
		"traefik.http.middlewares.gw.plugin.imgate.rules[0].events":   "group.join.invite,group.join.apply",
		"traefik.http.middlewares.gw.plugin.imgate.rules[1].name":     "ban",
		"traefik.http.middlewares.gw.plugin.imgate.tencent.appId":     "1400000001",
		"traefik.http.routers.im.middlewares":                         "gw",
		"traefik.http.middlewares.other.headers.customrequestheaders": "ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := traefikconf.PluginConfigs{"gw": {"imgate": {
		"maxBodyBytes": "1024",
		"rules": []any{
			map[string]any{"name": "cap", "events": "group.join.invite,group.join.apply"},
			map[string]any{"name": "ban"},
		},
		"tencent": map[string]any{"appId": "1400000001"},
	}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("labels decode to\n  %#v\nwant\n  %#v", got, want)
	}
}
