package caddymodule

import (
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/imgate/imgate/core"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("imgate", parseCaddyfile)
	// imgate answers or forwards to reverse_proxy, so it must run before it;
	// ordering it here spares users an `order` line.
	httpcaddyfile.RegisterDirectiveOrder("imgate", httpcaddyfile.Before, "reverse_proxy")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Every
// subdirective is the snake_case spelling of its JSON key; the only
// reshaped keys are lists (one `list` block per list), rules (one `rule`
// block per rule, in order) and forward.fallbackEvents (one
// `fallback_event` line per event). Syntax:
//
//	imgate [<matcher>] {
//	    name                 <name>
//	    platform             auto|tencent|openim
//	    tencent {
//	        app_id      <sdkappid>
//	        token       <token>
//	        token_env   <variable>
//	        token_file  <path>
//	        sign_window <duration>
//	    }
//	    openim {
//	        secret        <secret>
//	        secret_env    <variable>
//	        secret_file   <path>
//	        allowed_cidrs <cidr...>
//	    }
//	    list <name> [<id...>] {
//	        values <id...>
//	        file   <path>
//	    }
//	    rule [<name>] {
//	        events      <event...>
//	        platforms   tencent|openim...
//	        groups      <id|@list...>
//	        group_types <type...>
//	        actors      <id|@list...>
//	        members     <id|@list...>
//	        text        <regexp>
//	        max_members <n>
//	        rate        <n>/<duration>
//	        rate_by     actor|group
//	        store_failure allow|deny|local
//	        action      allow|deny|forward
//	        code        [<platform>] <code>
//	        message     [<platform>] <text>
//	        shadow
//	    }
//	    default_action       allow|deny|forward
//	    forward {
//	        format           normalized|native
//	        tencent_deadline <duration>
//	        openim_deadline  <duration>
//	        openim_timeout   <duration>
//	        fallback         allow|deny
//	        fallback_event   <event> allow|deny
//	        path             <path>
//	        max_reply_bytes  <n>
//	        keep_credentials
//	    }
//	    delivery {
//	        url          <url>
//	        spool        <dir>
//	        max_age      <duration>
//	        max_entries  <n>
//	        max_bytes    <n>
//	        dedup_window <duration>
//	        timeout      <duration>
//	        retry_min    <duration>
//	        retry_max    <duration>
//	        concurrency  <n>
//	    }
//	    store {
//	        type          memory|redis
//	        address       redis://host:6379/0|rediss://...
//	        password      <password>
//	        password_env  <variable>
//	        password_file <path>
//	        prefix        <prefix>
//	        timeout       <duration>
//	        pool_size     <n>
//	        tls_ca_file   <path>
//	        client        go-redis|imgate
//	    }
//	    max_body_bytes       <n>
//	    rate_limit_max_keys  <n>
//	    read_timeout         <duration>
//	    list_reload_interval <duration>
//	    decision_header      <header>
//	}
//
// Values are checked for form here (durations, numbers, choices, code
// ranges) so mistakes point at the Caddyfile line; the rest (list files,
// regular expressions, per-platform code ranges, deadlines against
// budgets) is checked by core when the config is provisioned.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.Errf("imgate takes no arguments, only a block; got %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		key := d.Val()
		var err error
		switch key {
		case "name":
			err = p.word(key, &h.Name)
		case "platform":
			err = p.choice(key, &h.Platform, append([]string{core.PlatformAuto}, core.Platforms()...)...)
		case "tencent":
			err = p.once(key, func() error { return parseTencent(d, &h.Tencent) })
		case "openim":
			err = p.once(key, func() error { return parseOpenIM(d, &h.OpenIM) })
		case "list":
			err = parseList(d, &h.Config)
		case "rule":
			err = parseRule(d, &h.Config)
		case "default_action":
			err = p.choice(key, &h.DefaultAction, core.ActionAllow, core.ActionDeny, core.ActionForward)
		case "forward":
			err = p.once(key, func() error { return parseForward(d, &h.Forward) })
		case "delivery":
			err = p.once(key, func() error { return parseDelivery(d, &h.Delivery) })
		case "store":
			err = p.once(key, func() error { return parseStore(d, &h.Store, &h.RedisClient) })
		case "max_body_bytes":
			err = p.count(key, &h.MaxBodyBytes)
		case "rate_limit_max_keys":
			err = p.count(key, &h.RateLimitMaxKeys)
		case "read_timeout":
			err = p.duration(key, &h.ReadTimeout)
		case "list_reload_interval":
			err = p.duration(key, &h.ListReloadInterval)
		case "decision_header":
			err = p.word(key, &h.DecisionHeader)
		default:
			err = unknown(d, "imgate")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseTencent(d *caddyfile.Dispenser, c *core.TencentConfig) error {
	if d.NextArg() {
		return d.Errf("tencent takes a block, not arguments; got %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "app_id":
			if err = p.word(key, &c.AppID); err == nil && !isPlaceholder(c.AppID) {
				if verr := core.ValidateAppID(c.AppID); verr != nil {
					err = d.Errf("app_id: %v", verr)
				}
			}
		case "token":
			err = p.credential(key, &c.Token)
		case "token_env":
			err = p.word(key, &c.TokenEnv)
		case "token_file":
			err = p.word(key, &c.TokenFile)
		case "sign_window":
			err = p.duration(key, &c.SignWindow)
		default:
			err = unknown(d, "tencent")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseOpenIM(d *caddyfile.Dispenser, c *core.OpenIMConfig) error {
	if d.NextArg() {
		return d.Errf("openim takes a block, not arguments; got %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "secret":
			err = p.credential(key, &c.Secret)
		case "secret_env":
			err = p.word(key, &c.SecretEnv)
		case "secret_file":
			err = p.word(key, &c.SecretFile)
		case "allowed_cidrs":
			err = p.words(key, &c.AllowedCIDRs)
		default:
			err = unknown(d, "openim")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseList reads `list <name> [<id...>] { values ...; file ... }`.
func parseList(d *caddyfile.Dispenser, cfg *core.Config) error {
	if !d.NextArg() {
		return d.Errf("list needs a name: list <name> [<id...>] { values <id...>; file <path> }")
	}
	name := d.Val()
	if _, dup := cfg.Lists[name]; dup {
		return d.Errf("list %q is already defined", name)
	}
	lc := core.ListConfig{Values: d.RemainingArgs()}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "values":
			err = p.words(key, &lc.Values)
		case "file":
			err = p.word(key, &lc.File)
		default:
			err = unknown(d, "list")
		}
		if err != nil {
			return err
		}
	}
	if cfg.Lists == nil {
		cfg.Lists = map[string]core.ListConfig{}
	}
	cfg.Lists[name] = lc
	return nil
}

// parseRule reads `rule [<name>] { ... }` and appends it, keeping order.
func parseRule(d *caddyfile.Dispenser, cfg *core.Config) error {
	var rc core.RuleConfig
	if d.NextArg() {
		rc.Name = d.Val()
		for _, r := range cfg.Rules {
			if r.Name == rc.Name {
				return d.Errf("rule %q is already defined", rc.Name)
			}
		}
	}
	if d.NextArg() {
		return d.Errf("rule takes one name and a block; unexpected %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "events":
			err = p.words(key, &rc.Events)
		case "platforms":
			err = p.words(key, &rc.Platforms)
			for _, v := range rc.Platforms {
				if err == nil && !isPlatform(v) {
					err = d.Errf("platforms: %q is not %s", v, strings.Join(core.Platforms(), " or "))
				}
			}
		case "groups":
			err = p.words(key, &rc.Groups)
		case "group_types":
			err = p.words(key, &rc.GroupTypes)
		case "actors":
			err = p.words(key, &rc.Actors)
		case "members":
			err = p.words(key, &rc.Members)
		case "text":
			err = p.word(key, &rc.Text)
		case "max_members":
			err = p.count(key, &rc.MaxMembers)
		case "rate":
			if err = p.word(key, &rc.Rate); err == nil {
				if _, _, rerr := core.ParseRate(rc.Rate); rerr != nil {
					err = d.Errf("rate: %v", rerr)
				}
			}
		case "rate_by":
			err = p.choice(key, &rc.RateBy, "actor", "group")
		case "store_failure":
			err = p.choice(key, &rc.StoreFailure, core.StoreFailureAllow, core.StoreFailureDeny, core.StoreFailureLocal)
		case "action":
			err = p.choice(key, &rc.Action, core.ActionAllow, core.ActionDeny, core.ActionForward)
		case "code":
			err = parseRuleCode(d, &rc)
		case "message":
			err = parseRuleMessage(d, &rc)
		case "shadow":
			err = p.flag(key, &rc.Shadow)
		default:
			err = unknown(d, "rule")
		}
		if err != nil {
			return err
		}
	}
	if rc.Action == "" {
		return d.Errf("rule %q has no action; add: action allow|deny|forward", rc.Name)
	}
	cfg.Rules = append(cfg.Rules, rc)
	return nil
}

// parseRuleCode reads `code <n>` (every platform) or `code <platform> <n>`
// (repeatable, one per platform): one rule, a code per platform.
func parseRuleCode(d *caddyfile.Dispenser, rc *core.RuleConfig) error {
	args := d.RemainingArgs()
	var n int
	var err error
	switch len(args) {
	case 1:
		if rc.Code != 0 {
			return d.Errf("code is already specified in this rule")
		}
		if n, err = strconv.Atoi(args[0]); err != nil || !core.ValidDenyCode(n) {
			return d.Errf("code %s is not %s", args[0], core.DenyCodeRanges())
		}
		rc.Code = n
	case 2:
		if !isPlatform(args[0]) {
			return d.Errf("code %s %s: %q is not %s", args[0], args[1], args[0], strings.Join(core.Platforms(), " or "))
		}
		if _, dup := rc.Codes[args[0]]; dup {
			return d.Errf("code %s is already specified in this rule", args[0])
		}
		if n, err = strconv.Atoi(args[1]); err != nil || !core.ValidDenyCode(n) {
			return d.Errf("code %s %s: %q is not %s", args[0], args[1], args[1], core.DenyCodeRanges())
		}
		if rc.Codes == nil {
			rc.Codes = map[string]int{}
		}
		rc.Codes[args[0]] = n
	default:
		return d.Errf("code takes a code, or a platform and a code: code [tencent|openim] <code>")
	}
	return nil
}

// parseRuleMessage reads `message <text>` or `message <platform> <text>`.
func parseRuleMessage(d *caddyfile.Dispenser, rc *core.RuleConfig) error {
	args := d.RemainingArgs()
	switch {
	case len(args) == 1:
		if rc.Message != "" {
			return d.Errf("message is already specified in this rule")
		}
		rc.Message = args[0]
	case len(args) == 2 && isPlatform(args[0]):
		if _, dup := rc.Messages[args[0]]; dup {
			return d.Errf("message %s is already specified in this rule", args[0])
		}
		if rc.Messages == nil {
			rc.Messages = map[string]string{}
		}
		rc.Messages[args[0]] = args[1]
	default:
		return d.Errf("message takes one text, or a platform and a text (quote texts containing spaces): message [tencent|openim] <text>")
	}
	return nil
}

func parseForward(d *caddyfile.Dispenser, c *core.ForwardConfig) error {
	if d.NextArg() {
		return d.Errf("forward takes a block, not arguments; got %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "format":
			err = p.choice(key, &c.Format, core.FormatNormalized, core.FormatNative)
		case "tencent_deadline":
			err = p.duration(key, &c.TencentDeadline)
		case "openim_deadline":
			err = p.duration(key, &c.OpenIMDeadline)
		case "openim_timeout":
			err = p.duration(key, &c.OpenIMTimeout)
		case "fallback":
			err = p.choice(key, &c.Fallback, core.ActionAllow, core.ActionDeny)
		case "fallback_event":
			err = parseFallbackEvent(d, c)
		case "path":
			if err = p.word(key, &c.Path); err == nil && !strings.HasPrefix(c.Path, "/") {
				err = d.Errf("path %q does not start with /", c.Path)
			}
		case "max_reply_bytes":
			err = p.count(key, &c.MaxReplyBytes)
		case "keep_credentials":
			err = p.flag(key, &c.KeepCredentials)
		default:
			err = unknown(d, "forward")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseStore(d *caddyfile.Dispenser, c *core.StoreConfig, client *string) error {
	if d.NextArg() {
		return d.Errf("store takes a block, not arguments; got %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "type":
			err = p.choice(key, &c.Type, core.StoreMemory, core.StoreRedis)
		case "address":
			err = p.word(key, &c.Address)
		case "password":
			err = p.credential(key, &c.Password)
		case "password_env":
			err = p.word(key, &c.PasswordEnv)
		case "password_file":
			err = p.word(key, &c.PasswordFile)
		case "prefix":
			err = p.word(key, &c.Prefix)
		case "timeout":
			err = p.duration(key, &c.Timeout)
		case "pool_size":
			err = p.count(key, &c.PoolSize)
		case "tls_ca_file":
			err = p.word(key, &c.TLSCAFile)
		case "client":
			err = p.choice(key, client, RedisClientGoRedis, RedisClientImgate)
		default:
			err = unknown(d, "store")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parseDelivery(d *caddyfile.Dispenser, c *core.DeliveryConfig) error {
	if d.NextArg() {
		return d.Errf("delivery takes a block, not arguments; got %q", d.Val())
	}
	p := blockParser{d: d, seen: map[string]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var err error
		switch key := d.Val(); key {
		case "url":
			err = p.word(key, &c.URL)
		case "spool":
			err = p.word(key, &c.Spool)
		case "max_age":
			err = p.duration(key, &c.MaxAge)
		case "max_entries":
			err = p.count(key, &c.MaxEntries)
		case "max_bytes":
			var n int
			if err = p.count(key, &n); err == nil {
				c.MaxBytes = int64(n)
			}
		case "dedup_window":
			err = p.duration(key, &c.DedupWindow)
		case "timeout":
			err = p.duration(key, &c.Timeout)
		case "retry_min":
			err = p.duration(key, &c.RetryMin)
		case "retry_max":
			err = p.duration(key, &c.RetryMax)
		case "concurrency":
			err = p.count(key, &c.Concurrency)
		default:
			err = unknown(d, "delivery")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseFallbackEvent reads `fallback_event <event> allow|deny`.
func parseFallbackEvent(d *caddyfile.Dispenser, c *core.ForwardConfig) error {
	var event, decision string
	if !d.Args(&event, &decision) || d.NextArg() {
		return d.Errf("fallback_event takes an event and a decision: fallback_event <event> allow|deny")
	}
	if decision != core.ActionAllow && decision != core.ActionDeny {
		return d.Errf("fallback_event %s: %q is not allow or deny", event, decision)
	}
	if _, dup := c.FallbackEvents[event]; dup {
		return d.Errf("fallback_event %s is already set", event)
	}
	if c.FallbackEvents == nil {
		c.FallbackEvents = map[string]string{}
	}
	c.FallbackEvents[event] = decision
	return nil
}

// blockParser reads the subdirectives of one block and rejects a
// single-valued subdirective given twice.
type blockParser struct {
	d    *caddyfile.Dispenser
	seen map[string]bool
}

func (p blockParser) once(key string, parse func() error) error {
	if p.seen[key] {
		return p.d.Errf("%s is already specified in this block", key)
	}
	p.seen[key] = true
	return parse()
}

// word reads exactly one argument.
func (p blockParser) word(key string, dst *string) error {
	return p.once(key, func() error {
		if !p.d.NextArg() {
			return p.d.Errf("%s needs one value", key)
		}
		*dst = p.d.Val()
		if p.d.NextArg() {
			return p.d.Errf("%s takes one value; unexpected %q (quote values containing spaces)", key, p.d.Val())
		}
		return nil
	})
}

// words reads one or more arguments; repeated lines append.
func (p blockParser) words(key string, dst *[]string) error {
	args := p.d.RemainingArgs()
	if len(args) == 0 {
		return p.d.Errf("%s needs at least one value", key)
	}
	*dst = append(*dst, args...)
	return nil
}

// credential reads a token or secret. The Caddyfile replaces {$VAR} before
// parsing, so an unset variable leaves the subdirective without a value:
// say so, since a silently empty credential would turn verification off.
func (p blockParser) credential(key string, dst *string) error {
	return p.once(key, func() error {
		if !p.d.NextArg() || strings.TrimSpace(p.d.Val()) == "" {
			return p.d.Errf("%s has no value; if it comes from {$VARIABLE}, that variable is unset or empty (remove %s to run without this check)", key, key)
		}
		*dst = p.d.Val()
		if p.d.NextArg() {
			return p.d.Errf("%s takes one value; unexpected %q", key, p.d.Val())
		}
		return nil
	})
}

func (p blockParser) choice(key string, dst *string, allowed ...string) error {
	if err := p.word(key, dst); err != nil {
		return err
	}
	for _, a := range allowed {
		if *dst == a {
			return nil
		}
	}
	return p.d.Errf("%s: %q is not one of %s", key, *dst, strings.Join(allowed, ", "))
}

func (p blockParser) duration(key string, dst *string) error {
	if err := p.word(key, dst); err != nil {
		return err
	}
	if d, err := time.ParseDuration(*dst); err != nil || d <= 0 {
		return p.d.Errf("%s: %q is not a positive duration such as 1500ms or 5s", key, *dst)
	}
	return nil
}

// count reads a non-negative integer.
func (p blockParser) count(key string, dst *int) error {
	var s string
	if err := p.word(key, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return p.d.Errf("%s: %q is not a non-negative whole number", key, s)
	}
	*dst = n
	return nil
}

// flag reads a subdirective that takes no value.
func (p blockParser) flag(key string, dst *bool) error {
	return p.once(key, func() error {
		if p.d.NextArg() {
			return p.d.Errf("%s takes no value; unexpected %q", key, p.d.Val())
		}
		*dst = true
		return nil
	})
}

func unknown(d *caddyfile.Dispenser, block string) error {
	return d.Errf("unrecognized %s subdirective %q", block, d.Val())
}

func isPlatform(name string) bool {
	for _, p := range core.Platforms() {
		if name == p {
			return true
		}
	}
	return false
}

func isPlaceholder(s string) bool {
	return strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")
}

// Interface guard.
var _ caddyfile.Unmarshaler = (*Handler)(nil)
