package yaegicheck

import "testing"

func TestLoopCaptures(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "closures outliving the iteration", src: `package p

import "sync"

func f(items []string, ch chan func()) []func() int {
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = i // want loopvar
		}()
	}
	for _, it := range items {
		defer func() { println(it) }() // want loopvar
		go run(func() { println(it) }) // want loopvar
	}
	var fs []func() int
	handlers := map[string]func() string{}
	for k, v := range items {
		fs = append(fs, func() int { return k }) // want loopvar
		handlers[v] = func() string { return v } // want loopvar
		ch <- func() { println(k) } // want loopvar
		_ = []func() int{func() int { return k }} // want loopvar
	}
	wg.Wait()
	return fs
}

func run(f func()) { f() }
`},
		{name: "parallel subtests", files: map[string]string{
			"p/p.go": "package p\n",
			"p/p_test.go": `package p

import "testing"

func TestF(t *testing.T) {
	for _, tc := range []string{"a", "b"} {
		t.Run(tc, func(t *testing.T) {
			t.Parallel()
			_ = tc // want loopvar
		})
		t.Run(tc, func(t *testing.T) {
			_ = tc
		})
	}
}
`}},
		{name: "safe closures", src: `package p

import (
	"sort"
	"sync"
)

func f(items []string) {
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_ = i
		}(i)
		j := i
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = j
		}()
		func() { _ = i }()
		show := func() { println(i) }
		show()
		sort.Slice(items, func(a, b int) bool { return a < i })
		go worker(i)
	}
	var n int
	for n = 0; n < 3; n++ {
		go func() { _ = n }()
	}
	last := func() { println(len(items)) }
	for range items {
		defer last()
	}
	wg.Wait()
}

func worker(i int) {}
`},
	})
}
