package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWorkloadPlans(t *testing.T) {
	sizes := map[string]int{"tencent-join": 1, "tencent-invite20": 1, "openim-join": 1, "mix-deny10": 20}
	for _, w := range Workloads {
		plan, err := ReadPlan(planPath(filepath.Join("..", "..", ".."), w.ID))
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != sizes[w.ID] {
			t.Errorf("%s: %d requests, want %d", w.ID, len(plan), sizes[w.ID])
		}
		for _, p := range plan {
			if len(p.Body) == 0 || p.Body[0] != '{' {
				t.Errorf("%s: %s is not a JSON body", w.ID, p.BodyFile)
			}
			signed := p.Sign("1700000000", "abc")
			if strings.HasPrefix(p.Target, "/tencent") && !strings.HasSuffix(signed, "&RequestTime=1700000000&Sign=abc") {
				t.Errorf("%s: Tencent target %q is not signed", w.ID, signed)
			}
		}
	}
}

func TestReadPlanErrors(t *testing.T) {
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
		if _, err := ReadPlan(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	path := filepath.Join(dir, "ok.plan")
	if err := os.WriteFile(path, []byte("# c\n/openim/callbackX b.json\n\n/openim/callbackY b.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := ReadPlan(path)
	if err != nil || len(plan) != 2 || string(plan[1].Body) != "{}" {
		t.Fatalf("good plan: %+v, %v", plan, err)
	}
}

// TestPreflightDenyShare: the mix workload is 10% denials under the rules.
func TestPreflightDenyShare(t *testing.T) {
	cfg, err := readRules(filepath.Join("..", "..", "configs", "rules.json"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := NewExpectation(cfg, "1700000000")
	if err != nil {
		t.Fatal(err)
	}
	x.rules.SetClock(fixedClock)
	plan, err := ReadPlan(planPath(filepath.Join("..", "..", ".."), "mix-deny10"))
	if err != nil {
		t.Fatal(err)
	}
	if denied := x.DenyShare(plan); denied != 2 {
		t.Fatalf("mix-deny10 denies %d of %d, want 2 (10%%)", denied, len(plan))
	}
}
