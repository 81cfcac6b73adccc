package caddymodule

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/imgate/imgate/internal/golden"
)

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
	byName := map[string]*goldenCase{}
	plain := make([]golden.Case, 0, len(cases))
	for _, c := range cases {
		byName[c.Name] = c
		plain = append(plain, c.Case)
	}
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
		t.Run(adapter, func(t *testing.T) {
			golden.Run(t, plain, func(t *testing.T, c *golden.Case) []golden.Target {
				gc := byName[c.Name]
				return []golden.Target{{Name: "caddy " + adapter, Base: httpBase, Send: func(t *testing.T, r *http.Request, last bool) golden.Reply {
					return sendGolden(t, tester.Client, gc, r, last)
				}}}
			})
		})
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
		if err := golden.StrictDecoder(c.Config).Decode(&h.Config); err != nil {
			t.Fatalf("%s: config: %v", c.Name, err)
		}
		if h.DecisionHeader == "" {
			h.DecisionHeader = golden.DecisionHeader
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

// sendGolden sends one request of a case to its route; the last one also
// reads the shadow hits from the metrics it adds to.
func sendGolden(t *testing.T, client *http.Client, c *goldenCase, req *http.Request, last bool) golden.Reply {
	req.Host = c.host
	if c.Request.RemoteAddr != "" {
		ip, _, err := net.SplitHostPort(c.Request.RemoteAddr)
		if err != nil {
			ip = c.Request.RemoteAddr
		}
		req.Header.Set("X-Forwarded-For", ip)
	}
	var before map[string]float64
	if last {
		before = scrapeMetrics(t)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	reply := golden.Reply{Status: resp.StatusCode, Body: body, Decision: resp.Header.Get(c.handler.DecisionHeader)}
	if last {
		reply.Shadow, reply.ShadowSeen = shadowHits(delta(before, scrapeMetrics(t))), true
	}
	return reply
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
