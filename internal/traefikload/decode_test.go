package traefikload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/traefikconf"
	"github.com/imgate/imgate/traefikplugin"
)

// everyType is a config that uses every kind of field core.Config has:
// strings, ints, bools, []string, nested structs, []RuleConfig,
// map[string]ListConfig and map[string]string.
const everyType = `{
  "platform": "auto",
  "tencent": {"appId": "1400000001", "token": "t0k3n", "signWindow": "30s"},
  "openim": {"secret": "s3cret", "allowedCidrs": ["10.0.0.0/8", "192.168.1.1"]},
  "lists": {"banned": {"values": ["mallory", "bot-*"]}, "vip": {"values": ["alice"]}},
  "rules": [
    {"name": "vip", "actors": ["@vip"], "action": "allow"},
    {"name": "try-cap", "events": ["group.join.invite"], "maxMembers": 3, "action": "deny", "shadow": true},
    {"name": "flood", "events": ["group.join.apply", "group.create.before"], "rate": "5/1m", "rateBy": "group", "action": "deny", "code": 10150, "message": "slow down"},
    {"name": "ask", "events": ["group.*"], "groupTypes": ["Public", "2"], "action": "forward"}
  ],
  "defaultAction": "allow",
  "forward": {"format": "normalized", "tencentDeadline": "1200ms", "openimDeadline": "2s", "openimTimeout": "5s",
              "fallback": "deny", "fallbackEvents": {"group.create.before": "allow"}, "path": "/imgate/decide", "maxReplyBytes": 4096},
  "maxBodyBytes": 32768,
  "rateLimitMaxKeys": 5000,
  "listReloadInterval": "10s",
  "decisionHeader": "X-Imgate-Decision"
}`

// TestDecodeProviders proves that a config as Traefik's file provider
// hands it (AsFile: scalars as strings) and as the Docker provider hands it
// (AsLabels: every value a string, id lists comma-separated) decodes into
// exactly the same Config as the typed JSON form (the CRD provider's),
// compiled and interpreted, for every config the project ships plus one
// that uses every field type. forward.fallbackEvents is left out of the
// labels: labels cannot carry it (TestGoldenLabels checks the refusal).
func TestDecodeProviders(t *testing.T) {
	configs := map[string]map[string]any{"every-type": mustMap(t, everyType), "manifest-testData": Shared(t).Manifest.TestData}
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "configs", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		configs[filepath.Base(f)] = mustMap(t, string(data))
	}
	for name, typed := range configs {
		t.Run(name, func(t *testing.T) {
			file, err := traefikconf.AsFile(typed)
			if err != nil {
				t.Fatal(err)
			}
			labelable := withoutFallbackEvents(typed)
			labels, err := traefikconf.AsLabels(labelable)
			if err != nil {
				t.Fatal(err)
			}
			shapes := []struct {
				name          string
				typed, shaped map[string]any
			}{{"file", typed, file}, {"labels", labelable, labels}}
			for _, sh := range shapes {
				want := compiledConfig(t, sh.typed)
				if got := compiledConfig(t, sh.shaped); !reflect.DeepEqual(got, want) {
					t.Errorf("compiled, %s:\n  got  %+v\n  want %+v", sh.name, got, want)
				}
				wantJSON := jsonOf(t, want)
				v, err := Shared(t).CreateConfig(sh.shaped)
				if err != nil {
					t.Fatalf("interpreted decode, %s: %v", sh.name, err)
				}
				if got := jsonOf(t, v.Interface()); got != wantJSON {
					t.Errorf("interpreted, %s:\n  got  %s\n  want %s", sh.name, got, wantJSON)
				}
			}
		})
	}
}

// withoutFallbackEvents returns a copy of config without
// forward.fallbackEvents.
func withoutFallbackEvents(config map[string]any) map[string]any {
	out := make(map[string]any, len(config))
	for k, v := range config {
		out[k] = v
	}
	if forward, ok := config["forward"].(map[string]any); ok {
		f := make(map[string]any, len(forward))
		for k, v := range forward {
			if k != "fallbackEvents" {
				f[k] = v
			}
		}
		out["forward"] = f
	}
	return out
}

