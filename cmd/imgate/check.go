package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// Case statuses in reports.
const (
	statusPass   = "pass"   // every expectation held
	statusFail   = "fail"   // an expectation did not hold
	statusReplay = "replay" // no expectation: the reply is shown
	statusError  = "error"  // the case could not run
)

// checkOptions are check's flags and arguments.
type checkOptions struct {
	config, format, plugin string
	sel                    selector
	jsonOut                bool
	run                    *regexp.Regexp
	paths                  []string
}

// caseResult is what check saw of one case.
type caseResult struct {
	Name        string   `json:"name"`
	Status      string   `json:"status"`
	Handler     string   `json:"handler,omitempty"`
	Result      string   `json:"result,omitempty"`
	Rule        string   `json:"rule,omitempty"`
	Verified    string   `json:"verified,omitempty"`
	HTTPStatus  int      `json:"httpStatus,omitempty"`
	Reply       string   `json:"reply,omitempty"`
	Refused     []string `json:"refused,omitempty"`
	Shadow      []string `json:"shadow,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Upstream    bool     `json:"upstream,omitempty"`
	Checked     []string `json:"checked,omitempty"`
	Differences []string `json:"differences,omitempty"`
	Error       string   `json:"error,omitempty"`
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	opts, err := parseCheckFlags(args, stderr)
	if err != nil {
		return usageError(stderr, "check", err)
	}
	g, err := loadGateway(opts.config, opts.format, opts.plugin)
	if err == nil {
		err = opts.sel.validate(g.format)
	}
	if err == nil {
		err = preselect(g, opts.sel)
	}
	if err != nil {
		fmt.Fprintf(stderr, "imgate check: %v\n", err)
		return exitUsage
	}
	cases, err := collectCases(opts.paths, opts.run)
	if err != nil {
		fmt.Fprintf(stderr, "imgate check: %v\n", err)
		return exitUsage
	}
	results := make([]caseResult, 0, len(cases))
	for i := range cases {
		results = append(results, checkCase(g, opts.sel, &cases[i]))
	}
	rep := newReport(g, results)
	if opts.jsonOut {
		err = rep.writeJSON(stdout)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "imgate check: %v\n", err)
		return exitUsage
	}
	return rep.exitCode()
}

func parseCheckFlags(args []string, stderr io.Writer) (checkOptions, error) {
	var opts checkOptions
	var run string
	fl := flag.NewFlagSet("imgate check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&opts.config, "config", "", "the gateway config: a Caddyfile, Caddy JSON, imgate JSON, or a Traefik dynamic file (.yml, .yaml, .toml) (required)")
	fl.StringVar(&opts.format, "format", "", "the config's format when its name does not tell: "+strings.Join(formats, ", "))
	fl.StringVar(&opts.sel.route, "route", "", "Caddy: send every case to the imgate handler whose route matches this path, instead of each case's own path")
	fl.StringVar(&opts.sel.middleware, "middleware", "", "Traefik: the middleware to check (default: the only one using the plugin)")
	fl.StringVar(&opts.plugin, "plugin", "imgate", "Traefik: the plugin name imgate has in the static configuration")
	fl.BoolVar(&opts.jsonOut, "json", false, "print the results as one JSON document")
	fl.StringVar(&run, "run", "", "check only the cases whose name matches this regular expression")
	fl.Usage = func() {
		fmt.Fprint(stderr, "usage: imgate check -config <file> [flags] <case file or folder>...\n\n")
		fl.PrintDefaults()
		fmt.Fprint(stderr, "\nExit status: 0 every case passed, 1 a case failed, 2 usage or config error.\n")
	}
	if err := fl.Parse(args); err != nil {
		return opts, parseError(err)
	}
	opts.paths = fl.Args()
	switch {
	case opts.config == "":
		return opts, errors.New("-config is required")
	case len(opts.paths) == 0:
		return opts, errors.New("give at least one case file or folder")
	}
	if opts.format != "" {
		known := false
		for _, f := range formats {
			known = known || f == opts.format
		}
		if !known {
			return opts, fmt.Errorf("-format %q is not one of %s", opts.format, strings.Join(formats, ", "))
		}
	}
	if run != "" {
		re, err := regexp.Compile(run)
		if err != nil {
			return opts, fmt.Errorf("-run: %w", err)
		}
		opts.run = re
	}
	return opts, nil
}

// preselect fails early when the selector cannot pick a handler whatever
// the cases say: a Traefik file with several middlewares and no
// -middleware, an unknown middleware, a -route no route matches.
func preselect(g *gateway, s selector) error {
	if g.format == formatTraefik || s.route != "" {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if _, err := g.choose(r, s); err != nil {
			return fmt.Errorf("%s: %w", g.file, err)
		}
	}
	return nil
}

// collectCases loads the case files named, and every *.json file under
// the folders named (sorted, recursively), keeping those run selects.
func collectCases(paths []string, run *regexp.Regexp) ([]golden.Case, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".json") {
				found = append(found, path)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s holds no *.json case files", p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	var cases []golden.Case
	seen := map[string]string{}
	for _, f := range files {
		loaded, err := golden.LoadFile(f)
		if err != nil {
			return nil, err
		}
		for _, c := range loaded {
			if err := checkable(&c); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", f, c.Name, err)
			}
			if other, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("%s: case %s is also in %s; rename one", f, c.Name, other)
			}
			seen[c.Name] = f
			if run == nil || run.MatchString(c.Name) {
				cases = append(cases, c)
			}
		}
	}
	if len(cases) == 0 {
		return nil, errors.New("no case to check (none in the files, or -run selected none)")
	}
	return cases, nil
}

// checkable refuses the golden keys check does not use, rather than
// ignore them: the config comes from -config.
func checkable(c *golden.Case) error {
	switch {
	case len(c.Config) > 0 || c.ConfigFile != "":
		return errors.New("config and configFile are not used by check: the config is the -config file; remove them")
	case c.Then != nil:
		return errors.New("then is not used by check; make the follow-up callback a case of its own")
	}
	return nil
}

// checkCase sends the case's request Repeat times to a fresh engine built
// from the chosen handler's config, the next handler answering as the
// case's upstream says (none: the service is unreachable, HTTP 502), and
// compares the last reply with the expectation.
func checkCase(g *gateway, s selector, c *golden.Case) caseResult {
	res := caseResult{Name: c.Name}
	fail := func(err error) caseResult {
		res.Status, res.Error = statusError, err.Error()
		return res
	}
	req, err := c.NewRequest("", time.Now())
	if err != nil {
		return fail(fmt.Errorf("request: %w", err))
	}
	h, err := g.choose(req, s)
	if err != nil {
		return fail(err)
	}
	res.Handler = h.label
	engine, err := core.New(h.cfg)
	if err != nil {
		return fail(err)
	}
	defer engine.Close()
	upstream := c.Upstream.Handler()
	next := func(w http.ResponseWriter, r *http.Request) error {
		upstream.ServeHTTP(w, r)
		return nil
	}
	var rec *httptest.ResponseRecorder
	var out *core.Outcome
	for i := 0; i < c.Repeat; i++ {
		if i > 0 {
			if req, err = c.NewRequest("", time.Now()); err != nil {
				return fail(fmt.Errorf("request: %w", err))
			}
		}
		rec = httptest.NewRecorder()
		out = engine.Serve(rec, req, "", next)
	}
	res.Result, res.Rule, res.Verified = out.Result, out.Rule, out.Verified
	res.HTTPStatus, res.Reply = rec.Code, rec.Body.String()
	res.Refused, res.Reason, res.Upstream = out.Refused, out.Reason, out.Upstream
	shadow := make([]string, 0, len(out.Shadow))
	for _, hit := range out.Shadow {
		res.Shadow = append(res.Shadow, hit.Rule+" ("+hit.Action+")")
		shadow = append(shadow, hit.Rule)
	}
	if !c.HasExpectation() {
		res.Status = statusReplay
		return res
	}
	res.Checked = checkedFields(c.Expect)
	reply := golden.Reply{
		Status: rec.Code, Body: rec.Body.Bytes(),
		Decision: out.Result + "; rule=" + out.Rule,
		Shadow:   shadow, ShadowSeen: c.Expect.Shadow != nil,
	}
	res.Differences = c.Differences(reply)
	res.Status = statusPass
	if len(res.Differences) > 0 {
		res.Status = statusFail
	}
	return res
}

// checkedFields names the expectations a case gives.
func checkedFields(e golden.Expect) []string {
	var fields []string
	if e.Status != 0 {
		fields = append(fields, "status")
	}
	if e.Body != "" {
		fields = append(fields, "body")
	}
	if e.BodyPrefix != "" {
		fields = append(fields, "bodyPrefix")
	}
	if e.Result != "" {
		fields = append(fields, "result")
	}
	if e.Rule != "" {
		fields = append(fields, "rule")
	}
	if e.Shadow != nil {
		fields = append(fields, "shadow")
	}
	return fields
}
