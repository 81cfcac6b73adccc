package caddymodule

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// blockParsers maps each function of caddyfile.go that reads a block's
// subdirectives to the block: "" is the imgate block itself.
var blockParsers = map[string]string{
	"UnmarshalCaddyfile": "",
	"parseTencent":       "tencent",
	"parseOpenIM":        "openim",
	"parseList":          "list",
	"parseRule":          "rule",
	"parseForward":       "forward",
	"parseDelivery":      "delivery",
	"parseStore":         "store",
}

// TestCaddyfileTable keeps docs/caddy.md's directive table true: every
// subdirective caddyfile.go accepts (the string cases of each block
// parser's switch) appears in the table under its block, and every
// top-level and rule row names a subdirective the code accepts.
func TestCaddyfileTable(t *testing.T) {
	code := subdirectives(t)
	doc, err := os.ReadFile(filepath.Join("..", "docs", "caddy.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := directiveRows(string(doc))
	if len(rows) < 40 {
		t.Fatalf("found %d rows in docs/caddy.md's directive table: the table or its parsing changed", len(rows))
	}
	documented := map[string]map[string]bool{}
	for _, cell := range rows {
		block, words := rowWords(cell)
		if documented[block] == nil {
			documented[block] = map[string]bool{}
		}
		for _, w := range words {
			documented[block][w] = true
		}
		if block == "" || block == "rule" {
			if first := words[0]; !code[block][first] {
				t.Errorf("docs/caddy.md documents %s, which the code does not accept", describe(block, first))
			}
		} else {
			if documented[""] == nil {
				documented[""] = map[string]bool{}
			}
			documented[""][block] = true
			if !code[""][block] {
				t.Errorf("docs/caddy.md documents block %q, which the code does not accept", block)
			}
		}
	}
	for block, keys := range code {
		for key := range keys {
			if !documented[block][key] {
				t.Errorf("docs/caddy.md's directive table has no row for %s", describe(block, key))
			}
		}
	}
}

func describe(block, key string) string {
	if block == "" {
		return "subdirective " + key
	}
	return key + " in the " + block + " block"
}

// subdirectives parses caddyfile.go and returns, per block, the string
// cases of its parser's switch statements.
func subdirectives(t *testing.T) map[string]map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "caddyfile.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok {
			continue
		}
		var cases []string
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if sw, ok := n.(*ast.SwitchStmt); ok && sw.Tag != nil {
				for _, stmt := range sw.Body.List {
					for _, e := range stmt.(*ast.CaseClause).List {
						if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							cases = append(cases, s)
						}
					}
				}
			}
			return true
		})
		if len(cases) == 0 {
			continue
		}
		block, known := blockParsers[fn.Name.Name]
		if !known {
			sort.Strings(cases)
			t.Errorf("caddyfile.go: %s reads subdirectives %v; add it to blockParsers with its block", fn.Name.Name, cases)
			continue
		}
		if out[block] == nil {
			out[block] = map[string]bool{}
		}
		for _, c := range cases {
			out[block][c] = true
		}
	}
	if len(out) != len(blockParsers) {
		t.Errorf("caddyfile.go: found subdirectives for %d blocks, want %d", len(out), len(blockParsers))
	}
	return out
}

// directiveRows returns the first cells of the rows of the table headed
// "| Caddyfile | JSON key | default |".
func directiveRows(doc string) []string {
	var rows []string
	in := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "| Caddyfile | JSON key |"):
			in = true
		case in && strings.HasPrefix(line, "|---"):
		case in && strings.HasPrefix(line, "| "):
			rows = append(rows, strings.Split(line, " | ")[0][2:])
		case in:
			return rows
		}
	}
	return rows
}

// rowWords returns the block a row's first cell documents and the words
// of its code spans. A cell starting "`  " is a rule subdirective, one
// starting "`<block> [...] {" documents subdirectives of that block (every
// word after the brace), anything else a subdirective of the imgate block
// (its first word).
func rowWords(cell string) (string, []string) {
	var spans []string
	for i, part := range strings.Split(cell, "`") {
		if i%2 == 1 {
			spans = append(spans, part)
		}
	}
	if len(spans) == 0 {
		return "", []string{cell}
	}
	first := spans[0]
	if strings.HasPrefix(first, "  ") {
		return "rule", fields(strings.Join(spans, " "))
	}
	head := fields(first)
	if brace := strings.Index(first, "{"); brace > 0 && head[0] != "rule" {
		var words []string
		for _, s := range append([]string{first[brace:]}, spans[1:]...) {
			words = append(words, fields(s)...)
		}
		return head[0], words
	}
	return "", head[:1]
}

// fields splits a span into its subdirective-like words.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z')
	})
}
