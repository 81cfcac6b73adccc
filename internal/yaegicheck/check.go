package yaegicheck

import (
	"fmt"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
)

// Options selects the rules that depend on where a package runs.
type Options struct {
	// Plugin marks the package Traefik loads as the middleware itself
	// (traefikplugin): its non-test files may not write to os.Stdout or
	// os.Stderr. Default false.
	Plugin bool
}

// Finding is one construct that breaks under Yaegi v0.16.1.
type Finding struct {
	Pos token.Position
	// Rule names the construct, e.g. "select"; docs/design.md lists them.
	Rule string
	// Message says what goes wrong under Yaegi and what to write instead.
	Message string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s (yaegicheck %s)", f.Pos, f.Message, f.Rule)
}

// ignoreDirective exempts one line from the check; it must give a reason.
const ignoreDirective = "//yaegicheck:ignore"

// Check loads the package in dir as `yaegi test` does and returns every
// construct in it, test files included, that breaks under Yaegi v0.16.1,
// sorted by position. The error reports a package that cannot be loaded or
// does not type-check with Yaegi's file selection; the findings gathered
// before that (build-line problems that may be the cause) come with it.
func Check(dir string, opts Options) ([]Finding, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	l, err := newLoader(dir)
	if err != nil {
		return nil, err
	}
	files, err := l.parseDir(dir)
	if err != nil {
		return nil, err
	}
	c := &checker{loader: l, opts: opts, files: files}
	for _, f := range files {
		c.directives(f)
	}
	units, err := l.load(dir, files)
	if err != nil {
		return c.finish(), err
	}
	for _, u := range units {
		for _, f := range u.files {
			for _, rule := range typedRules {
				rule(c, u, f)
			}
		}
	}
	return c.finish(), nil
}

// typedRules run on every type-checked file, each rule in the file of its
// concern (syntax.go, api.go, generic.go, methods.go, loopvar.go,
// jsonfields.go); directives.go runs before type-checking.
var typedRules = []func(*checker, *unit, *sourceFile){
	(*checker).builtins,
	(*checker).rangeStmts,
	(*checker).multiAssign,
	(*checker).multiReturn,
	(*checker).switchCases,
	(*checker).selectStmts,
	(*checker).stdlibAPI,
	(*checker).genericCalls,
	(*checker).errorTypes,
	(*checker).jsonMethods,
	(*checker).typeVerbs,
	(*checker).pluginOutput,
	(*checker).loopCaptures,
	(*checker).setenv,
	(*checker).jsonFields,
}

// checker gathers the findings of one Check.
type checker struct {
	*loader
	opts     Options
	files    []*sourceFile
	findings []Finding
}

func (c *checker) report(pos token.Pos, rule, format string, args ...any) {
	c.findings = append(c.findings, Finding{Pos: c.fset.Position(pos), Rule: rule, Message: fmt.Sprintf(format, args...)})
}

// finish drops the findings an ignore directive covers, reports directives
// without a reason or without a finding to cover, and sorts the rest.
func (c *checker) finish() []Finding {
	type directive struct {
		pos  token.Pos
		used bool
	}
	covering := map[string]map[int]*directive{} // file → line → directive
	var all []*directive
	for _, f := range c.files {
		lines := strings.Split(string(f.src), "\n")
		for _, g := range f.ast.Comments {
			for _, cm := range g.List {
				rest, ok := strings.CutPrefix(cm.Text, ignoreDirective)
				if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
					continue
				}
				if strings.TrimSpace(rest) == "" {
					c.report(cm.Pos(), "ignore", "%s needs a reason: say why Yaegi is not affected here", ignoreDirective)
					continue
				}
				d := &directive{pos: cm.Pos()}
				all = append(all, d)
				p := c.fset.Position(cm.Pos())
				if covering[p.Filename] == nil {
					covering[p.Filename] = map[int]*directive{}
				}
				covering[p.Filename][p.Line] = d
				if strings.TrimSpace(lines[p.Line-1][:p.Column-1]) == "" {
					covering[p.Filename][p.Line+1] = d // alone on its line: covers the next one
				}
			}
		}
	}
	kept := c.findings[:0]
	for _, f := range c.findings {
		if d := covering[f.Pos.Filename][f.Pos.Line]; d != nil && f.Rule != "ignore" {
			d.used = true
			continue
		}
		kept = append(kept, f)
	}
	c.findings = kept
	for _, d := range all {
		if !d.used {
			c.report(d.pos, "ignore", "%s covers no finding: remove it", ignoreDirective)
		}
	}
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i].Pos, c.findings[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return c.findings
}
