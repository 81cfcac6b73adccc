package yaegicheck

import (
	"go/ast"
	"go/token"
	"go/types"
)

// loopCaptures rejects a function literal that uses a variable declared by
// an enclosing for or range clause and outlives the iteration: Yaegi
// v0.16.1 keeps Go's pre-1.22 semantics, one variable for the whole loop,
// so every such closure sees its last value (measured: deferred closures
// print 3 3 3, goroutines sum to 9 instead of 3). A literal outlives the
// iteration when a go or defer statement runs it (or receives it as an
// argument), when it is appended, stored in a composite literal, sent on a
// channel or assigned with =, and when it is a subtest calling t.Parallel.
// A literal passed to an ordinary call is taken to run before the call
// returns (t.Run, sort.Slice); one called on the spot or assigned with :=
// inside the loop is left alone.
func (c *checker) loopCaptures(u *unit, f *sourceFile) {
	loopBody := map[types.Object]*ast.BlockStmt{} // loop variable → its loop's body
	declare := func(body *ast.BlockStmt, exprs ...ast.Expr) {
		for _, e := range exprs {
			if id, ok := e.(*ast.Ident); ok {
				if obj := u.info.Defs[id]; obj != nil {
					loopBody[obj] = body
				}
			}
		}
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ForStmt:
			if as, ok := n.Init.(*ast.AssignStmt); ok && as.Tok == token.DEFINE {
				declare(n.Body, as.Lhs...)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				declare(n.Body, n.Key, n.Value)
			}
		}
		return true
	})
	if len(loopBody) == 0 {
		return
	}
	checked := map[*ast.FuncLit]bool{}
	check := func(e ast.Expr, how string) {
		lit, ok := ast.Unparen(e).(*ast.FuncLit)
		if !ok || checked[lit] {
			return
		}
		checked[lit] = true
		seen := map[types.Object]bool{}
		ast.Inspect(lit.Body, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			obj := u.info.Uses[id]
			body, ok := loopBody[obj]
			if !ok || seen[obj] || lit.Pos() < body.Pos() || lit.End() > body.End() {
				return true
			}
			seen[obj] = true
			c.report(id.Pos(), "loopvar", "%s uses loop variable %s: Yaegi v0.16.1 shares one %[2]s between all iterations (Go before 1.22), so it sees a later value; pass %[2]s as an argument", how, obj.Name())
			return true
		})
	}
	ast.Inspect(f.ast, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			check(n.Call.Fun, "function literal run by a go statement")
			for _, a := range n.Call.Args {
				check(a, "function literal handed to a go statement")
			}
		case *ast.DeferStmt:
			check(n.Call.Fun, "function literal run by a defer statement")
			for _, a := range n.Call.Args {
				check(a, "function literal handed to a defer statement")
			}
		case *ast.CallExpr:
			if b := builtinOf(u.info, n); b != nil && b.Name() == "append" {
				for _, a := range n.Args {
					check(a, "appended function literal")
				}
				return true
			}
			for _, a := range n.Args {
				if lit, ok := ast.Unparen(a).(*ast.FuncLit); ok && callsParallel(u.info, lit) {
					check(lit, "parallel subtest")
				}
			}
		case *ast.CompositeLit:
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					e = kv.Value
				}
				check(e, "function literal stored in a composite literal")
			}
		case *ast.SendStmt:
			check(n.Value, "function literal sent on a channel")
		case *ast.AssignStmt:
			if n.Tok == token.ASSIGN {
				for _, r := range n.Rhs {
					check(r, "function literal assigned with =")
				}
			}
		}
		return true
	})
}

// callsParallel reports whether a function literal calls
// (*testing.T).Parallel itself.
func callsParallel(info *types.Info, lit *ast.FuncLit) bool {
	found := false
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if fn := calleeFunc(info, n); fn != nil && fn.Name() == "Parallel" && fn.Pkg() != nil && fn.Pkg().Path() == "testing" {
				found = true
			}
		}
		return !found
	})
	return found
}
