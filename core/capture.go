package core

import (
	"net/http"
	"sync"
)

// capture is the ResponseWriter handed to the next handler when forwarding:
// it buffers the upstream's answer so that imgate can validate it before the
// platform sees anything. Callback replies are small JSON documents, never
// streams: Flush is accepted and does nothing (proxies flush when they see
// trailers or event streams; under Yaegi compiled proxies do not see it and
// skip flushing), and it is deliberately not a Hijacker, so a
// protocol upgrade fails inside the proxy. After abandon (deadline passed)
// further writes are discarded, so a late upstream cannot touch a reply
// that was already sent.
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
	// 1xx are interim (103 Early Hints relayed by proxies): the final
	// status follows.
	if c.status == 0 && !c.abandoned && status >= 200 {
		c.status = status
	}
}

// Flush does nothing: the reply is buffered until next returns.
func (c *capture) Flush() {}

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
