package yaegicheck

import "testing"

func TestBuiltins(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "min, max and clear", src: `package p

func f(a, b int, m map[string]int) int {
	clear(m) // want builtin
	return min(a, b) + max(a, b, 3) // want builtin builtin
}
`},
		{name: "shadowing names are not the builtins", src: `package p

type stats struct{ max int }

func (s stats) Min() int { return 0 }

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func f(s stats, m map[string]int) int {
	clear := func(map[string]int) {}
	clear(m)
	return min(1, 2) + s.max + s.Min()
}
`},
	})
}

func TestStdlibAPI(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "sorting and searching from slices", src: `package p

import (
	"slices"
	"strings"
)

func f(s []int, w []string) int {
	slices.Sort(s) // want stdlib
	slices.SortFunc(w, strings.Compare) // want stdlib
	slices.SortStableFunc(w, func(a, b string) int { return len(a) - len(b) }) // want stdlib
	i, _ := slices.BinarySearch(s, 3) // want stdlib
	return i + slices.Max(s) // want stdlib
}
`},
		{name: "maps, sync.Once*, atomic.Pointer, other generics", src: `package p

import (
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
)

type T struct{ n int }

var current atomic.Pointer[T] // want stdlib

func f(m map[string]int) int {
	n := maps.Clone(m) // want stdlib
	get := sync.OnceValue(func() int { return len(n) }) // want stdlib
	run := sync.OnceFunc(func() {}) // want stdlib
	run()
	_ = reflect.TypeFor[T]() // want stdlib
	return get()
}
`},
		{name: "errors.As", src: `package p

import "errors"

type E struct{}

func (*E) Error() string { return "e" }

func f(err error) bool {
	var e *E
	return errors.As(err, &e) // want error-type
}
`},
		{name: "what Yaegi provides", src: `package p

import (
	"cmp"
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

var errSentinel = errors.New("sentinel")

func f(s []int, w []string, err error) int {
	var once sync.Once
	once.Do(func() {})
	var n atomic.Int64
	var v atomic.Value
	v.Store(1)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	sort.Strings(w)
	if errors.Is(err, errSentinel) || slices.Contains(w, "a") {
		return cmp.Compare(1, 2)
	}
	return slices.Index(s, 3) + slices.IndexFunc(s, func(i int) bool { return i > 1 }) + int(n.Load())
}
`},
	})
}

func TestTypeVerbs(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "%T in fmt, log and testing formats", files: map[string]string{
			"p/p.go": `package p

import (
	"fmt"
	"io"
	"log"
)

const format = "unexpected %T"

func f(w io.Writer, v any, l *log.Logger) error {
	fmt.Printf("%T\n", v) // want type-verb
	fmt.Fprintf(w, "%-12T|", v) // want type-verb
	log.Printf("%[1]T %[1]v", v) // want type-verb
	l.Printf(format, v) // want type-verb
	return fmt.Errorf("got %T", v) // want type-verb
}
`,
			"p/p_test.go": `package p

import "testing"

func TestF(t *testing.T) {
	var v any = 1
	if v != 1 {
		t.Errorf("type %T", v) // want type-verb
	}
}
`}},
		{name: "other verbs, escaped percent, non-printf calls", src: `package p

import "fmt"

func f(v any, ok bool, format string) string {
	fmt.Println("%T is printed as is")
	return fmt.Sprintf("%%T %v %t %s", v, ok, "x") + fmt.Sprintf(format, v)
}
`},
	})
}

func TestPluginOutput(t *testing.T) {
	code := `package p

import (
	"fmt"
	"os"
)

func f() {
	fmt.Fprintln(os.Stderr, "to nowhere") // want plugin-output
	fmt.Fprintln(os.Stdout, "to nowhere") // want plugin-output
	fmt.Println("to Traefik's stdout")
	_ = os.Stdin
}
`
	test := `package p

import (
	"fmt"
	"os"
	"testing"
)

func TestF(t *testing.T) { fmt.Fprintln(os.Stderr, "tests may") }
`
	runSnippets(t, []snippet{
		{name: "os.Stdout and os.Stderr in the plugin", opts: Options{Plugin: true}, files: map[string]string{"p/p.go": code, "p/p_test.go": test}},
		{name: "allowed outside the plugin", src: `package p

import (
	"fmt"
	"os"
)

func f() { fmt.Fprintln(os.Stderr, "core may") }
`},
	})
}

func TestSetenv(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "t.Setenv and b.Setenv", files: map[string]string{
			"p/p.go": "package p\n",
			"p/p_test.go": `package p

import "testing"

func TestF(t *testing.T) {
	t.Setenv("A", "1") // want setenv
}

func BenchmarkF(b *testing.B) {
	b.Setenv("A", "1") // want setenv
}

func helper(tb testing.TB) {
	tb.Setenv("A", "1") // want setenv
}
`}},
		{name: "os.Setenv with a cleanup", files: map[string]string{
			"p/p.go": "package p\n",
			"p/p_test.go": `package p

import (
	"os"
	"testing"
)

func setenv(t *testing.T, key, value string) {
	old, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	})
}
`}},
	})
}

func TestNewerAPI(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "package-level names added after Go 1.22", src: `package p

import (
	"os"
	"strings"
)

func f(s string) (n int) {
	for range strings.SplitSeq(s, ",") { // want newer-api range-func
		n++
	}
	_ = os.CopyFS // want newer-api
	return n
}
`},
		{name: "Go 1.22 names and newer methods", src: `package p

import (
	"strings"
	"sync"
)

func f(s string) int {
	var wg sync.WaitGroup
	wg.Go(func() {})
	wg.Wait()
	before, _, _ := strings.Cut(s, ",")
	return len(before)
}
`},
	})
}

func TestAPIVersions(t *testing.T) {
	for _, c := range []struct {
		path, name string
		want       int
	}{
		{"strings", "SplitSeq", 24},
		{"iter", "Seq", 23},
		{"os", "Root", 24},
		{"strings", "Cut", 0},
		{"net/http", "Server", 0},
		{"sync", "WaitGroup", 0},
	} {
		got, err := newerAPI.since(c.path, c.name)
		if err != nil || got != c.want {
			t.Errorf("since(%s.%s) = %d, %v; want %d", c.path, c.name, got, err, c.want)
		}
	}
}
