package redistest

import (
	"net"
	"testing"
	"time"
)

// TestServerLifecycle starts a server, kills it and restarts it on the
// same address, empty.
func TestServerLifecycle(t *testing.T) {
	s := Start(t, Options{Password: "pw"})
	if got := s.Do(t, "SET", "k", "v"); got != "OK" {
		t.Fatalf("SET: %q", got)
	}
	if n := s.Clients(t); n != 1 {
		t.Fatalf("%d clients, want Do's own alone", n)
	}
	s.Kill(t)
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the killed server still accepts connections")
	}
	s.Restart(t)
	if got := s.Do(t, "EXISTS", "k"); got != "0" {
		t.Fatalf("the restarted server kept data: EXISTS %q", got)
	}
}

// TestServerTLS checks the TLS server answers a client that trusts its CA.
func TestServerTLS(t *testing.T) {
	s := Start(t, Options{TLS: true})
	if got := s.Do(t, "PING"); got != "PONG" {
		t.Fatalf("PING over TLS: %q", got)
	}
}
