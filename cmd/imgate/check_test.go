package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examples is the folder of the shipped examples (docs/tools.md).
var examples = filepath.Join("..", "..", "testdata", "check")

// runCmd runs one command line and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// checkJSON runs check with -json and decodes the report.
func checkJSON(t *testing.T, args ...string) (int, report) {
	t.Helper()
	code, out, errOut := runCmd(t, append([]string{"check", "-json"}, args...)...)
	var rep report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check %v: exit %d, output is not a JSON report: %v\n%s%s", args, code, err, out, errOut)
	}
	return code, rep
}

// TestCheckExamples runs the shipped cases against the shipped configs,
// as CI and docs/tools.md do: the same acceptance policy as a Caddyfile, a
// Traefik YAML file, a Traefik TOML file and imgate JSON passes every case,
// and all four give byte-identical replies and the same decisions.
func TestCheckExamples(t *testing.T) {
	cases := filepath.Join(examples, "cases")
	var first []caseResult
	for _, config := range []string{"Caddyfile", "dynamic.yml", "dynamic.toml", "policy.json"} {
		code, out, errOut := runCmd(t, "check", "-config", filepath.Join(examples, config), cases)
		if code != exitOK || !strings.Contains(out, " 0 failed, ") || errOut != "" {
			t.Fatalf("%s: exit %d\n%s%s", config, code, out, errOut)
		}
		code, rep := checkJSON(t, "-config", filepath.Join(examples, config), cases)
		if code != exitOK {
			t.Fatalf("%s -json: exit %d", config, code)
		}
		s := rep.Summary
		if s.Passed < 10 || s.Failed != 0 || s.Errors != 0 || s.Replayed != 1 {
			t.Errorf("%s: summary %+v, want every case with an expectation passed and one replay", config, s)
		}
		if first == nil {
			first = rep.Cases
			continue
		}
		for i, c := range rep.Cases {
			f := first[i]
			if c.Name != f.Name || c.Result != f.Result || c.Rule != f.Rule || c.HTTPStatus != f.HTTPStatus || c.Reply != f.Reply || c.Verified != f.Verified {
				t.Errorf("%s: %s: %s %s %d %s (%s), Caddyfile: %s %s %d %s (%s)", config, c.Name, c.Result, c.Rule, c.HTTPStatus, c.Reply, c.Verified, f.Result, f.Rule, f.HTTPStatus, f.Reply, f.Verified)
			}
		}
	}
	// The acceptance policy is four rules, each deciding a case.
	rules := map[string]bool{}
	for _, c := range first {
		rules[c.Rule] = true
	}
	for _, r := range []string{"banned-actor", "banned-invitee", "invite-cap", "spam-text"} {
		if !rules[r] {
			t.Errorf("no shipped case is decided by rule %s", r)
		}
	}
}

// TestCheckFailingExample proves a failed expectation fails the run: the
// shipped negative example exits 1 and says what differed.
func TestCheckFailingExample(t *testing.T) {
	for _, config := range []string{"Caddyfile", "dynamic.yml"} {
		code, out, _ := runCmd(t, "check", "-config", filepath.Join(examples, config), filepath.Join(examples, "failing"))
		if code != exitFail {
			t.Errorf("%s: exit %d, want %d\n%s", config, code, exitFail, out)
		}
		for _, want := range []string{"FAIL   wrong-expectation/mallory-expected-in", "- result deny, want allow", "- rule banned-actor, want default", "0 passed, 1 failed"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", config, want, out)
			}
		}
	}
	// Passing cases beside it do not hide it.
	code, rep := checkJSON(t, "-config", filepath.Join(examples, "Caddyfile"), filepath.Join(examples, "cases"), filepath.Join(examples, "failing"))
	if code != exitFail || rep.Summary.Failed != 1 || rep.Summary.Passed == 0 {
		t.Errorf("cases and failing: exit %d summary %+v", code, rep.Summary)
	}
}

// writeFiles writes name -> content under a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const openimApply = `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","groupType":2,"applyID":"%s","reqMessage":"hi"}`

func openimCase(name, actor, expect string) string {
	body, _ := json.Marshal(strings.Replace(openimApply, "%s", actor, 1))
	return `{"name":"` + name + `","request":{"url":"/im/openim/callbackBeforeJoinGroupCommand","body":` + string(body) + `},"expect":` + expect + `}`
}

