package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// decodeConfig decodes a JSON config strictly, as Caddy does.
func decodeConfig(text string) (core.Config, error) {
	var cfg core.Config
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	err := dec.Decode(&cfg)
	return cfg, err
}

// TestConfigErrors proves that every invalid setting fails at load time with
// an ErrConfig naming the key and saying why.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name   string
		config string
		key    string
		reason string
	}{
		{"platform", `{"platform":"wechat"}`, "platform", `"wechat" is not one of auto, tencent, openim`},
		{"default action", `{"defaultAction":"maybe"}`, "defaultAction", "is not one of allow, deny, forward"},
		{"negative body limit", `{"maxBodyBytes":-1}`, "maxBodyBytes", "negative"},
		{"negative rate keys", `{"rateLimitMaxKeys":-5}`, "rateLimitMaxKeys", "negative"},
		{"app id not numeric", `{"tencent":{"appId":"14000x"}}`, "tencent.appId", "not a numeric SDKAppID"},
		{"bad sign window", `{"tencent":{"signWindow":"a minute"}}`, "tencent.signWindow", "not a positive duration"},
		{"negative reload interval", `{"listReloadInterval":"-5s"}`, "listReloadInterval", "not a positive duration"},
		{"zero deadline", `{"forward":{"tencentDeadline":"0s"}}`, "forward.tencentDeadline", "not a positive duration"},
		{"tencent deadline at budget", `{"forward":{"tencentDeadline":"2s"}}`, "forward.tencentDeadline", "not below Tencent's fixed 2s callback budget"},
		{"tencent deadline over budget", `{"forward":{"tencentDeadline":"2500ms"}}`, "forward.tencentDeadline", "not below"},
		{"openim deadline at default timeout", `{"forward":{"openimDeadline":"5s"}}`, "forward.openimDeadline", "not below the OpenIM callback timeout 5s"},
		{"openim deadline over configured timeout", `{"forward":{"openimTimeout":"10s","openimDeadline":"12s"}}`, "forward.openimDeadline", "not below the OpenIM callback timeout 10s"},
		{"openim timeout over cap", `{"forward":{"openimTimeout":"20s"}}`, "forward.openimTimeout", "above OpenIM's 15s"},
		{"forward format", `{"forward":{"format":"xml"}}`, "forward.format", "not one of normalized, native"},
		{"fallback forward", `{"forward":{"fallback":"forward"}}`, "forward.fallback", "not one of allow, deny"},
		{"fallback per event", `{"forward":{"fallbackEvents":{"group.join.apply":"maybe"}}}`, "forward.fallbackEvents.group.join.apply", "not one of allow, deny"},
		{"forward path relative", `{"forward":{"path":"decide"}}`, "forward.path", "does not start with /"},
		{"bad cidr", `{"openim":{"allowedCidrs":["10.0.0.0/8","10.0.0.0/33"]}}`, "openim.allowedCidrs[1]", "not a CIDR or IP address"},
		{"cidr garbage", `{"openim":{"allowedCidrs":["intranet"]}}`, "openim.allowedCidrs[0]", "not a CIDR"},
		{"missing action", `{"rules":[{"name":"r"}]}`, "rules[0] (r).action", "missing"},
		{"unknown action", `{"rules":[{"name":"r","action":"block"}]}`, "rules[0] (r).action", `"block" is not one of allow, deny, forward`},
		{"unnamed rule key", `{"rules":[{"action":"allow"},{"action":"nope"}]}`, "rules[1].action", "not one of"},
		{"tencent code out of range", `{"rules":[{"name":"r","action":"deny","code":5001}]}`, "rules[0] (r).code", "5001 is not a Tencent reject code (1 or 10100-10200)"},
		{"tencent code just above range", `{"rules":[{"name":"r","action":"deny","code":10201,"platforms":["tencent"]}]}`, "rules[0] (r).code", "not a Tencent reject code"},
		{"openim code out of range", `{"rules":[{"name":"r","action":"deny","code":10101,"platforms":["openim"]}]}`, "rules[0] (r).code", "10101 is not an OpenIM errCode (5000-9999)"},
		{"openim code below range", `{"rules":[{"name":"r","action":"deny","code":4999,"platforms":["openim"]}]}`, "rules[0] (r).code", "not an OpenIM errCode"},
		{"code on allow", `{"rules":[{"name":"r","action":"allow","code":10101}]}`, "rules[0] (r).code", "only a deny rule takes a code"},
		{"codes on allow", `{"rules":[{"name":"r","action":"allow","codes":{"tencent":10101}}]}`, "rules[0] (r).code", "only a deny rule takes a code"},
		{"codes for another platform's range", `{"rules":[{"name":"r","action":"deny","codes":{"tencent":5101}}]}`, "rules[0] (r).codes.tencent", "5101 is not a Tencent reject code"},
		{"codes for an unknown platform", `{"rules":[{"name":"r","action":"deny","codes":{"wechat":1}}]}`, "rules[0] (r).codes.wechat", `"wechat" is not tencent or openim`},
		{"codes for a platform the rule leaves out", `{"rules":[{"name":"r","action":"deny","platforms":["tencent"],"codes":{"openim":5101}}]}`, "rules[0] (r).codes.openim", "the rule's platforms leave openim out"},
		{"scalar code invalid where codes does not override", `{"rules":[{"name":"r","action":"deny","code":10101,"codes":{"tencent":10102}}]}`, "rules[0] (r).code", "10101 is not an OpenIM errCode"},
		{"unknown platform", `{"rules":[{"name":"r","action":"deny","platforms":["wechat"]}]}`, "rules[0] (r).platforms", "not tencent or openim"},
		{"rule for the other platform", `{"platform":"tencent","rules":[{"name":"r","action":"deny","platforms":["openim"]}]}`, "rules[0] (r).platforms", "names only openim, which this route (platform tencent) never answers"},
		{"openim code on a tencent route", `{"platform":"tencent","rules":[{"name":"r","action":"deny","code":5001}]}`, "rules[0] (r).code", "5001 is not a Tencent reject code"},
		{"undefined actor list", `{"rules":[{"name":"r","action":"deny","actors":["@nobody"]}]}`, "rules[0] (r).actors", `list "nobody" is not defined`},
		{"undefined group list", `{"lists":{"a":{"values":["x"]}},"rules":[{"name":"r","action":"deny","groups":["@b"]}]}`, "rules[0] (r).groups", `list "b" is not defined`},
		{"undefined member list", `{"rules":[{"name":"r","action":"deny","members":["ok","@gone"]}]}`, "rules[0] (r).members", `list "gone" is not defined`},
		{"bad regexp", `{"rules":[{"name":"r","action":"deny","text":"free (money"}]}`, "rules[0] (r).text", "not a regular expression"},
		{"event typo", `{"rules":[{"name":"r","action":"deny","events":["group.join.*","group.join.aply"]}]}`, "rules[0] (r).events", `"group.join.aply" matches no event imgate knows`},
		{"negative max members", `{"rules":[{"name":"r","action":"deny","maxMembers":-1}]}`, "rules[0] (r).maxMembers", "negative"},
		{"rate without slash", `{"rules":[{"name":"r","action":"deny","rate":"5"}]}`, "rules[0] (r).rate", "not N/duration"},
		{"rate zero count", `{"rules":[{"name":"r","action":"deny","rate":"0/1m"}]}`, "rules[0] (r).rate", "count must be a positive number"},
		{"rate bad period", `{"rules":[{"name":"r","action":"deny","rate":"5/fortnight"}]}`, "rules[0] (r).rate", "is not a positive duration"},
		{"rate by ip", `{"rules":[{"name":"r","action":"deny","rate":"5/1m","rateBy":"ip"}]}`, "rules[0] (r).rateBy", "not one of actor, group"},
		{"duplicate names", `{"rules":[{"name":"same","action":"allow"},{"name":"same","action":"deny"}]}`, "rules[1].name", `"same" is used by an earlier rule`},
		{"reserved name default", `{"rules":[{"name":"default","action":"deny"}]}`, "rules[0].name", `"default" is reserved`},
		{"reserved name upstream", `{"rules":[{"name":"upstream","action":"forward"}]}`, "rules[0].name", `"upstream" is reserved`},
		{"duplicate of default name", `{"rules":[{"action":"allow"},{"name":"rule1","action":"deny"}]}`, "rules[1].name", `"rule1" is used by an earlier rule`},
		{"missing list file", `{"lists":{"banned":{"file":"/nonexistent/imgate/banned.txt"}}}`, "lists.banned.file", "no such file"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := decodeConfig(tc.config)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			_, err = core.New(cfg)
			if err == nil {
				t.Fatal("core.New accepted the config")
			}
			if !errors.Is(err, core.ErrConfig) {
				t.Errorf("error %q does not wrap ErrConfig", err)
			}
			if !strings.HasPrefix(err.Error(), tc.key+": ") {
				t.Errorf("error %q does not start with the key %q", err, tc.key)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", err, tc.reason)
			}
		})
	}
}

