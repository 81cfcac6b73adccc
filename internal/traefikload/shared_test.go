package traefikload

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// boundedConfig is a middleware config whose engine holds a 50-id list, so
// engines kept alive show in the heap; variant changes its fingerprint.
func boundedConfig(variant int) map[string]any {
	ids := make([]any, 50)
	for i := range ids {
		ids[i] = "user-" + strconv.Itoa(i)
	}
	return map[string]any{
		"lists": map[string]any{"banned": map[string]any{"values": ids}},
		"rules": []any{map[string]any{"name": "banned", "actors": []any{"@banned"}, "action": "deny", "message": "variant " + strconv.Itoa(variant)}},
	}
}

func settle() (int, int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), int64(ms.HeapAlloc)
}

// TestReloadBounded replays what Traefik does on 1,000 reloads of one
// middleware through the interpreted plugin (decode the config map, call
// New through reflection) and shows goroutines and live heap stay flat,
// with an unchanged config and with a config that changes every time,
// against a control that keeps 50 engines alive under 50 names.
func TestReloadBounded(t *testing.T) {
	p := Shared(t)
	next := http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {})
	build := func(name string, variant int) {
		if _, err := p.New(context.Background(), next, boundedConfig(variant), name); err != nil {
			t.Fatalf("New: %v", err)
		}
	}
	name := UniqueName(t)
	build(name, 0)
	build(name, 1)
	goroutines0, heap0 := settle()
	const kept = 50
	for i := 0; i < kept; i++ {
		build(UniqueName(t), i)
	}
	_, heapKept := settle()
	perEngine := (heapKept - heap0) / kept
	if perEngine < 1<<10 {
		t.Fatalf("the heap does not show kept engines (%d bytes each): the measurement cannot see a leak", perEngine)
	}
	t.Logf("one interpreted engine: %d KiB", perEngine>>10)
	runs := []struct {
		name    string
		variant func(int) int
	}{
		{"same-config", func(int) int { return 1 }},
		{"config-changes-every-time", func(i int) int { return i + 2 }},
	}
	for _, run := range runs {
		goroutinesBefore, heapBefore := settle()
		start := time.Now()
		for i := 0; i < 1000; i++ {
			build(name, run.variant(i))
		}
		elapsed := time.Since(start)
		goroutines, heap := settle()
		growth := heap - heapBefore
		t.Logf("%s: 1000 reloads in %s: goroutines %d -> %d, heap %+d KiB", run.name, elapsed.Round(time.Millisecond), goroutinesBefore, goroutines, growth>>10)
		if goroutines > goroutinesBefore+2 {
			t.Errorf("%s: goroutines grew from %d to %d", run.name, goroutinesBefore, goroutines)
		}
		tolerance := max(10*perEngine, 256<<10)
		if growth > tolerance {
			t.Errorf("%s: live heap grew by %d KiB after 1000 reloads (one engine: %d KiB)", run.name, growth>>10, perEngine>>10)
		}
	}
	if goroutines, _ := settle(); goroutines > goroutines0+2 {
		t.Errorf("goroutines grew from %d to %d", goroutines0, goroutines)
	}
}
