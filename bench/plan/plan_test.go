package plan

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bodies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bodies", "b.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"empty":          "# only a comment\n\n",
		"one field":      "/tencent\n",
		"relative path":  "tencent b.json\n",
		"missing body":   "/tencent nope.json\n",
		"too many words": "/tencent b.json extra\n",
	}
	for name, content := range tests {
		path := filepath.Join(dir, "p.plan")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	path := filepath.Join(dir, "ok.plan")
	if err := os.WriteFile(path, []byte("# c\n/openim/callbackX b.json\n\n/openim/callbackY b.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := Read(path)
	if err != nil || len(plan) != 2 || string(plan[1].Body) != "{}" {
		t.Fatalf("good plan: %+v, %v", plan, err)
	}
}

func TestSign(t *testing.T) {
	r := Request{Target: "/tencent?a=1&RequestTime={requestTime}&Sign={sign}"}
	if got := r.Sign("1700000000", "abc"); got != "/tencent?a=1&RequestTime=1700000000&Sign=abc" {
		t.Fatalf("signed target %q", got)
	}
	if got := (Request{Target: "/openim/x"}).Sign("1", "s"); got != "/openim/x" {
		t.Fatalf("unsigned target changed: %q", got)
	}
}
