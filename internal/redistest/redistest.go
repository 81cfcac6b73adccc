// Package redistest runs real redis-server processes on 127.0.0.1 for the
// shared-store tests: on a free port, in a temporary directory, without
// persistence, with an optional password and TLS (a throwaway CA), and
// lets a test kill, restart or pause one. No mock stands in for the
// server. The tests that need it run when IMGATE_REDIS_SERVER names the
// redis-server binary (./test.sh and .ci/run install Debian's package and
// set it); then a missing binary fails them instead of skipping.
//
// It uses only the standard library Yaegi v0.16.1 offers, so that core's
// Redis tests also run interpreted (`yaegi test`): processes start with
// os.StartProcess (Yaegi has no os/exec), and the tests check what the
// server holds with Do, a RESP client of its own that shares no code with
// imgate's.
package redistest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// EnvServer names the redis-server binary the tests run.
const EnvServer = "IMGATE_REDIS_SERVER"

// startTimeout bounds a start on a loaded machine.
const startTimeout = 30 * time.Second

// Binary returns the redis-server named by IMGATE_REDIS_SERVER (a path or
// a name looked up in PATH). It skips the test when the variable is unset
// and fails it when the binary cannot be found.
func Binary(tb testing.TB) string {
	tb.Helper()
	name := os.Getenv(EnvServer)
	if name == "" {
		tb.Skipf("%s is not set: this test needs a real redis-server (./test.sh installs Debian's and sets it)", EnvServer)
	}
	path, err := lookPath(name)
	if err != nil {
		tb.Fatalf("%s=%s: %v (install it: apt-get install redis-server)", EnvServer, name, err)
	}
	return path
}

// lookPath finds name as exec.LookPath does, which Yaegi lacks.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if fileExists(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: no such file", name)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if path := filepath.Join(dir, name); fileExists(path) {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

// Options shape a server.
type Options struct {
	// Password sets requirepass. Default: none.
	Password string
	// TLS serves TLS only, with a certificate for 127.0.0.1 signed by a
	// CA written to Server.CAFile. Default: plain TCP.
	TLS bool
}

// Server is one running redis-server.
type Server struct {
	// Addr is "127.0.0.1:<port>".
	Addr string
	// URL is redis://Addr (rediss:// with TLS).
	URL string
	// CAFile is the PEM file of the CA that signed the TLS certificate.
	CAFile string

	bin  string
	dir  string
	port string
	opts Options

	mu   sync.Mutex
	proc *os.Process
}

// Start runs a server until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin := Binary(tb)
	s, err := Launch(bin, tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Launch runs redis-server bin with its files in dir, outside a test (the
// store benchmark); Stop ends it.
func Launch(bin, dir string, opts Options) (*Server, error) {
	s := &Server{bin: bin, opts: opts, dir: dir}
	if opts.TLS {
		if err := writeCerts(s.dir); err != nil {
			return nil, fmt.Errorf("certificates: %w", err)
		}
		s.CAFile = filepath.Join(s.dir, "ca.pem")
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = s.start(); err == nil {
			break
		}
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s.Addr = "127.0.0.1:" + s.port
	s.URL = "redis://" + s.Addr
	if opts.TLS {
		s.URL = "rediss://" + s.Addr
	}
	return s, nil
}

// LookPath finds a redis-server given by path or by name in PATH.
func LookPath(name string) (string, error) {
	return lookPath(name)
}

// Pid is the running server's process id, 0 when it is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// args is the server's command line.
func (s *Server) args() []string {
	args := []string{
		"--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log"), "--daemonize", "no",
	}
	if s.opts.TLS {
		args = append(args, "--port", "0", "--tls-port", s.port,
			"--tls-cert-file", filepath.Join(s.dir, "server.pem"), "--tls-key-file", filepath.Join(s.dir, "server.key"),
			"--tls-ca-cert-file", s.CAFile, "--tls-auth-clients", "no")
	} else {
		args = append(args, "--port", s.port)
	}
	if s.opts.Password != "" {
		args = append(args, "--requirepass", s.opts.Password)
	}
	return args
}

// start runs the server and waits until it accepts connections.
func (s *Server) start() error {
	logPath := filepath.Join(s.dir, "redis.log")
	os.Remove(logPath)
	out, err := os.Create(filepath.Join(s.dir, "redis.out"))
	if err != nil {
		return err
	}
	defer out.Close()
	null, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer null.Close()
	proc, err := os.StartProcess(s.bin, append([]string{s.bin}, s.args()...), &os.ProcAttr{Dir: s.dir, Files: []*os.File{null, out, out}})
	if err != nil {
		return err
	}
	exited := &atomic.Int64{}
	go func() {
		proc.Wait()
		exited.Store(1)
	}()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		logText, _ := os.ReadFile(logPath)
		if bytes.Contains(logText, []byte("Ready to accept connections")) {
			s.mu.Lock()
			s.proc = proc
			s.mu.Unlock()
			return nil
		}
		if exited.Load() == 1 || bytes.Contains(logText, []byte("in use")) {
			proc.Kill()
			outText, _ := os.ReadFile(filepath.Join(s.dir, "redis.out"))
			return fmt.Errorf("redis-server on port %s did not start: %s%s", s.port, logText, outText)
		}
		time.Sleep(20 * time.Millisecond)
	}
	proc.Kill()
	logText, _ := os.ReadFile(logPath)
	return fmt.Errorf("redis-server on port %s not ready after %s: %s", s.port, startTimeout, logText)
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *Server) Kill(tb testing.TB) {
	tb.Helper()
	s.mu.Lock()
	proc := s.proc
	s.proc = nil
	s.mu.Unlock()
	if proc == nil {
		tb.Fatal("redistest: Kill: the server is not running")
	}
	proc.Kill()
	// The port must be free before a restart: wait until nothing answers.
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("redistest: %s still accepts connections after the kill", s.Addr)
}

// Restart starts a killed server again on the same port, empty.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.start(); err != nil {
		tb.Fatalf("redistest: restart: %v", err)
	}
}

