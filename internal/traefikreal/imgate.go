package traefikreal

import (
	"fmt"
	"os"

	"github.com/imgate/imgate/internal/traefikload"
	"github.com/imgate/imgate/traefikwasm/build"
)

// PluginName is imgate's key in experimental.localPlugins, as in the
// README's static configuration.
const PluginName = "imgate"

// Imgate returns this checkout as a local plugin, set up the way the README
// tells users to: the repository symlinked at
// plugins-local/src/github.com/imgate/imgate. Traefik then reads
// .traefik.yml and the sources from the working tree itself.
func Imgate() (LocalPlugin, error) {
	root, module, err := traefikload.RepoRoot()
	if err != nil {
		return LocalPlugin{}, err
	}
	return Linked(PluginName, module, root), nil
}

// Linked returns the plugin in dir (.traefik.yml with the Go sources, or
// with plugin.wasm) as local plugin name, module: dir symlinked at
// plugins-local/src/<module>, so Traefik reads dir itself.
func Linked(name, module, dir string) LocalPlugin {
	return LocalPlugin{
		Name:       name,
		ModuleName: module,
		Install: func(at string) error {
			if err := os.Symlink(dir, at); err != nil {
				return fmt.Errorf("linking %s as a local plugin: %w", dir, err)
			}
			return nil
		},
	}
}

// WasmPluginName is the WASM plugin's key in experimental.localPlugins.
const WasmPluginName = "imgatewasm"

// ImgateWasm returns the WASM plugin built from this checkout
// (traefikwasm, built by build.Cached) as a local plugin laid out the way
// the README tells users to: plugin.wasm and .traefik.yml in
// plugins-local/src/github.com/imgate/imgate/traefikwasm. mounts are the
// host directories the plugin may read (settings.mounts: list files).
func ImgateWasm(mounts ...string) (LocalPlugin, error) {
	wasm, err := build.Cached()
	if err != nil {
		return LocalPlugin{}, err
	}
	plugin := LocalPlugin{
		Name:       WasmPluginName,
		ModuleName: build.ModuleName,
		Install:    func(dir string) error { return build.Install(wasm, dir) },
	}
	if len(mounts) > 0 {
		list := make([]any, len(mounts))
		for i, m := range mounts {
			list[i] = m + ":ro"
		}
		plugin.Settings = map[string]any{"mounts": list}
	}
	return plugin, nil
}
