package yaegicheck

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// genericCalls rejects calls of generic functions whose type arguments
// Yaegi v0.16.1 gets wrong. Yaegi does not unify: it pairs the i-th
// parameter declaration of the function (names sharing a type count once)
// with the i-th argument, walks both types together through pointers,
// slices, maps, channels, structs and function types, and takes each type
// parameter it meets, in order and duplicates included, as the next type
// argument (interp/generic.go, inferTypesFromCall). So Map(s, func(int)
// string) instantiates Map[int, int], slices.Clone(s) never finds E, and a
// type parameter met only under `...T`, an array or a named generic type is
// never found. Calls with some but not all type arguments written panic.
// Calls with every type argument written are safe.
func (c *checker) genericCalls(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		fun, written := ast.Unparen(call.Fun), 0
		switch x := fun.(type) {
		case *ast.IndexExpr:
			fun, written = x.X, 1
		case *ast.IndexListExpr:
			fun, written = x.X, len(x.Indices)
		}
		var id *ast.Ident
		switch x := ast.Unparen(fun).(type) {
		case *ast.Ident:
			id = x
		case *ast.SelectorExpr:
			id = x.Sel
		default:
			return true
		}
		inst, ok := u.info.Instances[id]
		fn, isFunc := u.info.Uses[id].(*types.Func)
		if !ok || !isFunc {
			return true
		}
		want := inst.TypeArgs
		switch {
		case written == want.Len():
			return true
		case written > 0:
			c.report(call.Pos(), "generic", "%s called with %d of its %d type arguments: Yaegi v0.16.1 panics; write all of them", fn.Name(), written, want.Len())
			return true
		}
		if std := !c.source[fn.Pkg()]; std && !(fn.Pkg().Path() == "slices" && yaegiSlices[fn.Name()] || fn.Pkg().Path() == "cmp") {
			return true // missing from Yaegi altogether: stdlibAPI reports it
		}
		decl, err := c.funcDecl(fn.Origin())
		if err != nil {
			c.report(call.Pos(), "generic", "%s: type arguments left to inference, which Yaegi v0.16.1 does by position, and its declaration cannot be read to confirm it (%v); write them explicitly", fn.Name(), err)
			return true
		}
		args := make([]types.Type, len(call.Args))
		for i, a := range call.Args {
			args[i] = u.info.TypeOf(a)
		}
		got, ok := yaegiTypeArgs(decl, args)
		if !ok || len(got) < want.Len() {
			c.report(call.Pos(), "generic", "Yaegi v0.16.1 cannot infer the type arguments of %s here (it reads them by position from the parameter types); write them explicitly: %s[%s]", fn.Name(), fn.Name(), typeList(want))
			return true
		}
		for i := 0; i < want.Len(); i++ {
			if !types.Identical(got[i], want.At(i)) {
				c.report(call.Pos(), "generic", "Yaegi v0.16.1 infers %s's type argument %d as %s instead of %s (it reads them by position from the parameter types); write them explicitly: %s[%s]", fn.Name(), i+1, got[i], want.At(i), fn.Name(), typeList(want))
				break
			}
		}
		return true
	})
}

