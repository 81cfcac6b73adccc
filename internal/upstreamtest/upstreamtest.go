// Package upstreamtest runs real business-service upstreams on 127.0.0.1
// for forwarding tests: healthy ones in both upstream formats and faulty
// ones (down, slow past the deadline, HTTP 500, garbage, empty body,
// out-of-range codes, a connection reset). The core, Caddy and Traefik
// suites share it, together with the fault matrix in faults.go, so every
// gateway is held to the same expectations. It uses only the standard
// library and core, so that Yaegi can interpret it.
package upstreamtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Behavior is how an upstream answers every request.
type Behavior struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// Body is written as is; "" writes an empty body.
	Body string
	// Delay is waited before answering. The wait ends early when the
	// gateway cancels the request or the upstream is closed, so a slow
	// upstream never holds a test.
	Delay time.Duration
	// Reset closes the TCP connection with a reset instead of answering.
	Reset bool
}

// Received is one request the upstream got.
type Received struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// At is when the request arrived.
	At time.Time
}

// Upstream is a running (or deliberately unreachable) business service.
type Upstream struct {
	// URL is "http://127.0.0.1:<port>".
	URL string

	behavior Behavior
	server   *httptest.Server
	// life ends when the upstream closes, releasing delayed answers.
	life context.Context
	end  context.CancelFunc
	once sync.Once

	mu       sync.Mutex
	received []Received
	active   int
}

// Start runs an upstream answering with b on a loopback port.
func Start(b Behavior) *Upstream {
	u := &Upstream{behavior: b}
	u.life, u.end = context.WithCancel(context.Background())
	u.server = httptest.NewServer(http.HandlerFunc(u.serve))
	u.URL = u.server.URL
	return u
}

// Down returns an upstream whose port refuses connections: it was bound on
// 127.0.0.1 and closed again.
func Down() *Upstream {
	u := &Upstream{}
	u.life, u.end = context.WithCancel(context.Background())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		// Loopback listening is a precondition of every suite using this.
		panic("upstreamtest: cannot listen on 127.0.0.1: " + err.Error())
	}
	u.URL = "http://" + l.Addr().String()
	l.Close()
	return u
}

// Host returns "127.0.0.1:<port>", the form reverse proxies are given.
func (u *Upstream) Host() string { return u.URL[len("http://"):] }

// Close releases any delayed answers and stops the server.
func (u *Upstream) Close() {
	u.once.Do(func() {
		u.end()
		if u.server != nil {
			u.server.CloseClientConnections()
			u.server.Close()
		}
	})
}

// Requests returns a copy of the requests received so far.
func (u *Upstream) Requests() []Received {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]Received, len(u.received))
	copy(out, u.received)
	return out
}

// Active returns how many requests the upstream is still answering.
func (u *Upstream) Active() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.active
}

// WaitRequests waits until n requests arrived or timeout passed, and
// returns the requests received.
func (u *Upstream) WaitRequests(n int, timeout time.Duration) []Received {
	stop := time.Now().Add(timeout)
	for {
		got := u.Requests()
		if len(got) >= n || time.Now().After(stop) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.received = append(u.received, Received{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, At: time.Now(),
	})
	u.active++
	u.mu.Unlock()
	defer func() {
		u.mu.Lock()
		u.active--
		u.mu.Unlock()
	}()
	b := u.behavior
	if b.Delay > 0 && !u.wait(r.Context(), b.Delay) {
		return
	}
	if b.Reset {
		reset(w)
		return
	}
	status := b.Status
	if status == 0 {
		status = http.StatusOK
	}
	if b.Body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	io.WriteString(w, b.Body)
}

// wait waits for d and reports true, or false as soon as the request is
// cancelled or the upstream closed. Callbacks on a buffered channel, not a
// select: Yaegi v0.16.1 shares a select statement's case list between
// goroutines, and under "yaegi test" this code is interpreted.
func (u *Upstream) wait(ctx context.Context, d time.Duration) bool {
	woke := make(chan bool, 3)
	timer := time.AfterFunc(d, func() { woke <- true })
	stopRequest := context.AfterFunc(ctx, func() { woke <- false })
	stopUpstream := context.AfterFunc(u.life, func() { woke <- false })
	elapsed := <-woke
	timer.Stop()
	stopRequest()
	stopUpstream()
	return elapsed
}

// reset closes the connection with SO_LINGER 0, so the peer reads a TCP
// reset rather than a clean end of stream.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}
