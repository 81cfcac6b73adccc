package yaegicheck

import (
	"go/build/constraint"
	"go/token"
	"strings"
)

// directives rejects the compiler directives Yaegi v0.16.1 does not honour:
// //go:embed, and a //go:build line with no `// +build` line beside it
// (Yaegi reads only `// +build`, so it loads the file whatever the
// constraint says). It runs before type-checking, since a file loaded
// against its constraint is a likely reason the package does not compile.
func (c *checker) directives(f *sourceFile) {
	var goBuild token.Pos
	plusBuild := false
	for _, g := range f.ast.Comments {
		header := g.Pos() < f.ast.Package
		for _, cm := range g.List {
			if isDirective(cm.Text, "//go:embed") {
				c.report(cm.Pos(), "directive", "//go:embed: Yaegi v0.16.1 ignores it and leaves the variable empty; read the file at run time (os.ReadFile)")
			}
			if header && constraint.IsGoBuild(cm.Text) && !goBuild.IsValid() {
				goBuild = cm.Pos()
			}
		}
		if header {
			for _, line := range strings.Split(strings.TrimSpace(g.Text()), "\n") {
				plusBuild = plusBuild || strings.HasPrefix(line, "+build ")
			}
		}
	}
	if goBuild.IsValid() && !plusBuild {
		c.report(goBuild, "directive", "//go:build without a // +build line: Yaegi v0.16.1 ignores //go:build and loads this file regardless; add the same constraint as a // +build line")
	}
}

// isDirective reports whether the comment text is the directive name,
// alone or followed by arguments.
func isDirective(text, name string) bool {
	rest, ok := strings.CutPrefix(text, name)
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}
