package caddymodule

import (
	"context"
	"maps"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/imgate/imgate/core"
)

// isolatedNext returns the function core uses to call the rest of the route
// when it forwards a callback.
//
// core runs that call in its own goroutine and, when the platform deadline
// passes, answers the platform and returns while the call may still be
// running. Caddy then finishes the request (access log, vars, replacer) on
// the request goroutine. A late reverse_proxy must therefore not write
// anything the request goroutine reads: Caddy's vars table is a plain map
// (reverse_proxy stores its upstream in it) and the access log reads it. So
// the upstream call gets, prepared here on the request goroutine before core
// starts its own:
//   - its own copy of the vars table,
//   - its own replacer, whose values it sets (http.reverse_proxy.*) stay
//     private, and which resolves other placeholders from the request's
//     replacer except {http.response.*}, which would read the headers of the
//     reply imgate may be writing at the same time,
//   - its own extra-log-fields holder.
//
// The upstream's placeholders therefore do not reach the access log; imgate
// logs the upstream outcome itself.
func isolatedNext(r *http.Request, next caddyhttp.Handler) core.NextFunc {
	ctx := r.Context()
	vars, _ := ctx.Value(caddyhttp.VarsCtxKey).(map[string]any)
	ownVars := make(map[string]any, len(vars)+2)
	maps.Copy(ownVars, vars)
	ownRepl := caddy.NewEmptyReplacer()
	if shared, ok := ctx.Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		ownRepl.Map(func(key string) (any, bool) {
			if strings.HasPrefix(key, "http.response.") {
				return nil, false
			}
			return shared.Get(key)
		})
	}
	return func(w http.ResponseWriter, up *http.Request) error {
		uctx := context.WithValue(up.Context(), caddyhttp.VarsCtxKey, ownVars)
		uctx = context.WithValue(uctx, caddy.ReplacerCtxKey, ownRepl)
		uctx = context.WithValue(uctx, caddyhttp.ExtraLogFieldsCtxKey, new(caddyhttp.ExtraLogFields))
		return next.ServeHTTP(w, up.WithContext(uctx))
	}
}
