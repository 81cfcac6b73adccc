// Package wasmhost runs imgate's WASM plugin (plugin.wasm, built from
// traefikwasm) in process the way Traefik v3.7.9 runs a WASM middleware:
// http-wasm-host-go v0.7.0's net/http handler on wazero v1.8.0, with WASI
// preview 1, the real wall clock, the start functions _start and
// _initialize, and the middleware's configuration marshaled to JSON as the
// guest config (Traefik's pkg/plugins/middlewarewasm.go). Tests and
// benchmarks use it to run the plugin without starting Traefik; the real
// Traefik runs in internal/traefikreal.
package wasmhost

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"

	"github.com/http-wasm/http-wasm-host-go/handler"
	wasm "github.com/http-wasm/http-wasm-host-go/handler/nethttp"
	"github.com/imgate/imgate/traefikwasm/build"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Module is a compiled plugin.wasm that middlewares are built from.
type Module struct {
	code  []byte
	cache wazero.CompilationCache
}

// Load reads and compiles plugin.wasm once; every middleware built from
// the Module reuses the compiled code, as Traefik's builder does. A module
// that still has bulk-memory instructions is refused: this wazero version
// (Traefik's) corrupts such a guest under load (see build.LowerBulkMemory),
// so it was not built by build.Build.
func Load(ctx context.Context, wasmPath string) (*Module, error) {
	code, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, fmt.Errorf("loading the wasm binary: %w", err)
	}
	if n, err := build.CountBulkMemory(code); err != nil || n > 0 {
		return nil, fmt.Errorf("%s has %d bulk-memory instructions (%v); build it with cmd/imgate-wasm (build.Build), which lowers them: %w", wasmPath, n, err, build.ErrModule)
	}
	m := &Module{code: code, cache: wazero.NewCompilationCache()}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(m.cache))
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, code); err != nil {
		return nil, fmt.Errorf("compiling the guest module: %w", err)
	}
	return m, nil
}

// Middleware is one middleware instance pool in front of next.
type Middleware struct {
	http.Handler
	mw wasm.Middleware
	rt *countingRuntime
}

// countingRuntime counts the guest instances the pool creates: http-wasm
// instantiates every guest through the runtime it is given (WASI and its
// host module are instantiated on the runtime itself, uncounted).
type countingRuntime struct {
	wazero.Runtime
	instances atomic.Int64
}

func (r *countingRuntime) InstantiateModule(ctx context.Context, compiled wazero.CompiledModule, config wazero.ModuleConfig) (api.Module, error) {
	r.instances.Add(1)
	return r.Runtime.InstantiateModule(ctx, compiled, config)
}

// Instances returns how many guest instances the pool has created, the
// first one included: Traefik's host makes one per concurrent request,
// and a new one when the garbage collector has dropped an idle one.
func (m *Middleware) Instances() int64 { return m.rt.instances.Load() }

// Mount is a host directory the guest may read (Traefik's plugin
// settings.mounts entry, "dir" or "host:guest", ":ro" for read-only).
type Mount = string

// New builds a middleware for config in front of next, as Traefik builds
// one per router and configuration. Logs go to logf (level and message);
// nil drops them. Close releases the instances.
func (m *Module) New(ctx context.Context, config map[string]any, next http.Handler, logf func(level int, msg string), mounts ...Mount) (*Middleware, error) {
	rt := &countingRuntime{Runtime: wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCompilationCache(m.cache))}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt.Runtime); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("instantiating wasi: %w", err)
	}
	moduleConfig := wazero.NewModuleConfig().WithSysWalltime().WithStartFunctions("_start", "_initialize")
	if len(mounts) > 0 {
		fs := wazero.NewFSConfig()
		for _, dir := range mounts {
			fs = fs.WithDirMount(dir, dir)
		}
		moduleConfig = moduleConfig.WithFSConfig(fs)
	}
	opts := []handler.Option{
		handler.ModuleConfig(moduleConfig),
		handler.Logger(logger{logf}),
		handler.Runtime(func(context.Context) (wazero.Runtime, error) { return rt, nil }),
	}
	if config != nil {
		data, err := json.Marshal(config)
		if err != nil {
			rt.Close(ctx)
			return nil, fmt.Errorf("marshaling config: %w", err)
		}
		opts = append(opts, handler.GuestConfig(data))
	}
	mw, err := wasm.NewMiddleware(ctx, m.code, opts...)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("creating middleware: %w", err)
	}
	return &Middleware{Handler: mw.NewHandler(ctx, next), mw: mw, rt: rt}, nil
}

// Close closes the middleware's runtime and instances.
func (m *Middleware) Close(ctx context.Context) error { return m.mw.Close(ctx) }

// AsServed gives a request built by a client (http.NewRequest,
// httptest.NewRequest) the Content-Length header that Go's server keeps
// on the requests it reads, and so Traefik's: the guest learns a body's
// length only from the header.
func AsServed(r *http.Request) *http.Request {
	if r.ContentLength > 0 && r.Header.Get("Content-Length") == "" {
		r.Header.Set("Content-Length", strconv.FormatInt(r.ContentLength, 10))
	}
	return r
}
