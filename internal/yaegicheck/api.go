package yaegicheck

import (
	"go/ast"
	"go/constant"
	"go/types"
	"strings"
)

// The rules on builtins and standard library API that Yaegi v0.16.1 lacks
// or runs differently. They match resolved objects (go/types), never names:
// a local function called min is not the builtin.

// builtins rejects the Go 1.21 builtins min, max and clear: undefined in
// Yaegi.
func (c *checker) builtins(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		b, ok := u.info.Uses[id].(*types.Builtin)
		if !ok {
			return true
		}
		switch b.Name() {
		case "min", "max":
			c.report(id.Pos(), "builtin", "%s builtin: undefined in Yaegi v0.16.1; compare with an if (or a small helper)", b.Name())
		case "clear":
			c.report(id.Pos(), "builtin", "clear builtin: undefined in Yaegi v0.16.1; delete the keys in a loop, make a new map or zero the elements")
		}
		return true
	})
}

// yaegiSlices is what Yaegi v0.16.1's own copy of package slices holds
// (stdlib/generic/go1_22_slices_slices.go.txt): no sorting, searching, Min
// or Max, no iterators.
var yaegiSlices = map[string]bool{
	"Equal": true, "EqualFunc": true, "Compare": true, "CompareFunc": true,
	"Index": true, "IndexFunc": true, "Contains": true, "ContainsFunc": true,
	"Insert": true, "Delete": true, "DeleteFunc": true, "Replace": true,
	"Clone": true, "Compact": true, "CompactFunc": true, "Grow": true,
	"Clip": true, "Reverse": true, "Concat": true,
}

// stdlibAPI rejects standard library API Yaegi v0.16.1 lacks or breaks:
// slices functions outside yaegiSlices (slices.Sort and friends), every
// function of package maps, sync.OnceFunc/OnceValue/OnceValues, the type
// atomic.Pointer, errors.As, every other generic function or type
// (reflect.TypeFor, ...), which Yaegi's compiled standard library cannot
// hold, and package-level names added after Go 1.22 (see newerAPI).
func (c *checker) stdlibAPI(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		obj := u.info.Uses[id]
		if obj == nil || obj.Pkg() == nil || obj.Parent() != obj.Pkg().Scope() || c.source[obj.Pkg()] {
			return true // not a package-level object of the standard library
		}
		name := obj.Name()
		switch path := obj.Pkg().Path(); {
		case path == "slices" && !yaegiSlices[name]:
			c.report(id.Pos(), "stdlib", "slices.%s is missing from Yaegi v0.16.1's slices (it has no sorting, searching, Min, Max or iterators); use sort.Slice, sort.Strings or a loop", name)
		case path == "maps":
			c.report(id.Pos(), "stdlib", "maps.%s: package maps does not compile under Yaegi v0.16.1 (undefined type for K); range over the map", name)
		case path == "sync" && (name == "OnceFunc" || name == "OnceValue" || name == "OnceValues"):
			c.report(id.Pos(), "stdlib", "sync.%s is missing from Yaegi v0.16.1; use a sync.Once with a variable", name)
		case path == "sync/atomic" && name == "Pointer":
			c.report(id.Pos(), "stdlib", "atomic.Pointer is missing from Yaegi v0.16.1; use atomic.Value or a mutex")
		case path == "errors" && name == "As":
			c.report(id.Pos(), "error-type", "errors.As panics under Yaegi v0.16.1 (*target must be interface or implement error); wrap sentinel errors with %%w and test them with errors.Is")
		case isGeneric(obj) && path != "slices" && path != "cmp":
			c.report(id.Pos(), "stdlib", "%s.%s is generic, and Yaegi v0.16.1's compiled standard library has no generics (only slices, maps and cmp are interpreted from source); write it without", obj.Pkg().Name(), name)
		default:
			minor, err := newerAPI.since(path, name)
			if err != nil {
				c.report(id.Pos(), "newer-api", "cannot tell whether %s.%s predates Go 1.23: %v", obj.Pkg().Name(), name, err)
			} else if minor > 0 {
				c.report(id.Pos(), "newer-api", "%s.%s is new in Go 1.%d; Yaegi v0.16.1's standard library stops at Go 1.22, so it is undefined there; write it with Go 1.22 API", obj.Pkg().Name(), name, minor)
			}
		}
		return true
	})
}

