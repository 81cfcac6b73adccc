package wasmhost

import (
	"context"

	"github.com/http-wasm/http-wasm-host-go/api"
)

// logger passes the guest's log calls to a function, with the ABI's level
// (-1 debug, 0 info, 1 warn, 2 error), as Traefik's WasmLogger passes them
// to its logger; every level is enabled, as in Traefik.
type logger struct {
	logf func(level int, msg string)
}

func (l logger) IsEnabled(api.LogLevel) bool { return true }

func (l logger) Log(_ context.Context, level api.LogLevel, msg string) {
	if l.logf != nil {
		l.logf(int(level), msg)
	}
}
