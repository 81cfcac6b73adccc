// Package traefikconf decodes Traefik dynamic configuration the way
// Traefik v3 hands it to a plugin: the file provider (YAML or TOML, through
// traefik/paerser), the Docker provider's labels and the Kubernetes CRD
// provider, each giving the plugin's raw map in its own shape, and the
// mapstructure settings Traefik decodes that map into the plugin's Config
// with. The tests that load the plugin in Yaegi (internal/traefikload) and
// the offline checker (cmd/imgate check) share it, so a Traefik file is
// read one way everywhere. It imports no interpreter.
package traefikconf
