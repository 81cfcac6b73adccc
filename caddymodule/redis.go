package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/zap"

	"github.com/imgate/imgate/core"
)

// Caddy's engines reach a redis store through go-redis, a well-kept client
// with its own connection pool; core decides what to ask (the rate script,
// SET NX PX, EVAL after NOSCRIPT) and how long to wait, through
// core.Options.Redis. (The Traefik plugin keeps core's small RESP2 client:
// Yaegi cannot run go-redis.)

// The values of Handler.RedisClient.
const (
	RedisClientGoRedis = "go-redis"
	RedisClientImgate  = "imgate"
)

// errRedisClient marks a redis_client setting that cannot apply.
var errRedisClient = errors.New("bad redis_client")

// checkRedisClient refuses an unknown client, and a client chosen for a
// store that is not redis (a setting that would silently do nothing).
func checkRedisClient(client, storeType string) error {
	switch client {
	case "":
		return nil
	case RedisClientGoRedis, RedisClientImgate:
		if storeType != core.StoreRedis {
			return fmt.Errorf("redis_client %q is set but store.type is %q, not %q: %w", client, storeType, core.StoreRedis, errRedisClient)
		}
		return nil
	}
	return fmt.Errorf("redis_client %q: want %q or %q: %w", client, RedisClientGoRedis, RedisClientImgate, errRedisClient)
}

func init() {
	redis.SetLogger(redisLogger{log: caddy.Log})
}

// redisLogger sends go-redis's own messages (a failed dial, a bad
// connection dropped from the pool) to Caddy's log at debug level instead
// of stderr: they repeat for every attempt during an outage, which imgate
// already reports once, with its reason, as a store warning.
type redisLogger struct {
	// log is Caddy's current default logger (caddy.Log), looked up per
	// message: it changes when a config sets up logging.
	log func() *zap.Logger
}

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log().Named("http.handlers.imgate.redis").Debug(fmt.Sprintf(format, v...))
}

// redisClients holds one go-redis client per connection settings
// (core.RedisSettings.Key: server, database, user, a hash of the password
// and TLS roots, pool size) across config loads: a reload's new engine
// takes its share before the old engine gives its back, so the pool and
// its connections survive reloads, and the last share closes them.
var redisClients = caddy.NewUsagePool()

// closeRedis lets a pooled client go: its connections close.
func closeRedis(c *redis.Client) error {
	return c.Close()
}

// connectRedis is core.Options.Redis: it takes a share of the client for
// s and returns its commands and the share's release.
func connectRedis(s core.RedisSettings) core.RedisClient {
	// The constructor cannot fail, so neither can LoadOrNew.
	val, _, _ := redisClients.LoadOrNew(s.Key, func() (caddy.Destructor, error) {
		return &pooled[*redis.Client]{value: redis.NewClient(redisOptions(s)), destruct: closeRedis}, nil
	})
	client := val.(*pooled[*redis.Client]).value
	return core.RedisClient{Do: redisDo(client), Release: func() { _, _ = redisClients.Delete(s.Key) }}
}

// redisOptions configure go-redis for decisions with a budget: core stops
// waiting at the budget and gives each command a context of at most a
// second, which bounds every wait of go-redis (for a connection from the
// pool, a reply); a failed command is not retried (the rule's
// storeFailure decides instead), and dials run in the background with
// their own timeout, as core's client does.
func redisOptions(s core.RedisSettings) *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr,
		Username:              s.Username,
		Password:              s.Password,
		DB:                    s.DB,
		TLSConfig:             s.TLS,
		PoolSize:              s.PoolSize,
		MaxActiveConns:        s.PoolSize,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialTimeout:           time.Second,
		// One attempt per dial: a refused connection fails the decisions
		// waiting for it at once ("down", as core's client reports it)
		// instead of after retries that outlast their budget.
		DialerRetries: 1,
		// Managed-Redis maintenance notices are of no use to one-script
		// decisions; off, no command is sent for them.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
}

// redisDo sends one command with go-redis, its results mapped to
// core.RedisDo's conventions (which are go-redis's but for the nil and
// error replies).
func redisDo(client *redis.Client) core.RedisDo {
	return func(ctx context.Context, args ...any) (any, error) {
		v, err := client.Do(ctx, args...).Result()
		if err == nil {
			return v, nil
		}
		if errors.Is(err, redis.Nil) {
			return nil, core.ErrRedisNil
		}
		var reply redis.Error
		if errors.As(err, &reply) {
			return nil, core.RedisErrorReply(reply.Error())
		}
		return nil, err
	}
}
