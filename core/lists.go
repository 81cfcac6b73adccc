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
// the change already sees the new list. Only one caller loads at a time;
// callbacks arriving meanwhile answer from the previous set instead of
// waiting. A file that fails to load keeps the last good set. No goroutine
// is involved, so Traefik's repeated New calls cannot leak any.
type List struct {
	name     string
	inline   []string
	file     string
	interval int64 // nanoseconds

	current   atomic.Value // *idSet
	nextCheck atomic.Int64
	loading   atomic.Int64

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

// refreshLists checks every list file whose interval has passed; the
// engine calls it once per decision, so a lookup itself costs one map
// access (and no clock or atomic read per id under Yaegi).
func refreshLists(fileLists []*List, now int64) {
	for _, l := range fileLists {
		if now >= l.nextCheck.Load() {
			checkList(l, now)
		}
	}
}

// checkList stats the file if its check is due and, when the file changed,
// reloads it on the caller's goroutine unless another caller is already
// loading it.
func checkList(l *List, now int64) {
	next := l.nextCheck.Load()
	if now < next || !l.nextCheck.CompareAndSwap(next, now+l.interval) {
		return
	}
	fi, err := os.Stat(l.file)
	l.mu.Lock()
	changed := err != nil || !fi.ModTime().Equal(l.modTime) || fi.Size() != l.size
	l.mu.Unlock()
	if !changed || !l.loading.CompareAndSwap(0, 1) {
		return
	}
	defer l.loading.Store(0)
	// Reload records its error in LastError and keeps the last good set.
	_ = l.Reload()
}

// Reload reads the file now. On error the previous set stays in use.
func (l *List) Reload() error {
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
