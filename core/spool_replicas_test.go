package core_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/redistest"
)

// replicaEngine is one gateway replica: its own spool in dir, the rate
// and dedup state on srv.
func replicaEngine(t *testing.T, svcURL, dir string, srv *redistest.Server) *core.Engine {
	t.Helper()
	e, err := core.New(core.Config{
		Platform: "tencent", DefaultAction: "forward",
		Delivery: core.DeliveryConfig{URL: svcURL + "/after", Spool: dir, RetryMin: "20ms", RetryMax: "100ms", Timeout: "5s"},
		// Roomy: the test checks what is shared, not how fast.
		Store: core.StoreConfig{Type: core.StoreRedis, Address: srv.URL, Timeout: "900ms", Prefix: "imgate-test:" + t.Name() + ":"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// pendingFiles counts the entries waiting in a spool directory.
func pendingFiles(t *testing.T, dir string) int {
	t.Helper()
	files, err := os.ReadDir(filepath.Join(dir, "pending"))
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// TestSpoolDeduplicatesAcrossReplicas: a platform retry that a load
// balancer sends to another replica is delivered once when the replicas
// share a Redis store; with the store down, each replica keeps its copy
// (a duplicate for the receiver to absorb, never a loss).
func TestSpoolDeduplicatesAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	svc := newDeliveryService(t)
	// The service is down while the callbacks arrive, so each replica's
	// spool still holds what it kept when the test looks.
	svc.SetDown(true)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := replicaEngine(t, svc.URL, dirA, srv)
	b := replicaEngine(t, svc.URL, dirB, srv)

	_, first := sendAfter(t, a, "g", "u1", 1)
	rec, retry := sendAfter(t, b, "g", "u1", 2)
	if rec.Code != http.StatusOK || retry.DeliveryID != first.DeliveryID || retry.Reason != "duplicate" {
		t.Fatalf("retry on replica b: HTTP %d, id %s (first %s), reason %q", rec.Code, retry.DeliveryID, first.DeliveryID, retry.Reason)
	}
	if got := rec.Body.String(); got != tencentAck {
		t.Errorf("retry on replica b answered %s, want the ack", got)
	}
	if n := pendingFiles(t, dirB); n != 0 {
		t.Errorf("replica b kept %d entries of a callback replica a holds", n)
	}

	srv.Kill(t)
	_, kept := sendAfter(t, a, "g", "u2", 3)
	rec, keptB := sendAfter(t, b, "g", "u2", 4)
	if rec.Code != http.StatusOK || kept.Reason == "duplicate" || keptB.Reason == "duplicate" {
		t.Fatalf("store down: HTTP %d, reasons %q and %q; want both kept", rec.Code, kept.Reason, keptB.Reason)
	}
	if n := pendingFiles(t, dirB); n != 1 {
		t.Errorf("store down: replica b holds %d entries, want 1", n)
	}

	svc.SetDown(false)
	eventually(t, "both replicas' spools empty", func() bool {
		return pendingFiles(t, dirA) == 0 && pendingFiles(t, dirB) == 0
	})
	accepted := svc.Accepted()
	// The one kept while the store was down comes once from each replica.
	if accepted[first.DeliveryID] != 1 || accepted[kept.DeliveryID] != 2 || len(accepted) != 2 {
		t.Errorf("accepted %v: want %s once and %s twice", accepted, first.DeliveryID, kept.DeliveryID)
	}
}
