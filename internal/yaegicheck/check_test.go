package yaegicheck

import (
	"fmt"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

func TestIgnoreDirective(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "on the line or alone above it", src: `package p

func f(ch, stop chan int) int {
	for {
		select { //yaegicheck:ignore one goroutine only, no shared case list
		case v := <-ch:
			return v
		case <-stop:
			return 0
		}
	}
}

func g(ch chan int) int {
	//yaegicheck:ignore one goroutine only, no shared case list
	select {
	case v := <-ch:
		return v
	}
}
`},
		{name: "covers only its line", src: `package p

func f(ch chan int) int {
	//yaegicheck:ignore too far away // want ignore

	select { // want select
	case v := <-ch:
		return v
	}
}

func g(ch chan int) int {
	select { // want select
	case v := <-ch: //yaegicheck:ignore not the select line // want ignore
		return v
	}
}
`},
		{name: "needs a reason", src: `package p

func f(a, b int) int {
	return min(a, b) //yaegicheck:ignore
}
`, want: []string{"p/p.go:4 builtin", "p/p.go:4 ignore"}},
		{name: "unused", src: `package p

func f(a, b int) int {
	return a + b //yaegicheck:ignore nothing to cover // want ignore
}
`},
	})
}

func TestFindingString(t *testing.T) {
	f := Finding{Pos: token.Position{Filename: "core/x.go", Line: 3, Column: 2}, Rule: "select", Message: "select statement: ..."}
	if got, want := f.String(), "core/x.go:3:2: select statement: ... (yaegicheck select)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestCheckSortsFindings(t *testing.T) {
	root := writeModule(t, map[string]string{
		"p/b.go": "package p\n\nfunc b(x, y int) int { return max(x, y) + min(x, y) }\n",
		"p/a.go": "package p\n\nfunc a(x, y int) int {\n\treturn min(x, y)\n}\n",
	})
	findings, err := Check(filepath.Join(root, "p"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, fmt.Sprintf("%s:%d:%d", filepath.Base(f.Pos.Filename), f.Pos.Line, f.Pos.Column))
	}
	if strings.Join(got, " ") != "a.go:4:9 b.go:3:31 b.go:3:43" {
		t.Errorf("order %v", got)
	}
}

func TestCheckErrors(t *testing.T) {
	root := writeModule(t, map[string]string{
		"empty/README":    "no Go here\n",
		"broken/p.go":     "package p\n\nfunc f() int { return undefined }\n",
		"xonly/p_test.go": "package p_test\n",
	})
	for _, dir := range []string{"missing", "empty", "broken", "xonly"} {
		if _, err := Check(filepath.Join(root, dir), Options{}); err == nil {
			t.Errorf("Check(%s): no error", dir)
		}
	}
}
