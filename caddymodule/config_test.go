package caddymodule

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestHandlerConfig decodes a handler's JSON as Provision would: strictly,
// placeholders in credentials resolved, name apart.
func TestHandlerConfig(t *testing.T) {
	const variable = "IMGATE_TEST_HANDLERCONFIG_TOKEN"
	os.Setenv(variable, "t0k3n")
	t.Cleanup(func() { os.Unsetenv(variable) })

	cfg, name, err := HandlerConfig([]byte(`{"handler":"imgate","name":"site-a","platform":"tencent",
		"tencent":{"appId":"1400000001","token":"{env.` + variable + `}"},
		"rules":[{"name":"ban","actors":["mallory"],"action":"deny","codes":{"tencent":10101}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if name != "site-a" || cfg.Platform != "tencent" || cfg.Tencent.Token != "t0k3n" || cfg.Rules[0].Codes["tencent"] != 10101 {
		t.Errorf("got name %q config %+v", name, cfg)
	}

	for _, tt := range []struct{ name, raw, want string }{
		{"unknown key", `{"handler":"imgate","rulez":[]}`, "rulez"},
		{"other handler", `{"handler":"reverse_proxy"}`, errNotImgate.Error()},
		{"no handler key", `{"rules":[]}`, errNotImgate.Error()},
		{"unset variable", `{"handler":"imgate","openim":{"secret":"{env.IMGATE_TEST_UNSET_VARIABLE}"}}`, "IMGATE_TEST_UNSET_VARIABLE is unset or empty"},
		{"not an object", `[1]`, "imgate handler"},
	} {
		_, _, err := HandlerConfig([]byte(tt.raw))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if _, _, err := HandlerConfig([]byte(`{"handler":"x"}`)); !errors.Is(err, errNotImgate) {
		t.Errorf("other handler: %v, want errNotImgate", err)
	}
}
