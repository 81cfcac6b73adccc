// Package procstat reads what a soak or a leak test watches in a running
// server process: its goroutine count from Go's pprof endpoint (Caddy's
// admin /debug/pprof/, Traefik's api.debug) and its resident memory from
// /proc (Linux), and the machine's load average, which a benchmark on a
// shared machine reports with its numbers. It is used by the real-Traefik
// tests and the benchmarks, never by the gateways.
package procstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// ErrFormat marks a goroutine profile or a /proc status file this package
// cannot read.
var ErrFormat = errors.New("unexpected format")

// GoroutinePath is the goroutine profile under a pprof prefix: its first
// line gives the total, and debug=1 groups identical stacks so the page
// stays small however many goroutines run.
const GoroutinePath = "/debug/pprof/goroutine?debug=1"

// Goroutines returns the number of goroutines of the process serving
// base + GoroutinePath (base: "http://127.0.0.1:2019" for Caddy's admin,
// Traefik's API URL with api.debug on).
func Goroutines(client *http.Client, base string) (int, error) {
	resp, err := client.Get(base + GoroutinePath)
	if err != nil {
		return 0, fmt.Errorf("goroutine profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("goroutine profile: HTTP %d from %s: %w", resp.StatusCode, base+GoroutinePath, ErrFormat)
	}
	// The total is on the first line; the stacks after it are not needed.
	line, err := bufio.NewReader(io.LimitReader(resp.Body, 4096)).ReadString('\n')
	if err != nil && line == "" {
		return 0, fmt.Errorf("goroutine profile: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return parseGoroutineTotal(line)
}

// parseGoroutineTotal reads "goroutine profile: total N".
func parseGoroutineTotal(line string) (int, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("goroutine profile starts %q: %w", line, ErrFormat)
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("goroutine profile total %q: %w", rest, ErrFormat)
	}
	return n, nil
}

// RSS returns the resident set size of process pid in bytes, from the
// VmRSS line of /proc/<pid>/status.
func RSS(pid int) (int64, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("resident memory of process %d: %w", pid, err)
	}
	return parseVmRSS(status)
}

// parseVmRSS reads "VmRSS:   12345 kB" from a /proc status file.
func parseVmRSS(status []byte) (int64, error) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		fields := strings.Fields(string(rest))
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, fmt.Errorf("VmRSS line %q: %w", line, ErrFormat)
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || kb < 0 {
			return 0, fmt.Errorf("VmRSS line %q: %w", line, ErrFormat)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no VmRSS line (a kernel thread, or not Linux): %w", ErrFormat)
}

// LoadAverage is /proc/loadavg's three averages (1, 5 and 15 minutes), or
// "unknown" where there is none.
func LoadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
