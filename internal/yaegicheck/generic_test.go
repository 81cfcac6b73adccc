package yaegicheck

import "testing"

// The generic functions of these cases, each run with `yaegi run` to
// confirm the verdict (docs/design.md).
const generics = `package p

func Map[T, U any](s []T, f func(T) U) []U {
	var r []U
	for _, v := range s {
		r = append(r, f(v))
	}
	return r
}

func Filter[T any](s []T, keep func(T) bool) []T {
	var r []T
	for _, v := range s {
		if keep(v) {
			r = append(r, v)
		}
	}
	return r
}

func Apply[T, U any](f func(T) U, v T) U             { return f(v) }
func Call[T any](f func() T) T                         { return f() }
func Pair[T, U any](u U, t T) int                      { return 0 }
func Swap[T, U any](f func(U) T, u U) T                { return f(u) }
func Last[S ~[]E, E any](s S) E                        { return s[len(s)-1] }
func Sum[T int | float64](xs ...T) (s T)               { return s }
func Add[T int | float64](first T, xs ...T) T          { return first }
func First[T any](a [2]T) T                            { return a[0] }
func Get[K comparable, V any](m map[K]V, k K) V        { return m[k] }
func Deref[T any](p *T) T                              { return *p }
func Pick[T any](a, b T, f func(T) bool) T             { return a }
func Reduce[T, A any](s []T, a A, f func(A, T) A) A    { return a }

type Box[T any] struct{ v T }

func Unbox[T any](b Box[T]) T { return b.v }

type IDs []string
`

func TestGenericCalls(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "inference Yaegi gets wrong or cannot do", files: map[string]string{
			"p/generics.go": generics,
			"p/p.go": `package p

import (
	"cmp"
	"slices"
)

func f(s []int) int {
	_ = Map(s, func(i int) string { return "x" }) // want generic
	_ = Pair(1, "a") // want generic
	_ = Swap(func(s string) int { return len(s) }, "abc") // want generic
	_ = Map[int](s, func(i int) string { return "x" }) // want generic
	_ = Last(s) // want generic
	_ = Sum(1, 2, 3) // want generic
	_ = First([2]string{"a", "b"}) // want generic
	_ = Unbox(Box[int]{3}) // want generic
	_ = slices.Clone(s) // want generic
	slices.Reverse(s) // want generic
	_ = slices.Equal(s, s) // want generic
	_ = cmp.Or("", "b") // want generic
	return 0
}
`}},
		{name: "inference Yaegi gets right, explicit type arguments", files: map[string]string{
			"p/generics.go": generics,
			"p/p.go": `package p

import (
	"cmp"
	"slices"
)

func f(s []int) int {
	x := 3
	_ = Map[int, string](s, func(i int) string { return "x" })
	_ = Map(s, func(i int) int { return i * 3 })
	_ = Filter(s, func(i int) bool { return i > 1 })
	_ = Apply(func(i int) string { return "x" }, 2)
	_ = Call(func() string { return "x" })
	_ = Pair(1, 2)
	_ = Pair[string, int](1, "a")
	_ = Add(1, 2, 3)
	_ = Get(map[string]int{"a": 1}, "a")
	_ = Deref(&x)
	_ = Pick(1, 2, func(i int) bool { return i > 1 })
	_ = Reduce(s, "", func(a string, v int) string { return a + "x" })
	_ = Filter(IDs{"a"}, func(string) bool { return true })
	_ = Last[[]int, int](s)
	_ = slices.Clone[[]int, int](s)
	_ = slices.Contains(s, 1) || slices.Index(s, 2) > 0
	_ = slices.IndexFunc(s, func(i int) bool { return i == 2 })
	return cmp.Compare(1, 2)
}
`}},
	})
}
