package main

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// routesConfig nests imgate handlers the ways Caddyfiles adapt to: a
// handle block (route with a path matcher around a subroute), two matcher
// sets on one route, a route whose only matcher is not a path, a named
// handler, and two servers.
const routesConfig = `{"apps":{"http":{"servers":{
  "b-second":{"routes":[
    {"handle":[{"handler":"imgate","defaultAction":"allow"}]}]},
  "a-first":{"routes":[
    {"match":[{"path":["/im/tencent"]}],"handle":[{"handler":"subroute","routes":[
      {"handle":[{"handler":"imgate","name":"tencent","platform":"tencent"}]}]}]},
    {"match":[{"path":["/im/openim"]},{"path":["/IM/OpenIM/*"]}],"handle":[{"handler":"subroute","routes":[
      {"match":[{"path":["*/callbackBefore*"]}],"handle":[{"handler":"imgate","platform":"openim","defaultAction":"deny"}]},
      {"handle":[{"handler":"imgate","platform":"openim"}]}]}]},
    {"match":[{"host":["example.com"]}],"handle":[{"handler":"imgate","defaultAction":"deny"}]},
    {"handle":[{"handler":"static_response","body":"not imgate"}]}]}
}}}}`

// TestCaddyRouteSelection: a case goes to the first imgate handler, in
// Caddy's order, whose enclosing routes' path matchers all match its path,
// as Caddy's own path matcher evaluates them.
func TestCaddyRouteSelection(t *testing.T) {
	handlers, err := caddyHandlers([]byte(routesConfig))
	if err != nil {
		t.Fatal(err)
	}
	g := &gateway{format: formatCaddyJSON, handlers: handlers}
	wantLabels := "server a-first route /im/tencent (name tencent); " +
		"server a-first route /im/openim /im/openim/* */callbackbefore*; " +
		"server a-first route /im/openim /im/openim/*; " +
		"server a-first route *; " +
		"server b-second route *"
	if got := g.labels(); got != wantLabels {
		t.Errorf("labels\n  %s\nwant\n  %s", got, wantLabels)
	}
	tests := []struct{ path, route, want string }{
		{"/im/tencent", "", "server a-first route /im/tencent (name tencent)"},
		{"/IM/Tencent", "", "server a-first route /im/tencent (name tencent)"},
		{"/im/openim/callbackBeforeJoinGroupCommand", "", "server a-first route /im/openim /im/openim/* */callbackbefore*"},
		{"/im/openim/callbackAfterJoinGroupCommand", "", "server a-first route /im/openim /im/openim/*"},
		{"/im/openim", "", "server a-first route /im/openim /im/openim/*"},
		{"/im//tencent", "", "server a-first route /im/tencent (name tencent)"},
		{"/elsewhere", "", "server a-first route *"},
		{"/elsewhere", "/im/tencent", "server a-first route /im/tencent (name tencent)"},
	}
	for _, tt := range tests {
		h, err := g.choose(httptest.NewRequest("POST", tt.path, nil), selector{route: tt.route})
		if err != nil {
			t.Errorf("%s (route %q): %v", tt.path, tt.route, err)
			continue
		}
		if h.label != tt.want {
			t.Errorf("%s (route %q): %s, want %s", tt.path, tt.route, h.label, tt.want)
		}
	}
	if h := handlers[0]; h.cfg.Platform != "tencent" {
		t.Errorf("first handler's config %+v", h.cfg)
	}
}

// TestCaddyRouteErrors: config check cannot read is refused with the place.
func TestCaddyRouteErrors(t *testing.T) {
	for _, tt := range []struct{ name, config, want string }{
		{"bad path matcher", `{"apps":{"http":{"servers":{"s":{"routes":[{"match":[{"path":"/x"}],"handle":[]}]}}}}}`, "path matcher"},
		{"bad imgate key", `{"apps":{"http":{"servers":{"s":{"routes":[{"match":[{"path":["/x"]}],"handle":[{"handler":"imgate","rulez":[]}]}]}}}}}`, "route /x: imgate handler"},
		{"not JSON", `{"apps":`, "caddy config"},
	} {
		_, err := caddyHandlers([]byte(tt.config))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	g := &gateway{format: formatCaddyJSON}
	if handlers, err := caddyHandlers([]byte(`{"apps":{"http":{"servers":{"s":{"routes":[{"match":[{"path":["/x"]}],"handle":[{"handler":"imgate"}]}]}}}}}`)); err == nil {
		g.handlers = handlers
	}
	if _, err := g.choose(httptest.NewRequest("POST", "/y", nil), selector{}); err == nil || !strings.Contains(err.Error(), "route /x") {
		t.Errorf("unmatched path: %v, want an error listing the routes", err)
	}
}
