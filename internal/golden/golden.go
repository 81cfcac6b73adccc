// Package golden loads the request/reply cases in testdata/golden that every
// imgate test suite (core natively and under Yaegi, the Caddy module, the
// Traefik plugin interpreted and compiled) runs. It uses only the standard
// library so that Yaegi can interpret it.
package golden

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrCase marks a malformed golden file.
var ErrCase = errors.New("bad golden case")

// Case is one request and the exact reply every gateway must give.
type Case struct {
	// Name is "<file>/<name>" once loaded.
	Name string `json:"name"`
	// Config is the imgate config (core.Config JSON). "{testdata}" in it is
	// replaced by the absolute testdata directory.
	Config json.RawMessage `json:"config"`
	// ConfigFile names a file under testdata/configs used when Config is empty.
	ConfigFile string `json:"configFile"`
	// Request is the callback sent.
	Request Request `json:"request"`
	// Repeat sends the request this many times (default 1); only the last
	// reply is checked. Used by rate-limit cases.
	Repeat int `json:"repeat"`
	// Upstream, when set, is the static answer of the next handler.
	Upstream *Upstream `json:"upstream"`
	// Expect is the reply.
	Expect Expect `json:"expect"`
	// Tags mark cases some suites skip, e.g. "remote" (needs a chosen
	// source address, which a real server on loopback cannot fake).
	Tags []string `json:"tags"`
	// Then, when set, is a valid callback sent right after the case's own
	// request, to the same gateway: a hostile request must leave the
	// gateway answering the next one correctly.
	Then *Then `json:"then"`
}

// Then is a follow-up request and its exact reply.
type Then struct {
	Request Request `json:"request"`
	Expect  Expect  `json:"expect"`
}

// Request is the callback request. In URL, "{now}", "{now-N}" and "{now+N}"
// become unix seconds and "{sign}" the Tencent Sign of the URL's
// RequestTime with SignToken.
type Request struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	// Body is the body text; BodyFile, relative to testdata, is used when
	// Body is empty. BodyHex, when set, is the body as hex, for bytes a
	// JSON string cannot hold (invalid UTF-8).
	Body     string `json:"body"`
	BodyFile string `json:"bodyFile"`
	BodyHex  string `json:"bodyHex"`
	// Expand replaces each key found in Body by Unit repeated Count times,
	// joined by Sep: for oversized bodies and huge arrays.
	Expand     map[string]Expansion `json:"expand"`
	SignToken  string               `json:"signToken"`
	RemoteAddr string               `json:"remoteAddr"`
}

// Expansion is a repeated chunk of body text.
type Expansion struct {
	Unit  string `json:"unit"`
	Count int    `json:"count"`
	Sep   string `json:"sep"`
}

// Upstream is a static next-handler answer for forward cases.
type Upstream struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// Handler returns the next handler a gateway suite puts behind imgate for
// this upstream: it always gives the same answer, and a nil upstream is an
// unreachable service (HTTP 502, as a proxy reports it).
func (u *Upstream) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u == nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		status := u.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(u.Body))
	})
}

// Expect is the checked reply. Every field a case gives is checked; in
// testdata/golden, status and body or bodyPrefix are required, in a
// checker's case file nothing is.
type Expect struct {
	// Status is the HTTP status; 0 (left out) is not checked.
	Status int `json:"status"`
	// Body is compared byte for byte; BodyPrefix only as a prefix (error
	// texts).
	Body       string `json:"body"`
	BodyPrefix string `json:"bodyPrefix"`
	// Result is core's Outcome.Result; checked where the suite sees it.
	Result string `json:"result"`
	// Rule is the deciding rule; checked where the suite sees it.
	Rule string `json:"rule"`
	// Shadow lists the shadow rules that must have fired, all of them;
	// checked where the suite sees them (the checker: when given, so
	// "shadow": [] says none fired).
	Shadow []string `json:"shadow"`
}

// Dir returns the absolute testdata directory, searching up from the
// working directory.
func Dir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		cand := filepath.Join(dir, "testdata", "golden")
		if fi, serr := os.Stat(cand); serr == nil && fi.IsDir() {
			return filepath.Join(dir, "testdata"), nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no testdata/golden above %s: %w", wd, ErrCase)
		}
	}
}

