package openloop

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, raw  string
		status     int
		keep       bool
		restWanted string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}NEXT", 200, true, "NEXT"},
		{"chunked with trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\nNEXT", 200, true, "NEXT"},
		{"close", "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 3\r\n\r\nno\nNEXT", 500, false, "NEXT"},
		{"1.0 without keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nNEXT", 200, false, "NEXT"},
		{"no body status", "HTTP/1.1 204 No Content\r\n\r\nNEXT", 204, true, "NEXT"},
		{"to end of stream", "HTTP/1.1 200 OK\r\n\r\nbody", 200, false, ""},
	}
	for _, tt := range tests {
		br := bufio.NewReader(strings.NewReader(tt.raw))
		status, keep, err := readResponse(br)
		rest, _ := br.ReadString(0)
		if err != nil || status != tt.status || keep != tt.keep || rest != tt.restWanted {
			t.Errorf("%s: got %d keep=%v rest=%q err=%v", tt.name, status, keep, rest, err)
		}
	}
}

func TestReadResponseMalformed(t *testing.T) {
	for name, raw := range map[string]string{
		"not http":        "SSH-2.0\r\n\r\n",
		"bad status":      "HTTP/1.1 2x0 OK\r\n\r\n",
		"header no colon": "HTTP/1.1 200 OK\r\nbroken\r\n\r\n",
		"bad length":      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"bad chunk":       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		if _, _, err := readResponse(bufio.NewReader(strings.NewReader(raw))); !errors.Is(err, ErrResponse) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, _, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"))); err == nil {
		t.Error("a truncated body read without error")
	}
}

func TestReadReplyCaptures(t *testing.T) {
	tests := []struct {
		name, raw, value, body string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nX-Imgate-Decision: deny; rule=r\r\nContent-Length: 2\r\n\r\n{}NEXT", "deny; rule=r", "{}"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-imgate-decision: ack\r\n\r\n2\r\n{}\r\n3\r\nabc\r\n0\r\n\r\nNEXT", "ack", "{}abc"},
		{"no header", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcNEXT", "", "abc"},
		{"to end of stream", "HTTP/1.1 200 OK\r\n\r\nbody", "", "body"},
	}
	for _, tt := range tests {
		br := bufio.NewReader(strings.NewReader(tt.raw))
		c := &capture{header: "X-Imgate-Decision"}
		status, _, err := readReply(br, c)
		if err != nil || status != 200 || c.value != tt.value || string(c.body) != tt.body {
			t.Errorf("%s: got %d %q %q err=%v", tt.name, status, c.value, c.body, err)
		}
		if rest, _ := br.ReadString(0); tt.name != "to end of stream" && rest != "NEXT" {
			t.Errorf("%s: left %q", tt.name, rest)
		}
	}
}
