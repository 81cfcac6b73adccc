package yaegicheck

import (
	"go/ast"
	"go/token"
	"go/types"
)

// The rules on statements Yaegi v0.16.1 compiles wrongly. Each was measured
// with `yaegi run` on a small program (see docs/design.md).

// rangeStmts rejects range over an integer or a function (Go 1.22/1.23):
// Yaegi panics with "nil type".
func (c *checker) rangeStmts(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		rs, ok := n.(*ast.RangeStmt)
		if !ok {
			return true
		}
		t := u.info.TypeOf(rs.X)
		if t == nil {
			return true
		}
		switch under := t.Underlying().(type) {
		case *types.Basic:
			if under.Info()&types.IsInteger != 0 {
				c.report(rs.X.Pos(), "range-int", "range over an integer: Yaegi v0.16.1 panics (nil type); write for i := 0; i < n; i++")
			}
		case *types.Signature:
			c.report(rs.X.Pos(), "range-func", "range over a function: Yaegi v0.16.1 panics (nil type); call the iterator with a yield function or range over a slice")
		}
		return true
	})
}

// multiAssign rejects multi-value assignments Yaegi compiles into a single
// store: when one right-hand value is a call (with =), a receive or a
// composite literal (with =, := or var), Yaegi writes that value straight
// into its destination and drops the statement's other assignments, so
// `x, y = 1, g()` leaves x unchanged and `p, q := 1, T{}` leaves p zero.
// A parenthesized value, a conversion, a nested call (`g() + 1`) and a
// single call returning several values are safe.
func (c *checker) multiAssign(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) > 1 && len(n.Rhs) == len(n.Lhs) {
				c.multiValues(u, n.Rhs, n.Tok == token.ASSIGN, n.Tok.String())
			}
		case *ast.ValueSpec:
			if len(n.Names) > 1 && len(n.Values) == len(n.Names) {
				c.multiValues(u, n.Values, false, "var")
			}
		}
		return true
	})
}

func (c *checker) multiValues(u *unit, values []ast.Expr, callsBreak bool, form string) {
	for _, v := range values {
		what := ""
		switch v := v.(type) {
		case *ast.CallExpr:
			if callsBreak && !isConversion(u.info, v) {
				what = "a call"
			}
		case *ast.UnaryExpr:
			if v.Op == token.ARROW {
				what = "a receive"
			}
		case *ast.CompositeLit:
			what = "a composite literal"
		}
		if what != "" {
			c.report(v.Pos(), "multi-assign", "multi-value %s with %s among the values: Yaegi v0.16.1 stores only that value and drops the other assignments; assign one variable per statement", form, what)
			return
		}
	}
}

// multiReturn rejects the multi-value returns Yaegi compiles wrongly: a
// builtin call after the first result (its value lands in the first result
// slot: `return true, len(s)` panics), and a call whose type is the first
// result's but not its own result's (stored there without conversion:
// `return E{}, g()` into (E, error) panics).
func (c *checker) multiReturn(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		var body *ast.BlockStmt
		var sig *types.Signature
		switch fn := n.(type) {
		case *ast.FuncDecl:
			body = fn.Body
			if obj := u.info.Defs[fn.Name]; obj != nil {
				sig, _ = obj.Type().(*types.Signature)
			}
		case *ast.FuncLit:
			body = fn.Body
			sig, _ = u.info.TypeOf(fn).(*types.Signature)
		default:
			return true
		}
		if body == nil || sig == nil || sig.Results().Len() < 2 {
			return true
		}
		ast.Inspect(body, func(m ast.Node) bool {
			switch m := m.(type) {
			case *ast.FuncLit:
				return false // a function of its own, visited by the outer walk
			case *ast.ReturnStmt:
				c.returnValues(u, m, sig.Results())
			}
			return true
		})
		return true
	})
}

func (c *checker) returnValues(u *unit, ret *ast.ReturnStmt, results *types.Tuple) {
	if len(ret.Results) != results.Len() {
		return // a single call returning every result
	}
	for i, r := range ret.Results {
		call, ok := r.(*ast.CallExpr)
		if !ok || i == 0 || isConversion(u.info, call) {
			continue
		}
		if b := builtinOf(u.info, call); b != nil {
			c.report(call.Pos(), "multi-return", "%s call as result %d of a multi-value return: Yaegi v0.16.1 writes it into the first result; assign it to a variable first", b.Name(), i+1)
			continue
		}
		t := u.info.TypeOf(call)
		if t != nil && types.Identical(t, results.At(0).Type()) && !types.Identical(t, results.At(i).Type()) {
			c.report(call.Pos(), "multi-return", "call of type %s as result %d (%s) of a multi-value return: Yaegi v0.16.1 stores it unconverted because it has the first result's type; assign it to a variable of type %[3]s first", t, i+1, results.At(i).Type())
		}
	}
}

// switchCases rejects `case a, b:` in a switch without a tag: Yaegi tests
// only the first expression.
func (c *checker) switchCases(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok || sw.Tag != nil {
			return true
		}
		for _, s := range sw.Body.List {
			if cc := s.(*ast.CaseClause); len(cc.List) > 1 {
				c.report(cc.List[1].Pos(), "switch-case", "case with %d expressions in a switch without a tag: Yaegi v0.16.1 tests only the first; join them with ||", len(cc.List))
			}
		}
		return true
	})
}

// selectStmts rejects every select statement: Yaegi keeps one case list
// per statement, shared by all goroutines running it, and `case v = <-ch`
// panics (reflect.Select: invalid Dir).
func (c *checker) selectStmts(u *unit, f *sourceFile) {
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectStmt); ok {
			c.report(s.Select, "select", "select statement: Yaegi v0.16.1 shares one case list between all goroutines running it (and `case v = <-ch` panics); use a plain receive, context.AfterFunc, sync or sync/atomic")
		}
		return true
	})
}

// isConversion reports whether call converts a value to a type.
func isConversion(info *types.Info, call *ast.CallExpr) bool {
	return info.Types[call.Fun].IsType()
}

// builtinOf returns the builtin call calls, or nil.
func builtinOf(info *types.Info, call *ast.CallExpr) *types.Builtin {
	if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok {
		b, _ := info.Uses[id].(*types.Builtin)
		return b
	}
	return nil
}
