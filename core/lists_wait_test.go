package core

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// staleList is a list read from a file holding "alice", checked every
// 20 ms, whose file was last examined a second before the clock t0 the
// test decides at: a list built while a configuration loaded, long before
// its first callback. The file now holds "bob".
func staleList(t *testing.T) (*List, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(path, []byte("alice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := newList("l", ListConfig{File: path}, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("bob\ncarol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(time.Hour).UnixNano()
	l.checked.Store(t0 - int64(time.Second))
	return l, t0
}

// decideAsync runs refreshLists for l at now on its own goroutine, as a
// concurrent callback does, and reports through done whether bob was then
// on the list.
func decideAsync(l *List, now int64) (chan bool, *atomic.Bool) {
	done := make(chan bool, 1)
	var finished atomic.Bool
	go func() {
		refreshLists([]*List{l}, now)
		finished.Store(true)
		done <- setMatch(l.current.Load().(*idSet), "bob")
	}()
	return done, &finished
}

// TestListTooOldWaitsForCheck: a callback whose list was last examined
// more than twice the interval ago, arriving while another callback
// checks the file, waits for that check instead of answering from the
// old set, and answers from the file.
func TestListTooOldWaitsForCheck(t *testing.T) {
	l, t0 := staleList(t)
	// Another callback is due, has moved the next check on and holds the
	// check.
	l.nextCheck.Store(t0 + l.interval)
	l.loadMu.Lock()
	done, finished := decideAsync(l, t0)
	time.Sleep(50 * time.Millisecond)
	if finished.Load() {
		t.Error("the callback answered from a set examined a second ago while a check was under way")
	}
	// The other check ends without having examined the file (say it
	// failed): the waiting callback examines it itself.
	l.loadMu.Unlock()
	if !<-done {
		t.Error("the waiting callback did not answer from the file")
	}
}

// TestListRecentDoesNotWait: with the file examined within twice the
// interval, a callback arriving during another's check answers at once
// from the previous set, as the lazy reload promises.
func TestListRecentDoesNotWait(t *testing.T) {
	l, t0 := staleList(t)
	l.checked.Store(t0 - l.interval)
	l.nextCheck.Store(t0 + l.interval)
	l.loadMu.Lock()
	// A callback that blocked would keep the lock from being released by
	// anything but this timer, which then records the failure.
	var blocked atomic.Bool
	release := time.AfterFunc(30*time.Second, func() {
		blocked.Store(true)
		l.loadMu.Unlock()
	})
	done, _ := decideAsync(l, t0)
	sawBob := <-done
	if release.Stop() {
		l.loadMu.Unlock()
	}
	if blocked.Load() || sawBob {
		t.Errorf("blocked %v, answered from the file %v: want the previous set at once", blocked.Load(), sawBob)
	}
}

// TestListBrokenFileExaminedOncePerInterval: a file that cannot be read
// counts as examined, so callbacks do not each try it again.
func TestListBrokenFileExaminedOncePerInterval(t *testing.T) {
	l, t0 := staleList(t)
	if err := os.Remove(l.file); err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return time.Unix(0, t0) }
	refreshLists([]*List{l}, t0)
	if l.LastError() == nil || l.checked.Load() != t0 || !setMatch(l.current.Load().(*idSet), "alice") {
		t.Fatalf("after a failed load: error %v, checked %d (want %d), alice kept %v", l.LastError(), l.checked.Load(), t0, setMatch(l.current.Load().(*idSet), "alice"))
	}
	l.lastErr = nil
	refreshLists([]*List{l}, t0+l.interval/2)
	if l.LastError() != nil {
		t.Error("the broken file was read again within the interval")
	}
}
