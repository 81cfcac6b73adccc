package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/imgate/imgate/caddymodule"
)

// routeLevel is one route's matcher sets, as far as check evaluates them:
// the route matches when any set does; a set matches when its path
// matcher does, and a set without one matches every path. A route without
// matcher sets matches everything. Other matchers (host, method, header
// ...) are not evaluated: they are taken to match.
type routeLevel struct {
	sets []caddyhttp.MatchPath // nil entry: a set without a path matcher
}

// caddyRoute is the part of a Caddy route check reads.
type caddyRoute struct {
	Match  []map[string]json.RawMessage `json:"match"`
	Handle []json.RawMessage            `json:"handle"`
}

// caddyHandlers finds every imgate handler in a Caddy JSON config with the
// path matchers of the routes that lead to it, in the order Caddy tries
// them: servers by name, routes in order, subroutes depth first.
func caddyHandlers(config []byte) ([]*handler, error) {
	var root struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []caddyRoute `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	if err := json.Unmarshal(config, &root); err != nil {
		return nil, fmt.Errorf("caddy config: %w", err)
	}
	servers := root.Apps.HTTP.Servers
	names := make([]string, 0, len(servers))
	for name := range servers {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*handler
	for _, name := range names {
		found, err := walkRoutes(servers[name].Routes, nil)
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", name, err)
		}
		for _, h := range found {
			if len(names) > 1 {
				h.label = "server " + name + " " + h.label
			}
		}
		out = append(out, found...)
	}
	return out, nil
}

// walkRoutes returns the imgate handlers of routes, nested in outer.
func walkRoutes(routes []caddyRoute, outer []routeLevel) ([]*handler, error) {
	var out []*handler
	for i, r := range routes {
		level, err := parseMatch(r.Match)
		if err != nil {
			return nil, fmt.Errorf("route %d: %w", i, err)
		}
		chain := append(append([]routeLevel(nil), outer...), level)
		for _, raw := range r.Handle {
			var head struct {
				Handler string       `json:"handler"`
				Routes  []caddyRoute `json:"routes"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, fmt.Errorf("route %d: %w", i, err)
			}
			switch head.Handler {
			case "imgate":
				cfg, name, err := caddymodule.HandlerConfig(raw)
				if err != nil {
					return nil, fmt.Errorf("route %s: %w", routeLabel(chain), err)
				}
				label := "route " + routeLabel(chain)
				if name != "" {
					label += " (name " + name + ")"
				}
				out = append(out, &handler{label: label, cfg: cfg, route: chain})
			case "subroute":
				found, err := walkRoutes(head.Routes, chain)
				if err != nil {
					return nil, err
				}
				out = append(out, found...)
			}
		}
	}
	return out, nil
}

// parseMatch reads a route's matcher sets, keeping their path matchers.
func parseMatch(sets []map[string]json.RawMessage) (routeLevel, error) {
	var level routeLevel
	for _, set := range sets {
		raw, ok := set["path"]
		if !ok {
			level.sets = append(level.sets, nil)
			continue
		}
		var m caddyhttp.MatchPath
		if err := json.Unmarshal(raw, &m); err != nil {
			return level, fmt.Errorf("path matcher: %w", err)
		}
		// Provision only normalizes the patterns; it reads no context.
		if err := m.Provision(caddy.Context{}); err != nil {
			return level, fmt.Errorf("path matcher: %w", err)
		}
		level.sets = append(level.sets, m)
	}
	return level, nil
}

// routeMatches evaluates the chain's path matchers with Caddy's own path
// matcher (case-insensitive, * wildcards, cleaned paths).
func routeMatches(chain []routeLevel, path string) bool {
	r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: path}, Header: http.Header{}}
	r = r.WithContext(context.WithValue(context.Background(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
	for _, level := range chain {
		if len(level.sets) == 0 {
			continue
		}
		matched := false
		for _, m := range level.sets {
			if m == nil {
				matched = true
				break
			}
			if ok, err := m.MatchWithError(r); err == nil && ok {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

// routeLabel names a route by its path patterns, "*" when it has none.
func routeLabel(chain []routeLevel) string {
	var paths []string
	for _, level := range chain {
		for _, m := range level.sets {
			paths = append(paths, m...)
		}
	}
	if len(paths) == 0 {
		return "*"
	}
	return strings.Join(paths, " ")
}
