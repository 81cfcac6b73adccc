package traefikload

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgate/imgate/internal/traefikconf"
	"github.com/imgate/imgate/traefikplugin"
)

// shared is the interpreted plugin every test of one process uses: loading
// interprets core and the adapter, which takes about a second, and Traefik
// itself loads a plugin once and builds every middleware from it.
var shared struct {
	once   sync.Once
	plugin *Plugin
	err    error
}

// nameSeq makes middleware names unique: core shares one engine per name,
// so tests with different configs must not share a name by accident.
var nameSeq atomic.Int64

// Shared returns the process-wide interpreted plugin, loading it on first
// use. Its log lines are discarded; load a Plugin with Options to see them.
func Shared(t testing.TB) *Plugin {
	t.Helper()
	shared.once.Do(func() {
		shared.plugin, shared.err = Load(Options{})
	})
	if shared.err != nil {
		t.Fatalf("loading the Traefik plugin: %v", shared.err)
	}
	return shared.plugin
}

// UniqueName returns a middleware name, "<test>-<n>@file" like Traefik's
// provider-qualified names, that no other call returns.
func UniqueName(t testing.TB) string {
	return fmt.Sprintf("%s-%d@file", t.Name(), nameSeq.Add(1))
}

// New builds an interpreted imgate middleware from a dynamic configuration
// map (in any provider's shape: traefikconf.AsFile, traefikconf.AsLabels, or typed as from the CRD) in
// front of next, exactly as Traefik does, under a unique name. It fails the
// test when Traefik would refuse the configuration.
func New(t testing.TB, config map[string]any, next http.Handler) http.Handler {
	t.Helper()
	h, err := Shared(t).New(context.Background(), next, config, UniqueName(t))
	if err != nil {
		t.Fatalf("interpreted plugin New: %v", err)
	}
	return h
}

// NewCompiled builds the same middleware from the compiled package: the
// config map is decoded into traefikplugin.CreateConfig() with Traefik's
// settings and traefikplugin.New is called directly. Comparing it with New
// separates interpreter effects from plugin behaviour. Its log lines are
// discarded.
func NewCompiled(t testing.TB, config map[string]any, next http.Handler) http.Handler {
	t.Helper()
	h, err := BuildCompiled(config, next, UniqueName(t))
	if err != nil {
		t.Fatalf("compiled plugin New: %v", err)
	}
	if m, ok := h.(*traefikplugin.Middleware); ok {
		m.SetLogOutput(io.Discard, io.Discard)
	}
	return h
}

// BuildCompiled decodes config like Traefik and calls the compiled
// traefikplugin.New; its log lines go where the plugin sends them.
func BuildCompiled(config map[string]any, next http.Handler, name string) (http.Handler, error) {
	cfg := traefikplugin.CreateConfig()
	if len(config) > 0 {
		if err := traefikconf.Decode(config, cfg); err != nil {
			return nil, err
		}
	}
	return traefikplugin.New(context.Background(), next, cfg, name)
}

// ForwardHeader is the decision header of ForwardConfig.
const ForwardHeader = "X-Imgate-Forward-Decision"

// ForwardConfig is the configuration of a middleware that forwards every
// callback in format ("normalized" or "native") under deadline, with
// fallback deny and the decision in ForwardHeader: the forwarding fault
// suites' config.
func ForwardConfig(format string, deadline time.Duration) map[string]any {
	return map[string]any{
		"defaultAction":  "forward",
		"decisionHeader": ForwardHeader,
		"forward": map[string]any{
			"format":          format,
			"tencentDeadline": deadline.String(),
			"openimDeadline":  deadline.String(),
			"fallback":        "deny",
		},
	}
}
