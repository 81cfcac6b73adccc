package upstreamtest

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
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
// 500 while Failing, refuses connections while Unreachable, and accepts
// each delivery id once, as a service deduplicating on
// X-Imgate-Delivery-Id does: a delivery id it already accepted is answered
// 2xx again but not taken a second time (Accepted counts both).
type DeliveryService struct {
	URL string

	addr    string
	down    atomic.Bool
	failing atomic.Bool

	// srvMu guards srv, the server while reachable (nil while not).
	srvMu sync.Mutex
	srv   *http.Server

	mu         sync.Mutex
	attempts   int
	accepted   map[string]int
	order      []string
	byID       map[string][]string
	deliveries []Delivery
}

// Delivery is one delivery id the service took, the first time it came.
type Delivery struct {
	ID, Platform, Group, Actor string
	// At is when the service accepted it.
	At time.Time
}

// errRelisten reports that the service could not listen on its port
// again.
var errRelisten = errors.New("delivery service cannot listen again")

// StartDeliveryService runs a DeliveryService on a loopback port.
func StartDeliveryService() *DeliveryService {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("upstreamtest: delivery service: " + err.Error())
	}
	d := &DeliveryService{accepted: map[string]int{}, byID: map[string][]string{}, addr: l.Addr().String()}
	d.URL = "http://" + d.addr
	d.serveOn(l)
	return d
}

// serveOn starts a server on l.
func (d *DeliveryService) serveOn(l net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(d.serve), ReadHeaderTimeout: 10 * time.Second}
	d.srvMu.Lock()
	d.srv = srv
	d.srvMu.Unlock()
	go func() { _ = srv.Serve(l) }()
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
	if d.accepted[id] == 1 {
		d.deliveries = append(d.deliveries, Delivery{
			ID: id, Platform: r.Header.Get("X-Imgate-Platform"), Group: r.Header.Get("X-Imgate-Group"),
			Actor: r.Header.Get("X-Imgate-Actor"), At: time.Now(),
		})
	}
	w.WriteHeader(http.StatusNoContent)
}

// SetDown makes the service answer 503 (true) or accept again (false).
func (d *DeliveryService) SetDown(down bool) { d.down.Store(down) }

// SetFailing makes the service answer 500 to everything.
func (d *DeliveryService) SetFailing(failing bool) { d.failing.Store(failing) }

// SetUnreachable closes the service's port and every connection to it
// (true), as a service that died: connections are refused; or listens on
// the same port again (false), waiting up to five seconds for it. What the
// service accepted is kept.
func (d *DeliveryService) SetUnreachable(unreachable bool) error {
	d.srvMu.Lock()
	srv := d.srv
	if unreachable {
		d.srv = nil
	}
	d.srvMu.Unlock()
	if unreachable {
		if srv != nil {
			return srv.Close()
		}
		return nil
	}
	if srv != nil {
		return nil
	}
	var err error
	for stop := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var l net.Listener
		l, err = net.Listen("tcp", d.addr)
		if err == nil {
			d.serveOn(l)
			return nil
		}
		if time.Now().After(stop) {
			return errors.Join(errRelisten, err)
		}
	}
}

// CloseIdleConnections closes the connections idle between deliveries, so
// that the gateway's side of them ends too (e.g. before counting its
// goroutines).
func (d *DeliveryService) CloseIdleConnections() {
	d.srvMu.Lock()
	defer d.srvMu.Unlock()
	if d.srv != nil {
		// Turning keep-alives off closes the idle connections.
		d.srv.SetKeepAlivesEnabled(false)
		d.srv.SetKeepAlivesEnabled(true)
	}
}

// Attempts counts every request, accepted or not.
func (d *DeliveryService) Attempts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.attempts
}

// Accepted returns how many times each delivery id was answered 2xx: 1
// when it was delivered once, more when it came again.
func (d *DeliveryService) Accepted() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.accepted))
	for k, v := range d.accepted {
		out[k] = v
	}
	return out
}

// Deliveries returns the delivery ids taken, each once, in order.
func (d *DeliveryService) Deliveries() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.deliveries...)
}

// Order lists "<group>/<actor>" of the accepted deliveries, in order,
// a delivery id that came again as often as it came.
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
func (d *DeliveryService) Close() { _ = d.SetUnreachable(true) }
