package caddymodule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/golden"
)

// goldenDecisionHeader carries "<result>; rule=<rule>" so the suite can
// check what core decided through a real server; it is added to case
// configs that set no decisionHeader of their own.
const goldenDecisionHeader = "X-Golden-Decision"

// goldenCase is one golden case ready to run behind its own host name.
type goldenCase struct {
	golden.Case
	host    string
	handler *Handler
}

// TestGoldenCaddy runs every golden case through a real in-process Caddy,
// first configured from JSON, then from a Caddyfile rendered from the same
// case configs. Each case gets its own route (by Host) and its own handler
// name, so rate-limit state never leaks between cases, and the whole suite
// costs two config loads. Cases for a source address use X-Forwarded-For
// from loopback, a trusted proxy, which exercises Caddy's client IP.
func TestGoldenCaddy(t *testing.T) {
	tester := newTester(t)
	cases := loadGoldenCases(t)
	downstream := closedPort(t)
	for _, adapter := range []string{"json", "caddyfile"} {
		var config string
		if adapter == "json" {
			config = goldenJSON(t, cases, adapter, downstream)
		} else {
			config = goldenCaddyfile(t, cases, adapter, downstream)
		}
		tester.InitServer(config, adapter)
		if t.Failed() {
			t.Fatalf("%s config did not load", adapter)
		}
		for _, c := range cases {
			t.Run(adapter+"/"+c.Name, func(t *testing.T) { runGoldenCase(t, tester.Client, c) })
		}
	}
}

func loadGoldenCases(t *testing.T) []*goldenCase {
	t.Helper()
	all, err := golden.Load()
	if err != nil {
		t.Fatal(err)
	}
	var cases []*goldenCase
	for i, c := range all {
		if c.HasTag("inprocess") {
			continue
		}
		h := &Handler{}
		dec := json.NewDecoder(bytes.NewReader(c.Config))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h.Config); err != nil {
			t.Fatalf("%s: config: %v", c.Name, err)
		}
		if h.DecisionHeader == "" {
			h.DecisionHeader = goldenDecisionHeader
		}
		cases = append(cases, &goldenCase{Case: c, host: fmt.Sprintf("case%d.golden.test", i), handler: h})
	}
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	return cases
}

// named returns the case's handler named for one config load, so that the
// two loads never share an engine.
func (c *goldenCase) named(adapter string) *Handler {
	h := *c.handler
	h.Name = adapter + "/" + c.Name
	return &h
}

func goldenJSON(t *testing.T, cases []*goldenCase, adapter string, downstream int) string {
	routes := make([]any, 0, len(cases))
	for _, c := range cases {
		var next any = map[string]any{
			"handler":   "reverse_proxy",
			"upstreams": []any{map[string]any{"dial": "127.0.0.1:" + strconv.Itoa(downstream)}},
		}
		if u := c.Upstream; u != nil {
			next = map[string]any{"handler": "static_response", "status_code": statusOf(u), "body": u.Body}
		}
		routes = append(routes, route(c.host, imgateJSON(t, c.named(adapter)), next))
	}
	return serverConfig(routes, false)
}

func goldenCaddyfile(t *testing.T, cases []*goldenCase, adapter string, downstream int) string {
	var b strings.Builder
	b.WriteString(caddyfileGlobals)
	for _, c := range cases {
		fmt.Fprintf(&b, "http://%s:9080 {\n\troute {\n", c.host)
		b.WriteString(indent(renderCaddyfile(c.named(adapter)), "\t\t"))
		if u := c.Upstream; u != nil {
			fmt.Fprintf(&b, "\t\trespond %s %d\n", quote(u.Body), statusOf(u))
		} else {
			fmt.Fprintf(&b, "\t\treverse_proxy 127.0.0.1:%d\n", downstream)
		}
		b.WriteString("\t}\n}\n")
	}
	return b.String()
}

func statusOf(u *golden.Upstream) int {
	if u.Status == 0 {
		return http.StatusOK
	}
	return u.Status
}

func indent(text, prefix string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(text, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}

func runGoldenCase(t *testing.T, client *http.Client, c *goldenCase) {
	var status int
	var body []byte
	var header http.Header
	var before map[string]float64
	for i := 0; i < c.Repeat; i++ {
		if i == c.Repeat-1 {
			before = scrapeMetrics(t)
		}
		req, err := c.NewRequest(httpBase, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		req.Host = c.host
		if c.Request.RemoteAddr != "" {
			ip, _, err := net.SplitHostPort(c.Request.RemoteAddr)
			if err != nil {
				ip = c.Request.RemoteAddr
			}
			req.Header.Set("X-Forwarded-For", ip)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		status, header = resp.StatusCode, resp.Header
	}
	decision := header.Get(c.handler.DecisionHeader)
	if diff := c.Check(status, body); diff != "" {
		t.Fatalf("%s (decision %q)", diff, decision)
	}
	result, rule, _ := strings.Cut(decision, "; rule=")
	if c.Expect.Result != "" && result != c.Expect.Result {
		t.Errorf("result %q, want %q", result, c.Expect.Result)
	}
	if c.Expect.Rule != "" && rule != c.Expect.Rule {
		t.Errorf("rule %q, want %q", rule, c.Expect.Rule)
	}
	if got, want := shadowHits(delta(before, scrapeMetrics(t))), sortedCopy(c.Expect.Shadow); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("shadow hits %v, want %v", got, want)
	}
}

// shadowHits lists the rules of the shadow-hit samples in d, once per hit.
func shadowHits(d map[string]float64) []string {
	var rules []string
	for sample, n := range d {
		if !strings.HasPrefix(sample, "caddy_imgate_shadow_hits_total{") {
			continue
		}
		_, rest, _ := strings.Cut(sample, `rule="`)
		rule, _, _ := strings.Cut(rest, `"`)
		for i := 0; i < int(n); i++ {
			rules = append(rules, rule)
		}
	}
	sort.Strings(rules)
	return rules
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
