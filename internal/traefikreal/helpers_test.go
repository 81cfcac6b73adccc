//go:build traefikreal

package traefikreal

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/upstreamtest"
)

// applyTimeout bounds how long Traefik may take to serve a new dynamic
// configuration: each imgate middleware is built by the interpreted New,
// slow on a loaded 2-core machine. It is a bound, not a measurement.
const applyTimeout = 2 * time.Minute

// startImgate starts the real Traefik with this checkout as the local
// plugin "imgate", stopped when the test ends. When the test fails,
// Traefik's last lines are printed.
func startImgate(t *testing.T, opts Options) *Traefik {
	t.Helper()
	plugin, err := Imgate()
	if err != nil {
		t.Fatal(err)
	}
	opts.Plugins = append(opts.Plugins, plugin)
	return startWith(t, opts)
}

// startWith starts Traefik with opts, stopped when the test ends. When the
// test fails, Traefik's last lines are printed.
func startWith(t *testing.T, opts Options) *Traefik {
	t.Helper()
	tr, err := Start(opts)
	if err != nil {
		t.Fatalf("starting traefik: %v", err)
	}
	t.Cleanup(func() {
		// Traefik logs JSON only: anything else is a panic trace or an
		// interpreter message that went around its loggers.
		for _, l := range tr.Logs() {
			if l.Fields == nil && strings.TrimSpace(l.Raw) != "" {
				t.Errorf("traefik wrote a line that is not its JSON log: %s", l.Raw)
			}
		}
		if t.Failed() {
			t.Logf("traefik's output ends:%s", tr.tail())
		}
		tr.Stop()
	})
	return tr
}

// startWasm starts the real Traefik with the WASM plugin built from this
// checkout as the local plugin "imgatewasm" (reading list files under
// mounts), stopped when the test ends, with the same checks as
// startImgate.
func startWasm(t *testing.T, opts Options, mounts ...string) *Traefik {
	t.Helper()
	plugin, err := ImgateWasm(mounts...)
	if err != nil {
		t.Fatal(err)
	}
	opts.Plugins = append(opts.Plugins, plugin)
	return startWith(t, opts)
}

// apply serves dynamic on tr or fails the test with Traefik's errors.
func apply(t *testing.T, tr *Traefik, dynamic map[string]any) {
	t.Helper()
	if err := tr.Apply(dynamic, applyTimeout); err != nil {
		t.Fatal(err)
	}
}

// route is one router with its own middleware in front of a service.
type route struct {
	host       string
	middleware map[string]any // the plugin's config; nil: no middleware
	service    string         // a service URL
	// plugin is the plugin the middleware uses; "": PluginName.
	plugin string
	// buffered puts Traefik's buffering middleware after imgate, which the
	// WASM plugin needs to forward a body of another length (see
	// docs/traefik.md).
	buffered bool
	// transport, when set, is the service's serversTransport
	// (forwardingTimeouts ...).
	transport map[string]any
}

// dynamicConfig builds the file provider configuration: router, imgate
// middleware and service "<name>" per route, the router matching
// Host(`<host>`).
func dynamicConfig(routes map[string]route) map[string]any {
	routers, middlewares, services, transports := map[string]any{}, map[string]any{}, map[string]any{}, map[string]any{}
	for name, r := range routes {
		router := map[string]any{
			"entryPoints": []any{EntryPoint},
			"rule":        "Host(`" + r.host + "`)",
			"service":     name,
		}
		if r.middleware != nil {
			plugin := r.plugin
			if plugin == "" {
				plugin = PluginName
			}
			chain := []any{name}
			middlewares[name] = map[string]any{"plugin": map[string]any{plugin: userShape(r.middleware)}}
			if r.buffered {
				chain = append(chain, name+"-body")
				middlewares[name+"-body"] = map[string]any{"buffering": map[string]any{"maxRequestBodyBytes": 1 << 20}}
			}
			router["middlewares"] = chain
		}
		routers[name] = router
		lb := map[string]any{"servers": []any{map[string]any{"url": r.service}}}
		if r.transport != nil {
			lb["serversTransport"] = name
			transports[name] = r.transport
		}
		services[name] = map[string]any{"loadBalancer": lb}
	}
	section := map[string]any{"routers": routers, "middlewares": middlewares, "services": services}
	if len(transports) > 0 {
		section["serversTransports"] = transports
	}
	return map[string]any{"http": section}
}

// userShape turns the float64 numbers of a JSON-decoded config into
// integers where they are whole, so the YAML file reads as a user writes
// it ("code: 10101", not "code: 10101.0" or "1e+06").
func userShape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = userShape(item)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = userShape(item)
		}
		return out
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	}
	return v
}

// byHost answers every request with the handler registered for its Host
// header: the one loopback service behind many routers. An unknown host is
// answered 421, which no case expects.
type byHost map[string]http.Handler

func (b byHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	h, ok := b[host]
	if !ok {
		http.Error(w, "no upstream for host "+host, http.StatusMisdirectedRequest)
		return
	}
	h.ServeHTTP(w, r)
}

// serve runs h on a loopback port until the test ends and returns its URL.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// downURL returns the URL of a loopback port nothing listens on.
func downURL(t *testing.T) string {
	t.Helper()
	up := upstreamtest.Down()
	t.Cleanup(up.Close)
	return up.URL
}

// send sends a request to host through tr and returns status, decision
// header (named header) and body.
func send(t *testing.T, client *http.Client, r *http.Request, host, header string) (int, string, string) {
	t.Helper()
	r.Host = host
	status, h, body, err := Do(client, r)
	if err != nil {
		t.Fatalf("%s %s (host %s): %v", r.Method, r.URL, host, err)
	}
	return status, h.Get(header), string(body)
}

func reply(status int, decision, body string) string {
	return fmt.Sprintf("%d %q %s", status, decision, body)
}