// TestConfigAccepted proves that the valid edges of each setting load.
func TestConfigAccepted(t *testing.T) {
	cases := []struct {
		name   string
		config string
	}{
		{"empty", `{}`},
		{"tencent deadline just below budget", `{"forward":{"tencentDeadline":"1999ms"}}`},
		{"openim timeout at cap", `{"forward":{"openimTimeout":"15s","openimDeadline":"14s"}}`},
		{"tencent code 1", `{"rules":[{"action":"deny","code":1,"platforms":["tencent"]}]}`},
		{"tencent code range edges", `{"rules":[{"name":"a","action":"deny","code":10100,"platforms":["tencent"]},{"name":"b","action":"deny","code":10200,"platforms":["TENCENT"]}]}`},
		{"openim code range edges", `{"rules":[{"name":"a","action":"deny","code":5000,"platforms":["openim"]},{"name":"b","action":"deny","code":9999,"platforms":["openim"]}]}`},
		{"cidr and single address", `{"openim":{"allowedCidrs":["10.1.2.3/8"," 192.168.1.7 ","::1","fd00::/8"]}}`},
		{"rates", `{"rules":[{"name":"a","action":"deny","rate":"5/1m"},{"name":"b","action":"deny","rate":"100/s","rateBy":"group"},{"name":"c","action":"deny","rate":"0.5/2h"}]}`},
		{"action case and space", `{"defaultAction":" Deny ","rules":[{"action":"FORWARD"}]}`},
		{"inline list", `{"lists":{"vip":{"values":["a","b*"]}},"rules":[{"action":"allow","actors":["@vip"]}]}`},
		{"openim code on an openim route", `{"platform":"openim","rules":[{"action":"deny","code":5001}]}`},
		{"one rule, a code per platform", `{"rules":[{"action":"deny","codes":{"tencent":10101,"openim":5101},"messages":{"openim":"banned"}}]}`},
		{"scalar code overridden where invalid", `{"rules":[{"action":"deny","code":10101,"codes":{"openim":5101}}]}`},
		{"shared rule on a one-platform route", `{"platform":"tencent","rules":[{"action":"deny","codes":{"tencent":10101,"openim":5101},"messages":{"openim":"x"}}]}`},
		{"tencent code on a tencent route", `{"platform":"tencent","rules":[{"action":"deny","code":10101}]}`},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := decodeConfig(tc.config)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if _, err := core.New(cfg); err != nil {
				t.Fatalf("core.New: %v", err)
			}
		})
	}
}

// TestConfigExample loads testdata/configs/example.json, the README's rule
// set, so that a broken example fails here rather than for a reader.
func TestConfigExample(t *testing.T) {
	dir, err := golden.Dir()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "configs", "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := decodeConfig(strings.ReplaceAll(string(data), "{testdata}", dir))
	if err != nil {
		t.Fatal(err)
	}
	e, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	banned := e.List("banned")
	if banned == nil {
		t.Fatal("list banned missing")
	}
	for _, id := range []string{"mallory", "eve", "bot-42", "spammer1"} {
		if !banned.Contains(id) {
			t.Errorf("banned list lacks %q", id)
		}
	}
	if banned.Contains("alice") {
		t.Error("banned list contains alice")
	}
}
