package traefikreal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LogLine is one line of Traefik's output (log.format json).
type LogLine struct {
	// Level is zerolog's level ("debug", "info", "error" ...); "" for a
	// line that is not JSON (a Go runtime message, a panic trace).
	Level string
	// Message is the "message" field.
	Message string
	// Plugin is the "plugin" field: "plugin-<name>" on the lines a Yaegi
	// plugin wrote to its standard output (Traefik level DEBUG) or
	// standard error (Traefik level ERROR); "" on Traefik's own lines.
	Plugin string
	// Error is the "error" field.
	Error string
	// Fields holds every field of a JSON line.
	Fields map[string]any
	// Raw is the line as Traefik wrote it.
	Raw string
}

// logBuffer collects Traefik's stdout and stderr line by line.
type logBuffer struct {
	tee     io.Writer
	mu      sync.Mutex
	partial []byte
	lines   []LogLine
}

// Write splits p into lines and parses each one; it never fails, so
// Traefik never blocks on its output.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tee != nil {
		_, _ = b.tee.Write(p)
	}
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, parseLogLine(string(b.partial[:i])))
		b.partial = b.partial[i+1:]
	}
	return len(p), nil
}

// Lines returns a copy of the complete lines so far.
func (b *logBuffer) Lines() []LogLine {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]LogLine, len(b.lines))
	copy(out, b.lines)
	return out
}

func parseLogLine(raw string) LogLine {
	line := LogLine{Raw: raw}
	var fields map[string]any
	if json.Unmarshal([]byte(raw), &fields) != nil {
		return line
	}
	line.Fields = fields
	line.Level, _ = fields["level"].(string)
	line.Message, _ = fields["message"].(string)
	line.Plugin, _ = fields["plugin"].(string)
	line.Error, _ = fields["error"].(string)
	return line
}

// Len returns the number of complete lines so far.
func (b *logBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.lines)
}

// pluginFailure returns the first line from line from on in which Traefik
// (not a plugin's own output) reports that a plugin failed to load or to
// build, or that is not one of Traefik's JSON log lines at all (a Go panic
// trace, an interpreter message written around the loggers).
func (b *logBuffer) pluginFailure(from int) (string, bool) {
	lines := b.Lines()
	if from > len(lines) {
		from = len(lines)
	}
	for _, l := range lines[from:] {
		if l.Fields == nil && strings.TrimSpace(l.Raw) != "" {
			return l.Raw, true
		}
		if l.Plugin != "" || l.Level != "error" && l.Level != "fatal" && l.Level != "panic" {
			continue
		}
		text := strings.ToLower(l.Message + " " + l.Error)
		if strings.Contains(text, "plugin") {
			return l.Raw, true
		}
	}
	return "", false
}

// Logs returns every line Traefik wrote so far.
func (tr *Traefik) Logs() []LogLine { return tr.log.Lines() }

// PluginLines returns the lines the plugin named name wrote (its standard
// output at level "debug", its standard error at level "error").
func (tr *Traefik) PluginLines(name string) []LogLine {
	var out []LogLine
	for _, l := range tr.log.Lines() {
		if l.Plugin == "plugin-"+name {
			out = append(out, l)
		}
	}
	return out
}

// AccessLog returns the access log's entries so far (Options.AccessLog).
// Traefik writes an entry after the response, so a test polls for it.
func (tr *Traefik) AccessLog() ([]map[string]any, error) {
	f, err := os.Open(filepath.Join(tr.Dir, "access.log"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("access log line %q: %s: %w", sc.Text(), err.Error(), ErrTraefik)
		}
		entries = append(entries, e)
	}
	return entries, sc.Err()
}

// WaitLog waits until Traefik has written a line match accepts and returns
// it; false when timeout passed first. A plugin writes its line after the
// reply, and the line crosses a pipe, so a test that just got a reply
// waits for the line.
func (tr *Traefik) WaitLog(match func(LogLine) bool, timeout time.Duration) (LogLine, bool) {
	stop := time.Now().Add(timeout)
	for {
		for _, l := range tr.log.Lines() {
			if match(l) {
				return l, true
			}
		}
		if time.Now().After(stop) {
			return LogLine{}, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
