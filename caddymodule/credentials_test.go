package caddymodule

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/imgate/imgate/core"
)

// TestCredentialsFailClosed proves that a credential that is configured but
// resolves to nothing refuses to provision, naming the key and the
// variable, whatever form it takes.
func TestCredentialsFailClosed(t *testing.T) {
	t.Setenv("IMGATE_TEST_EMPTY", "")
	tests := []struct {
		name string
		json string
		want string
	}{
		{"fail/token-env-placeholder", `{"tencent":{"token":"{env.IMGATE_TEST_UNSET_VAR}"}}`,
			"tencent.token: {env.IMGATE_TEST_UNSET_VAR} resolved to an empty value: environment variable IMGATE_TEST_UNSET_VAR is unset or empty"},
		{"fail/token-env-placeholder-empty", `{"tencent":{"token":"{env.IMGATE_TEST_EMPTY}"}}`,
			"environment variable IMGATE_TEST_EMPTY is unset or empty"},
		{"fail/secret-env-placeholder", `{"openim":{"secret":"{env.IMGATE_TEST_UNSET_VAR}"}}`,
			"openim.secret: {env.IMGATE_TEST_UNSET_VAR} resolved to an empty value"},
		{"fail/app-id-placeholder", `{"tencent":{"appId":"{env.IMGATE_TEST_UNSET_VAR}"}}`,
			"tencent.appId: {env.IMGATE_TEST_UNSET_VAR} resolved to an empty value"},
		{"fail/file-placeholder", `{"tencent":{"token":"{file./nonexistent/imgate-token}"}}`,
			"tencent.token: {file./nonexistent/imgate-token} resolved to an empty value"},
		{"fail/token-env-key", `{"tencent":{"tokenEnv":"IMGATE_TEST_UNSET_VAR"}}`,
			"tencent.tokenEnv: environment variable IMGATE_TEST_UNSET_VAR is unset or empty"},
		{"fail/secret-file-key", `{"openim":{"secretFile":"/nonexistent/imgate-secret"}}`,
			"openim.secretFile: reading /nonexistent/imgate-secret"},
		{"fail/store-address-placeholder", `{"store":{"type":"redis","address":"{env.IMGATE_TEST_UNSET_VAR}"}}`,
			"store.address: {env.IMGATE_TEST_UNSET_VAR} resolved to an empty value: environment variable IMGATE_TEST_UNSET_VAR is unset or empty; set it, or remove store.address"},
		{"fail/store-password-placeholder", `{"store":{"type":"redis","address":"redis://127.0.0.1:1","password":"{env.IMGATE_TEST_UNSET_VAR}"}}`,
			"store.password: {env.IMGATE_TEST_UNSET_VAR} resolved to an empty value"},
		{"fail/store-password-env-key", `{"store":{"type":"redis","address":"redis://127.0.0.1:1","passwordEnv":"IMGATE_TEST_UNSET_VAR"}}`,
			"store.passwordEnv: environment variable IMGATE_TEST_UNSET_VAR is unset or empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := tryProvision(t, []byte(tt.json), "")
			if err == nil {
				h.Cleanup()
				t.Fatalf("provisioned; want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

// TestCaddyfileCredentialWithoutValue proves that `token {$VAR}` with VAR
// unset (which the Caddyfile turns into a bare `token`) is an error, not an
// empty token.
func TestCaddyfileCredentialWithoutValue(t *testing.T) {
	for _, input := range []string{
		"imgate {\n tencent {\n  token\n }\n}",
		"imgate {\n tencent {\n  token \"\"\n }\n}",
		"imgate {\n openim {\n  secret\n }\n}",
	} {
		h := &Handler{}
		err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
		if err == nil || !strings.Contains(err.Error(), "that variable is unset or empty") {
			t.Errorf("%q: error %v, want one naming the unset variable", input, err)
		}
	}
}

// TestVerificationOffIsLoggedOnce proves that an engine whose config leaves
// verification off says so at warn level when it is built, and that a
// reload of the same config, which reuses the engine, does not repeat it.
func TestVerificationOffIsLoggedOnce(t *testing.T) {
	obs, logs := observer.New(zapcore.WarnLevel)
	logger := zap.New(obs)
	cfg := core.Config{Platform: "tencent", Tencent: core.TencentConfig{AppID: "1400000001"}}
	key := poolKey("warn-once", "", cfg)
	for i := 0; i < 2; i++ {
		if _, err := loadEngine(key, cfg, "", logger); err != nil {
			t.Fatal(err)
		}
	}
	defer releaseEngine(key)
	defer releaseEngine(key)
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("%d warnings, want 1: %v", len(entries), entries)
	}
	checks, _ := entries[0].ContextMap()["checks"].([]interface{})
	if len(checks) != 1 || !strings.Contains(checks[0].(string), "not signature-checked") {
		t.Errorf("warning checks %v, want one saying the signature is not checked", entries[0].ContextMap()["checks"])
	}
}
