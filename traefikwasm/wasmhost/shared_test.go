package wasmhost

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/imgate/imgate/internal/golden"
	"github.com/imgate/imgate/traefikwasm/build"
)

var shared struct {
	once sync.Once
	mod  *Module
	err  error
}

// module builds plugin.wasm (cached by Go's build cache) and compiles it
// once per test binary.
func module(tb testing.TB) *Module {
	tb.Helper()
	shared.once.Do(func() {
		path, err := build.Cached()
		if err != nil {
			shared.err = err
			return
		}
		shared.mod, shared.err = Load(context.Background(), path)
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.mod
}

// skipUnderRace skips a test that needs the host's instance pool to keep
// its instances: the race detector's sync.Pool drops one Put in four, so
// every callback may start a Go runtime in wazero, which proves nothing
// and takes many minutes. test.sh runs these tests without -race.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops pooled instances: run without -race (test.sh does)")
	}
}

// logs collects the guest's log lines with their ABI level.
type logs struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	level int
	msg   string
}

func (l *logs) logf(level int, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, logLine{level, msg})
}

func (l *logs) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = nil
}

func (l *logs) all() []logLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logLine(nil), l.lines...)
}

// testdataDir is the directory golden configs name list files in, which
// the guest may read only when it is mounted.
func testdataDir(tb testing.TB) string {
	tb.Helper()
	dir, err := golden.Dir()
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

// fieldOf returns a log field's raw value.
func fieldOf(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(key)+2:]
	if j := strings.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return v
}
