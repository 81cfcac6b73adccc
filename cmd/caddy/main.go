// Command caddy is Caddy with the standard modules plus imgate: the binary
// `xcaddy build --with github.com/imgate/imgate/caddymodule` would produce,
// built with the plain Go toolchain from this module's go.mod.
//
//	go run ./cmd/caddy run --config Caddyfile.example
package main

import (
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/imgate/imgate/caddymodule"
)

func main() {
	caddycmd.Main()
}
