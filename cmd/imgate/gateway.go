package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	// The Caddyfile adapter, and every standard directive a gateway's
	// Caddyfile may use around imgate (handle, reverse_proxy, respond ...).
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	"github.com/imgate/imgate/caddymodule"
	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikconf"
)

// Config file formats check reads.
const (
	formatCaddyfile = "caddyfile"  // a Caddyfile, adapted as `caddy adapt` does
	formatCaddyJSON = "caddy-json" // Caddy's JSON config
	formatImgate    = "imgate"     // one imgate config: core.Config keys (a handler's JSON)
	formatTraefik   = "traefik"    // a Traefik dynamic configuration file (YAML or TOML)
)

var formats = []string{formatCaddyfile, formatCaddyJSON, formatImgate, formatTraefik}

// errConfig marks a gateway config check cannot use.
var errConfig = errors.New("unusable gateway config")

// handler is one imgate configuration found in a gateway config: a Caddy
// handler, a Traefik middleware, or the whole file.
type handler struct {
	// label names it in reports: "route /im/tencent", "middleware imgate".
	label string
	cfg   core.Config
	// route holds the enclosing Caddy routes' path matchers, outermost
	// first; name is the Traefik middleware's name.
	route []routeLevel
	name  string
	// notes say what check does differently from the gateway.
	notes []string
	// warnings are the engine's: verification checks left off.
	warnings []string
}

// gateway is a loaded config file and the imgate handlers in it.
type gateway struct {
	file     string
	format   string
	handlers []*handler
	// adaptWarnings are the Caddyfile adapter's warnings.
	adaptWarnings []string
}

// loadGateway reads file in format ("" to tell from the file) and finds
// its imgate handlers. Traefik plugin entries are those named plugin.
// Every handler's config must build an engine, as the gateway would refuse
// to load it otherwise.
func loadGateway(file, format, plugin string) (*gateway, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if format == "" {
		if format, err = detectFormat(file, data); err != nil {
			return nil, err
		}
	}
	g := &gateway{file: file, format: format}
	switch format {
	case formatCaddyfile:
		var warnings []caddyconfig.Warning
		data, warnings, err = caddyconfig.GetAdapter("caddyfile").Adapt(data, map[string]any{"filename": file})
		if err != nil {
			return nil, fmt.Errorf("adapting %s: %w", file, err)
		}
		for _, w := range warnings {
			g.adaptWarnings = append(g.adaptWarnings, w.String())
		}
		g.handlers, err = caddyHandlers(data)
	case formatCaddyJSON:
		g.handlers, err = caddyHandlers(data)
	case formatImgate:
		g.handlers, err = imgateHandler(data)
	case formatTraefik:
		g.handlers, err = traefikHandlers(data, filepath.Ext(file), plugin)
	default:
		return nil, fmt.Errorf("format %q is not one of %s: %w", format, strings.Join(formats, ", "), errConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(g.handlers) == 0 {
		return nil, fmt.Errorf("%s: no imgate handler in this %s config: %w", file, format, errConfig)
	}
	for _, h := range g.handlers {
		if err := h.prepare(); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, h.label, err)
		}
	}
	return g, nil
}

