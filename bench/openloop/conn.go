package openloop

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
)

// ErrResponse reports a reply that is not well-formed HTTP/1.1.
var ErrResponse = errors.New("malformed HTTP response")

// conn is one keep-alive HTTP/1.1 connection carrying one request at a
// time. It parses only what it must to find the end of a reply: the
// status, Content-Length or chunked framing, and Connection: close.
type conn struct {
	c  net.Conn
	br *bufio.Reader
	// inflight is the index of the request awaiting its reply, -1 for none.
	inflight atomic.Int64
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		return nil, err
	}
	out := &conn{c: c, br: bufio.NewReaderSize(c, 16<<10)}
	out.inflight.Store(-1)
	return out, nil
}

func (c *conn) close() { c.c.Close() }

// readResponse reads one reply and discards its body.
func readResponse(br *bufio.Reader) (status int, keep bool, err error) {
	return readReply(br, nil)
}

// capture collects what an observer sees of a reply: the value of one
// header and the body.
type capture struct {
	header string // the header's name; "" for none
	value  string
	body   []byte
}

// readReply reads one reply; with c it keeps the body and c.header's
// value, without it it discards them.
func readReply(br *bufio.Reader, c *capture) (status int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("%w: status line %q", ErrResponse, line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, false, fmt.Errorf("%w: status line %q", ErrResponse, line)
	}
	keep = line[7] == '1' // HTTP/1.1 keeps the connection unless told otherwise
	length, chunked := int64(-1), false
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, false, fmt.Errorf("%w: header line %q", ErrResponse, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return 0, false, fmt.Errorf("%w: Content-Length %q", ErrResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keep = true
			}
		}
		if c != nil && c.header != "" && bytes.EqualFold(name, []byte(c.header)) {
			c.value = string(value)
		}
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		return status, keep, nil
	case chunked:
		return status, keep, discardChunked(br, c)
	case length >= 0 && c != nil:
		c.body = make([]byte, length)
		_, err = io.ReadFull(br, c.body)
		return status, keep, err
	case length >= 0:
		_, err = br.Discard(int(length))
		return status, keep, err
	}
	// No framing: the body runs to the end of the connection.
	sink := io.Discard
	var buf bytes.Buffer
	if c != nil {
		sink = &buf
	}
	_, err = io.Copy(sink, br)
	if c != nil {
		c.body = buf.Bytes()
	}
	return status, false, err
}

// discardChunked skips a chunked body and its trailers, keeping the body
// in c when c is set.
func discardChunked(br *bufio.Reader, c *capture) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		size := bytes.TrimSpace(line)
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", ErrResponse, line)
		}
		if n == 0 {
			break
		}
		if c != nil {
			chunk := make([]byte, n+2)
			if _, err := io.ReadFull(br, chunk); err != nil {
				return err
			}
			c.body = append(c.body, chunk[:n]...)
			continue
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}
