//go:build traefikreal

package traefikreal

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/upstreamtest"
	"gopkg.in/yaml.v3"
)

// TestLogs proves imgate's log lines and the decision header reach real
// Traefik's output: a deny at DEBUG and a fallback and a bad signature at
// ERROR, as lines of Traefik's own log carrying plugin=plugin-imgate, and
// one access-log entry per request with the kept X-Imgate-Decision
// response header, using the accessLog.fields of the README's static
// configuration (testdata/traefik/static-local.yml). With the token and
// the secret in files (tokenFile, secretFile), no line of Traefik's log,
// not even its DEBUG dump of each dynamic configuration, and no access-log
// entry (its fields drop the query, where the Tencent Sign and an OpenIM
// ?secret= travel) carries the token, the secret or the Sign. An inline
// token does appear in that DEBUG dump, which is why docs/traefik.md says
// to use files or environment variables.
func TestLogs(t *testing.T) {
	const (
		token  = "secret-token-not-for-logs"
		secret = "openim-secret-not-for-logs"
	)
	tokenFile, secretFile := filepath.Join(t.TempDir(), "token"), filepath.Join(t.TempDir(), "secret")
	for file, value := range map[string]string{tokenFile: token, secretFile: secret} {
		if err := os.WriteFile(file, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tr := startImgate(t, Options{AccessLog: true, AccessLogFields: exampleAccessLogFields(t)})
	config := map[string]any{
		"decisionHeader": "X-Imgate-Decision",
		"tencent":        map[string]any{"appId": "1400000001", "tokenFile": tokenFile},
		"openim":         map[string]any{"secretFile": secretFile},
		"lists":          map[string]any{"banned": map[string]any{"values": []any{"mallory"}}},
		"rules": []any{
			map[string]any{"name": "banned", "actors": []any{"@banned"}, "action": "deny"},
			map[string]any{"name": "to-app", "events": []any{"group.create.before"}, "action": "forward"},
		},
		"forward": map[string]any{"fallback": "deny"},
	}
	apply(t, tr, dynamicConfig(map[string]route{"logs": {host: "logs.test", middleware: config, service: downURL(t)}}))
	client := Client()
	openim := func(command, body string) *http.Request {
		r, err := http.NewRequest(http.MethodPost, tr.URL+"/im/"+command+"?secret="+secret, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	requests := []struct {
		name     string
		req      *http.Request
		decision string
		level    string
		line     string
	}{
		{"deny", openim("callbackBeforeJoinGroupCommand", `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"mallory"}`),
			"deny; rule=banned", "debug", " result=deny platform=openim command=callbackBeforeJoinGroupCommand event=group.join.apply group=g1 actor=mallory rule=banned "},
		{"fallback", openim("callbackBeforeCreateGroupCommand", `{"callbackCommand":"callbackBeforeCreateGroupCommand","groupID":"","groupName":"x","ownerUserID":"jared","creatorUserID":"jared","groupType":2}`),
			"fallback; rule=to-app", "error", " result=fallback platform=openim command=callbackBeforeCreateGroupCommand event=group.create.before group=\"\" actor=jared rule=to-app reason=status_502 upstream=false "},
		{"bad-signature", upstreamtest.Callback{
			Target: "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&RequestTime=" + strconv.FormatInt(time.Now().Unix(), 10) + "&Sign=deadbeef",
			Body:   `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"jared"}`,
		}.Request(tr.URL), "unauthorized; rule=", "error", " result=unauthorized platform=tencent command=Group.CallbackBeforeApplyJoinGroup event=group.join.apply "},
	}
	for _, r := range requests {
		status, decision, body := send(t, client, r.req, "logs.test", "X-Imgate-Decision")
		if decision != r.decision {
			t.Errorf("%s: reply %s, want decision %q", r.name, reply(status, decision, body), r.decision)
		}
	}

	for _, r := range requests {
		l, ok := tr.WaitLog(func(l LogLine) bool {
			return l.Plugin == "plugin-"+PluginName && strings.HasPrefix(l.Message, "imgate middleware=logs@file ") && strings.Contains(l.Message, r.line)
		}, 10*time.Second)
		if !ok {
			t.Errorf("%s: no plugin line with %q in traefik's output", r.name, r.line)
		} else if l.Level != r.level {
			t.Errorf("%s: logged at level %q, want %q: %s", r.name, l.Level, r.level, l.Raw)
		}
	}
	if lines := tr.PluginLines(PluginName); len(lines) != len(requests) {
		t.Errorf("%d plugin lines, want %d (one per outcome):\n%v", len(lines), len(requests), lines)
	}
	secrets := []string{token, secret, "deadbeef"}
	configDumps := 0
	for _, l := range tr.Logs() {
		if l.Message == "Configuration received" && strings.Contains(l.Raw, tokenFile) {
			configDumps++
		}
		for _, s := range secrets {
			if strings.Contains(l.Raw, s) {
				t.Errorf("traefik's log carries %q: %s", s, l.Raw)
			}
		}
	}
	if configDumps == 0 {
		t.Error("no DEBUG dump of the imgate configuration in traefik's log: the check above saw nothing")
	}

	// Traefik writes an access-log entry once the response is sent.
	var entries []map[string]any
	for stop := time.Now().Add(20 * time.Second); time.Now().Before(stop); time.Sleep(50 * time.Millisecond) {
		all, err := tr.AccessLog()
		if err != nil {
			t.Fatal(err)
		}
		entries = entries[:0]
		for _, e := range all {
			if e["RouterName"] == "logs@file" {
				entries = append(entries, e)
			}
		}
		if len(entries) >= len(requests) {
			break
		}
	}
	if len(entries) != len(requests) {
		t.Fatalf("%d access-log entries for router logs@file, want %d", len(entries), len(requests))
	}
	t.Logf("an access-log entry: %v", entries[0])
	for i, e := range entries {
		for _, v := range e {
			for _, s := range secrets {
				if strings.Contains(fmt.Sprint(v), s) {
					t.Errorf("access log entry %d carries %q: %v", i, s, e)
				}
			}
		}
		if got := e["downstream_X-Imgate-Decision"]; got != requests[i].decision {
			t.Errorf("access log entry %d: downstream_X-Imgate-Decision %v, want %q (entry %v)", i, got, requests[i].decision, e)
		}
	}
}

// TestInlineTokenInDebugDump shows why docs/traefik.md asks for tokenFile
// or tokenEnv: at log.level DEBUG Traefik prints every dynamic
// configuration it receives, plugin options and an inline token included.
func TestInlineTokenInDebugDump(t *testing.T) {
	const token = "inline-token-shown-at-debug"
	tr := startImgate(t, Options{})
	config := map[string]any{"tencent": map[string]any{"appId": "1400000001", "token": token}}
	apply(t, tr, dynamicConfig(map[string]route{"inline": {host: "inline.test", middleware: config, service: downURL(t)}}))
	for _, l := range tr.Logs() {
		if l.Level == "debug" && l.Message == "Configuration received" && strings.Contains(l.Raw, token) {
			return
		}
	}
	t.Error("traefik's DEBUG configuration dump does not show the inline token any more; update docs/traefik.md")
}

// exampleAccessLogFields returns accessLog.fields of the README's static
// configuration.
func exampleAccessLogFields(t *testing.T) map[string]any {
	t.Helper()
	data := golden.ReadTestdata(t, "traefik", "static-local.yml")
	var static struct {
		AccessLog struct {
			Fields map[string]any `yaml:"fields"`
		} `yaml:"accessLog"`
	}
	if err := yaml.Unmarshal(data, &static); err != nil {
		t.Fatal(err)
	}
	if static.AccessLog.Fields == nil {
		t.Fatal("static-local.yml has no accessLog.fields")
	}
	return static.AccessLog.Fields
}
