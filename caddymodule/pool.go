package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/imgate/imgate/core"
)

// engines holds one engine per distinct (name, config) across config
// loads. Caddy provisions the new config before cleaning up the old one, so
// an unchanged handler finds its engine here and keeps its rate-limit
// buckets and list state through `caddy reload`; the last Cleanup that
// releases a key drops the engine.
var engines = caddy.NewUsagePool()

// pooled is a value held in a caddy.UsagePool with what lets it go.
type pooled[T any] struct {
	value    T
	destruct func(T) error
}

// Destruct implements caddy.Destructor.
func (p *pooled[T]) Destruct() error {
	return p.destruct(p.value)
}

// closeEngine lets a pooled engine go. The engine owns no goroutine,
// timer or open file (list files are re-read on demand); it shares a
// spool, whose delivery worker core runs once per spool directory for
// every engine that uses it, and, with store.type redis, the process's
// go-redis client for that server (redis.go); Close lets go of both. A
// reload keeps them: the new config's engine takes its shares before the
// old one's is destructed, so reloads never pile up workers or
// connections.
func closeEngine(e *core.Engine) error {
	e.Close()
	return nil
}

// poolKey identifies an engine by handler name, Redis client and config
// fingerprint.
func poolKey(name, redisClient string, cfg core.Config) string {
	return core.Fingerprint(cfg) + "/" + redisClient + "/" + name
}

// loadEngine returns the engine for key, building it from cfg when no
// loaded config holds one. A new engine logs, once, the verification
// checks its config leaves off; a reload of the same config reuses the
// engine and stays quiet. Every successful call must be paired with
// releaseEngine(key).
func loadEngine(key string, cfg core.Config, redisClient string, logger *zap.Logger) (*core.Engine, error) {
	val, loaded, err := engines.LoadOrNew(key, func() (caddy.Destructor, error) {
		var opts core.Options
		if redisClient != RedisClientImgate {
			opts.Redis = connectRedis
		}
		e, err := core.NewWith(cfg, opts)
		if err != nil {
			return nil, err
		}
		if w := e.Warnings(); len(w) > 0 {
			logger.Warn("verification is off", zap.Strings("checks", w))
		}
		return &pooled[*core.Engine]{value: e, destruct: closeEngine}, nil
	})
	if err != nil {
		if loaded {
			// A concurrent load of the same failing config took a reference.
			_, _ = engines.Delete(key)
		}
		return nil, err
	}
	return val.(*pooled[*core.Engine]).value, nil
}

// releaseEngine drops one reference to key's engine.
func releaseEngine(key string) error {
	_, err := engines.Delete(key)
	return err
}
