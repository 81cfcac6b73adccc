package traefikload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestManifestChecks proves .traefik.yml passes the checks Traefik applies
// to a local plugin, names the package the adapter really has, and that
// Check catches what Traefik refuses.
func TestManifestChecks(t *testing.T) {
	root, module, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(filepath.Join(root, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(module); err != nil {
		t.Fatalf("Traefik would refuse the manifest: %v", err)
	}
	if got := m.PackageName(); got != "traefikplugin" {
		t.Errorf("package name %q, want traefikplugin", got)
	}
	broken := []struct {
		name   string
		mutate func(*Manifest)
		want   string
	}{
		{"fail/type", func(m *Manifest) { m.Type = "provider" }, "type"},
		{"fail/foreign-import", func(m *Manifest) { m.Import = "github.com/other/repo/traefikplugin" }, "related to the module name"},
		{"fail/no-summary", func(m *Manifest) { m.Summary = "" }, "summary"},
		{"fail/no-testdata", func(m *Manifest) { m.TestData = nil }, "testData"},
		{"fail/unsafe", func(m *Manifest) { m.UseUnsafe = true }, "useUnsafe"},
	}
	for _, c := range broken {
		t.Run(c.name, func(t *testing.T) {
			bad := *m
			c.mutate(&bad)
			err := bad.Check(module)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want an error about %s", err, c.want)
			}
		})
	}
}

// TestManifestTestData decodes the manifest's testData the way Traefik
// (and the Plugins Catalog) does, builds the interpreted middleware and
// sends it callbacks the example rules must decide: the testData is a
// working configuration, not decoration.
func TestManifestTestData(t *testing.T) {
	p := Shared(t)
	if len(p.Manifest.TestData) == 0 {
		t.Fatal("manifest has no testData")
	}
	h, err := p.New(context.Background(), failingNext(t), p.Manifest.TestData, UniqueName(t))
	if err != nil {
		t.Fatalf("New with testData: %v", err)
	}
	checkExampleRules(t, h, "")
}

// checkExampleRules sends callbacks that the example rules (ban list,
// invite cap, spam text; Caddyfile.example) must decide, signing the
// Tencent ones when token is set, and checks replies and decision header.
func checkExampleRules(t *testing.T, h http.Handler, token string) {
	t.Helper()
	tencentURL := func(command string) string {
		u := "/im?SdkAppid=1400000001&CallbackCommand=" + command + "&contenttype=json"
		if token != "" {
			rt := strconv.FormatInt(time.Now().Unix(), 10)
			sum := sha256.Sum256([]byte(token + rt))
			u += "&RequestTime=" + rt + "&Sign=" + hex.EncodeToString(sum[:])
		}
		return u
	}
	tencentAllow := `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	cases := []struct {
		name, url, body, want, header string
	}{
		{"ok/clean-apply", tencentURL("Group.CallbackBeforeApplyJoinGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"jared"}`,
			tencentAllow, "allow; rule=default"},
		{"deny/banned-actor", tencentURL("Group.CallbackBeforeApplyJoinGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"spammer42"}`,
			`{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`, "deny; rule=banned-actor"},
		{"deny/spam-group-name", tencentURL("Group.CallbackBeforeCreateGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeCreateGroup","Operator_Account":"jared","Owner_Account":"jared","Type":"Public","Name":"Casino night"}`,
			`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, "deny; rule=spam-text"},
		{"deny/invite-cap", tencentURL("Group.CallbackBeforeInviteJoinGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Operator_Account":"jared","DestinationMembers":[` + members(11) + `]}`,
			`{"ActionStatus":"OK","ErrorInfo":"too many invitees","ErrorCode":1}`, "deny; rule=invite-cap"},
		{"deny/openim-banned-actor", "/im/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"mallory","reqMessage":"hi"}`,
			`{"actionCode":0,"errCode":5001,"errMsg":"you are banned","errDlt":"","nextCode":1}`, "deny; rule=banned-actor-openim"},
		{"deny/openim-spam-request", "/im/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"jared","reqMessage":"free money inside"}`,
			`{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`, "deny; rule=spam-text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, c.url, strings.NewReader(c.body)))
			if rec.Code != http.StatusOK || rec.Body.String() != c.want {
				t.Fatalf("reply %d %s, want 200 %s", rec.Code, rec.Body.String(), c.want)
			}
			if got := rec.Header().Get("X-Imgate-Decision"); got != c.header {
				t.Errorf("decision header %q, want %q", got, c.header)
			}
		})
	}
}

// failingNext is a next handler for configs that never forward.
func failingNext(t testing.TB) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		t.Errorf("unexpected forward of %s", req.URL.Path)
		rw.WriteHeader(http.StatusBadGateway)
	})
}

// members renders n Tencent DestinationMembers entries.
func members(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"Member_Account":"user` + string(rune('a'+i)) + `"}`
	}
	return strings.Join(parts, ",")
}
