package yaegicheck

import (
	"go/ast"
	"go/types"
)

// The rules on methods the standard library calls through interfaces,
// which it never sees on interpreted types: Yaegi v0.16.1 hands compiled
// code a reflect-built value without the interpreted methods.

// errorTypes rejects an Unwrap method on a type that also has Error:
// errors.Is never calls it under Yaegi (measured: errors.Is finds no
// wrapped error), so a custom error type cannot carry a cause.
func (c *checker) errorTypes(u *unit, f *sourceFile) {
	for _, d := range f.ast.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil || fd.Name.Name != "Unwrap" {
			continue
		}
		named := receiverType(u.info, fd)
		if named == nil {
			continue
		}
		if sel := types.NewMethodSet(types.NewPointer(named)).Lookup(nil, "Error"); sel != nil {
			c.report(fd.Name.Pos(), "error-type", "Unwrap on error type %s: errors.Is and errors.As never call it under Yaegi v0.16.1; use sentinel errors wrapped with %%w", named.Obj().Name())
		}
	}
}

// jsonMethods rejects MarshalJSON, UnmarshalJSON, MarshalText and
// UnmarshalText methods: encoding/json ignores them on interpreted types
// (measured for all four).
func (c *checker) jsonMethods(u *unit, f *sourceFile) {
	for _, d := range f.ast.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Recv == nil {
			continue
		}
		switch fd.Name.Name {
		case "MarshalJSON", "UnmarshalJSON", "MarshalText", "UnmarshalText":
			name := "its receiver"
			if named := receiverType(u.info, fd); named != nil {
				name = named.Obj().Name()
			}
			c.report(fd.Name.Pos(), "json-method", "%s method: encoding/json never calls it on %s under Yaegi v0.16.1; encode through tagged struct fields or build the JSON by hand", fd.Name.Name, name)
		}
	}
}

// receiverType returns the named type a method is declared on.
func receiverType(info *types.Info, fd *ast.FuncDecl) *types.Named {
	fn, ok := info.Defs[fd.Name].(*types.Func)
	if !ok {
		return nil
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return nil
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	named, _ := t.(*types.Named)
	return named
}