// detectFormat tells the format from the file name and, for JSON, from
// its top-level keys.
func detectFormat(file string, data []byte) (string, error) {
	base := filepath.Base(file)
	ext := strings.ToLower(filepath.Ext(file))
	switch {
	case ext == ".yml" || ext == ".yaml" || ext == ".toml":
		return formatTraefik, nil
	case ext == ".json":
		var top map[string]json.RawMessage
		if err := json.Unmarshal(data, &top); err != nil {
			return "", fmt.Errorf("%s: not a JSON object: %s: %w", file, err.Error(), errConfig)
		}
		if _, ok := top["apps"]; ok {
			return formatCaddyJSON, nil
		}
		if _, ok := top["http"]; ok {
			return formatTraefik, nil
		}
		return formatImgate, nil
	case strings.HasPrefix(base, "Caddyfile") || ext == ".caddyfile":
		return formatCaddyfile, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its name; give -format %s: %w", file, strings.Join(formats, "|"), errConfig)
}

// imgateHandler reads a file holding one imgate config, with or without
// the "handler": "imgate" key of a Caddy route.
func imgateHandler(data []byte) ([]*handler, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object: %s: %w", err.Error(), errConfig)
	}
	if _, ok := fields["handler"]; !ok {
		fields["handler"] = json.RawMessage(`"imgate"`)
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	cfg, _, err := caddymodule.HandlerConfig(raw)
	if err != nil {
		return nil, err
	}
	return []*handler{{label: "config", cfg: cfg}}, nil
}

// traefikHandlers finds the middlewares of a Traefik dynamic file that use
// the plugin, decoded as Traefik's file provider and the plugin's
// mapstructure decoding give them to the plugin, sorted by name.
func traefikHandlers(data []byte, ext, plugin string) ([]*handler, error) {
	if !strings.EqualFold(ext, ".toml") {
		// Traefik's file provider reads .json files as YAML; a file whose
		// name says nothing (given with -format traefik) is read so too.
		ext = ".yml"
	}
	configs, err := traefikconf.FromFile(data, ext)
	if err != nil {
		return nil, err
	}
	var names, others []string
	for name, plugins := range configs {
		if _, ok := plugins[plugin]; ok {
			names = append(names, name)
		} else {
			for p := range plugins {
				others = append(others, p)
			}
		}
	}
	if len(names) == 0 && len(others) > 0 {
		sort.Strings(others)
		return nil, fmt.Errorf("no middleware uses plugin %q, only %s; name imgate's with -plugin: %w", plugin, strings.Join(others, ", "), errConfig)
	}
	sort.Strings(names)
	var out []*handler
	for _, name := range names {
		var cfg core.Config
		if err := traefikconf.Decode(configs[name][plugin], &cfg); err != nil {
			return nil, fmt.Errorf("middleware %s: %w", name, err)
		}
		out = append(out, &handler{label: "middleware " + name, cfg: cfg, name: name})
	}
	return out, nil
}

// prepare makes the config offline-safe and checks that it builds. The
// durable delivery is taken out: it would create the spool directory and
// deliver to delivery.url. Forwarded after-callbacks are acknowledged the
// same way without it (the reply does not depend on the spool).
func (h *handler) prepare() error {
	if h.cfg.Delivery != (core.DeliveryConfig{}) {
		h.cfg.Delivery = core.DeliveryConfig{}
		h.notes = append(h.notes, "delivery is not run: forwarded after-callbacks are acknowledged without a spool")
	}
	e, err := core.New(h.cfg)
	if err != nil {
		return err
	}
	h.warnings = e.Warnings()
	e.Close()
	return nil
}

// selector says which handler answers a case: by the case's path (Caddy,
// unless route is set) or by middleware name (Traefik).
type selector struct {
	route      string
	middleware string
}

// validate rejects a selector flag the format has no use for.
func (s selector) validate(format string) error {
	caddy := format == formatCaddyfile || format == formatCaddyJSON
	if s.route != "" && !caddy {
		return fmt.Errorf("-route selects a Caddy route; this is a %s config: %w", format, errConfig)
	}
	if s.middleware != "" && format != formatTraefik {
		return fmt.Errorf("-middleware selects a Traefik middleware; this is a %s config: %w", format, errConfig)
	}
	return nil
}

// choose returns the handler that answers r.
func (g *gateway) choose(r *http.Request, s selector) (*handler, error) {
	switch g.format {
	case formatCaddyfile, formatCaddyJSON:
		path := r.URL.Path
		if s.route != "" {
			path = s.route
		}
		for _, h := range g.handlers {
			if routeMatches(h.route, path) {
				return h, nil
			}
		}
		return nil, fmt.Errorf("no imgate handler's route matches path %s (%s); give -route <path> to pick one", path, g.labels())
	case formatTraefik:
		if s.middleware != "" {
			for _, h := range g.handlers {
				if h.name == s.middleware {
					return h, nil
				}
			}
			return nil, fmt.Errorf("no middleware %q uses the plugin (%s)", s.middleware, g.labels())
		}
		if len(g.handlers) > 1 {
			return nil, fmt.Errorf("%d middlewares use the plugin (%s); give -middleware <name>", len(g.handlers), g.labels())
		}
	}
	return g.handlers[0], nil
}

func (g *gateway) labels() string {
	labels := make([]string, len(g.handlers))
	for i, h := range g.handlers {
		labels[i] = h.label
	}
	return strings.Join(labels, "; ")
}
