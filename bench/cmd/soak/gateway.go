package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/procstat"
	"github.com/imgate/imgate/internal/traefikreal"
)

// Gateway is a running gateway with imgate that the phases drive.
type Gateway interface {
	// Name labels it in the report.
	Name() string
	// Addr is the host:port callbacks go to.
	Addr() string
	// Pid is the gateway process.
	Pid() int
	// Goroutines reads the process's goroutine count from its pprof.
	Goroutines() (int, error)
	// Load makes cfg the imgate configuration of the route, forwarding to
	// upstream ("http://127.0.0.1:<port>", or "" for none), and returns
	// once it serves. generation changes an unrelated part of the
	// gateway's configuration, so that every Load is a real reload.
	Load(cfg core.Config, upstream string, generation int) error
	// Stop ends the gateway.
	Stop()
}

// client talks to the gateways' admin and API endpoints, a connection per
// request: Caddy's admin server closes its connections on a reload.
var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// pluginConfig is cfg as a gateway's configuration holds it: the JSON
// keys, without empty sections (Traefik's file provider hands an empty
// map to a plugin as an empty string, which it refuses), whole numbers as
// integers.
func pluginConfig(cfg core.Config) (map[string]any, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out, _ := prune(m).(map[string]any)
	return out, nil
}

// prune drops empty maps and lists and turns whole float64s into int64s.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, item := range x {
			if p := prune(item); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = prune(item)
		}
		return out
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	}
	return v
}

// Caddy is Caddy with imgate (cmd/caddy) as a process of its own,
// configured through its admin API as `caddy reload` does.
type Caddy struct {
	bin, dir      string
	admin, listen string
	proc          *Proc
	// config is the last configuration loaded, kept in a file so that a
	// restarted Caddy starts with it.
	config string
}