// TestCheckUsageErrors: whatever keeps check from running exits 2 with a
// reason, and checks nothing.
func TestCheckUsageErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ok.json":             openimCase("ok", "u1", `{"result":"allow"}`),
		"imgate.json":         `{"rules":[{"name":"ban","actors":["mallory"],"action":"deny"}]}`,
		"bad-rule.json":       `{"rules":[{"name":"ban","actors":["mallory"]}]}`,
		"two.yml":             "http:\n  middlewares:\n    a: {plugin: {imgate: {defaultAction: allow}}}\n    b: {plugin: {imgate: {defaultAction: deny}}}\n",
		"other-plugin.yml":    "http:\n  middlewares:\n    a: {plugin: {gate: {defaultAction: allow}}}\n",
		"gateway.conf":        "",
		"with-config.json":    `{"request":{"url":"/x"},"config":{}}`,
		"with-then.json":      `{"request":{"url":"/x"},"then":{"request":{"url":"/x"},"expect":{"status":200,"body":"x"}}}`,
		"broken.json":         `[{"request":`,
		"empty/readme.txt":    "no cases here",
		"dup/a/x.json":        `{"name":"c","request":{"url":"/x"}}`,
		"dup/b/x.json":        `{"name":"c","request":{"url":"/y"}}`,
		"caddy/Caddyfile":     ":8080 {\n\thandle /im {\n\t\timgate {\n\t\t\tdefault_action deny\n\t\t}\n\t}\n}\n",
		"caddy/Bad.caddyfile": ":8080 {\n\timgate {\n\t\tunknown_thing 1\n\t}\n}\n",
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{p("ok.json")}, "-config is required"},
		{"no cases", []string{"-config", p("imgate.json")}, "at least one case"},
		{"unknown format", []string{"-config", p("imgate.json"), "-format", "nginx", p("ok.json")}, `-format "nginx"`},
		{"format unknown from name", []string{"-config", p("gateway.conf"), p("ok.json")}, "give -format"},
		{"missing config", []string{"-config", p("nope.json"), p("ok.json")}, "no such file"},
		{"invalid imgate config", []string{"-config", p("bad-rule.json"), p("ok.json")}, "action"},
		{"invalid Caddyfile", []string{"-config", p("caddy/Bad.caddyfile"), p("ok.json")}, "unknown_thing"},
		{"middleware flag on a Caddyfile", []string{"-config", p("caddy/Caddyfile"), "-middleware", "a", p("ok.json")}, "-middleware selects a Traefik middleware"},
		{"route flag on Traefik", []string{"-config", p("two.yml"), "-route", "/im", p("ok.json")}, "-route selects a Caddy route"},
		{"route matching nothing", []string{"-config", p("caddy/Caddyfile"), "-route", "/elsewhere", p("ok.json")}, "no imgate handler's route matches path /elsewhere"},
		{"two middlewares", []string{"-config", p("two.yml"), p("ok.json")}, "give -middleware"},
		{"unknown middleware", []string{"-config", p("two.yml"), "-middleware", "c", p("ok.json")}, `no middleware "c"`},
		{"other plugin", []string{"-config", p("other-plugin.yml"), p("ok.json")}, `only gate; name imgate's with -plugin`},
		{"case with config", []string{"-config", p("imgate.json"), p("with-config.json")}, "the config is the -config file"},
		{"case with then", []string{"-config", p("imgate.json"), p("with-then.json")}, "then is not used"},
		{"broken case file", []string{"-config", p("imgate.json"), p("broken.json")}, "broken.json"},
		{"folder without cases", []string{"-config", p("imgate.json"), p("empty")}, "holds no *.json"},
		{"same case twice", []string{"-config", p("imgate.json"), p("dup")}, "case x/c is also in"},
		{"run selects none", []string{"-config", p("imgate.json"), "-run", "^zzz$", p("ok.json")}, "-run selected none"},
		{"bad run pattern", []string{"-config", p("imgate.json"), "-run", "(", p("ok.json")}, "-run"},
	}
	for _, tt := range tests {
		code, out, errOut := runCmd(t, append([]string{"check"}, tt.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%s: exit %d, stderr %q, stdout %q; want exit %d and a reason containing %q", tt.name, code, errOut, out, exitUsage, tt.want)
		}
	}
	// Picking one of two middlewares, or naming the plugin, runs.
	if code, _, errOut := runCmd(t, "check", "-config", p("two.yml"), "-middleware", "b", p("ok.json")); code != exitFail {
		t.Errorf("-middleware b (deny): exit %d, want %d (the case expects allow) %s", code, exitFail, errOut)
	}
	if code, _, errOut := runCmd(t, "check", "-config", p("other-plugin.yml"), "-plugin", "gate", p("ok.json")); code != exitOK {
		t.Errorf("-plugin gate: exit %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "check", "-config", p("gateway.conf"), "-format", "traefik", "-middleware", "a", p("ok.json")); code != exitUsage || !strings.Contains(errOut, "no imgate handler") {
		t.Errorf("empty traefik file: exit %d %s", code, errOut)
	}
}

// TestCheckCaseErrors: a case no handler answers is an error (exit 2),
// reported beside the cases that ran.
func TestCheckCaseErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"Caddyfile":  ":8080 {\n\thandle /im/openim/* {\n\t\timgate\n\t}\n}\n",
		"cases.json": "[" + openimCase("routed", "u1", `{"result":"allow"}`) + `,{"name":"stray","request":{"url":"/other","body":"{}"},"expect":{"result":"allow"}}]`,
	})
	code, rep := checkJSON(t, "-config", filepath.Join(dir, "Caddyfile"), filepath.Join(dir, "cases.json"))
	if code != exitUsage || rep.Summary.Passed != 1 || rep.Summary.Errors != 1 {
		t.Fatalf("exit %d summary %+v", code, rep.Summary)
	}
	if e := rep.Cases[1]; e.Status != statusError || !strings.Contains(e.Error, "no imgate handler's route matches path /other") {
		t.Errorf("stray case: %+v", e)
	}
	if len(rep.Handlers) != 1 || len(rep.Handlers[0].Warnings) == 0 {
		t.Errorf("handlers %+v, want the unverified route's warning", rep.Handlers)
	}
}

