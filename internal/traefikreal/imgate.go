package traefikreal

import (
	"fmt"
	"os"

	"github.com/imgate/imgate/internal/traefikload"
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
