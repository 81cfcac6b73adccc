// Package caddymodule is the Caddy v2 adapter of imgate: the HTTP handler
// module http.handlers.imgate and its Caddyfile directive imgate. It turns
// Caddy's JSON or Caddyfile config into a core.Config, keeps one core.Engine
// per distinct config across reloads, calls Engine.Serve for every request
// with the client IP Caddy derived from its trusted proxies, forwards through
// the rest of the route (usually reverse_proxy) when a rule says so, and logs
// and counts every Outcome with Caddy's zap logger and Prometheus registry.
package caddymodule

import (
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/imgate/imgate/core"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler answers Tencent Cloud IM and OpenIM group callbacks. Requests it
// can decide from its rules are answered at once in the platform's exact
// reply format; requests a rule (or the default action) forwards go to the
// next handler in the route, normally reverse_proxy to the business service,
// under a deadline below the platform's budget, and any upstream failure is
// turned into the configured fallback decision. The handler never passes a
// request on unchanged: it always writes the reply itself.
//
// The JSON keys are exactly imgate's core config keys (see core.Config), plus
// the Caddy-only keys "name" and "redis_client".
type Handler struct {
	core.Config

	// Name separates the state (rate-limit buckets, list files) of handlers
	// whose imgate config is otherwise identical. Handlers with the same
	// name and config share one engine, also across config reloads; a
	// changed config or name gets a fresh engine. It is also logged.
	// Default: "" (identical configs share state).
	Name string `json:"name,omitempty"`

	// RedisClient chooses how a redis store (store.type redis) is reached:
	// "go-redis", github.com/redis/go-redis/v9 with its connection pool;
	// or "imgate", core's pipelined RESP2 client, the one the Traefik
	// plugin uses, which spends about half the CPU per shared decision
	// (docs/replicas.md). Both run the same script on the same keys, so
	// replicas may mix them. Set without a redis store, it is an error.
	// Default: "go-redis".
	RedisClient string `json:"redis_client,omitempty"`

	engine     *core.Engine
	poolKey    string
	mayForward bool
	logger     *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.imgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision builds (or reuses) the engine for this config and registers the
// metrics with this config load's registry.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	if h.Name != "" {
		h.logger = h.logger.With(zap.String("name", h.Name))
	}
	if err := registerMetrics(ctx.GetMetricsRegistry()); err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	if err := resolvePlaceholders(&h.Config); err != nil {
		return fmt.Errorf("imgate config: %w", err)
	}
	if err := checkRedisClient(h.RedisClient, h.Config.Store.Type); err != nil {
		return fmt.Errorf("imgate config: %w", err)
	}
	key := poolKey(h.Name, h.RedisClient, h.Config)
	engine, err := loadEngine(key, h.Config, h.RedisClient, h.logger)
	if err != nil {
		return fmt.Errorf("imgate config: %w", err)
	}
	h.engine, h.poolKey = engine, key
	// Handlers sharing the engine log alike; the latest one to load reports.
	engine.OnDelivery(h.observeDelivery)
	engine.OnSpoolEvent(h.observeSpool)
	engine.OnStore(h.observeStore)
	h.mayForward = core.MayForward(h.Config)
	return nil
}

// Cleanup releases this handler's reference to its engine; the engine is
// dropped when no loaded config uses it any more.
func (h *Handler) Cleanup() error {
	if h.poolKey == "" {
		return nil
	}
	key := h.poolKey
	h.poolKey = ""
	return releaseEngine(key)
}

// ServeHTTP answers one callback. The reply is always written here; next is
// only reached through the forward path.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	clientIP, _ := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string)
	var upstream core.NextFunc
	if h.mayForward {
		upstream = isolatedNext(r, next)
	}
	out := h.engine.Serve(w, r, clientIP, upstream)
	h.logOutcome(out)
	observe(out)
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
