package core

import (
	"net/http"
	"sync"
)

// capture is the ResponseWriter handed to the next handler when forwarding:
// it buffers the upstream's answer so that imgate can validate it before the
// platform sees anything. It is deliberately not a Flusher or Hijacker:
// callback replies are small JSON documents, never streams. After abandon
// (deadline passed) further writes are discarded, so a late upstream cannot
// touch a reply that was already sent.
type capture struct {
	mu        sync.Mutex
	header    http.Header
	status    int
	body      []byte
	max       int
	overflow  bool
	abandoned bool
}

func newCapture(max int) *capture {
	return &capture{header: http.Header{}, max: max}
}

// Header returns the upstream's response headers; imgate does not relay them.
func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == 0 && !c.abandoned {
		c.status = status
	}
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.abandoned {
		return len(p), nil
	}
	if c.status == 0 {
		c.status = http.StatusOK
	}
	room := c.max - len(c.body)
	if len(p) > room {
		c.overflow = true
		if room > 0 {
			c.body = append(c.body, p[:room]...)
		}
		return len(p), nil
	}
	c.body = append(c.body, p...)
	return len(p), nil
}

func (c *capture) abandon() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.abandoned = true
}

func (c *capture) result() (int, []byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	status := c.status
	return status, c.body, c.overflow
}
