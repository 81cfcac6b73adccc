package traefikplugin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// heavyIDs gives each engine an exact-id set of this many entries, so that
// 1000 engines kept alive would show clearly in the heap (building one is
// slow interpreted, so it stays small).
const heavyIDs = 50

func heavyConfig(ids []string, variant int) *Config {
	return &Config{
		Lists: map[string]core.ListConfig{"banned": {Values: ids}},
		Rules: []core.RuleConfig{{Name: "banned", Actors: []string{"@banned"}, Action: "deny", Message: "variant " + strconv.Itoa(variant)}},
	}
}

func heavyIDList() []string {
	ids := make([]string, heavyIDs)
	for i := 0; i < len(ids); i++ {
		ids[i] = "user-" + strconv.Itoa(i)
	}
	return ids
}

// settle collects garbage and returns the goroutine count and live heap.
func settle() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}

// TestNewBounded calls New 1,000 times, as Traefik does per router and on
// every reload, and shows goroutines and live heap stay flat: with one
// name and one config, with one name and a config that changes every
// time, against a control that keeps 50 engines alive under 50 names (what
// a per-New engine would do), which must be clearly visible in the heap.
// Under `yaegi test` the same runs interpreted.
func TestNewBounded(t *testing.T) {
	ids := heavyIDList()
	next := staticNext(http.StatusOK, "")
	name := uniqueName(t)
	build := func(name string, variant int) http.Handler {
		h, err := New(context.Background(), next, heavyConfig(ids, variant), name)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return h
	}
	// Warm up: the first builds allocate package-level state (regexp
	// caches, interpreter frames) that is not per New.
	build(name, 0)
	last := build(name, 1)
	goroutines0, heap0 := settle()

	// Control: engines kept alive under distinct names.
	const kept = 50
	for i := 0; i < kept; i++ {
		last = build(uniqueName(t), i)
	}
	_, heapKept := settle()
	perEngine := int64(heapKept) - int64(heap0)
	perEngine /= kept
	if perEngine < 1<<10 {
		t.Fatalf("the heap does not show kept engines (%d bytes each): the measurement cannot see a leak", perEngine)
	}
	t.Logf("one engine with %d ids: %d KiB", heavyIDs, perEngine>>10)

	runs := []struct {
		name    string
		variant func(i int) int
	}{
		{"same-config", func(i int) int { return 1 }},
		{"config-changes-every-time", func(i int) int { return i + 2 }},
	}
	for r := 0; r < len(runs); r++ {
		run := runs[r]
		goroutinesBefore, heapBefore := settle()
		start := time.Now()
		for i := 0; i < 1000; i++ {
			last = build(name, run.variant(i))
		}
		elapsed := time.Since(start)
		goroutines, heap := settle()
		growth := int64(heap) - int64(heapBefore)
		t.Logf("%s: 1000 New calls in %s: goroutines %d -> %d, heap %+d KiB", run.name, elapsed.Round(time.Millisecond), goroutinesBefore, goroutines, growth>>10)
		if goroutines > goroutinesBefore+2 {
			t.Errorf("%s: goroutines grew from %d to %d", run.name, goroutinesBefore, goroutines)
		}
		// A leak would hold up to 1000 engines; allow 10 engines' worth
		// of noise, at least 256 KiB (GC and interpreter bookkeeping).
		tolerance := 10 * perEngine
		if tolerance < 256<<10 {
			tolerance = 256 << 10
		}
		if growth > tolerance {
			t.Errorf("%s: live heap grew by %d KiB after 1000 New calls (one engine: %d KiB)", run.name, growth>>10, perEngine>>10)
		}
	}
	if goroutines, _ := settle(); goroutines > goroutines0+2 {
		t.Errorf("goroutines grew from %d to %d", goroutines0, goroutines)
	}

	// The last handler still decides with the last config.
	if m, ok := last.(*Middleware); ok {
		m.SetLogOutput(io.Discard, io.Discard)
	}
	rec := httptest.NewRecorder()
	last.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openim/callbackBeforeJoinGroupCommand",
		strings.NewReader(`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"user-7"}`)))
	if !strings.Contains(rec.Body.String(), `"errMsg":"variant `) {
		t.Errorf("last handler reply %s, want a deny", rec.Body.String())
	}
}