// Load reads every case in testdata/golden/*.json, sorted by name; finding
// none is an error, so no suite can pass by running nothing.
func Load() ([]Case, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "golden", "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []Case
	seen := map[string]bool{}
	for _, f := range files {
		cases, lerr := loadFile(dir, f)
		if lerr != nil {
			return nil, lerr
		}
		for _, c := range cases {
			if seen[c.Name] {
				return nil, fmt.Errorf("duplicate case %s: %w", c.Name, ErrCase)
			}
			seen[c.Name] = true
			all = append(all, c)
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no golden cases in %s: %w", filepath.Join(dir, "golden"), ErrCase)
	}
	return all, nil
}

func loadFile(dir, file string) ([]Case, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var cases []Case
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err = dec.Decode(&cases); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", file, err.Error(), ErrCase)
	}
	prefix := strings.TrimSuffix(filepath.Base(file), ".json")
	for i := range cases {
		c := &cases[i]
		c.Name = prefix + "/" + c.Name
		if err = c.resolve(dir); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", c.Name, err.Error(), ErrCase)
		}
	}
	return cases, nil
}

func (c *Case) resolve(dir string) error {
	if len(c.Config) == 0 {
		if c.ConfigFile == "" {
			c.Config = json.RawMessage(`{}`)
		} else {
			data, err := os.ReadFile(filepath.Join(dir, "configs", c.ConfigFile))
			if err != nil {
				return err
			}
			c.Config = data
		}
	}
	abs := strings.ReplaceAll(filepath.ToSlash(dir), `"`, `\"`)
	c.Config = json.RawMessage(strings.ReplaceAll(string(c.Config), "{testdata}", abs))
	if c.Then != nil {
		if c.Then.Request.Method == "" {
			c.Then.Request.Method = http.MethodPost
		}
		if c.Then.Expect.Status == 0 || c.Then.Expect.Body == "" && c.Then.Expect.BodyPrefix == "" {
			return fmt.Errorf("then.expect needs status and body or bodyPrefix: %w", ErrCase)
		}
	}
	if err := c.resolveRequest(dir); err != nil {
		return err
	}
	// The spec pins every reply down: status and body.
	if c.Expect.Status == 0 || c.Expect.Body == "" && c.Expect.BodyPrefix == "" {
		return fmt.Errorf("expect needs status and body or bodyPrefix: %w", ErrCase)
	}
	return nil
}

// resolveRequest fills the request's body (bodyHex, bodyFile relative to
// bodyDir, expansions) and the defaults of method and repeat.
func (c *Case) resolveRequest(bodyDir string) error {
	if c.Request.BodyHex != "" {
		raw, err := hex.DecodeString(c.Request.BodyHex)
		if err != nil {
			return fmt.Errorf("bodyHex: %s: %w", err.Error(), ErrCase)
		}
		c.Request.Body = string(raw)
	}
	if c.Request.Body == "" && c.Request.BodyFile != "" {
		data, err := os.ReadFile(filepath.Join(bodyDir, c.Request.BodyFile))
		if err != nil {
			return err
		}
		c.Request.Body = string(data)
	}
	for marker, x := range c.Request.Expand {
		parts := make([]string, x.Count)
		for i := range parts {
			parts[i] = x.Unit
		}
		c.Request.Body = strings.ReplaceAll(c.Request.Body, marker, strings.Join(parts, x.Sep))
	}
	if c.Request.Method == "" {
		c.Request.Method = http.MethodPost
	}
	if c.Repeat == 0 {
		c.Repeat = 1
	}
	return nil
}

