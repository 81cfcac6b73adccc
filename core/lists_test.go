package core_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// listEngine builds an engine with list "l" read from a fresh file and a
// controllable clock.
func listEngine(t *testing.T, content string) (*core.Engine, string, *time.Time) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := core.New(core.Config{
		ListReloadInterval: "5s",
		Lists:              map[string]core.ListConfig{"l": {Values: []string{"inline"}, File: path}},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	e.SetClock(func() time.Time { return now })
	return e, path, &now
}

func TestListFileFormat(t *testing.T) {
	e, _, _ := listEngine(t, "# banned users\nmallory\n  eve  \n\nbot-*   # every bot\n#trudy\n")
	l := e.List("l")
	for id, want := range map[string]bool{"mallory": true, "eve": true, "bot-7": true, "inline": true, "trudy": false, "# banned users": false, "": false} {
		if got := l.Contains(id); got != want {
			t.Errorf("Contains(%q) = %v, want %v", id, got, want)
		}
	}
	if l.Size() != 4 {
		t.Errorf("Size %d, want 4", l.Size())
	}
}

// TestListLazyReload proves a changed file is picked up once the reload
// interval has passed, and not before, by the very lookup that finds the
// change.
func TestListLazyReload(t *testing.T) {
	e, path, now := listEngine(t, "alice\n")
	l := e.List("l")
	if !l.Contains("alice") || l.Contains("bob") {
		t.Fatal("initial list wrong")
	}
	if err := os.WriteFile(path, []byte("bob\ncarol\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first lookup arms the check at now+5s.
	l.Contains("bob")
	if !l.Contains("alice") {
		t.Fatal("reloaded before the interval passed")
	}
	*now = now.Add(6 * time.Second)
	if !l.Contains("bob") {
		t.Fatal("the first lookup after the interval did not see the changed file")
	}
	if l.Contains("alice") {
		t.Fatal("the old entries survived the reload")
	}
	if l.LastError() != nil {
		t.Fatalf("LastError %v", l.LastError())
	}
}

// TestListChangeSeenByFirstDecision proves that the first callback decided
// after the reload interval answers from the changed file.
func TestListChangeSeenByFirstDecision(t *testing.T) {
	path := filepath.Join(t.TempDir(), "banned.txt")
	if err := os.WriteFile(path, []byte("mallory\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := core.New(core.Config{
		ListReloadInterval: "5s",
		Lists:              map[string]core.ListConfig{"banned": {File: path}},
		Rules:              []core.RuleConfig{{Name: "ban", Actors: []string{"@banned"}, Action: "deny"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	e.SetClock(func() time.Time { return now })
	decide := func(actor string) string {
		body := `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g","applyID":"` + actor + `"}`
		return e.Decide(&core.Input{Method: "POST", Path: "/openim/callbackBeforeJoinGroupCommand", Body: []byte(body)}).Result
	}
	if got := decide("eve"); got != core.ResultAllow {
		t.Fatalf("eve before the change: %s", got)
	}
	if err := os.WriteFile(path, []byte("mallory\neve\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * time.Second)
	if got := decide("eve"); got != core.ResultDeny {
		t.Fatalf("first decision after the change and the interval: %s, want deny", got)
	}
}

// TestListBadFileKeepsLastGood proves a deleted or unreadable file keeps the
// last good list and records why, and that a fixed file recovers.
func TestListBadFileKeepsLastGood(t *testing.T) {
	e, path, now := listEngine(t, "alice\n")
	l := e.List("l")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(); err == nil {
		t.Fatal("Reload of a deleted file succeeded")
	}
	if l.LastError() == nil || !l.Contains("alice") {
		t.Fatalf("after delete: LastError %v, alice %v", l.LastError(), l.Contains("alice"))
	}
	// A directory in its place cannot be read as a file (root ignores modes).
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Minute)
	l.Contains("alice") // the lazy check sees the change and fails to load
	if l.LastError() == nil || !l.Contains("alice") {
		t.Fatalf("unreadable: LastError %v, alice %v", l.LastError(), l.Contains("alice"))
	}
	if !strings.Contains(l.LastError().Error(), "directory") {
		t.Errorf("LastError %q does not say why", l.LastError())
	}
	os.Remove(path)
	if err := os.WriteFile(path, []byte("bob\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if l.LastError() != nil || !l.Contains("bob") || l.Contains("alice") {
		t.Fatalf("after fix: LastError %v", l.LastError())
	}
}

// TestListAtomicSwap proves readers never see a half-loaded list while the
// file is reloaded: the size is always the old or the new one.
func TestListAtomicSwap(t *testing.T) {
	var old, updated strings.Builder
	for i := 0; i < 50; i++ {
		old.WriteString("a" + strconv.Itoa(i) + "\n")
	}
	for i := 0; i < 300; i++ {
		updated.WriteString("b" + strconv.Itoa(i) + "\n")
	}
	e, path, _ := listEngine(t, old.String())
	l := e.List("l")
	// An atomic flag, not a select on a channel: both readers would share
	// one select under Yaegi (docs/design.md).
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad sync.Map
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if n := l.Size(); n != 51 && n != 301 {
					bad.Store(n, true)
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		content := updated.String()
		if i%2 == 1 {
			content = old.String()
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.Reload(); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	bad.Range(func(k, v interface{}) bool {
		t.Errorf("a reader saw a list of %v entries", k)
		return true
	})
}
