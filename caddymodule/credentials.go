package caddymodule

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/imgate/imgate/core"
)

// envPlaceholder finds the variables of {env.NAME} placeholders, to name
// them when they resolve to nothing.
var envPlaceholder = regexp.MustCompile(`\{env\.([^}]+)\}`)

// resolvePlaceholders replaces Caddy's global placeholders ({env.NAME},
// {file.PATH}, ...) in the credentials, the app id and the Redis store's
// address and password, which lets them stay out of config files. A field that holds a placeholder must resolve to a
// value: "token": "{env.IMGATE_TENCENT_TOKEN}" with the variable unset
// would otherwise switch the signature check off without a word, so it
// fails the config load instead, naming the key and the variable.
func resolvePlaceholders(cfg *core.Config) error {
	repl := caddy.NewReplacer()
	fields := []struct {
		key   string
		value *string
	}{
		{"tencent.appId", &cfg.Tencent.AppID},
		{"tencent.token", &cfg.Tencent.Token},
		{"tencent.tokenFile", &cfg.Tencent.TokenFile},
		{"openim.secret", &cfg.OpenIM.Secret},
		{"openim.secretFile", &cfg.OpenIM.SecretFile},
		{"store.address", &cfg.Store.Address},
		{"store.password", &cfg.Store.Password},
		{"store.passwordFile", &cfg.Store.PasswordFile},
		{"store.tlsCaFile", &cfg.Store.TLSCAFile},
	}
	for _, f := range fields {
		raw := *f.value
		if !strings.Contains(raw, "{") {
			continue
		}
		resolved := repl.ReplaceKnown(raw, "")
		if strings.TrimSpace(resolved) == "" {
			return emptyPlaceholderError(f.key, raw)
		}
		*f.value = resolved
	}
	return nil
}

func emptyPlaceholderError(key, raw string) error {
	var unset []string
	for _, m := range envPlaceholder.FindAllStringSubmatch(raw, -1) {
		unset = append(unset, m[1])
	}
	remedy := "remove " + key + " to run without this check"
	if strings.HasPrefix(key, "store.") {
		remedy = "remove " + key
	}
	if len(unset) > 0 {
		return fmt.Errorf("%s: %s resolved to an empty value: environment variable %s is unset or empty; set it, or %s", key, raw, strings.Join(unset, ", "), remedy)
	}
	return fmt.Errorf("%s: %s resolved to an empty value; %s", key, raw, remedy)
}