// isGeneric reports whether obj is a generic function or type.
func isGeneric(obj types.Object) bool {
	switch obj := obj.(type) {
	case *types.Func:
		return obj.Type().(*types.Signature).TypeParams().Len() > 0
	case *types.TypeName:
		named, ok := obj.Type().(*types.Named)
		return ok && named.TypeParams().Len() > 0
	}
	return false
}

// typeVerbs rejects %T in the format string of fmt's, log's and testing's
// printf-style functions: under Yaegi it prints the interpreter's
// reflect-built type (`struct { Xn int }`), not the Go type name.
func (c *checker) typeVerbs(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fn := calleeFunc(u.info, call)
		if fn == nil || fn.Pkg() == nil {
			return true
		}
		i, ok := printfFormat[fn.Pkg().Path()][fn.Name()]
		if !ok || i >= len(call.Args) {
			return true
		}
		if tv := u.info.Types[call.Args[i]]; tv.Value != nil && tv.Value.Kind() == constant.String && hasTypeVerb(constant.StringVal(tv.Value)) {
			c.report(call.Args[i].Pos(), "type-verb", "%%T in a format string: under Yaegi v0.16.1 it prints the interpreter's reflect type (struct { Xn int }), not the Go type; name the type in the text or use a type switch")
		}
		return true
	})
}

// printfFormat maps package path → function or method name → index of the
// format argument.
var printfFormat = map[string]map[string]int{
	"fmt":     {"Printf": 0, "Sprintf": 0, "Errorf": 0, "Fprintf": 1, "Appendf": 1},
	"log":     {"Printf": 0, "Fatalf": 0, "Panicf": 0},
	"testing": {"Errorf": 0, "Fatalf": 0, "Logf": 0, "Skipf": 0},
}

// hasTypeVerb reports whether a printf format holds a %T verb.
func hasTypeVerb(format string) bool {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] == 'T' {
			return true
		}
	}
	return false
}

// pluginOutput rejects os.Stdout and os.Stderr in the plugin's non-test
// files: Traefik's loggers never see them.
func (c *checker) pluginOutput(u *unit, f *sourceFile) {
	if !c.opts.Plugin || f.test {
		return
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := u.info.Uses[id].(*types.Var); ok && v.Pkg() != nil && v.Pkg().Path() == "os" && (v.Name() == "Stdout" || v.Name() == "Stderr") {
				c.report(id.Pos(), "plugin-output", "os.%s in the plugin does not reach Traefik's loggers; print with fmt.Print or write to log.Writer()", v.Name())
			}
		}
		return true
	})
}

// setenv rejects t.Setenv: it sets the process environment, but
// interpreted code reads Yaegi's own copy through os.Getenv.
func (c *checker) setenv(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if fn, ok := u.info.Uses[sel.Sel].(*types.Func); ok && fn.Name() == "Setenv" && fn.Pkg() != nil && fn.Pkg().Path() == "testing" {
				c.report(sel.Sel.Pos(), "setenv", "t.Setenv changes the process environment, which interpreted os.Getenv never reads under Yaegi v0.16.1; call os.Setenv and restore the old value in t.Cleanup")
			}
		}
		return true
	})
}

// calleeFunc returns the function or method call calls, or nil.
func calleeFunc(info *types.Info, call *ast.CallExpr) *types.Func {
	fun := ast.Unparen(call.Fun)
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	var id *ast.Ident
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return nil
	}
	fn, _ := info.Uses[id].(*types.Func)
	return fn
}