// Pause makes the server answer no client for d (CLIENT PAUSE ALL): a
// slow server, for the timeout tests.
func (s *Server) Pause(tb testing.TB, d time.Duration) {
	tb.Helper()
	if got := s.Do(tb, "CLIENT", "PAUSE", strconv.FormatInt(d.Milliseconds(), 10), "ALL"); got != "OK" {
		tb.Fatalf("redistest: CLIENT PAUSE: %q", got)
	}
}

// Do runs one command in database 0 on a connection of its own and
// returns the reply as redis-cli --raw prints it: strings and integers as
// they are, a null as "", an array's elements one per line. An error
// reply fails the test.
func (s *Server) Do(tb testing.TB, args ...string) string {
	tb.Helper()
	return s.DoIn(tb, 0, args...)
}

// DoIn runs one command in database db.
func (s *Server) DoIn(tb testing.TB, db int, args ...string) string {
	tb.Helper()
	reply, err := s.do(db, args)
	if err != nil {
		tb.Fatalf("redistest: %s: %v", strings.Join(args, " "), err)
	}
	return reply
}

func (s *Server) do(db int, args []string) (string, error) {
	conn, err := net.DialTimeout("tcp", s.Addr, 10*time.Second)
	if err != nil {
		return "", err
	}
	if s.opts.TLS {
		pemData, rerr := os.ReadFile(s.CAFile)
		if rerr != nil {
			conn.Close()
			return "", rerr
		}
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(pemData)
		conn = tls.Client(conn, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var commands [][]string
	if s.opts.Password != "" {
		commands = append(commands, []string{"AUTH", s.opts.Password})
	}
	if db != 0 {
		commands = append(commands, []string{"SELECT", strconv.Itoa(db)})
	}
	commands = append(commands, args)
	var req bytes.Buffer
	for _, c := range commands {
		fmt.Fprintf(&req, "*%d\r\n", len(c))
		for _, a := range c {
			fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err = conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	reply := ""
	for i := range commands {
		if reply, err = readRaw(r); err != nil {
			return "", fmt.Errorf("%s: %w", commands[i][0], err)
		}
	}
	return reply, nil
}

// readRaw reads one reply as redis-cli --raw prints it.
func readRaw(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("error reply: %s", line[1:])
	case '$':
		n, perr := strconv.Atoi(line[1:])
		if perr != nil || n < 0 {
			return "", perr
		}
		data := make([]byte, n+2)
		if _, err = io.ReadFull(r, data); err != nil {
			return "", err
		}
		return string(data[:n]), nil
	case '*':
		n, perr := strconv.Atoi(line[1:])
		if perr != nil {
			return "", perr
		}
		elems := make([]string, 0, n)
		for i := 0; i < n; i++ {
			elem, eerr := readRaw(r)
			if eerr != nil {
				return "", eerr
			}
			elems = append(elems, elem)
		}
		return strings.Join(elems, "\n"), nil
	}
	return "", fmt.Errorf("reply %q", line)
}

// Clients returns how many client connections the server holds, Do's own
// included.
func (s *Server) Clients(tb testing.TB) int {
	tb.Helper()
	for _, line := range strings.Split(s.Do(tb, "INFO", "clients"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_clients:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				tb.Fatalf("redistest: INFO clients: %q", line)
			}
			return n
		}
	}
	tb.Fatal("redistest: INFO clients has no connected_clients")
	return 0
}

// Stop ends the server.
func (s *Server) Stop() {
	s.mu.Lock()
	proc := s.proc
	s.proc = nil
	s.mu.Unlock()
	if proc != nil {
		proc.Kill()
	}
}

// writeCerts writes a CA (ca.pem) and a server certificate for 127.0.0.1
// (server.pem, server.key) into dir.
func writeCerts(dir string) error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imgate test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err = writePEM(filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER); err != nil {
		return err
	}
	if err = writePEM(filepath.Join(dir, "server.pem"), "CERTIFICATE", der); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, "server.key"), "EC PRIVATE KEY", keyDER)
}

func writePEM(path, kind string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600)
}
