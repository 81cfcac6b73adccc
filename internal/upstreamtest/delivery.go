package upstreamtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
)

// Delivery headers as imgate sends them (core.HeaderDeliveryID and
// core.HeaderAttempt; repeated here so that this package stays free of
// core for the Yaegi suites that load it).
const (
	deliveryIDHeader = "X-Imgate-Delivery-Id"
	attemptHeader    = "X-Imgate-Attempt"
)

// DeliveryService is a real loopback business service for durable
// delivery: it records every delivery attempt, answers 503 while Down and
// 500 while Failing, and accepts each delivery id once, as a service
// deduplicating on X-Imgate-Delivery-Id does.
type DeliveryService struct {
	URL string

	srv     *httptest.Server
	down    atomic.Bool
	failing atomic.Bool

	mu       sync.Mutex
	attempts int
	accepted map[string]int
	order    []string
	byID     map[string][]string
}

// StartDeliveryService runs a DeliveryService on a loopback port.
func StartDeliveryService() *DeliveryService {
	d := &DeliveryService{accepted: map[string]int{}, byID: map[string][]string{}}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	d.URL = d.srv.URL
	return d
}

func (d *DeliveryService) serve(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(deliveryIDHeader)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.attempts++
	d.byID[id] = append(d.byID[id], r.Header.Get(attemptHeader))
	if d.down.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if d.failing.Load() {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	d.accepted[id]++
	d.order = append(d.order, r.Header.Get("X-Imgate-Group")+"/"+r.Header.Get("X-Imgate-Actor"))
	w.WriteHeader(http.StatusNoContent)
}

// SetDown makes the service answer 503 (true) or accept again (false).
func (d *DeliveryService) SetDown(down bool) { d.down.Store(down) }

// SetFailing makes the service answer 500 to everything.
func (d *DeliveryService) SetFailing(failing bool) { d.failing.Store(failing) }

// Attempts counts every request, accepted or not.
func (d *DeliveryService) Attempts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.attempts
}

// Accepted returns how many times each delivery id was accepted.
func (d *DeliveryService) Accepted() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.accepted))
	for k, v := range d.accepted {
		out[k] = v
	}
	return out
}

// Order lists "<group>/<actor>" of the accepted deliveries, in order.
func (d *DeliveryService) Order() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.order...)
}

// AttemptHeaders returns the X-Imgate-Attempt values each delivery id
// arrived with, in order.
func (d *DeliveryService) AttemptHeaders() map[string][]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string][]string, len(d.byID))
	for k, v := range d.byID {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// Close stops the service.
func (d *DeliveryService) Close() { d.srv.Close() }