// StartCaddy starts Caddy with only its admin endpoint on free loopback
// ports; Load gives it the callback route.
func StartCaddy(bin, dir string) (*Caddy, error) {
	admin, err := freeAddr()
	if err != nil {
		return nil, err
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c := &Caddy{bin: bin, dir: dir, admin: admin, listen: listen, config: filepath.Join(dir, "caddy.json")}
	bare, _ := json.Marshal(map[string]any{"admin": adminSection(admin)})
	if err := os.WriteFile(c.config, bare, 0o644); err != nil {
		return nil, err
	}
	return c, c.start(admin)
}

// start runs Caddy on its configuration file and waits for addr.
func (c *Caddy) start(addr string) error {
	p, err := StartProc("caddy", c.bin, []string{"run", "--config", c.config}, []string{"XDG_DATA_HOME=" + c.dir, "XDG_CONFIG_HOME=" + c.dir}, filepath.Join(c.dir, "caddy.log"))
	if err != nil {
		return err
	}
	c.proc = p
	if err := WaitListening(p, addr, time.Minute); err != nil {
		p.Stop(5 * time.Second)
		return err
	}
	return nil
}

func adminSection(addr string) map[string]any {
	return map[string]any{"listen": addr, "config": map[string]any{"persist": false}}
}

// Name labels Caddy in the report.
func (c *Caddy) Name() string { return "Caddy + imgate" }

// Addr is the callback listener.
func (c *Caddy) Addr() string { return c.listen }

// Pid is the running Caddy.
func (c *Caddy) Pid() int { return c.proc.Pid() }

// Goroutines reads Caddy's admin pprof.
func (c *Caddy) Goroutines() (int, error) { return procstat.Goroutines(client, "http://"+c.admin) }

// Load posts the whole configuration to /load, as `caddy reload` does,
// and keeps it for a restart.
func (c *Caddy) Load(cfg core.Config, upstream string, generation int) error {
	body, err := caddyConfig(c.admin, c.listen, cfg, upstream, generation)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.config, body, 0o644); err != nil {
		return err
	}
	resp, err := client.Post("http://"+c.admin+"/load", "application/json", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("caddy /load: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("caddy /load: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Crash kills Caddy at once (SIGKILL) or stops it (SIGTERM, which Caddy
// handles as a graceful stop), as signal says.
func (c *Caddy) Crash(signal string) {
	if signal == "term" {
		c.proc.Stop(30 * time.Second)
		return
	}
	c.proc.Kill()
}

// Restart starts Caddy again with the last configuration loaded and waits
// until its callback listener accepts connections.
func (c *Caddy) Restart() error { return c.start(c.listen) }

// Stop ends Caddy.
func (c *Caddy) Stop() { c.proc.Stop(10 * time.Second) }

// caddyConfig is Caddy's JSON configuration: the admin endpoint, warnings
// and errors logged, and one server on listen with two routes: an
// unrelated one whose body names generation (so each load differs), and
// imgate in front of a reverse_proxy to upstream (a 502 when there is
// none).
func caddyConfig(admin, listen string, cfg core.Config, upstream string, generation int) ([]byte, error) {
	handler, err := pluginConfig(cfg)
	if err != nil {
		return nil, err
	}
	if handler == nil {
		handler = map[string]any{}
	}
	handler["handler"] = "imgate"
	next := map[string]any{"handler": "static_response", "status_code": 502}
	if upstream != "" {
		next = map[string]any{"handler": "reverse_proxy", "upstreams": []any{map[string]any{"dial": strings.TrimPrefix(upstream, "http://")}}}
	}
	routes := []any{
		map[string]any{
			"match":    []any{map[string]any{"host": []any{"generation.soak"}}},
			"handle":   []any{map[string]any{"handler": "static_response", "body": "generation " + strconv.Itoa(generation)}},
			"terminal": true,
		},
		map[string]any{"handle": []any{handler, next}, "terminal": true},
	}
	return json.Marshal(map[string]any{
		"admin":   adminSection(admin),
		"logging": map[string]any{"logs": map[string]any{"default": map[string]any{"level": "WARN"}}},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"soak": map[string]any{
			"listen":          []any{listen},
			"routes":          routes,
			"automatic_https": map[string]any{"disable": true},
		}}}},
	})
}

// Traefik is the real Traefik with this checkout as its local imgate
// plugin (internal/traefikreal), api.debug on for its goroutine count.
type Traefik struct {
	tr  *traefikreal.Traefik
	log *os.File
}

// StartTraefik starts the Traefik binary with the plugin.
func StartTraefik(binary, logPath string) (*Traefik, error) {
	plugin, err := traefikreal.Imgate()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	tr, err := traefikreal.Start(traefikreal.Options{Binary: binary, Plugins: []traefikreal.LocalPlugin{plugin}, LogLevel: "ERROR", Output: log, Debug: true})
	if err != nil {
		log.Close()
		return nil, err
	}
	return &Traefik{tr: tr, log: log}, nil
}

// Name labels Traefik in the report.
func (t *Traefik) Name() string { return "Traefik + plugin" }

// Addr is the web entry point.
func (t *Traefik) Addr() string { return strings.TrimPrefix(t.tr.URL, "http://") }

// Pid is the Traefik process.
func (t *Traefik) Pid() int { return t.tr.Pid() }

// Goroutines reads Traefik's api.debug pprof.
func (t *Traefik) Goroutines() (int, error) { return t.tr.Goroutines() }

// Load rewrites the dynamic file (each write also carries a new marker
// router, so it always differs) and waits until Traefik serves it.
func (t *Traefik) Load(cfg core.Config, upstream string, _ int) error {
	dynamic, err := traefikDynamic(cfg, upstream)
	if err != nil {
		return err
	}
	return t.tr.Apply(dynamic, 2*time.Minute)
}

// Stop ends Traefik.
func (t *Traefik) Stop() {
	t.tr.Stop()
	t.log.Close()
}

// traefikDynamic is the file provider's configuration: every path of
// the web entry point through the imgate middleware to upstream, or to
// Traefik's noop service (418) when imgate must answer everything.
func traefikDynamic(cfg core.Config, upstream string) (map[string]any, error) {
	plugin, err := pluginConfig(cfg)
	if err != nil {
		return nil, err
	}
	router := map[string]any{
		"entryPoints": []any{traefikreal.EntryPoint},
		"rule":        "PathPrefix(`/`)",
		"middlewares": []any{"imgate"},
		"service":     "noop@internal",
	}
	section := map[string]any{
		"routers":     map[string]any{"soak": router},
		"middlewares": map[string]any{"imgate": map[string]any{"plugin": map[string]any{traefikreal.PluginName: plugin}}},
	}
	if upstream != "" {
		router["service"] = "soak-upstream"
		section["services"] = map[string]any{"soak-upstream": map[string]any{"loadBalancer": map[string]any{"servers": []any{map[string]any{"url": upstream}}}}}
	}
	return map[string]any{"http": section}, nil
}
