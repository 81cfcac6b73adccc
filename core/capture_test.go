package core

import (
	"net/http"
	"testing"
)

func TestCapture(t *testing.T) {
	t.Run("write implies 200", func(t *testing.T) {
		c := newCapture(100)
		c.Write([]byte("ok"))
		status, body, overflow := c.result()
		if status != http.StatusOK || string(body) != "ok" || overflow {
			t.Fatalf("%d %q %v", status, body, overflow)
		}
	})
	t.Run("first status wins", func(t *testing.T) {
		c := newCapture(100)
		c.WriteHeader(503)
		c.WriteHeader(200)
		c.Write([]byte("x"))
		if status, _, _ := c.result(); status != 503 {
			t.Fatalf("status %d", status)
		}
	})
	t.Run("overflow truncates and flags", func(t *testing.T) {
		c := newCapture(5)
		c.Write([]byte("abc"))
		n, err := c.Write([]byte("defgh"))
		if n != 5 || err != nil {
			t.Fatalf("Write returned %d, %v", n, err)
		}
		_, body, overflow := c.result()
		if string(body) != "abcde" || !overflow {
			t.Fatalf("%q %v", body, overflow)
		}
	})
	t.Run("abandoned ignores late writes", func(t *testing.T) {
		c := newCapture(100)
		c.abandon()
		c.WriteHeader(500)
		c.Write([]byte("late"))
		status, body, _ := c.result()
		if status != 0 || len(body) != 0 {
			t.Fatalf("%d %q", status, body)
		}
	})
}