// LoadFile reads the cases of one case file kept outside testdata/golden,
// as the offline checker (cmd/imgate check) does. The file holds one case
// or an array of cases; each name gets the file's base name as a prefix
// ("<file>/<name>", or "<file>" for an unnamed single case); bodyFile is
// relative to the file's directory; config and configFile are left as
// given (the checker takes the config from the gateway's file instead);
// and an expectation is optional: a case without one replays a sample.
// Unknown keys are refused, as in the spec files.
func LoadFile(file string) ([]Case, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	trimmed := bytes.TrimSpace(data)
	var cases []Case
	dec := StrictDecoder(trimmed)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var one Case
		err = dec.Decode(&one)
		cases = append(cases, one)
	} else {
		err = dec.Decode(&cases)
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("text after the cases")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", file, err.Error(), ErrCase)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s: no cases: %w", file, ErrCase)
	}
	prefix := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	dir := filepath.Dir(file)
	for i := range cases {
		c := &cases[i]
		if c.Name == "" {
			if len(cases) > 1 {
				return nil, fmt.Errorf("%s: case %d has no name: %w", file, i+1, ErrCase)
			}
			c.Name = prefix
		} else {
			c.Name = prefix + "/" + c.Name
		}
		if c.Request.URL == "" {
			return nil, fmt.Errorf("%s: request.url is required: %w", c.Name, ErrCase)
		}
		if err = c.resolveRequest(dir); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", c.Name, err.Error(), ErrCase)
		}
	}
	return cases, nil
}

// HasExpectation reports whether the case expects anything of the reply.
func (c *Case) HasExpectation() bool {
	e := c.Expect
	return e.Status != 0 || e.Body != "" || e.BodyPrefix != "" || e.Result != "" || e.Rule != "" || e.Shadow != nil
}

// HasTag reports whether the case carries tag.
func (c *Case) HasTag(tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// ConfigMap returns the config decoded into a generic map, the shape
// Traefik's dynamic configuration hands to a plugin.
func (c *Case) ConfigMap() (map[string]interface{}, error) {
	var m map[string]interface{}
	if err := json.Unmarshal(c.Config, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// URL returns the request URL (path and query) with placeholders filled for
// the given time.
func (c *Case) URL(now time.Time) string {
	u := c.Request.URL
	for {
		i := strings.Index(u, "{now")
		if i < 0 {
			break
		}
		j := strings.IndexByte(u[i:], '}')
		if j < 0 {
			break
		}
		offset := int64(0)
		if spec := u[i+4 : i+j]; spec != "" {
			n, err := strconv.ParseInt(spec, 10, 64)
			if err == nil {
				offset = n
			}
		}
		u = u[:i] + strconv.FormatInt(now.Unix()+offset, 10) + u[i+j+1:]
	}
	if strings.Contains(u, "{sign}") {
		rt := ""
		if k := strings.Index(u, "RequestTime="); k >= 0 {
			rt = u[k+len("RequestTime="):]
			if amp := strings.IndexByte(rt, '&'); amp >= 0 {
				rt = rt[:amp]
			}
		}
		sum := sha256.Sum256([]byte(c.Request.SignToken + rt))
		u = strings.ReplaceAll(u, "{sign}", hex.EncodeToString(sum[:]))
	}
	return u
}

// NewRequest builds the request against base ("" for a handler test,
// "http://127.0.0.1:9080" for a live server).
func (c *Case) NewRequest(base string, now time.Time) (*http.Request, error) {
	var body io.Reader = strings.NewReader(c.Request.Body)
	r, err := http.NewRequest(c.Request.Method, base+c.URL(now), body)
	if err != nil {
		return nil, err
	}
	if base == "" {
		r.RequestURI = r.URL.RequestURI()
		r.RemoteAddr = "127.0.0.1:40000"
	}
	if c.Request.RemoteAddr != "" {
		r.RemoteAddr = c.Request.RemoteAddr
	}
	for k, v := range c.Request.Headers {
		r.Header.Set(k, v)
	}
	return r, nil
}

// Check compares a reply's status (when the case expects one) and body
// with the expectation and returns a description of every difference, or
// "".
func (c *Case) Check(status int, body []byte) string {
	return strings.Join(c.check(status, body), "; ")
}

func (c *Case) check(status int, body []byte) []string {
	var diffs []string
	if c.Expect.Status != 0 && status != c.Expect.Status {
		diffs = append(diffs, fmt.Sprintf("status %d, want %d", status, c.Expect.Status))
	}
	if c.Expect.Body != "" && string(body) != c.Expect.Body {
		diffs = append(diffs, fmt.Sprintf("body\n  got  %s\n  want %s", body, c.Expect.Body))
	}
	if c.Expect.BodyPrefix != "" && !strings.HasPrefix(string(body), c.Expect.BodyPrefix) {
		diffs = append(diffs, fmt.Sprintf("body\n  got  %s\n  want prefix %s", body, c.Expect.BodyPrefix))
	}
	return diffs
}