// TestDecodeFields checks single label-style values land in the right
// typed fields, whatever the key's case.
func TestDecodeFields(t *testing.T) {
	cfg := compiledConfig(t, map[string]any{
		"MAXBODYBYTES":  "1024",
		"DefaultAction": "deny",
		"openim":        map[string]any{"allowedcidrs": "10.0.0.0/8,127.0.0.1"},
		"lists":         map[string]any{"banned": map[string]any{"values": "mallory,eve", "file": "/etc/imgate/banned.txt"}},
		"rules": []any{map[string]any{
			"name": "cap", "events": "group.join.invite", "maxMembers": "10", "shadow": "true", "code": "10101", "action": "deny",
		}},
		"forward":    map[string]any{"fallbackEvents": map[string]any{"group.create.before": "deny"}},
		"unknownKey": "ignored, as Traefik ignores unknown keys",
	})
	checks := []struct {
		name      string
		got, want any
	}{
		{"maxBodyBytes", cfg.MaxBodyBytes, 1024},
		{"defaultAction", cfg.DefaultAction, "deny"},
		{"openim.allowedCidrs", cfg.OpenIM.AllowedCIDRs, []string{"10.0.0.0/8", "127.0.0.1"}},
		{"lists.banned.values", cfg.Lists["banned"].Values, []string{"mallory", "eve"}},
		{"lists.banned.file", cfg.Lists["banned"].File, "/etc/imgate/banned.txt"},
		{"rules[0].events", cfg.Rules[0].Events, []string{"group.join.invite"}},
		{"rules[0].maxMembers", cfg.Rules[0].MaxMembers, 10},
		{"rules[0].shadow", cfg.Rules[0].Shadow, true},
		{"rules[0].code", cfg.Rules[0].Code, 10101},
		{"forward.fallbackEvents", cfg.Forward.FallbackEvents, map[string]string{"group.create.before": "deny"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestDecodeErrors proves a bad config fails when Traefik builds the
// middleware, interpreted and compiled alike, naming the key.
func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name   string
		config map[string]any
		want   string
	}{
		{"fail/not-a-number", map[string]any{"maxBodyBytes": "lots"}, "MaxBodyBytes"},
		{"fail/not-a-bool", map[string]any{"rules": []any{map[string]any{"action": "deny", "shadow": "maybe"}}}, "Shadow"},
		{"fail/deadline-over-budget", map[string]any{"forward": map[string]any{"tencentDeadline": "3s"}}, "forward.tencentDeadline"},
		{"fail/bad-action", map[string]any{"defaultAction": "maybe"}, "defaultAction"},
		{"fail/bad-cidr", map[string]any{"openim": map[string]any{"allowedCidrs": "10.0.0.0/8,not-an-ip"}}, "openim.allowedCidrs[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := failingNext(t)
			_, ierr := Shared(t).New(t.Context(), next, c.config, UniqueName(t))
			_, cerr := BuildCompiled(c.config, next, UniqueName(t))
			for mode, err := range map[string]error{"interpreted": ierr, "compiled": cerr} {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: error %v, want one naming %s", mode, err, c.want)
				}
			}
		})
	}
}

// TestLabelLines checks the Docker label rendering used for the README.
func TestLabelLines(t *testing.T) {
	lines := traefikconf.LabelLines("traefik.http.middlewares.im.plugin.imgate", Shared(t).Manifest.TestData)
	joined := "\n" + strings.Join(lines, "\n") + "\n"
	for _, want := range []string{
		"\ntraefik.http.middlewares.im.plugin.imgate.lists.banned.values=spammer*,mallory,eve,bot-*\n",
		"\ntraefik.http.middlewares.im.plugin.imgate.rules[2].maxMembers=10\n",
		"\ntraefik.http.middlewares.im.plugin.imgate.rules[0].codes.openim=5001\n",
		"\ntraefik.http.middlewares.im.plugin.imgate.tencent.appId=1400000001\n",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("label lines lack %q:%s", strings.TrimSpace(want), joined)
		}
	}
	t.Logf("labels:%s", joined)
}

func compiledConfig(t *testing.T, config map[string]any) traefikplugin.Config {
	t.Helper()
	cfg := traefikplugin.CreateConfig()
	if err := traefikconf.Decode(config, cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return *cfg
}

func mustMap(t *testing.T, text string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
