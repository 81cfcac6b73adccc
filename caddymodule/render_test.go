package caddymodule

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/imgate/imgate/core"
)

// renderCaddyfile writes h as an imgate Caddyfile block, one subdirective
// per set JSON key. The golden suite loads every case config through it and
// the round-trip test parses it back, which together prove that every JSON
// key has a Caddyfile spelling that means the same thing.
func renderCaddyfile(h *Handler) string {
	var b strings.Builder
	w := func(indent int, key string, values ...string) {
		b.WriteString(strings.Repeat("\t", indent) + key)
		for _, v := range values {
			b.WriteString(" " + quote(v))
		}
		b.WriteString("\n")
	}
	str := func(indent int, key, v string) {
		if v != "" {
			w(indent, key, v)
		}
	}
	num := func(indent int, key string, v int) {
		if v != 0 {
			w(indent, key, strconv.Itoa(v))
		}
	}
	strs := func(indent int, key string, vs []string) {
		if len(vs) > 0 {
			w(indent, key, vs...)
		}
	}
	c := &h.Config
	b.WriteString("imgate {\n")
	str(1, "name", h.Name)
	str(1, "platform", c.Platform)
	if c.Tencent != (core.TencentConfig{}) {
		b.WriteString("\ttencent {\n")
		str(2, "app_id", c.Tencent.AppID)
		str(2, "token", c.Tencent.Token)
		str(2, "token_env", c.Tencent.TokenEnv)
		str(2, "token_file", c.Tencent.TokenFile)
		str(2, "sign_window", c.Tencent.SignWindow)
		b.WriteString("\t}\n")
	}
	if c.OpenIM.Secret != "" || c.OpenIM.SecretEnv != "" || c.OpenIM.SecretFile != "" || len(c.OpenIM.AllowedCIDRs) > 0 {
		b.WriteString("\topenim {\n")
		str(2, "secret", c.OpenIM.Secret)
		str(2, "secret_env", c.OpenIM.SecretEnv)
		str(2, "secret_file", c.OpenIM.SecretFile)
		strs(2, "allowed_cidrs", c.OpenIM.AllowedCIDRs)
		b.WriteString("\t}\n")
	}
	names := make([]string, 0, len(c.Lists))
	for name := range c.Lists {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l := c.Lists[name]
		b.WriteString("\tlist " + quote(name) + " {\n")
		strs(2, "values", l.Values)
		str(2, "file", l.File)
		b.WriteString("\t}\n")
	}
	for _, r := range c.Rules {
		b.WriteString("\trule")
		if r.Name != "" {
			b.WriteString(" " + quote(r.Name))
		}
		b.WriteString(" {\n")
		strs(2, "events", r.Events)
		strs(2, "platforms", r.Platforms)
		strs(2, "groups", r.Groups)
		strs(2, "group_types", r.GroupTypes)
		strs(2, "actors", r.Actors)
		strs(2, "members", r.Members)
		str(2, "text", r.Text)
		num(2, "max_members", r.MaxMembers)
		str(2, "rate", r.Rate)
		str(2, "rate_by", r.RateBy)
		str(2, "store_failure", r.StoreFailure)
		str(2, "action", r.Action)
		num(2, "code", r.Code)
		for _, p := range sortedKeys(r.Codes) {
			w(2, "code", p, strconv.Itoa(r.Codes[p]))
		}
		str(2, "message", r.Message)
		for _, p := range sortedKeys(r.Messages) {
			w(2, "message", p, r.Messages[p])
		}
		if r.Shadow {
			w(2, "shadow")
		}
		b.WriteString("\t}\n")
	}
	str(1, "default_action", c.DefaultAction)
	f := c.Forward
	if f.Format != "" || f.TencentDeadline != "" || f.OpenIMDeadline != "" || f.OpenIMTimeout != "" ||
		f.Fallback != "" || len(f.FallbackEvents) > 0 || f.Path != "" || f.MaxReplyBytes != 0 || f.KeepCredentials {
		b.WriteString("\tforward {\n")
		str(2, "format", f.Format)
		str(2, "tencent_deadline", f.TencentDeadline)
		str(2, "openim_deadline", f.OpenIMDeadline)
		str(2, "openim_timeout", f.OpenIMTimeout)
		str(2, "fallback", f.Fallback)
		events := make([]string, 0, len(f.FallbackEvents))
		for ev := range f.FallbackEvents {
			events = append(events, ev)
		}
		sort.Strings(events)
		for _, ev := range events {
			w(2, "fallback_event", ev, f.FallbackEvents[ev])
		}
		str(2, "path", f.Path)
		num(2, "max_reply_bytes", f.MaxReplyBytes)
		if f.KeepCredentials {
			w(2, "keep_credentials")
		}
		b.WriteString("\t}\n")
	}
	if dl := c.Delivery; dl != (core.DeliveryConfig{}) {
		b.WriteString("\tdelivery {\n")
		str(2, "url", dl.URL)
		str(2, "spool", dl.Spool)
		str(2, "max_age", dl.MaxAge)
		num(2, "max_entries", dl.MaxEntries)
		num(2, "max_bytes", int(dl.MaxBytes))
		str(2, "dedup_window", dl.DedupWindow)
		str(2, "timeout", dl.Timeout)
		str(2, "retry_min", dl.RetryMin)
		str(2, "retry_max", dl.RetryMax)
		num(2, "concurrency", dl.Concurrency)
		b.WriteString("\t}\n")
	}
	if c.Store != (core.StoreConfig{}) {
		st := c.Store
		b.WriteString("\tstore {\n")
		str(2, "type", st.Type)
		str(2, "address", st.Address)
		str(2, "password", st.Password)
		str(2, "password_env", st.PasswordEnv)
		str(2, "password_file", st.PasswordFile)
		str(2, "prefix", st.Prefix)
		str(2, "timeout", st.Timeout)
		num(2, "pool_size", st.PoolSize)
		str(2, "tls_ca_file", st.TLSCAFile)
		str(2, "client", h.RedisClient)
		b.WriteString("\t}\n")
	}
	num(1, "max_body_bytes", c.MaxBodyBytes)
	num(1, "rate_limit_max_keys", c.RateLimitMaxKeys)
	str(1, "read_timeout", c.ReadTimeout)
	str(1, "list_reload_interval", c.ListReloadInterval)
	str(1, "decision_header", c.DecisionHeader)
	b.WriteString("}\n")
	return b.String()
}

// quote returns v as one Caddyfile token with nothing interpreted:
// backticks keep backslashes, quotes, braces and # literal.
func quote(v string) string {
	if !strings.Contains(v, "`") {
		return "`" + v + "`"
	}
	if strings.HasSuffix(v, `\`) {
		panic(fmt.Sprintf("cannot quote %q as a Caddyfile token", v))
	}
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}

// sortedKeys returns a map's keys in order, for a stable rendering.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
