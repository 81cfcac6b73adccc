package golden

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestURLPlaceholders(t *testing.T) {
	now := time.Unix(1669872112, 0)
	tests := []struct {
		name, url, token, want string
	}{
		{"no placeholder", "/t?SdkAppid=1", "", "/t?SdkAppid=1"},
		{"now", "/t?RequestTime={now}", "", "/t?RequestTime=1669872112"},
		{"past and future", "/t?a={now-120}&b={now+30}", "", "/t?a=1669871992&b=1669872142"},
		{"sign from RequestTime", "/t?RequestTime=1669872112&Sign={sign}", "xxxxyyyy",
			"/t?RequestTime=1669872112&Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"},
		{"sign of filled now", "/t?Sign={sign}&RequestTime={now}", "xxxxyyyy",
			"/t?Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061&RequestTime=1669872112"},
	}
	for _, tt := range tests {
		c := Case{Request: Request{URL: tt.url, SignToken: tt.token}}
		if got := c.URL(now); got != tt.want {
			t.Errorf("%s: URL() = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestResolveExpandsAndDefaults(t *testing.T) {
	c := Case{
		Request: Request{Body: `{"m":[X]}`, Expand: map[string]Expansion{"X": {Unit: `"u"`, Count: 3, Sep: ","}}},
		Expect:  Expect{Status: 200, Body: "{}"},
	}
	if err := c.resolve(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if c.Request.Body != `{"m":["u","u","u"]}` {
		t.Errorf("expanded body %s", c.Request.Body)
	}
	if c.Request.Method != "POST" || c.Repeat != 1 || string(c.Config) != "{}" {
		t.Errorf("defaults not applied: method %q repeat %d config %s", c.Request.Method, c.Repeat, c.Config)
	}
}

func TestResolveNeedsAnExpectedBody(t *testing.T) {
	c := Case{Expect: Expect{Status: 200}}
	if err := c.resolve(t.TempDir()); !errors.Is(err, ErrCase) {
		t.Fatalf("resolve without expected body: %v, want ErrCase", err)
	}
}

func TestLoadFileRejectsUnknownKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.json")
	if err := os.WriteFile(file, []byte(`[{"name":"a","expect":{"status":200,"body":"x"},"typo":1}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadFile(dir, file); !errors.Is(err, ErrCase) || !strings.Contains(err.Error(), "typo") {
		t.Fatalf("loadFile: %v, want an ErrCase naming the unknown key", err)
	}
}

func TestLoadFindsTheRepositoryCases(t *testing.T) {
	cases, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 100 {
		t.Fatalf("loaded %d cases, want the repository's full set", len(cases))
	}
	for _, c := range cases {
		if strings.Contains(string(c.Config), "{testdata}") {
			t.Errorf("%s: {testdata} left in config", c.Name)
		}
		var m map[string]interface{}
		if err := json.Unmarshal(c.Config, &m); err != nil {
			t.Errorf("%s: config is not a JSON object: %v", c.Name, err)
		}
	}
}

// TestVerify proves a reply is held to every part of the expectation the
// suite can see, and only to those.
func TestVerify(t *testing.T) {
	c := Case{Expect: Expect{Status: 200, Body: "ok", Result: "deny", Rule: "ban", Shadow: []string{"b", "a"}}}
	cases := []struct {
		name  string
		reply Reply
		want  []string // substrings of the difference; none: it must pass
	}{
		{"all seen and right", Reply{Status: 200, Body: []byte("ok"), Decision: "deny; rule=ban", Shadow: []string{"a", "b"}, ShadowSeen: true}, nil},
		{"decision and shadow unseen", Reply{Status: 200, Body: []byte("ok")}, nil},
		{"wrong status and body", Reply{Status: 400, Body: []byte("no")}, []string{"status 400, want 200", "body"}},
		{"wrong result", Reply{Status: 200, Body: []byte("ok"), Decision: "allow; rule=ban"}, []string{"result allow, want deny"}},
		{"wrong rule", Reply{Status: 200, Body: []byte("ok"), Decision: "deny; rule=default"}, []string{"rule default, want ban"}},
		{"missing shadow hit", Reply{Status: 200, Body: []byte("ok"), Shadow: []string{"a"}, ShadowSeen: true}, []string{"shadow hits [a], want [a,b]"}},
	}
	for _, tc := range cases {
		diff := c.Verify(tc.reply)
		if len(tc.want) == 0 && diff != "" {
			t.Errorf("%s: %s", tc.name, diff)
		}
		for _, w := range tc.want {
			if !strings.Contains(diff, w) {
				t.Errorf("%s: difference %q lacks %q", tc.name, diff, w)
			}
		}
	}
	if r, rule := SplitDecision("refuse; rule=banned-invitee"); r != "refuse" || rule != "banned-invitee" {
		t.Errorf("SplitDecision: %q %q", r, rule)
	}
}
