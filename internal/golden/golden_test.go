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

// TestResolveNeedsStatusAndBody: a spec case pins its reply down.
func TestResolveNeedsStatusAndBody(t *testing.T) {
	for name, e := range map[string]Expect{"no body": {Status: 200}, "no status": {Body: "{}"}} {
		c := Case{Expect: e}
		if err := c.resolve(t.TempDir()); !errors.Is(err, ErrCase) {
			t.Errorf("resolve with %s: %v, want ErrCase", name, err)
		}
	}
}

// TestLoadFile reads a checker's case files: one case or an array, bodies
// relative to the file, expectations optional, unknown keys refused.
func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("body.json", `{"k":1}`)
	one, err := LoadFile(write("one.json", ` {"request":{"url":"/a","bodyFile":"body.json"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].Name != "one" || one[0].Request.Body != `{"k":1}` || one[0].Request.Method != "POST" || one[0].Repeat != 1 || one[0].HasExpectation() {
		t.Errorf("single case: %+v", one)
	}
	many, err := LoadFile(write("many.json", `[{"name":"x","request":{"url":"/a"},"expect":{"rule":"r"}},{"name":"y","request":{"url":"/b"},"expect":{"shadow":[]}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(many) != 2 || many[0].Name != "many/x" || many[1].Name != "many/y" || !many[0].HasExpectation() || !many[1].HasExpectation() {
		t.Errorf("array: %+v", many)
	}
	for name, text := range map[string]string{
		"typo.json":     `{"request":{"url":"/a"},"expcet":{}}`,
		"nourl.json":    `{"request":{}}`,
		"unnamed.json":  `[{"request":{"url":"/a"}},{"request":{"url":"/b"}}]`,
		"empty.json":    `[]`,
		"nobody.json":   `{"request":{"url":"/a","bodyFile":"missing.json"}}`,
		"notjson.json":  `request: /a`,
		"badhex.json":   `{"request":{"url":"/a","bodyHex":"zz"}}`,
		"trailing.json": `{"request":{"url":"/a"}} x`,
	} {
		if _, err := LoadFile(write(name, text)); !errors.Is(err, ErrCase) {
			t.Errorf("%s: %v, want ErrCase", name, err)
		}
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
		{"several differences", Reply{Status: 500, Body: []byte("no"), Decision: "allow; rule=x"}, []string{"status 500, want 200", "body", "result allow", "rule x"}},
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
	if n := len(c.Differences(Reply{Status: 500, Body: []byte("no"), Decision: "allow; rule=x"})); n != 4 {
		t.Errorf("Differences lists %d entries, want 4 (status, body, result, rule)", n)
	}
	unchecked := Case{Expect: Expect{Rule: "ban"}}
	if d := unchecked.Verify(Reply{Status: 403, Body: []byte("x"), Decision: "deny; rule=ban"}); d != "" {
		t.Errorf("a case without status or body checked them: %s", d)
	}
	if r, rule := SplitDecision("refuse; rule=banned-invitee"); r != "refuse" || rule != "banned-invitee" {
		t.Errorf("SplitDecision: %q %q", r, rule)
	}
}
