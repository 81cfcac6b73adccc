package core_test

import (
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
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
