package core_test

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/internal/upstreamtest"
)

// TestReadmeEventTable keeps the command table of docs/events.md true:
// every command the code knows must appear in the row of its normalized
// event.
func TestReadmeEventTable(t *testing.T) {
	data := golden.ReadTestdata(t, "..", "docs", "events.md")
	rows := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "| `group.") {
			cells := strings.Split(line, "|")
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = line
		}
	}
	for _, r := range core.CommandTable() {
		platform, command, event, phase := r[0], r[1], r[2], r[3]
		row, ok := rows[event]
		if !ok {
			t.Errorf("docs/events.md has no row for event %s", event)
			continue
		}
		if !strings.Contains(row, "`"+command+"`") {
			t.Errorf("docs/events.md row %s lacks %s command %s", event, platform, command)
		}
		if !strings.Contains(row, "| "+phase+" |") {
			t.Errorf("docs/events.md row %s does not say %s", event, phase)
		}
	}
}

// TestConfigurationTable keeps docs/configuration.md's reference tables
// true: every key of core.Config (found through its JSON tags; a map of
// sections is written lists.<name>.values) has a row in the key table,
// every key of a rule has one in the Rules table, and no row names a key
// the code does not have.
func TestConfigurationTable(t *testing.T) {
	data := string(golden.ReadTestdata(t, "..", "docs", "configuration.md"))
	rulesAt := strings.Index(data, "\n## Rules")
	if rulesAt < 0 {
		t.Fatal("docs/configuration.md has no ## Rules section")
	}
	documented := tableKeys(data[:rulesAt])
	documentedRule := tableKeys(data[rulesAt:])
	var keys, ruleKeys []string
	configKeys(reflect.TypeOf(core.Config{}), "", &keys)
	configKeys(reflect.TypeOf(core.RuleConfig{}), "", &ruleKeys)
	check := func(table string, want []string, doc map[string]bool) {
		inCode := map[string]bool{}
		for _, k := range want {
			inCode[k] = true
			if !doc[k] {
				t.Errorf("docs/configuration.md: the %s table has no row for `%s`", table, k)
			}
		}
		for k := range doc {
			if !inCode[k] {
				t.Errorf("docs/configuration.md: the %s table documents `%s`, which the code does not have", table, k)
			}
		}
	}
	check("key", keys, documented)
	check("Rules", ruleKeys, documentedRule)
	if len(keys) < 30 || len(ruleKeys) < 15 {
		t.Fatalf("found %d config keys and %d rule keys: the walk is broken", len(keys), len(ruleKeys))
	}
}

// configKeys appends the documented key of every field of struct type
// typ: nested sections as "forward.path", maps of sections as
// "lists.<name>.file", and a list of sections (rules) as its own key, its
// fields being documented in a table of their own.
func configKeys(typ reflect.Type, prefix string, out *[]string) {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		ft := f.Type
		if ft.Kind() == reflect.Struct {
			configKeys(ft, key+".", out)
			continue
		}
		if ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct {
			configKeys(ft.Elem(), key+".<name>.", out)
			continue
		}
		*out = append(*out, key)
	}
}

// tableKeys returns the code spans of the first cell of every table row in
// text, the header rows left out.
func tableKeys(text string) map[string]bool {
	keys := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cell := strings.Split(line, "|")[1]
		for {
			i := strings.IndexByte(cell, '`')
			if i < 0 {
				break
			}
			j := strings.IndexByte(cell[i+1:], '`')
			if j < 0 {
				break
			}
			keys[cell[i+1:i+1+j]] = true
			cell = cell[i+2+j:]
		}
	}
	return keys
}

// TestForwardingFallbackTable keeps docs/forwarding.md's fallback replies
// true: the reply each platform gets when the upstream fails, with the
// fallback allow and deny, is byte for byte the one in the table.
func TestForwardingFallbackTable(t *testing.T) {
	data := string(golden.ReadTestdata(t, "..", "docs", "forwarding.md"))
	rows := map[string][]string{}
	for _, line := range strings.Split(data, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) == 5 && strings.HasPrefix(line, "| fallback ") {
			rows[strings.TrimSpace(cells[1])] = []string{codeSpan(cells[2]), codeSpan(cells[3])}
		}
	}
	failing := func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusInternalServerError)
		return nil
	}
	for _, decision := range []string{core.ActionAllow, core.ActionDeny} {
		row, ok := rows["fallback `"+decision+"`"]
		if !ok {
			t.Errorf("docs/forwarding.md has no row `| fallback `%s` | <Tencent> | <OpenIM> |`", decision)
			continue
		}
		for i, platform := range []string{core.PlatformTencent, core.PlatformOpenIM} {
			engine, err := core.New(core.Config{Platform: platform, DefaultAction: core.ActionForward, Forward: core.ForwardConfig{Fallback: decision}})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			out := engine.Serve(rec, upstreamtest.BeforeCallback(platform).Request(""), "", failing)
			if out.Result != core.ResultFallback {
				t.Fatalf("%s: result %s, want a fallback", platform, out.Result)
			}
			if got := rec.Body.String(); got != row[i] {
				t.Errorf("docs/forwarding.md: fallback %s on %s documented as %s, the code replies %s", decision, platform, row[i], got)
			}
		}
	}
}

// codeSpan returns the first code span of a table cell.
func codeSpan(cell string) string {
	parts := strings.Split(cell, "`")
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}
