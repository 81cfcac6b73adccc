package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestToolsDocOutput runs every `imgate check` example of docs/tools.md
// that shows its output, from the repository root as the page says, and
// compares the output: the page cannot drift from the command.
func TestToolsDocOutput(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "tools.md"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join("..", ".."))
	const prompt = "$ go run ./cmd/imgate check "
	examples := 0
	for _, block := range strings.Split(string(doc), "```console\n")[1:] {
		block = block[:strings.Index(block, "```")]
		if !strings.HasPrefix(block, prompt) {
			continue
		}
		command, want, _ := strings.Cut(block, "\n")
		args, err := shellWords(strings.TrimPrefix(command, "$ go run ./cmd/imgate "))
		if err != nil {
			t.Fatalf("%s: %v", command, err)
		}
		examples++
		_, got, errOut := runCmd(t, args...)
		if got != want {
			t.Errorf("docs/tools.md: %s\nprints\n%s%s\nthe page shows\n%s", command, got, errOut, want)
		}
	}
	if examples == 0 {
		t.Fatal("docs/tools.md shows no `imgate check` output")
	}
}

// shellWords splits a command line as a shell would, for the single
// quotes the page uses.
func shellWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, os.ErrInvalid
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
