package traefikplugin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
)

// TestGolden runs every golden case through the plugin's ServeHTTP, with
// the config decoded from the case's JSON into Config. Under `yaegi test`
// this is the whole plugin interpreted by Yaegi v0.16.1. Result and rule are
// read from the decision header, shadow hits from the log lines.
func TestGolden(t *testing.T) {
	golden.RunAll(t, func(t *testing.T, c *golden.Case) []golden.Target {
		config, err := c.ConfigWithDecisionHeader()
		if err != nil {
			t.Fatal(err)
		}
		data, err := json.Marshal(config)
		if err != nil {
			t.Fatal(err)
		}
		m := newTestMiddleware(t, string(data), c.Upstream.Handler())
		send := func(t *testing.T, r *http.Request, last bool) golden.Reply {
			m.debug.Reset()
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, r)
			reply := golden.Reply{Status: rec.Code, Body: rec.Body.Bytes(), Decision: rec.Header().Get(golden.DecisionHeader), ShadowSeen: true}
			for _, line := range logLines(m.debug.String()) {
				for _, hit := range strings.Split(fieldOf(line, "shadow"), ",") {
					if rule, _, ok := strings.Cut(hit, ":"); ok {
						reply.Shadow = append(reply.Shadow, rule)
					}
				}
			}
			return reply
		}
		return []golden.Target{{Name: "plugin", Send: send}}
	})
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
