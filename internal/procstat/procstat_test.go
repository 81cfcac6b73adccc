package procstat

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestParseGoroutineTotal(t *testing.T) {
	cases := []struct {
		line string
		want int
		ok   bool
	}{
		{"goroutine profile: total 17\n", 17, true},
		{"goroutine profile: total 0", 0, true},
		{"goroutine profile: total -3", 0, false},
		{"goroutine profile: total many", 0, false},
		{"404 page not found", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, err := parseGoroutineTotal(c.line)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("%q: %d, %v; want %d", c.line, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %d, %v; want ErrFormat", c.line, got, err)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	cases := []struct {
		status string
		want   int64
		ok     bool
	}{
		{"Name:\tcaddy\nVmPeak:\t  900 kB\nVmRSS:\t   51200 kB\nThreads:\t9\n", 51200 << 10, true},
		{"VmRSS: 1 kB", 1024, true},
		{"VmRSS:\t12 MB\n", 0, false},
		{"VmRSS:\tlots kB\n", 0, false},
		{"Name:\tkthreadd\nState:\tS\n", 0, false},
	}
	for _, c := range cases {
		got, err := parseVmRSS([]byte(c.status))
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("%q: %d, %v; want %d", c.status, got, err, c.want)
		}
		if !c.ok && !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %d, %v; want ErrFormat", c.status, got, err)
		}
	}
}

// TestGoroutines reads this test process's own count through the real
// pprof handler, as Caddy's admin and Traefik's api.debug serve it.
func TestGoroutines(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	stop := make(chan struct{})
	const extra = 50
	for i := 0; i < extra; i++ {
		go func() { <-stop }()
	}
	defer close(stop)
	n, err := Goroutines(srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	// The 50 parked goroutines are there; the server's own come and go.
	if n < extra || n > runtime.NumGoroutine()+extra {
		t.Errorf("Goroutines = %d with %d parked and %d running now", n, extra, runtime.NumGoroutine())
	}
	if _, err := Goroutines(srv.Client(), srv.URL+"/nothing"); err == nil {
		t.Error("a 404 read as a goroutine count")
	}
}

func TestRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	n, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A Go test binary is resident for at least a megabyte.
	if n < 1<<20 {
		t.Errorf("RSS = %d bytes", n)
	}
	if _, err := RSS(-1); err == nil {
		t.Error("RSS of pid -1: no error")
	}
}

// TestLoadAverage reads the three averages where Linux has them.
func TestLoadAverage(t *testing.T) {
	if _, err := os.Stat("/proc/loadavg"); err != nil {
		t.Skipf("no /proc/loadavg here: %v", err)
	}
	f := strings.Fields(LoadAverage())
	if len(f) != 3 {
		t.Fatalf("LoadAverage() = %q, want three averages", LoadAverage())
	}
	for _, v := range f {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("LoadAverage() = %q: %v", LoadAverage(), err)
		}
	}
}
