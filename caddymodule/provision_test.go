package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// provisionJSON decodes raw strictly, as Caddy does, and provisions it
// with the working directory set to dir (list files are relative to it).
func provisionJSON(t *testing.T, raw []byte, dir string) *Handler {
	t.Helper()
	h, err := tryProvision(t, raw, dir)
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	return h
}

func tryProvision(t *testing.T, raw []byte, dir string) (*Handler, error) {
	t.Helper()
	h := &Handler{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil {
		return nil, err
	}
	if dir != "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		if err = os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		defer os.Chdir(wd)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return h, h.Provision(ctx)
}

// TestProvisionErrors checks that an invalid config fails at load time
// with the core key and reason, and that unknown JSON keys are refused.
func TestProvisionErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"fail/unknown-key", `{"defaultActon":"deny"}`, `unknown field "defaultActon"`},
		{"fail/code-wrong-platform", `{"rules":[{"name":"r","action":"deny","code":10101}]}`, `rules[0] (r).code: 10101 is not an OpenIM errCode`},
		{"fail/deadline-over-budget", `{"forward":{"tencentDeadline":"2s"}}`, `forward.tencentDeadline: 2s is not below Tencent's fixed 2s callback budget`},
		{"fail/missing-list-file", `{"lists":{"l":{"file":"/nonexistent/imgate.txt"}}}`, `lists.l.file:`},
		{"fail/undefined-list", `{"rules":[{"actors":["@nope"],"action":"deny"}]}`, `list "nope" is not defined under lists`},
		{"fail/bad-regexp", `{"rules":[{"text":"(","action":"deny"}]}`, `rules[0].text: "(" is not a regular expression`},
		{"fail/app-id", `{"tencent":{"appId":"abc"}}`, `tencent.appId: "abc" is not a numeric SDKAppID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := tryProvision(t, []byte(tt.json), "")
			if err == nil {
				h.Cleanup()
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
			if h != nil {
				// Cleanup after a failed Provision must be harmless.
				if cerr := h.Cleanup(); cerr != nil {
					t.Errorf("cleanup after failed provision: %v", cerr)
				}
			}
		})
	}
}

// TestProvisionEnvPlaceholders checks that credentials may come from the
// environment at run time.
func TestProvisionEnvPlaceholders(t *testing.T) {
	t.Setenv("IMGATE_TEST_APPID", "1400000009")
	t.Setenv("IMGATE_TEST_TOKEN", "tok")
	t.Setenv("IMGATE_TEST_SECRET", "sec")
	h := provisionJSON(t, []byte(`{"tencent":{"appId":"{env.IMGATE_TEST_APPID}","token":"{env.IMGATE_TEST_TOKEN}"},"openim":{"secret":"{env.IMGATE_TEST_SECRET}"}}`), "")
	defer h.Cleanup()
	cfg := h.engine.Config()
	if cfg.Tencent.AppID != "1400000009" || cfg.Tencent.Token != "tok" || cfg.OpenIM.Secret != "sec" {
		t.Errorf("placeholders not replaced: %+v %+v", cfg.Tencent, cfg.OpenIM)
	}
}
