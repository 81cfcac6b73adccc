package traefikplugin

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
)

const goldenDecisionHeader = "X-Imgate-Golden-Decision"

// TestGolden runs every golden case through the plugin's ServeHTTP, with
// the config decoded from the case's JSON into Config. Under `yaegi test`
// this is the whole plugin interpreted by Yaegi v0.16.1. Result and rule are
// read from the decision header, shadow hits from the log lines.
func TestGolden(t *testing.T) {
	cases, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		c := cases[i]
		t.Run(c.Name, func(t *testing.T) {
			m := newTestMiddleware(t, withDecisionHeader(t, string(c.Config)), c.Upstream.Handler())
			var rec *httptest.ResponseRecorder
			for n := 0; n < c.Repeat; n++ {
				req, rerr := c.NewRequest("", time.Now())
				if rerr != nil {
					t.Fatal(rerr)
				}
				rec = httptest.NewRecorder()
				m.debug.mu.Lock()
				m.debug.buf.Reset()
				m.debug.mu.Unlock()
				m.ServeHTTP(rec, req)
			}
			if diff := c.Check(rec.Code, rec.Body.Bytes()); diff != "" {
				t.Fatalf("%s\nlog: %s%s", diff, m.debug.String(), m.errs.String())
			}
			decision := rec.Header().Get(goldenDecisionHeader)
			if c.Expect.Result != "" && !strings.HasPrefix(decision, c.Expect.Result+";") {
				t.Errorf("decision %q, want result %q", decision, c.Expect.Result)
			}
			if c.Expect.Rule != "" && !strings.HasSuffix(decision, "; rule="+c.Expect.Rule) {
				t.Errorf("decision %q, want rule %q", decision, c.Expect.Rule)
			}
			var shadow []string
			for _, line := range logLines(m.debug.String()) {
				for _, hit := range strings.Split(fieldOf(line, "shadow"), ",") {
					if rule, _, ok := strings.Cut(hit, ":"); ok {
						shadow = append(shadow, rule)
					}
				}
			}
			if strings.Join(shadow, ",") != strings.Join(c.Expect.Shadow, ",") {
				t.Errorf("shadow hits logged %v, want %v", shadow, c.Expect.Shadow)
			}
		})
	}
}

// withDecisionHeader switches the decision header on in a JSON config.
func withDecisionHeader(t *testing.T, config string) string {
	t.Helper()
	if strings.Contains(config, `"decisionHeader"`) {
		return config
	}
	trimmed := strings.TrimSpace(config)
	if !strings.HasPrefix(trimmed, "{") {
		t.Fatalf("config is not an object: %s", config)
	}
	rest := strings.TrimSpace(trimmed[1:])
	if rest == "}" {
		return `{"decisionHeader":"` + goldenDecisionHeader + `"}`
	}
	return `{"decisionHeader":"` + goldenDecisionHeader + `",` + rest
}

// fieldOf returns a log field's raw value.
func fieldOf(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}
