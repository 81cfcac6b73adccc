package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/internal/traefikload"
	"github.com/imgate/imgate/internal/traefikreal"
	"gopkg.in/yaml.v3"
)

// traefikLogLevel is Traefik's default log.level, so the Traefik setups
// log as a user's Traefik does: imgate's denial lines go to the DEBUG
// stream and are not written.
const traefikLogLevel = "ERROR"

// upstreamPlaceholder in a Traefik setup's dynamic configuration is
// replaced by its upstream's port.
const upstreamPlaceholder = "${BENCH_UPSTREAM_PORT}"

// traefikApplyTimeout bounds building the setup's routers and middlewares
// (the interpreted plugin's New included) on a loaded machine.
const traefikApplyTimeout = 2 * time.Minute

// TraefikVersion checks the Traefik binary the Traefik setups run and
// returns its version.
func TraefikVersion(binary string) (string, error) {
	if binary == "" {
		return "", errors.New("no Traefik binary for the Traefik setups: give -traefik or IMGATE_TRAEFIK (bench/run.sh builds one with .ci/traefik-build.sh)")
	}
	return traefikreal.Version(binary)
}

// TraefikServer is a running Traefik setup: the real binary, started by
// internal/traefikreal on free loopback ports with the setup's plugin and
// dynamic configuration. Its log goes to a file.
type TraefikServer struct {
	*traefikreal.Traefik
	label, log string
	logFile    *os.File
}

// Label names the setup's Traefik, e.g. "setup-T1".
func (t *TraefikServer) Label() string { return t.label }

// LogPath is the file Traefik's output goes to.
func (t *TraefikServer) LogPath() string { return t.log }

// Stop ends Traefik and closes its log.
func (t *TraefikServer) Stop() {
	t.Traefik.Stop()
	t.logFile.Close()
}

// StartTraefik starts setup s with the Traefik at binary, its plugin from
// the measured tree at src, and waits until its dynamic configuration
// (upstream on upstreamPort) is live. debug turns on Traefik's pprof
// endpoints (api.debug) on its API URL.
func StartTraefik(s Setup, binary, src string, upstreamPort int, logDir string, debug bool) (*TraefikServer, error) {
	dynamic, err := TraefikDynamic(filepath.Join(src, "bench", "configs", s.Config), upstreamPort)
	if err != nil {
		return nil, err
	}
	var plugins []traefikreal.LocalPlugin
	if s.Plugin != nil {
		p, err := s.Plugin.Local(src)
		if err != nil {
			return nil, fmt.Errorf("setup %s: %w", s.ID, err)
		}
		plugins = append(plugins, p)
	}
	label := "setup-" + s.ID
	logPath := filepath.Join(logDir, label+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	tr, err := traefikreal.Start(traefikreal.Options{Binary: binary, Plugins: plugins, LogLevel: traefikLogLevel, Output: logFile, Debug: debug})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	t := &TraefikServer{Traefik: tr, label: label, log: logPath, logFile: logFile}
	if err := tr.Apply(dynamic, traefikApplyTimeout); err != nil {
		t.Stop()
		return nil, fmt.Errorf("%s: %s: %w", label, s.Config, err)
	}
	return t, nil
}

// wasmFile is where a WASM plugin's manifest (wasmPath) expects the
// module, in the plugin's folder.
const wasmFile = "plugin.wasm"

// Local is the plugin as Traefik loads it: its directory in the measured
// tree at src, linked under plugins-local as "imgate". A WASM plugin's
// folder must hold plugin.wasm (BuildPlugins) and a manifest that says
// runtime: wasm.
func (p TraefikPlugin) Local(src string) (traefikreal.LocalPlugin, error) {
	dir := filepath.Join(src, filepath.FromSlash(p.Dir))
	manifest, err := os.ReadFile(filepath.Join(dir, ".traefik.yml"))
	if err != nil {
		return traefikreal.LocalPlugin{}, fmt.Errorf("plugin %s has no manifest: %w", p.Dir, err)
	}
	if wasm := strings.Contains(string(manifest), "runtime: wasm"); wasm != p.Wasm {
		return traefikreal.LocalPlugin{}, fmt.Errorf("plugin %s: its manifest's runtime is wasm: %v, the setup says %v", p.Dir, wasm, p.Wasm)
	}
	if p.Wasm {
		if _, err := os.Stat(filepath.Join(dir, wasmFile)); err != nil {
			return traefikreal.LocalPlugin{}, fmt.Errorf("plugin %s is not built (BuildPlugins): %w", p.Dir, err)
		}
	}
	module := p.Module
	if module == "" {
		var err error
		if module, err = traefikload.ModulePath(filepath.Join(dir, "go.mod")); err != nil {
			return traefikreal.LocalPlugin{}, fmt.Errorf("plugin %s: %w", p.Dir, err)
		}
	}
	return traefikreal.Linked(traefikreal.PluginName, module, dir), nil
}

// TraefikDynamic reads a Traefik setup's dynamic configuration (the file
// provider's YAML) with its upstream's port filled in.
func TraefikDynamic(path string, upstreamPort int) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(raw), upstreamPlaceholder, strconv.Itoa(upstreamPort))
	var dynamic map[string]any
	if err := yaml.Unmarshal([]byte(text), &dynamic); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := dynamic["http"].(map[string]any); !ok {
		return nil, fmt.Errorf("%s: no http section", path)
	}
	return dynamic, nil
}
