package core

import "testing"

// TestDeliverySlots checks the semaphore: never more than max slots, and
// the counters follow how deliveries ended.
func TestDeliverySlots(t *testing.T) {
	d := newDeliveries(2)
	first := d.acquire()
	second := d.acquire()
	if !first || !second {
		t.Fatal("two free slots refused")
	}
	if d.acquire() {
		t.Fatal("a third slot was handed out")
	}
	d.release(&Outcome{Upstream: true})
	if !d.acquire() {
		t.Fatal("a released slot was not reusable")
	}
	d.release(&Outcome{Reason: "timeout"})
	d.release(nil)
	if d.inFlight.Load() != 0 || d.delivered.Load() != 1 || d.failed.Load() != 2 {
		t.Errorf("in flight %d delivered %d failed %d, want 0 1 2", d.inFlight.Load(), d.delivered.Load(), d.failed.Load())
	}
	e := &Engine{}
	if s := e.Deliveries(); s != (DeliveryStats{}) {
		t.Errorf("engine without slots reports %+v", s)
	}
}
