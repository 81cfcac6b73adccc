package yaegicheck

import (
	"go/ast"
	"go/types"
	"reflect"
	"strings"
)

// jsonFields rejects a value passed straight to json.Marshal,
// json.MarshalIndent or (*json.Encoder).Encode whose struct type, declared
// in interpreted code, has an unexported field not tagged `json:"-"`: Yaegi
// v0.16.1 builds struct types with every field exported (as X<name>), so
// encoding/json emits it ({"a":1,"Xb":2}). It stays conservative: only the
// argument's own type (or the type it points to) is inspected, not the
// types of its fields, and interface-typed arguments are skipped.
func (c *checker) jsonFields(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		fn := calleeFunc(u.info, call)
		if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != "encoding/json" {
			return true
		}
		recv := fn.Type().(*types.Signature).Recv()
		switch {
		case recv == nil && (fn.Name() == "Marshal" || fn.Name() == "MarshalIndent"):
		case recv != nil && fn.Name() == "Encode":
		default:
			return true
		}
		name, st := c.interpretedStruct(u.info.TypeOf(call.Args[0]))
		if st == nil {
			return true
		}
		var leaks []string
		for i := 0; i < st.NumFields(); i++ {
			if fld := st.Field(i); !fld.Exported() && reflect.StructTag(st.Tag(i)).Get("json") != "-" {
				leaks = append(leaks, fld.Name())
			}
		}
		if len(leaks) > 0 {
			c.report(call.Args[0].Pos(), "json-fields", "%s has unexported fields (%s) that encoding/json emits under Yaegi v0.16.1, which exports every field as X<name>; tag them `json:\"-\"`", name, strings.Join(leaks, ", "))
		}
		return true
	})
}

// interpretedStruct returns the struct type t is or points to when Yaegi
// would interpret it: a struct literal type, or a named type declared in a
// package loaded from source (not the compiled standard library).
func (c *checker) interpretedStruct(t types.Type) (string, *types.Struct) {
	if t == nil {
		return "", nil
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	switch t := types.Unalias(t).(type) {
	case *types.Struct:
		return "the struct", t
	case *types.Named:
		st, ok := t.Underlying().(*types.Struct)
		if ok && c.source[t.Obj().Pkg()] {
			return t.Obj().Name(), st
		}
	}
	return "", nil
}
