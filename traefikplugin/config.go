package traefikplugin

import "github.com/imgate/imgate/core"

// Config is the imgate configuration. It is core.Config itself, not a copy,
// so the plugin accepts exactly the keys of the Caddy JSON config: Traefik
// decodes its dynamic configuration into it with mapstructure, which matches
// the exported field names case-insensitively ("defaultAction",
// "openim.allowedCidrs", "rules[0].maxMembers" ...). Every field, its
// default and its meaning are documented on core.Config.
type Config = core.Config

// CreateConfig returns the configuration Traefik fills from the dynamic
// configuration. It is empty on purpose: core applies the documented
// defaults to every key left unset, so the plugin and the Caddy module
// cannot drift apart on defaults.
func CreateConfig() *Config {
	return &Config{}
}
