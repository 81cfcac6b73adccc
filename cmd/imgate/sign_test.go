package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

const testToken = "sign-test-token-5e3c"

// TestSignURL adds RequestTime and Sign as golden cases and core compute
// them, replacing old ones and keeping every other parameter as written.
func TestSignURL(t *testing.T) {
	now := time.Unix(1669872112, 0)
	// The Sign golden.Case.URL computes for the same token and time.
	want := golden.Case{Request: golden.Request{URL: "RequestTime={now}&Sign={sign}", SignToken: testToken}}
	tail := want.URL(now)
	tests := []struct{ name, url, want string }{
		{"plain", "http://gw:8080/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
			"http://gw:8080/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&" + tail},
		{"replaces old", "/im/tencent?RequestTime=1&CallbackCommand=Group.CallbackBeforeCreateGroup&Sign=abc&contenttype=json&%52equestTime=2",
			"/im/tencent?CallbackCommand=Group.CallbackBeforeCreateGroup&contenttype=json&" + tail},
		{"keeps spelling and fragment", "/t?CallbackCommand=Group.X&ClientIP=1.2.3.4&OptPlatform=Web%20App&&#frag",
			"/t?CallbackCommand=Group.X&ClientIP=1.2.3.4&OptPlatform=Web%20App&" + tail + "#frag"},
	}
	for _, tt := range tests {
		got, err := signURL(tt.url, testToken, now)
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v\n  want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"/im/openim/callbackBeforeJoinGroupCommand", "http://gw/im/tencent?SdkAppid=1", "http://[::1"} {
		if got, err := signURL(bad, testToken, now); err == nil {
			t.Errorf("%s: signed %s, want a refusal", bad, got)
		}
	}
}

// gatewayServer is a real HTTP server answering Tencent callbacks with
// imgate's engine, token checked.
func gatewayServer(t *testing.T) *httptest.Server {
	t.Helper()
	engine, err := core.New(core.Config{
		Platform:       "tencent",
		Tencent:        core.TencentConfig{AppID: "1400000001", Token: testToken},
		Rules:          []core.RuleConfig{{Name: "ban", Members: []string{"bot-*"}, Action: "deny"}},
		DecisionHeader: "X-Imgate-Decision",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		engine.Serve(w, r, "", nil)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSignAgainstAGateway: the printed URL is accepted by a gateway with
// that token, -send posts the vendor sample and prints the exchange, and
// the token is never printed.
func TestSignAgainstAGateway(t *testing.T) {
	srv := gatewayServer(t)
	t.Setenv("IMGATE_SIGN_TEST_TOKEN", testToken)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json"

	code, out, errOut := runCmd(t, "sign", "-token-file", tokenFile, base)
	if code != exitOK || errOut != "" {
		t.Fatalf("sign: exit %d %s", code, errOut)
	}
	signed := strings.TrimSpace(out)
	rt := signed[strings.Index(signed, "RequestTime=")+len("RequestTime="):]
	rt = rt[:strings.IndexByte(rt, '&')]
	if n, err := strconv.ParseInt(rt, 10, 64); err != nil || time.Since(time.Unix(n, 0)).Abs() > time.Minute {
		t.Errorf("RequestTime %s is not now", rt)
	}
	resp, err := http.Post(signed, "application/json", strings.NewReader(`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"g","Operator_Account":"a","DestinationMembers":[{"Member_Account":"b"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the printed URL got HTTP %d, want 200", resp.StatusCode)
	}

	// -send after the URL, the sample for the command from testdata/seeds.
	code, out, errOut = runCmd(t, "sign", "-token-env", "IMGATE_SIGN_TEST_TOKEN", base, "-send")
	if code != exitOK {
		t.Fatalf("sign -send: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"> POST /im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&RequestTime=",
		"> Content-Type: application/json\n",
		"< HTTP/1.1 200 OK\n",
		"< X-Imgate-Decision: allow; rule=default\n",
		"<\n{\"ActionStatus\":\"OK\",\"ErrorInfo\":\"\",\"ErrorCode\":0}\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sign -send output lacks %q:\n%s", want, out)
		}
	}

	// -body, and a gateway that refuses: exit 1 with the reply shown.
	body := filepath.Join(t.TempDir(), "invite.json")
	if err := os.WriteFile(body, []byte(`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"g","Operator_Account":"a","DestinationMembers":[{"Member_Account":"bot-1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCmd(t, "sign", "-token", testToken, "-send", "-body", body, base)
	if code != exitOK || !strings.Contains(out, `"ErrorCode":1`) {
		t.Errorf("sign -send -body (a deny is still 2xx): exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "sign", "-token", "wrong-token", "-send", base)
	if code != exitFail || !strings.Contains(out, "< HTTP/1.1 401 Unauthorized\n") {
		t.Errorf("wrong token: exit %d, want %d and the 401 shown\n%s", code, exitFail, out)
	}

	for _, args := range [][]string{{"-token-file", tokenFile, base}, {"-token-env", "IMGATE_SIGN_TEST_TOKEN", "-send", base}} {
		_, out, errOut := runCmd(t, append([]string{"sign"}, args...)...)
		if strings.Contains(out+errOut, testToken) {
			t.Errorf("sign %v printed the token", args)
		}
	}
}

// TestSignErrors: usage errors exit 2, an unreachable gateway 1; neither
// prints the token.
func TestSignErrors(t *testing.T) {
	t.Setenv("IMGATE_SIGN_TEST_EMPTY", " ")
	url := "http://127.0.0.1:1/im/tencent?CallbackCommand=Group.CallbackBeforeApplyJoinGroup"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no token", []string{url}, exitUsage, "give the token exactly once"},
		{"two tokens", []string{"-token", "a", "-token-env", "B", url}, exitUsage, "give the token exactly once"},
		{"empty env", []string{"-token-env", "IMGATE_SIGN_TEST_EMPTY", url}, exitUsage, "IMGATE_SIGN_TEST_EMPTY is unset or empty"},
		{"missing file", []string{"-token-file", "/nonexistent/token", url}, exitUsage, "/nonexistent/token"},
		{"blank token", []string{"-token", "  ", url}, exitUsage, "blank"},
		{"no URL", []string{"-token", "t"}, exitUsage, "exactly one URL"},
		{"two URLs", []string{"-token", "t", url, url}, exitUsage, "exactly one URL"},
		{"body without send", []string{"-token", "t", "-body", "x.json", url}, exitUsage, "-body is only used with -send"},
		{"OpenIM URL", []string{"-token", "t", "http://gw/im/openim/callbackBeforeJoinGroupCommand"}, exitUsage, "not a Tencent callback URL"},
		{"no sample", []string{"-token", "t", "-send", "http://gw/im/tencent?CallbackCommand=Group.CallbackNothing"}, exitUsage, "no sample for Group.CallbackNothing"},
		{"relative URL", []string{"-token", "t", "-send", "/im/tencent?CallbackCommand=Group.CallbackBeforeApplyJoinGroup"}, exitUsage, "http:// or https://"},
		{"unreachable", []string{"-token", "secret-token-x", "-send", url}, exitFail, "connection refused"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, append([]string{"sign"}, tt.args...)...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", tt.name, code, errOut, tt.code, tt.want)
		}
		if strings.Contains(out+errOut, "secret-token-x") {
			t.Errorf("%s: printed the token", tt.name)
		}
	}
}