// TestCheckForwarding: a forwarding config is checked against the case's
// static upstream answer, without network; no upstream is an unreachable
// service; durable delivery is left out and said so, and its spool is
// never created.
func TestCheckForwarding(t *testing.T) {
	spool := filepath.Join(t.TempDir(), "spool")
	deny := `{"decision":"deny","code":5101,"message":"no"}`
	dir := writeFiles(t, map[string]string{
		"gate.json": `{"platform":"openim","defaultAction":"forward","forward":{"fallback":"deny"},
			"delivery":{"url":"http://127.0.0.1:1/after","spool":` + mustJSON(t, spool) + `}}`,
		"cases.json": `[
			{"name":"upstream-denies","request":{"url":"/cb/callbackBeforeJoinGroupCommand","body":"{\"callbackCommand\":\"callbackBeforeJoinGroupCommand\",\"groupID\":\"g\",\"applyID\":\"u\"}"},
			 "upstream":{"status":200,"body":` + mustJSON(t, deny) + `},
			 "expect":{"status":200,"body":"{\"actionCode\":0,\"errCode\":5101,\"errMsg\":\"no\",\"errDlt\":\"\",\"nextCode\":1}","result":"deny","rule":"upstream"}},
			{"name":"upstream-down","request":{"url":"/cb/callbackBeforeJoinGroupCommand","body":"{\"callbackCommand\":\"callbackBeforeJoinGroupCommand\",\"groupID\":\"g\",\"applyID\":\"u\"}"},
			 "expect":{"body":"{\"actionCode\":0,\"errCode\":5000,\"errMsg\":\"\",\"errDlt\":\"\",\"nextCode\":1}","result":"fallback","rule":"default"}},
			{"name":"after-callback","request":{"url":"/cb/callbackAfterJoinGroupCommand","body":"{\"callbackCommand\":\"callbackAfterJoinGroupCommand\",\"groupID\":\"g\",\"userID\":\"u\"}"},
			 "expect":{"result":"ack"}}
		]`,
	})
	code, rep := checkJSON(t, "-config", filepath.Join(dir, "gate.json"), filepath.Join(dir, "cases.json"))
	if code != exitOK {
		t.Fatalf("exit %d: %+v", code, rep.Cases)
	}
	if c := rep.Cases[0]; !c.Upstream {
		t.Errorf("upstream-denies: %+v, want the upstream's decision", c)
	}
	if c := rep.Cases[1]; c.Reason != "status_502" {
		t.Errorf("upstream-down: reason %q, want status_502 (no upstream: unreachable)", c.Reason)
	}
	if len(rep.Handlers) != 1 || len(rep.Handlers[0].Notes) != 1 || !strings.Contains(rep.Handlers[0].Notes[0], "delivery is not run") {
		t.Errorf("handlers %+v, want the delivery note", rep.Handlers)
	}
	if _, err := os.Stat(spool); !os.IsNotExist(err) {
		t.Errorf("spool %s: %v, want it never created", spool, err)
	}
}

// TestCheckRepeatAndShadow: repeat drives a rate rule on one engine,
// every case gets a fresh engine, and shadow hits are checked when given.
func TestCheckRepeatAndShadow(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"gate.json": `{"rules":[
			{"name":"try-ban","actors":["u1"],"action":"deny","shadow":true},
			{"name":"flood","events":["group.join.apply"],"rate":"2/1m","action":"deny"}]}`,
		"cases.json": "[" +
			strings.Replace(openimCase("third-in-a-minute", "u1", `{"result":"deny","rule":"flood","shadow":["try-ban"]}`), `"request"`, `"repeat":3,"request"`, 1) + "," +
			openimCase("first-again", "u1", `{"result":"allow","shadow":["try-ban"]}`) + "," +
			openimCase("no-shadow", "u2", `{"result":"allow","shadow":[]}`) + "," +
			openimCase("wrong-shadow", "u2", `{"shadow":["try-ban"]}`) + "]",
	})
	code, rep := checkJSON(t, "-config", filepath.Join(dir, "gate.json"), filepath.Join(dir, "cases.json"))
	if code != exitFail || rep.Summary.Passed != 3 || rep.Summary.Failed != 1 {
		t.Fatalf("exit %d summary %+v: %+v", code, rep.Summary, rep.Cases)
	}
	if c := rep.Cases[3]; c.Status != statusFail || len(c.Differences) != 1 || !strings.Contains(c.Differences[0], "shadow hits [], want [try-ban]") {
		t.Errorf("wrong-shadow: %+v", c)
	}
	if c := rep.Cases[0]; len(c.Shadow) != 1 || c.Shadow[0] != "try-ban (deny)" {
		t.Errorf("third-in-a-minute shadow %v", c.Shadow)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
