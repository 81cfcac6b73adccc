package traefikplugin

import (
	"io"
	"sync"

	"github.com/imgate/imgate/core"
)

// engines holds one engine per middleware name. Traefik calls New per
// router and on every configuration reload and never closes anything, so a
// new config under the same name replaces the old engine, which is closed
// (it lets go of its spool and of its share of a Redis store's connections;
// it holds no goroutine) and collected; an unchanged config keeps its
// engine, and with it its rate-limit buckets and list state.
var engines = struct {
	sync.Mutex
	byName map[string]namedEngine
}{byName: map[string]namedEngine{}}

type namedEngine struct {
	fingerprint string
	engine      *core.Engine
}

// sharedEngine returns the engine for name and cfg, building it only when
// the name is new or its config changed. A newly built engine writes one
// line naming the verification checks its config leaves off to warnings,
// so an open route is never silent; reusing an engine writes nothing.
func sharedEngine(name string, cfg Config, warnings io.Writer) (*core.Engine, error) {
	fp := core.Fingerprint(cfg)
	engines.Lock()
	defer engines.Unlock()
	if s, ok := engines.byName[name]; ok && s.fingerprint == fp && fp != "" {
		return s.engine, nil
	}
	e, err := core.New(cfg)
	if err != nil {
		return nil, err
	}
	if old, ok := engines.byName[name]; ok {
		// Built after the new one, so a spool both use keeps its worker.
		// Routers of the old config still finishing a request can use the
		// old engine; only its share of a spool goes.
		old.engine.Close()
	}
	engines.byName[name] = namedEngine{fingerprint: fp, engine: e}
	if line := WarningLog(name, e.Warnings()); line != nil {
		_, _ = warnings.Write(append(line, '\n'))
	}
	return e, nil
}

// sharedEngineCount returns how many engines are held.
func sharedEngineCount() int {
	engines.Lock()
	defer engines.Unlock()
	return len(engines.byName)
}
