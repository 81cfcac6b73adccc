package yaegicheck

import "testing"

func TestRangeStmts(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "range over an integer constant", src: `package p

func f() (n int) {
	for i := range 10 { // want range-int
		n += i
	}
	return n
}
`},
		{name: "range over a typed integer", src: `package p

type count uint8

func f(c count) {
	for range c { // want range-int
	}
}
`},
		{name: "range over a function", src: `package p

func seq(yield func(int) bool) { yield(1) }

func f() (n int) {
	for v := range seq { // want range-func
		n += v
	}
	return n
}
`},
		{name: "safe ranges and three-clause loops", src: `package p

func f(s []int, m map[string]int, str string, ch chan int) (n int) {
	for i := 0; i < 10; i++ {
		n += i
	}
	for i, v := range s {
		n += i + v
	}
	for _, v := range m {
		n += v
	}
	for range str {
		n++
	}
	for v := range ch {
		n += v
	}
	var a [3]int
	for i := range a {
		n += i
	}
	return n
}
`},
	})
}

func TestMultiAssign(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "assignment with a call last", src: `package p

func g() int { return 7 }

func f() (int, int) {
	var x, y int
	x, y = 1, g() // want multi-assign
	return x, y
}
`},
		{name: "assignment with a call first, a builtin, a closure call", src: `package p

func g() int { return 7 }

func f(s string) int {
	var x, y int
	x, y = g(), 1 // want multi-assign
	x, y = 1, len(s) // want multi-assign
	x, y = 1, func() int { return 2 }() // want multi-assign
	return x + y
}
`},
		{name: "assignment to fields and of a method call", src: `package p

import "strings"

type T struct{ a int; s string }

func f() T {
	var t T
	t.a, t.s = 1, strings.ToUpper("x") // want multi-assign
	return t
}
`},
		{name: "composite literal or receive, with := and var", src: `package p

type T struct{ n int }

var pkgA, pkgB = 1, T{2} // want multi-assign

func f(ch chan int) int {
	p, q := 1, T{2} // want multi-assign
	r, s := 1, <-ch // want multi-assign
	var a, b = 1, []int{2} // want multi-assign
	var x int
	var t T
	x, t = 1, T{3} // want multi-assign
	return p + q.n + r + s + a + b[0] + x + t.n
}
`},
		{name: "safe forms", src: `package p

func g() int         { return 7 }
func g2() (int, int) { return 7, 8 }

type T struct{ n int }

func f(m map[string]int, z int) int {
	p, q := 3, g()
	var x, y int
	x, y = 1, (g())
	x, y = 1, g()+1
	x, y = y, x
	x, y = g2()
	var i int
	var j int64
	i, j = 1, int64(z)
	var a, b = 1, g()
	v, ok := m["a"]
	var t *T
	x, t = 1, &T{2}
	c := T{4}
	s := []int{1, 2}
	s[0], s[1] = s[1], s[0]
	if ok {
		return p + q + x + y + i + int(j) + a + b + v + t.n + c.n + s[0]
	}
	return 0
}
`},
	})
}

func TestMultiReturn(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "builtin call after the first result", src: `package p

func a(s string) (bool, int) {
	return true, len(s) // want multi-return
}

func b(s []int) (int, int, int) {
	return 1, cap(s), 3 // want multi-return
}

func c() (error, []int) {
	return nil, make([]int, 2) // want multi-return
}

func d() (int, *int) {
	return 3, new(int) // want multi-return
}

func e(s []int) (bool, []int) {
	return true, append(s, 1) // want multi-return
}

var closure = func(s string) (bool, int) {
	return true, len(s) // want multi-return
}
`},
		{name: "call of the first result's type into another type", src: `package p

type E struct{}

func (E) Error() string { return "e" }

func g() E { return E{} }

func f() (E, error) {
	return E{}, g() // want multi-return
}
`},
		{name: "safe forms", src: `package p

import (
	"errors"
	"strings"
)

func g() int          { return 7 }
func g2() (int, bool) { return 7, true }

func a(s string) (int, bool)       { return len(s), true }
func b(s string) (int, string)     { return 1, strings.TrimSpace(s) }
func c() (int, int)                { return 1, g() }
func d(s string) (bool, int)       { return true, (len(s)) }
func e(s string) (bool, bool)      { return true, len(s) > 0 }
func f(b []byte) (int, string)     { return 1, string(b) }
func h() (int, bool)               { return g2() }
func i(s string) int               { return len(s) }
func j() ([]int, error)            { return make([]int, 2), errors.New("x") }
func k(s string) (bool, int, bool) { return true, len(s) + 0, false }
`},
	})
}

func TestSwitchCases(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "tagless switch with two expressions in a case", src: `package p

func f(x int) string {
	switch {
	case x == 1, x == 2: // want switch-case
		return "small"
	case x > 10:
		return "big"
	}
	switch y := x * 2; {
	case y == 2, y == 4, y == 6: // want switch-case
		return "even"
	}
	return ""
}
`},
		{name: "tagged and type switches are safe", src: `package p

func f(x int, v any) string {
	switch x {
	case 1, 2:
		return "small"
	}
	switch v.(type) {
	case int, string:
		return "scalar"
	}
	switch {
	case x == 3 || x == 4:
		return "mid"
	}
	return ""
}
`},
	})
}

func TestSelectStmts(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "any select", src: `package p

func f(ch, stop chan int) (v int) {
	select { // want select
	case v = <-ch:
	case <-stop:
	}
	for {
		select { // want select
		case <-stop:
			return v
		default:
		}
	}
}
`},
		{name: "plain channel operations are safe", src: `package p

func f(ch chan int) int {
	ch <- 1
	v := <-ch
	v, ok := <-ch
	if ok {
		return v
	}
	return 0
}
`},
	})
}
