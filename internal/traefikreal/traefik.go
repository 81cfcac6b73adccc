// Package traefikreal runs a real Traefik binary for end-to-end tests and
// benchmarks: it lays local plugins out under plugins-local/ in a temporary
// working directory, starts Traefik on free loopback ports with the file
// provider (watching its dynamic file) and experimental.localPlugins, waits
// until a given dynamic configuration is live, reports every plugin,
// router or middleware error Traefik shows, and stops it. Traefik's log
// (JSON) and access log (JSON) are kept for the tests to read.
//
// The binary comes from .ci/traefik-build.sh (Traefik v3.7.9 built from the
// Go module proxy); .ci/traefik-real.sh builds it and runs this package's
// tests (build tag traefikreal) with IMGATE_TRAEFIK pointing at it.
package traefikreal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// ErrTraefik marks a Traefik that did not start, refused a plugin or a
// configuration, or stopped unexpectedly.
var ErrTraefik = errors.New("real traefik")

// EntryPoint is the name of the HTTP entry point routers use.
const EntryPoint = "web"

// Options say which Traefik to run and how.
type Options struct {
	// Binary is the Traefik executable; default: Binary().
	Binary string
	// Plugins are the local plugins (experimental.localPlugins).
	Plugins []LocalPlugin
	// LogLevel is Traefik's log.level; default "DEBUG", the level at which
	// Traefik shows a Yaegi plugin's standard output.
	LogLevel string
	// AccessLog turns Traefik's JSON access log on, written to
	// <Dir>/access.log; AccessLogFields is its accessLog.fields section
	// (names, headers, queryParameters). Default: off.
	AccessLog       bool
	AccessLogFields map[string]any
	// Output, when set, also receives Traefik's log lines as they come
	// (e.g. a file a CI run keeps).
	Output io.Writer
	// StartTimeout bounds the start (plugin interpretation included);
	// default 2 minutes: a loaded 2-core machine interprets slowly.
	StartTimeout time.Duration
	// Debug turns on api.debug: Go's net/http/pprof under /debug/pprof/ on
	// APIURL (e.g. /debug/pprof/profile?seconds=5 for a CPU profile).
	// Default: off.
	Debug bool
	// ReadTimeout is the web entry point's
	// transport.respondingTimeouts.readTimeout; default Traefik's (60s).
	ReadTimeout string
}

// LocalPlugin is one plugin in experimental.localPlugins.
type LocalPlugin struct {
	// Name is the plugin's key in the static configuration, which the
	// dynamic configuration's middlewares name (plugin.<Name>).
	Name string
	// ModuleName is the plugin's module path.
	ModuleName string
	// Install puts the plugin's sources (or WASM file) and .traefik.yml in
	// dir, which is plugins-local/src/<ModuleName>; dir's parent exists.
	Install func(dir string) error
	// Settings is the plugin's settings section (WASM plugins only:
	// "mounts", "envs"); nil for none.
	Settings map[string]any
}

// Traefik is a running Traefik process.
type Traefik struct {
	// URL is the web entry point, "http://127.0.0.1:<port>".
	URL string
	// APIURL serves Traefik's API and /ping, "http://127.0.0.1:<port>".
	APIURL string
	// Dir is Traefik's working directory (static and dynamic files,
	// plugins-local/, access.log); removed by Stop.
	Dir string

	opts       Options
	cmd        *exec.Cmd
	exited     chan struct{}
	waitErr    error
	log        *logBuffer
	client     *http.Client
	mu         sync.Mutex
	generation int
	stopOnce   sync.Once
}

// Binary returns the Traefik executable named by IMGATE_TRAEFIK, which
// .ci/traefik-real.sh sets to the output of .ci/traefik-build.sh.
func Binary() (string, error) {
	bin := os.Getenv("IMGATE_TRAEFIK")
	if bin == "" {
		return "", fmt.Errorf("IMGATE_TRAEFIK is not set; run .ci/traefik-real.sh, which builds Traefik v3.7.9: %w", ErrTraefik)
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		return "", fmt.Errorf("IMGATE_TRAEFIK=%s is not a file: %w", bin, ErrTraefik)
	}
	return bin, nil
}

// Version runs `<binary> version` and returns its "Version:" value.
func Version(binary string) (string, error) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s version: %s: %w", binary, err.Error(), ErrTraefik)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s version printed no version: %s: %w", binary, out, ErrTraefik)
}

