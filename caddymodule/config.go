package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/imgate/imgate/core"
)

// errNotImgate marks handler JSON that is not an imgate handler's.
var errNotImgate = errors.New("not an imgate handler")

// HandlerConfig returns the core config of one imgate handler's Caddy JSON
// (the object in a route's "handle" list with "handler": "imgate") as
// Provision sees it: the "handler" key taken out and the rest decoded
// strictly, as Caddy loads a module, then the global placeholders in the
// credentials and app id ({env.NAME}, {file.PATH}) resolved, failing when
// one resolves to nothing. The Caddy-only key "name" is returned apart.
// Offline tools (cmd/imgate check) build their engine from it, so they see
// the config a running Caddy would.
func HandlerConfig(raw json.RawMessage) (core.Config, string, error) {
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return core.Config{}, "", fmt.Errorf("imgate handler: %w", err)
	}
	if name, _ := fields["handler"].(string); name != "imgate" {
		return core.Config{}, "", fmt.Errorf("handler %q: %w", name, errNotImgate)
	}
	delete(fields, "handler")
	data, err := json.Marshal(fields)
	if err != nil {
		return core.Config{}, "", fmt.Errorf("imgate handler: %w", err)
	}
	var h Handler
	if err := caddy.StrictUnmarshalJSON(data, &h); err != nil {
		return core.Config{}, "", fmt.Errorf("imgate handler: %w", err)
	}
	if err := resolvePlaceholders(&h.Config); err != nil {
		return core.Config{}, "", fmt.Errorf("imgate config: %w", err)
	}
	return h.Config, h.Name, nil
}
