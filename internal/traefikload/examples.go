package traefikload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/internal/traefikconf"
)

// ExampleToken is the Tencent callback token written in the examples
// (testdata/traefik, the README).
const ExampleToken = "your-callback-token"

// ExampleListFile is the ban-list path in the examples; tests point it at
// testdata/lists/banned.txt.
const ExampleListFile = "/etc/imgate/banned.txt"

// ExampleCallback is a callback the example rules (ban list, invite cap,
// spam text; Caddyfile.example, .traefik.yml testData, testdata/traefik)
// must decide without forwarding.
type ExampleCallback struct {
	Name string
	// Target is the path and query; Body the JSON body (sent with POST).
	Target, Body string
	// Reply is the exact body of the 200 reply; Decision the
	// X-Imgate-Decision header.
	Reply, Decision string
}

// ExampleCallbacks returns the example callbacks, the Tencent ones signed
// with token at the current time when token is set.
func ExampleCallbacks(token string) []ExampleCallback {
	tencentURL := func(command string) string {
		u := "/im?SdkAppid=1400000001&CallbackCommand=" + command + "&contenttype=json"
		if token != "" {
			rt := strconv.FormatInt(time.Now().Unix(), 10)
			sum := sha256.Sum256([]byte(token + rt))
			u += "&RequestTime=" + rt + "&Sign=" + hex.EncodeToString(sum[:])
		}
		return u
	}
	return []ExampleCallback{
		{"ok/clean-apply", tencentURL("Group.CallbackBeforeApplyJoinGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"jared"}`,
			`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`, "allow; rule=default"},
		{"deny/banned-actor", tencentURL("Group.CallbackBeforeApplyJoinGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"spammer42"}`,
			`{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`, "deny; rule=banned-actor"},
		{"deny/spam-group-name", tencentURL("Group.CallbackBeforeCreateGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeCreateGroup","Operator_Account":"jared","Owner_Account":"jared","Type":"Public","Name":"Casino night"}`,
			`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":1}`, "deny; rule=spam-text"},
		{"deny/invite-cap", tencentURL("Group.CallbackBeforeInviteJoinGroup"),
			`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Operator_Account":"jared","DestinationMembers":[` + exampleMembers(11) + `]}`,
			`{"ActionStatus":"OK","ErrorInfo":"too many invitees","ErrorCode":1}`, "deny; rule=invite-cap"},
		{"deny/openim-banned-actor", "/im/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"mallory","reqMessage":"hi"}`,
			`{"actionCode":0,"errCode":5001,"errMsg":"you are banned","errDlt":"","nextCode":1}`, "deny; rule=banned-actor"},
		{"deny/openim-spam-request", "/im/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"jared","reqMessage":"free money inside"}`,
			`{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}`, "deny; rule=spam-text"},
	}
}

// exampleMembers renders n Tencent DestinationMembers entries.
func exampleMembers(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"Member_Account":"user` + string(rune('a'+i)) + `"}`
	}
	return strings.Join(parts, ",")
}

// ReplaceString replaces the string value old by repl anywhere in a
// decoded configuration (e.g. ExampleListFile by a real path).
func ReplaceString(v any, old, repl string) {
	switch x := v.(type) {
	case map[string]any:
		for k, item := range x {
			if s, ok := item.(string); ok && s == old {
				x[k] = repl
				continue
			}
			ReplaceString(item, old, repl)
		}
	case []any:
		for i, item := range x {
			if s, ok := item.(string); ok && s == old {
				x[i] = repl
				continue
			}
			ReplaceString(item, old, repl)
		}
	}
}

// Example middleware and plugin names in testdata/traefik.
const (
	exampleMiddleware = "imgate"
	examplePlugin     = "imgate"
	exampleService    = "im-app"
)

// ExampleConfigs returns the imgate plugin configuration of each example in
// dir (testdata/traefik) as its Traefik provider hands it to the plugin:
// "file-provider" (dynamic.yml, traefikconf.FromFile), "kubernetes"
// (middleware-k8s.yml, traefikconf.FromCRD) and "docker-labels" (the labels
// of service im-app in docker-compose.yml, traefikconf.FromLabels).
func ExampleConfigs(dir string) (map[string]map[string]any, error) {
	read := func(name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }
	out := map[string]map[string]any{}
	pick := func(example string, configs traefikconf.PluginConfigs) error {
		config, ok := configs[exampleMiddleware][examplePlugin]
		if !ok {
			return fmt.Errorf("%s: no middleware %q with plugin %q: %w", example, exampleMiddleware, examplePlugin, traefikconf.ErrProvider)
		}
		out[example] = config
		return nil
	}
	data, err := read("dynamic.yml")
	if err != nil {
		return nil, err
	}
	configs, err := traefikconf.FromFile(data, ".yml")
	if err == nil {
		err = pick("file-provider", configs)
	}
	if err != nil {
		return nil, err
	}
	if data, err = read("middleware-k8s.yml"); err != nil {
		return nil, err
	}
	if configs, err = traefikconf.FromCRD(data); err == nil {
		err = pick("kubernetes", configs)
	}
	if err != nil {
		return nil, err
	}
	if data, err = read("docker-compose.yml"); err != nil {
		return nil, err
	}
	labels, err := traefikconf.ComposeLabels(data, exampleService)
	if err != nil {
		return nil, err
	}
	if configs, err = traefikconf.FromLabels(labels); err == nil {
		err = pick("docker-labels", configs)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}
