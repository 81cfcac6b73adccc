package yaegicheck

import "testing"

func TestJSONFields(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "unexported fields reach encoding/json", files: map[string]string{
			"q/q.go": `package q

// Remote lives in another package of the module, interpreted as well.
type Remote struct {
	Name  string
	cache map[string]int
}
`,
			"p/p.go": `package p

import (
	"encoding/json"
	"io"

	"example.com/m/q"
)

type event struct {
	Name   string ` + "`json:\"name\"`" + `
	secret string
	count  int ` + "`json:\"-,\"`" + `
}

func f(w io.Writer, e event, r q.Remote) {
	_, _ = json.Marshal(e) // want json-fields
	_, _ = json.Marshal(&e) // want json-fields
	_, _ = json.MarshalIndent(e, "", " ") // want json-fields
	_ = json.NewEncoder(w).Encode(e) // want json-fields
	enc := json.NewEncoder(w)
	_ = enc.Encode(r) // want json-fields
	_, _ = json.Marshal(struct{ A, b int }{1, 2}) // want json-fields
}
`}},
		{name: "tagged, exported, compiled or behind an interface", src: `package p

import (
	"encoding/json"
	"time"
)

type event struct {
	Name    string ` + "`json:\"name\"`" + `
	secret  string ` + "`json:\"-\"`" + `
	private int    ` + "`json:\"-\"`" + `
}

type open struct{ A, B int }

func f(e event, o open, t time.Time) {
	_, _ = json.Marshal(e)
	_, _ = json.Marshal(o)
	_, _ = json.Marshal(t)
	_, _ = json.Marshal(map[string]int{"a": 1})
	var v any = struct{ a int }{1}
	_, _ = json.Marshal(v)
}
`},
	})
}
