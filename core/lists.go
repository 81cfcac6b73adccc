package core

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// List is a named set of ids, inline and/or from a file. A changed file is
// picked up lazily: at most once per reload interval a lookup stats the file
// and, when its size or modification time changed, reloads it before
// answering and swaps the new set in atomically, so the callback that finds
// the change already sees the new list. Only one caller checks and loads
// at a time; callbacks arriving meanwhile answer from the previous set
// instead of waiting — unless the file was last examined more than twice
// the interval before (a list just built with a new configuration, or one
// unused for a while): then they wait for that check, so that no callback
// answers from a set older than that. A file that fails to load keeps the
// last good set. No goroutine is involved, so Traefik's repeated New calls
// cannot leak any.
type List struct {
	name     string
	inline   []string
	file     string
	interval int64 // nanoseconds

	current   atomic.Value // *idSet
	nextCheck atomic.Int64
	// checked is when the file was last examined (unix nanoseconds), by a
	// check that found it unchanged or by a load, failed or not.
	checked atomic.Int64
	// loadMu is held by the one caller checking and loading the file.
	loadMu sync.Mutex

	mu      sync.Mutex // guards modTime, size, lastErr
	modTime time.Time
	size    int64
	lastErr error
	now     func() time.Time
}

func newList(name string, cfg ListConfig, interval time.Duration) (*List, error) {
	l := &List{name: name, inline: cfg.Values, file: cfg.File, interval: int64(interval), now: time.Now}
	if cfg.File == "" {
		l.current.Store(newIDSet(cfg.Values))
		return l, nil
	}
	if err := l.Reload(); err != nil {
		return nil, fmt.Errorf("lists.%s.file: %s: %w", name, err.Error(), ErrConfig)
	}
	return l, nil
}

// Contains reports whether id is on the list, checking the file first when
// the reload interval has passed.
func (l *List) Contains(id string) bool {
	if l.file != "" {
		checkList(l, l.now().UnixNano())
	}
	return setMatch(l.current.Load().(*idSet), id)
}

// Size returns the number of ids and globs on the list.
func (l *List) Size() int { return l.current.Load().(*idSet).size() }

// LastError returns the error of the last failed reload, or nil.
func (l *List) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// refreshLists checks every list file whose interval has passed, or whose
// set is too old to answer from (see checkList); the engine calls it once
// per decision, so a lookup itself costs one map access (and no clock or
// atomic read per id under Yaegi).
func refreshLists(fileLists []*List, now int64) {
	for _, l := range fileLists {
		if now >= l.nextCheck.Load() || now-l.checked.Load() > 2*l.interval {
			checkList(l, now)
		}
	}
}

// checkList stats the file if its check is due and, when the file changed,
// reloads it on the caller's goroutine unless another caller is already
// checking it. A caller that finds the set too old to answer from — the
// file last examined more than twice the interval ago, e.g. a list loaded
// while a configuration was being built, long before its first callback —
// waits for the check under way, or makes it itself.
func checkList(l *List, now int64) {
	next := l.nextCheck.Load()
	due := now >= next && l.nextCheck.CompareAndSwap(next, now+l.interval)
	if due && l.loadMu.TryLock() {
		defer l.loadMu.Unlock()
		examine(l, now)
		return
	}
	if now-l.checked.Load() <= 2*l.interval {
		return
	}
	l.loadMu.Lock()
	defer l.loadMu.Unlock()
	// The check waited for may have examined the file meanwhile.
	if now-l.checked.Load() > 2*l.interval {
		examine(l, now)
	}
}

// examine stats the file and reloads it when it changed; the caller holds
// loadMu.
func examine(l *List, now int64) {
	fi, err := os.Stat(l.file)
	l.mu.Lock()
	changed := err != nil || !fi.ModTime().Equal(l.modTime) || fi.Size() != l.size
	l.mu.Unlock()
	if !changed {
		l.checked.Store(now)
		return
	}
	// Reload records its error in LastError and keeps the last good set.
	_ = l.Reload()
}

// Reload reads the file now. On error the previous set stays in use.
func (l *List) Reload() error {
	// Examined, whatever comes of it: a broken file is not read again by
	// every callback, only once per interval.
	l.checked.Store(l.now().UnixNano())
	fi, err := os.Stat(l.file)
	var data []byte
	if err == nil {
		data, err = os.ReadFile(l.file)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.lastErr = err
		return err
	}
	set := newIDSet(l.inline)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		set.add(string(stripComment(sc.Bytes())))
	}
	if err = sc.Err(); err != nil {
		l.lastErr = err
		return err
	}
	l.current.Store(set)
	l.modTime = fi.ModTime()
	l.size = fi.Size()
	l.lastErr = nil
	return nil
}

// stripComment drops a "#" comment: one that starts the line or follows
// a space or tab. A "#" inside an id is kept, because every group id Tencent
// generates has one ("@TGS#2J4SZEAEL").
func stripComment(line []byte) []byte {
	for i, c := range line {
		if c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}
