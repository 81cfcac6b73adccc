package golden

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DecisionHeader is the response header every suite switches on (through
// the config's decisionHeader) to see what core decided: "<result>;
// rule=<rule>".
const DecisionHeader = "X-Imgate-Golden-Decision"

// Reply is what a suite saw of one request.
type Reply struct {
	Status int
	Body   []byte
	// Decision is the decision header, "" when the suite cannot see it.
	Decision string
	// Shadow lists the shadow rules that fired; ShadowSeen says whether
	// the suite can see them at all.
	Shadow     []string
	ShadowSeen bool
}

// Target is one gateway a case runs through: Send sends one request (last
// is true for the case's last repeat, the one that is checked) and
// returns what came back. Base is the URL prefix of the requests ("" for
// an in-process handler).
type Target struct {
	Name string
	Base string
	Send func(t *testing.T, r *http.Request, last bool) Reply
}

// RunAll loads every case of testdata/golden and runs them (see Run).
func RunAll(t *testing.T, targets func(t *testing.T, c *Case) []Target) {
	cases, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	Run(t, cases, targets)
}

// ReadTestdata returns a file under testdata, or fails the test.
func ReadTestdata(tb testing.TB, path ...string) []byte {
	tb.Helper()
	dir, err := Dir()
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(append([]string{dir}, path...)...))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// Run runs every case as a subtest: targets builds the gateways for the
// case (none: the case is skipped, or targets checked it itself), each
// gets the case's request Repeat times, and the last reply must be the
// expected one. When a case runs through more than one target, their
// replies (status, decision, body) must also be identical byte for byte:
// compiled and interpreted, JSON and Caddyfile, a real Traefik and the
// compiled plugin.
func Run(t *testing.T, cases []Case, targets func(t *testing.T, c *Case) []Target) {
	for i := range cases {
		c := &cases[i]
		t.Run(c.Name, func(t *testing.T) {
			first, firstName := "", ""
			for _, target := range targets(t, c) {
				reply := send(t, c, target)
				if diff := c.Verify(reply); diff != "" {
					t.Errorf("%s: %s", target.Name, diff)
				}
				if c.Then != nil {
					next := Case{Name: c.Name + "/then", Request: c.Then.Request, Expect: c.Then.Expect, Repeat: 1}
					if diff := next.Verify(send(t, &next, target)); diff != "" {
						t.Errorf("%s: the valid callback after it: %s", target.Name, diff)
					}
				}
				body := string(reply.Body)
				if c.Expect.Body == "" && len(body) > len(c.Expect.BodyPrefix) {
					// A prefix-only expectation is an error text that may
					// name the time ("RequestTime is 20s away"): targets
					// asked a moment apart may differ past the prefix.
					body = body[:len(c.Expect.BodyPrefix)]
				}
				got := strconv.Itoa(reply.Status) + " " + reply.Decision + "\n" + body
				if firstName == "" {
					first, firstName = got, target.Name
				} else if got != first {
					t.Errorf("%s and %s replies differ:\n  %s: %s\n  %s: %s", firstName, target.Name, firstName, first, target.Name, got)
				}
			}
		})
	}
}

// send sends the case's request Repeat times and returns the last reply.
func send(t *testing.T, c *Case, target Target) Reply {
	t.Helper()
	var reply Reply
	for i := 0; i < c.Repeat; i++ {
		req, err := c.NewRequest(target.Base, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		reply = target.Send(t, req, i == c.Repeat-1)
	}
	return reply
}

// Verify compares a reply with the expectation and returns a description
// of every difference, or "".
func (c *Case) Verify(r Reply) string {
	return strings.Join(c.Differences(r), "; ")
}

// Differences lists every way the reply differs from the expectation, one
// entry each, or none.
func (c *Case) Differences(r Reply) []string {
	diffs := c.check(r.Status, r.Body)
	if r.Decision != "" {
		result, rule := SplitDecision(r.Decision)
		if c.Expect.Result != "" && result != c.Expect.Result {
			diffs = append(diffs, "result "+result+", want "+c.Expect.Result+" (decision "+r.Decision+")")
		}
		if c.Expect.Rule != "" && rule != c.Expect.Rule {
			diffs = append(diffs, "rule "+rule+", want "+c.Expect.Rule)
		}
	}
	if r.ShadowSeen {
		got, want := sorted(r.Shadow), sorted(c.Expect.Shadow)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			diffs = append(diffs, "shadow hits ["+strings.Join(got, ",")+"], want ["+strings.Join(want, ",")+"]")
		}
	}
	return diffs
}

// SplitDecision splits a decision header into result and rule.
func SplitDecision(header string) (string, string) {
	i := strings.Index(header, "; rule=")
	if i < 0 {
		return header, ""
	}
	return header[:i], header[i+len("; rule="):]
}

// ConfigWithDecisionHeader returns the case's config with decisionHeader
// set to DecisionHeader unless the case sets its own.
func (c *Case) ConfigWithDecisionHeader() (map[string]interface{}, error) {
	m, err := c.ConfigMap()
	if err != nil {
		return nil, err
	}
	if _, set := m["decisionHeader"]; !set {
		m["decisionHeader"] = DecisionHeader
	}
	return m, nil
}

// StrictDecoder returns a JSON decoder over data that refuses unknown
// keys, as Caddy decodes its config: every suite reads case configs this
// way. (A decoder, not a decode function taking interface{}: Yaegi wraps an
// interpreted pointer passed through an interpreted interface{} parameter,
// and encoding/json then refuses it as a non-pointer.)
func StrictDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec
}

// LockedBuffer is a log sink safe for concurrent writes.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset drops everything written so far.
func (b *LockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