// yaegiTypeArgs returns the type arguments Yaegi v0.16.1 infers for a call
// of decl with arguments of the given types, in order and duplicates
// included; ok is false when its walk cannot go through (it would panic or
// report an error).
func yaegiTypeArgs(decl *ast.FuncDecl, args []types.Type) (got []types.Type, ok bool) {
	params := map[string]bool{}
	for _, fld := range decl.Type.TypeParams.List {
		for _, name := range fld.Names {
			params[name.Name] = true
		}
	}
	var walk func(ast.Expr, types.Type) bool
	walk = func(e ast.Expr, t types.Type) bool {
		if t == nil {
			return false
		}
		switch e := e.(type) {
		case *ast.ParenExpr:
			return walk(e.X, t)
		case *ast.Ident:
			if params[e.Name] {
				got = append(got, types.Default(t))
			}
			return true
		case *ast.StarExpr:
			p, ok := t.Underlying().(*types.Pointer)
			return ok && walk(e.X, p.Elem())
		case *ast.ArrayType:
			if e.Len != nil {
				return true // Yaegi does not look into arrays
			}
			s, ok := t.Underlying().(*types.Slice)
			return ok && walk(e.Elt, s.Elem())
		case *ast.ChanType:
			ch, ok := t.Underlying().(*types.Chan)
			return ok && walk(e.Value, ch.Elem())
		case *ast.MapType:
			m, ok := t.Underlying().(*types.Map)
			return ok && walk(e.Key, m.Key()) && walk(e.Value, m.Elem())
		case *ast.StructType:
			st, ok := t.Underlying().(*types.Struct)
			if !ok {
				return false
			}
			i := 0
			for _, fld := range e.Fields.List {
				for range max(1, len(fld.Names)) {
					if i >= st.NumFields() || !walk(fld.Type, st.Field(i).Type()) {
						return false
					}
					i++
				}
			}
			return true
		case *ast.FuncType:
			sig, ok := t.Underlying().(*types.Signature)
			if !ok {
				return true // Yaegi walks the argument's (absent) parameters: nothing
			}
			return walkFields(e.Params, sig.Params(), walk) && walkFields(e.Results, sig.Results(), walk)
		}
		return true // ...T, named and interface types: Yaegi does not look inside
	}
	for i, fld := range decl.Type.Params.List {
		if i >= len(args) || !walk(fld.Type, args[i]) {
			return nil, false
		}
	}
	return got, true
}

// walkFields walks a function type's parameters or results against a
// tuple, as Yaegi does: one per name, stopping at the shorter list.
func walkFields(fields *ast.FieldList, tuple *types.Tuple, walk func(ast.Expr, types.Type) bool) bool {
	if fields == nil {
		return true
	}
	i := 0
	for _, fld := range fields.List {
		for range max(1, len(fld.Names)) {
			if i >= tuple.Len() {
				return true
			}
			if !walk(fld.Type, tuple.At(i).Type()) {
				return false
			}
			i++
		}
	}
	return true
}

func typeList(list *types.TypeList) string {
	s := make([]string, list.Len())
	for i := range s {
		s[i] = list.At(i).String()
	}
	return strings.Join(s, ", ")
}

// funcDecl returns the declaration of a generic function: from the parsed
// sources of this check, or from GOROOT for the standard library.
func (c *checker) funcDecl(fn *types.Func) (*ast.FuncDecl, error) {
	if d := c.funcs[fn.Pos()]; d != nil && c.source[fn.Pkg()] {
		return d, nil
	}
	if fn.Pkg() == nil || c.source[fn.Pkg()] {
		return nil, fmt.Errorf("no declaration for %s", fn.Name())
	}
	return stdDecls.lookup(fn.Pkg().Path(), fn.Name())
}

// stdDecls holds the function declarations of standard library packages,
// parsed from GOROOT on first use.
var stdDecls = &declCache{pkgs: map[string]map[string]*ast.FuncDecl{}}

type declCache struct {
	mu   sync.Mutex
	pkgs map[string]map[string]*ast.FuncDecl
}

func (d *declCache) lookup(path, name string) (*ast.FuncDecl, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	funcs, ok := d.pkgs[path]
	if !ok {
		bp, err := build.Default.Import(path, "", build.FindOnly)
		if err != nil {
			return nil, err
		}
		entries, err := os.ReadDir(bp.Dir)
		if err != nil {
			return nil, err
		}
		funcs = map[string]*ast.FuncDecl{}
		fset := token.NewFileSet()
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, filepath.Join(bp.Dir, e.Name()), nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			for _, decl := range f.Decls {
				if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil {
					funcs[fd.Name.Name] = fd
				}
			}
		}
		d.pkgs[path] = funcs
	}
	if fd := funcs[name]; fd != nil {
		return fd, nil
	}
	return nil, fmt.Errorf("%s.%s not found in GOROOT", path, name)
}