// Start lays the plugins out, starts Traefik with an empty dynamic
// configuration and waits until it answers /ping. A plugin Traefik cannot
// load stops it (experimental.abortOnPluginFailure) and fails Start with
// Traefik's own error lines. Ports that another process took between
// choosing and binding are retried with new ones.
func Start(opts Options) (*Traefik, error) {
	if opts.Binary == "" {
		bin, err := Binary()
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "DEBUG"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var tr *Traefik
		tr, err = start(opts)
		if err == nil {
			return tr, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
	}
	return nil, err
}

func start(opts Options) (*Traefik, error) {
	dir, err := os.MkdirTemp("", "imgate-traefik-real-")
	if err != nil {
		return nil, err
	}
	tr := &Traefik{Dir: dir, opts: opts, exited: make(chan struct{}), log: &logBuffer{tee: opts.Output}}
	tr.client = &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	fail := func(err error) (*Traefik, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	for _, p := range opts.Plugins {
		pluginDir := filepath.Join(dir, "plugins-local", "src", filepath.FromSlash(p.ModuleName))
		if err := os.MkdirAll(filepath.Dir(pluginDir), 0o755); err != nil {
			return fail(err)
		}
		if err := p.Install(pluginDir); err != nil {
			return fail(fmt.Errorf("installing plugin %s: %w", p.Name, err))
		}
	}
	ports, err := freePorts(2)
	if err != nil {
		return fail(err)
	}
	tr.URL = "http://" + ports[0]
	tr.APIURL = "http://" + ports[1]
	static, err := yaml.Marshal(staticConfig(opts, ports[0], ports[1], dir))
	if err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "traefik.yml"), static, 0o644); err != nil {
		return fail(err)
	}
	// The file provider needs a file with something in it; the marker
	// router of generation 0 is that something.
	if err := tr.writeDynamic(map[string]any{}); err != nil {
		return fail(err)
	}
	tr.cmd = exec.Command(opts.Binary, "--configFile="+filepath.Join(dir, "traefik.yml"))
	tr.cmd.Dir = dir
	tr.cmd.Stdout = tr.log
	tr.cmd.Stderr = tr.log
	if err := tr.cmd.Start(); err != nil {
		return fail(fmt.Errorf("starting %s: %s: %w", opts.Binary, err.Error(), ErrTraefik))
	}
	go func() {
		tr.waitErr = tr.cmd.Wait()
		close(tr.exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), opts.StartTimeout)
	defer cancel()
	if err := tr.waitLive(ctx, 0, 0); err != nil {
		tr.Stop()
		return nil, err
	}
	return tr, nil
}

// staticConfig is Traefik's static configuration: a web entry point, an
// API/ping entry point, the file provider watching dynamic.yml, JSON logs
// and the local plugins.
func staticConfig(opts Options, web, api, dir string) map[string]any {
	lifeCycle := map[string]any{"requestAcceptGraceTimeout": "0s", "graceTimeOut": "1s"}
	webTransport := map[string]any{"lifeCycle": lifeCycle}
	if opts.ReadTimeout != "" {
		webTransport["respondingTimeouts"] = map[string]any{"readTimeout": opts.ReadTimeout}
	}
	static := map[string]any{
		"entryPoints": map[string]any{
			EntryPoint: map[string]any{"address": web, "transport": webTransport},
			"traefik":  map[string]any{"address": api, "transport": map[string]any{"lifeCycle": lifeCycle}},
		},
		"providers": map[string]any{
			"file": map[string]any{"filename": filepath.Join(dir, "dynamic.yml"), "watch": true},
			// The default 2s would add 2s to every configuration change.
			"providersThrottleDuration": "100ms",
		},
		"api":    map[string]any{"insecure": true, "dashboard": false, "debug": opts.Debug},
		"ping":   map[string]any{},
		"log":    map[string]any{"level": opts.LogLevel, "format": "json", "noColor": true},
		"global": map[string]any{"checkNewVersion": false, "sendAnonymousUsage": false},
	}
	if opts.AccessLog {
		accessLog := map[string]any{"filePath": filepath.Join(dir, "access.log"), "format": "json"}
		if opts.AccessLogFields != nil {
			accessLog["fields"] = opts.AccessLogFields
		}
		static["accessLog"] = accessLog
	}
	if len(opts.Plugins) > 0 {
		local := map[string]any{}
		for _, p := range opts.Plugins {
			plugin := map[string]any{"moduleName": p.ModuleName}
			if p.Settings != nil {
				plugin["settings"] = p.Settings
			}
			local[p.Name] = plugin
		}
		static["experimental"] = map[string]any{"localPlugins": local, "abortOnPluginFailure": true}
	}
	return static
}

// freePorts returns n distinct "127.0.0.1:<port>" addresses that were free
// a moment ago.
func freePorts(n int) ([]string, error) {
	var addrs []string
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// Stop ends Traefik (SIGTERM, then SIGKILL after 15 s) and removes its
// working directory; the log stays readable. Safe to call twice.
func (tr *Traefik) Stop() {
	tr.stopOnce.Do(func() {
		if tr.cmd != nil && tr.cmd.Process != nil {
			_ = tr.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-tr.exited:
			case <-time.After(15 * time.Second):
				_ = tr.cmd.Process.Kill()
				<-tr.exited
			}
		}
		os.RemoveAll(tr.Dir)
	})
}

// Pid is the Traefik process's id, e.g. to read its CPU time.
func (tr *Traefik) Pid() int { return tr.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (tr *Traefik) Exited() bool {
	select {
	case <-tr.exited:
		return true
	default:
		return false
	}
}

// Client returns an HTTP client for the entry point: no redirects
// followed, a 30 s bound per request.
func Client() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Do sends r (built against tr.URL) and returns the status, headers and
// whole body.
func Do(client *http.Client, r *http.Request) (int, http.Header, []byte, error) {
	resp, err := client.Do(r)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

// tail returns the last lines of Traefik's output, for error messages.
func (tr *Traefik) tail() string {
	lines := tr.log.Lines()
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return indent(lines)
}

// errorLines returns Traefik's error lines, or the tail when there is
// none (a Go panic trace is not JSON and has no level).
func (tr *Traefik) errorLines() string {
	var errs []LogLine
	for _, l := range tr.log.Lines() {
		if l.Level == "error" || l.Level == "fatal" || l.Level == "panic" {
			errs = append(errs, l)
		}
	}
	if len(errs) == 0 {
		return tr.tail()
	}
	return indent(errs)
}

func indent(lines []LogLine) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString("\n  ")
		b.WriteString(l.Raw)
	}
	return b.String()
}
