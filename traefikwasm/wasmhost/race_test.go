//go:build race

package wasmhost

// raceEnabled: the test binary runs under the race detector, whose
// sync.Pool drops a quarter of the values put back at random (to expose
// code that relies on pooling), so http-wasm's instance pool keeps no
// instance for long.
const raceEnabled = true
