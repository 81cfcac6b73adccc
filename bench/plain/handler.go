package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/imgate/imgate/core"
)

// Handler serves every callback with core.Engine, as the Caddy module does
// minus Caddy: it decides, writes the reply and logs what the module logs
// at info level and above (denials, refusals, failures), so C and F do the
// same work per callback.
type Handler struct {
	engine *core.Engine
	log    *slog.Logger
}

// NewHandler builds the engine from cfg. A config that forwards is refused:
// this server has no upstream.
func NewHandler(cfg core.Config, log *slog.Logger) (*Handler, error) {
	if cfg.DefaultAction == core.ActionForward {
		return nil, fmt.Errorf("defaultAction forward: setup F answers every callback itself")
	}
	e, err := core.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Handler{engine: e, log: log}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out := h.engine.Serve(w, r, "", nil)
	switch out.Result {
	case core.ResultAllow, core.ResultAck:
		return
	}
	attrs := []any{"result", out.Result, "rule", out.Rule, "duration", out.Duration}
	if ev := out.Event; ev != nil {
		attrs = append(attrs, "platform", ev.Platform, "command", ev.Command, "event", ev.Event, "group", ev.GroupID, "actor", ev.Actor)
	}
	if out.Err != nil {
		attrs = append(attrs, "error", out.Err.Error())
	}
	h.log.Info("callback "+out.Result, attrs...)
}
