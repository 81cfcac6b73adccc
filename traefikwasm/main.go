// Command traefikwasm is imgate as a WebAssembly middleware plugin for
// Traefik v3 (runtime: wasm in .traefik.yml): the same core as the Caddy
// module and the interpreted plugin (traefikplugin), compiled to a WASI
// module that speaks the http-wasm handler ABI. Build it with standard Go
// through cmd/imgate-wasm, which rewrites the module's bulk-memory
// instructions (Traefik v3.7.9's wazero corrupts a guest that executes
// them; see traefikwasm/build.LowerBulkMemory):
//
//	go run ./cmd/imgate-wasm -o traefikwasm/plugin.wasm
//
// Traefik instantiates the module (running _initialize: the config is read
// and the engine built once per instance), then calls handle_request for
// every request and handle_response after the router's service answered a
// forwarded callback. The decision, reply and upstream protocol come from
// core; this package only maps them onto the ABI. The files built only for
// wasip1 hold the ABI; the rest (config decoding, request mapping) builds
// and is tested natively. See docs/traefik.md "Choosing a runtime" for what
// this runtime can and cannot do.
package main

// main does nothing: built with -buildmode=c-shared the module is a WASI
// reactor, whose _initialize runs package initialization and whose
// exports serve requests; main never runs.
func main() {}
