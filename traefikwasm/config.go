package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/imgate/imgate/core"
	"github.com/mitchellh/mapstructure"
)

// errUnsupported marks a configuration this runtime refuses to run.
var errUnsupported = errors.New("not supported by the WASM plugin")

// decodeConfig reads the middleware's configuration as Traefik hands it to
// a WASM plugin: the dynamic configuration's map, marshaled to JSON. It is
// decoded with the settings Traefik's Yaegi loader uses for the
// interpreted plugin (mapstructure, weakly typed input, comma-separated
// strings to slices, keys matched case-insensitively, unknown keys
// ignored), so the same keys and values work in both runtimes, including
// the all-strings shape of Docker labels. Empty input is the empty config.
func decodeConfig(data []byte) (core.Config, error) {
	var cfg core.Config
	if len(data) == 0 {
		return cfg, nil
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return cfg, fmt.Errorf("reading the configuration Traefik passed: %w", err)
	}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		DecodeHook:       mapstructure.StringToSliceHookFunc(","),
		WeaklyTypedInput: true,
		Result:           &cfg,
	})
	if err != nil {
		return cfg, fmt.Errorf("creating the configuration decoder: %w", err)
	}
	if err := dec.Decode(raw); err != nil {
		return cfg, fmt.Errorf("decoding the configuration: %w", err)
	}
	return cfg, checkSupported(cfg)
}

// checkSupported refuses what this runtime cannot enforce, rather than run
// it weaker than configured. Rate limits count in memory, and Traefik's
// WASM host runs a middleware as a pool of module instances that share no
// memory: it takes an instance per concurrent request, creates more as
// needed and drops idle ones at garbage collection, so each instance would
// count apart and forget its counts. The shared store (store.type redis)
// would share them, but an http-wasm guest gets no sockets to reach Redis.
func checkSupported(cfg core.Config) error {
	if cfg.Store.Type != "" && !strings.EqualFold(strings.TrimSpace(cfg.Store.Type), core.StoreMemory) {
		return fmt.Errorf("store.type %q: the WASM plugin cannot reach a shared store (an http-wasm guest has no sockets); use the Yaegi plugin or Caddy for rate limits shared through Redis: %w", cfg.Store.Type, errUnsupported)
	}
	for i, r := range cfg.Rules {
		if r.Rate != "" {
			return fmt.Errorf("rules[%d].rate (rule %q): rate limits need memory that every request shares, and Traefik runs a WASM plugin as separate instances that share none; use the Yaegi plugin or Caddy for rate rules: %w", i, r.Name, errUnsupported)
		}
	}
	return nil
}
