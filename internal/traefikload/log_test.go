package traefikload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
)

// TestLogStreams proves the interpreted plugin's log lines reach the
// interpreter's Stdout (Traefik: DEBUG) and Stderr (Traefik: ERROR) that
// Traefik installs, one line per outcome, and that a panicking service is
// answered with the fallback and logged on the error stream.
func TestLogStreams(t *testing.T) {
	// Not *os.File, like Traefik's loggers: Yaegi then leaves os.Stdout
	// alone, so only what the plugin writes through fmt and log arrives.
	var stdout, stderr golden.LockedBuffer
	p, err := Load(Options{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	config := map[string]any{
		"tencent": map[string]any{"appId": "1400000001", "token": "secret-token"},
		"lists":   map[string]any{"banned": map[string]any{"values": "mallory"}},
		"rules": []any{
			map[string]any{"name": "banned", "actors": "@banned", "action": "deny"},
			map[string]any{"name": "to-app", "events": "group.create.before", "action": "forward"},
		},
		"forward": map[string]any{"fallback": "deny"},
	}
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) { panic(http.ErrAbortHandler) })
	h, err := p.New(context.Background(), next, config, "imgate@file")
	if err != nil {
		t.Fatal(err)
	}
	send := func(url, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, url, strings.NewReader(body)))
		return rec
	}
	// OpenIM: no token applies, the ban list decides.
	rec := send("/im/callbackBeforeJoinGroupCommand", `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"mallory"}`)
	if !strings.Contains(rec.Body.String(), `"nextCode":1`) {
		t.Errorf("banned actor reply %s, want a deny", rec.Body.String())
	}
	// OpenIM create group forwards to a service that panics.
	rec = send("/im/callbackBeforeCreateGroupCommand", `{"callbackCommand":"callbackBeforeCreateGroupCommand","groupInfo":{"groupID":"g2","groupName":"x"},"opUserID":"jared"}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"nextCode":1`) {
		t.Errorf("panicking service reply %d %s, want the fallback deny", rec.Code, rec.Body.String())
	}
	// Tencent with a wrong Sign.
	rec = send("/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&RequestTime=1&Sign=deadbeef",
		`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"jared"}`)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("bad signature status %d, want 401", rec.Code)
	}

	debug, errs := lines(stdout.String()), lines(stderr.String())
	if len(debug) != 1 || !strings.Contains(debug[0], "imgate middleware=imgate@file result=deny ") || !strings.Contains(debug[0], " actor=mallory ") {
		t.Errorf("debug stream %q, want one deny line", debug)
	}
	// The config verifies Tencent but leaves OpenIM open: New says so once.
	if len(errs) != 3 || !strings.Contains(errs[0], " result=verification_off ") || !strings.Contains(errs[0], "OpenIM callbacks are not verified") ||
		!strings.Contains(errs[1], " result=fallback ") || !strings.Contains(errs[2], " result=unauthorized ") {
		t.Errorf("error stream %q, want a verification_off line, a fallback line, then an unauthorized line", errs)
	}
	for _, secret := range []string{"secret-token", "deadbeef"} {
		if strings.Contains(stdout.String()+stderr.String(), secret) {
			t.Errorf("logs carry %q", secret)
		}
	}
}

func lines(text string) []string {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
