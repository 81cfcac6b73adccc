package core

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// Fingerprint identifies a configuration: equal configs give equal
// fingerprints, so state built from one (rate buckets, list files) can be
// reused when a gateway reloads the same config.
func Fingerprint(cfg Config) string {
	data, err := json.Marshal(cfg)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// sharedEngines holds one engine per middleware name for hosts with no
// lifecycle hook (Traefik calls New per router and on every reload and never
// closes anything). A new config under the same name replaces the old
// engine, which holds no goroutine and is simply collected.
var sharedEngines = struct {
	sync.Mutex
	byName map[string]sharedEngine
}{byName: map[string]sharedEngine{}}

type sharedEngine struct {
	fingerprint string
	engine      *Engine
}

// Shared returns the engine for name and cfg, building it only when the
// name is new or its config changed.
func Shared(name string, cfg Config) (*Engine, error) {
	fp := Fingerprint(cfg)
	sharedEngines.Lock()
	defer sharedEngines.Unlock()
	if s, ok := sharedEngines.byName[name]; ok && s.fingerprint == fp && fp != "" {
		return s.engine, nil
	}
	e, err := New(cfg)
	if err != nil {
		return nil, err
	}
	sharedEngines.byName[name] = sharedEngine{fingerprint: fp, engine: e}
	return e, nil
}

// SharedCount returns how many engines are held by Shared.
func SharedCount() int {
	sharedEngines.Lock()
	defer sharedEngines.Unlock()
	return len(sharedEngines.byName)
}
