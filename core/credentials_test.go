package core_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// TestCredentialSources proves that a configured credential either resolves
// to a value or fails the load naming the key (and the variable), and that
// the value never appears in an error.
func TestCredentialSources(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(emptyFile, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setenv(t, "IMGATE_TEST_TOKEN", "env-token")
	setenv(t, "IMGATE_TEST_EMPTY", "")
	cases := []struct {
		name    string
		tencent core.TencentConfig
		openim  core.OpenIMConfig
		token   string // the token a signed callback must use; "" when loading fails
		errKey  string
		errText string
	}{
		{name: "ok/inline", tencent: core.TencentConfig{Token: "inline-token"}, token: "inline-token"},
		{name: "ok/env", tencent: core.TencentConfig{TokenEnv: "IMGATE_TEST_TOKEN"}, token: "env-token"},
		{name: "ok/file trimmed", tencent: core.TencentConfig{TokenFile: tokenFile}, token: "file-token"},
		{name: "fail/env unset", tencent: core.TencentConfig{TokenEnv: "IMGATE_TEST_UNSET_VARIABLE"}, errKey: "tencent.tokenEnv", errText: "environment variable IMGATE_TEST_UNSET_VARIABLE is unset or empty"},
		{name: "fail/env empty", tencent: core.TencentConfig{TokenEnv: "IMGATE_TEST_EMPTY"}, errKey: "tencent.tokenEnv", errText: "IMGATE_TEST_EMPTY is unset or empty"},
		{name: "fail/file missing", tencent: core.TencentConfig{TokenFile: filepath.Join(dir, "nope")}, errKey: "tencent.tokenFile", errText: "no such file"},
		{name: "fail/file empty", tencent: core.TencentConfig{TokenFile: emptyFile}, errKey: "tencent.tokenFile", errText: "is empty"},
		{name: "fail/blank inline", tencent: core.TencentConfig{Token: "  "}, errKey: "tencent.token", errText: "is blank"},
		{name: "fail/two sources", tencent: core.TencentConfig{Token: "inline-token", TokenEnv: "IMGATE_TEST_TOKEN"}, errKey: "tencent.token", errText: "set only one of"},
		{name: "fail/openim env unset", openim: core.OpenIMConfig{SecretEnv: "IMGATE_TEST_UNSET_VARIABLE"}, errKey: "openim.secretEnv", errText: "IMGATE_TEST_UNSET_VARIABLE is unset or empty"},
		{name: "fail/openim file missing", openim: core.OpenIMConfig{SecretFile: filepath.Join(dir, "nope")}, errKey: "openim.secretFile", errText: "no such file"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			engine, err := core.New(core.Config{Tencent: tc.tencent, OpenIM: tc.openim})
			if tc.errKey != "" {
				if err == nil {
					t.Fatal("config loaded; want an error")
				}
				if !errors.Is(err, core.ErrConfig) || !strings.HasPrefix(err.Error(), tc.errKey+":") || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("error %q, want ErrConfig starting %q and containing %q", err, tc.errKey+":", tc.errText)
				}
				for _, secret := range []string{"env-token", "file-token", "inline-token"} {
					if strings.Contains(err.Error(), secret) {
						t.Fatalf("error %q shows the credential", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := signedJoinStatus(t, engine, tc.token); got != http.StatusOK {
				t.Errorf("callback signed with the configured token: HTTP %d, want 200", got)
			}
			if got := signedJoinStatus(t, engine, "wrong-token"); got != http.StatusUnauthorized {
				t.Errorf("callback signed with another token: HTTP %d, want 401", got)
			}
		})
	}
}

// setenv sets an environment variable for the test. Not t.Setenv: under
// Yaegi (yaegi test, Traefik) os.Getenv reads the interpreter's own copy of
// the environment, taken when the interpreter starts (Traefik: at its own
// start-up), which only an interpreted os.Setenv reaches.
// Yaegi does not redirect os.Unsetenv, so the cleanup restores an unset
// variable as empty, which imgate reads the same way.
func setenv(t *testing.T, key, value string) {
	old := os.Getenv(key)
	if err := os.Setenv(key, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Setenv(key, old) })
}

// signedJoinStatus sends a Tencent join signed with token and returns the status.
func signedJoinStatus(t *testing.T, engine *core.Engine, token string) int {
	t.Helper()
	rt := strconv.FormatInt(time.Now().Unix(), 10)
	url := "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&RequestTime=" + rt + "&Sign=" + core.TencentSign(token, rt)
	body := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"alice"}`
	rec := httptest.NewRecorder()
	engine.Serve(rec, httptest.NewRequest(http.MethodPost, url, strings.NewReader(body)), "", nil)
	return rec.Code
}

// TestVerificationWarnings proves that every check left off for a platform
// the route answers is named, and that nothing is named once configured.
func TestVerificationWarnings(t *testing.T) {
	cases := []struct {
		name string
		cfg  core.Config
		want []string // substrings, one per warning, in order
	}{
		{"auto, nothing configured", core.Config{}, []string{"tencent.appId is not set", "no tencent.token", "no openim.secret"}},
		{"tencent only, app id", core.Config{Platform: "tencent", Tencent: core.TencentConfig{AppID: "1400000001"}}, []string{"no tencent.token"}},
		{"tencent fully verified", core.Config{Platform: "tencent", Tencent: core.TencentConfig{AppID: "1400000001", Token: "t"}}, nil},
		{"openim with cidrs", core.Config{Platform: "openim", OpenIM: core.OpenIMConfig{AllowedCIDRs: []string{"10.0.0.0/8"}}}, nil},
		{"openim with secret", core.Config{Platform: "openim", OpenIM: core.OpenIMConfig{Secret: "s"}}, nil},
		{"openim nothing", core.Config{Platform: "openim"}, []string{"no openim.secret"}},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			engine, err := core.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := engine.Warnings()
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tc.want[i]) {
					t.Errorf("warning %d is %q, want it to contain %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestFingerprintFollowsTokenFile proves that rewriting a token file changes
// the fingerprint, so a gateway reload picks up a rotated credential.
func TestFingerprintFollowsTokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	cfg := core.Config{Tencent: core.TencentConfig{TokenFile: file}}
	if err := os.WriteFile(file, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := core.Fingerprint(cfg)
	if err := os.WriteFile(file, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if after := core.Fingerprint(cfg); after == before {
		t.Error("fingerprint unchanged after the token file changed")
	}
	if again := core.Fingerprint(cfg); again == before {
		t.Error("fingerprint went back to the old token's")
	}
}
