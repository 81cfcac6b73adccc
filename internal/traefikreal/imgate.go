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
	return LocalPlugin{
		Name:       PluginName,
		ModuleName: module,
		Install: func(dir string) error {
			if err := os.Symlink(root, dir); err != nil {
				return fmt.Errorf("linking the checkout as a local plugin: %w", err)
			}
			return nil
		},
	}, nil
}
