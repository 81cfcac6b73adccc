package traefikplugin

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

// TestSharedEngine proves that one engine serves a name while its config
// is unchanged, that a changed config replaces it, that reloads under one
// name never grow the set, and that names never share an engine.
func TestSharedEngine(t *testing.T) {
	var sink bytes.Buffer
	name, other := uniqueName(t), uniqueName(t)
	base := Config{Rules: []core.RuleConfig{{Name: "r", Actors: []string{"a"}, Action: "deny"}}}
	a, err := sharedEngine(name, base, &sink)
	if err != nil {
		t.Fatal(err)
	}
	again, err := sharedEngine(name, base, &sink)
	if err != nil || again != a {
		t.Fatal("same name and config built a new engine")
	}
	before := sharedEngineCount()
	changed := base
	changed.DefaultAction = "deny"
	b, err := sharedEngine(name, changed, &sink)
	if err != nil || b == a {
		t.Fatal("a changed config kept the old engine")
	}
	if c, _ := sharedEngine(name, changed, &sink); c != b {
		t.Fatal("the replacement engine is not reused")
	}
	for i := 0; i < 50; i++ {
		cfg := base
		cfg.MaxBodyBytes = 1000 + i
		if _, err := sharedEngine(name, cfg, &sink); err != nil {
			t.Fatal(err)
		}
	}
	if sharedEngineCount() != before {
		t.Fatalf("engine count went from %d to %d under one name", before, sharedEngineCount())
	}
	bad := base
	bad.DefaultAction = "maybe"
	if _, err := sharedEngine(name, bad, &sink); err == nil {
		t.Fatal("an invalid config was accepted")
	}
	if o, _ := sharedEngine(other, base, &sink); o == a {
		t.Fatal("two names share one engine")
	}
}

// TestVerificationOffWarnedOnce proves that a config leaving a check off is
// reported on the error stream when its engine is built, once, and not on
// the New calls that reuse it.
func TestVerificationOffWarnedOnce(t *testing.T) {
	var sink bytes.Buffer
	name := uniqueName(t)
	cfg := Config{Platform: "auto"}
	for i := 0; i < 3; i++ {
		if _, err := sharedEngine(name, cfg, &sink); err != nil {
			t.Fatal(err)
		}
	}
	lines := logLines(sink.String())
	if len(lines) != 1 {
		t.Fatalf("%d warning lines, want 1:\n%s", len(lines), sink.String())
	}
	if !strings.Contains(lines[0], "result=verification_off") || !strings.Contains(lines[0], "OpenIM callbacks are not verified") || !strings.Contains(lines[0], "not signature-checked") {
		t.Errorf("warning %q", lines[0])
	}
	if fieldOf(lines[0], "middleware") != name {
		t.Errorf("warning %q does not name middleware %s", lines[0], name)
	}
	sink.Reset()
	verified := Config{Platform: "openim", OpenIM: core.OpenIMConfig{Secret: "s"}}
	if _, err := sharedEngine(uniqueName(t), verified, &sink); err != nil {
		t.Fatal(err)
	}
	if sink.Len() != 0 {
		t.Errorf("a verified config warned: %s", sink.String())
	}
}

// TestCredentialFromEnvFailsClosed proves that New refuses a config whose
// token variable is unset, naming the key and the variable.
func TestCredentialFromEnvFailsClosed(t *testing.T) {
	cfg := CreateConfig()
	cfg.Tencent.TokenEnv = "IMGATE_TEST_UNSET_TRAEFIK_TOKEN"
	_, err := New(context.Background(), staticNext(200, ""), cfg, uniqueName(t))
	if err == nil || !strings.Contains(err.Error(), "tencent.tokenEnv: environment variable IMGATE_TEST_UNSET_TRAEFIK_TOKEN is unset or empty") {
		t.Fatalf("New error %v, want the unset variable named", err)
	}
}
