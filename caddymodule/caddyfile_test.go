package caddymodule

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/imgate/imgate/core"
)

func parse(t *testing.T, input string) (*Handler, error) {
	t.Helper()
	h := &Handler{}
	err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
	return h, err
}

// TestUnmarshalCaddyfile covers every subdirective, one per case.
func TestUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  Handler
	}{
		{"ok/empty", `imgate`, Handler{}},
		{"ok/empty-block", `imgate {
		}`, Handler{}},
		{"ok/name", `imgate {
			name site-a
		}`, Handler{Name: "site-a"}},
		{"ok/platform", `imgate {
			platform tencent
		}`, Handler{Config: core.Config{Platform: "tencent"}}},
		{"ok/tencent", `imgate {
			tencent {
				app_id 1400000001
				token abc
				sign_window 30s
			}
		}`, Handler{Config: core.Config{Tencent: core.TencentConfig{AppID: "1400000001", Token: "abc", SignWindow: "30s"}}}},
		{"ok/tencent-placeholder", `imgate {
			tencent {
				app_id {env.APP_ID}
				token {env.TOKEN}
			}
		}`, Handler{Config: core.Config{Tencent: core.TencentConfig{AppID: "{env.APP_ID}", Token: "{env.TOKEN}"}}}},
		{"ok/openim", `imgate {
			openim {
				secret s3cret
				allowed_cidrs 10.0.0.0/8 192.168.1.1
				allowed_cidrs ::1/128
			}
		}`, Handler{Config: core.Config{OpenIM: core.OpenIMConfig{Secret: "s3cret", AllowedCIDRs: []string{"10.0.0.0/8", "192.168.1.1", "::1/128"}}}}},
		{"ok/list-block", `imgate {
			list banned {
				values spammer* eve
				values mallory
				file /etc/imgate/banned.txt
			}
		}`, Handler{Config: core.Config{Lists: map[string]core.ListConfig{"banned": {Values: []string{"spammer*", "eve", "mallory"}, File: "/etc/imgate/banned.txt"}}}}},
		{"ok/list-inline", `imgate {
			list vip alice bob
		}`, Handler{Config: core.Config{Lists: map[string]core.ListConfig{"vip": {Values: []string{"alice", "bob"}}}}}},
		{"ok/rule-every-condition", `imgate {
			rule flood {
				events group.join.* group.create.before
				platforms tencent openim
				groups @TGS#1* @vipgroups
				group_types Public 2
				actors @banned bot-*
				members @banned
				text "(?i)free money"
				max_members 10
				rate 5/1m
				rate_by group
				store_failure local
				action deny
				code 10101
				message "slow down"
				shadow
			}
		}`, Handler{Config: core.Config{Rules: []core.RuleConfig{{
			Name: "flood", Events: []string{"group.join.*", "group.create.before"}, Platforms: []string{"tencent", "openim"},
			Groups: []string{"@TGS#1*", "@vipgroups"}, GroupTypes: []string{"Public", "2"}, Actors: []string{"@banned", "bot-*"},
			Members: []string{"@banned"}, Text: "(?i)free money", MaxMembers: 10, Rate: "5/1m", RateBy: "group", StoreFailure: "local",
			Action: "deny", Code: 10101, Message: "slow down", Shadow: true,
		}}}}},
		{"ok/rules-keep-order-and-may-be-unnamed", `imgate {
			rule b {
				action allow
			}
			rule {
				action forward
			}
			rule a {
				action deny
			}
		}`, Handler{Config: core.Config{Rules: []core.RuleConfig{{Name: "b", Action: "allow"}, {Action: "forward"}, {Name: "a", Action: "deny"}}}}},
		{"ok/default-action", `imgate {
			default_action forward
		}`, Handler{Config: core.Config{DefaultAction: "forward"}}},
		{"ok/forward", `imgate {
			forward {
				format native
				tencent_deadline 1200ms
				openim_deadline 2s
				openim_timeout 4s
				fallback deny
				fallback_event group.member.joined allow
				fallback_event group.join.apply deny
				path /decide
				max_reply_bytes 4096
			}
		}`, Handler{Config: core.Config{Forward: core.ForwardConfig{
			Format: "native", TencentDeadline: "1200ms", OpenIMDeadline: "2s", OpenIMTimeout: "4s", Fallback: "deny",
			FallbackEvents: map[string]string{"group.member.joined": "allow", "group.join.apply": "deny"},
			Path:           "/decide", MaxReplyBytes: 4096,
		}}}},
		{"ok/store", `imgate {
			store {
				type redis
				address redis://10.0.0.5:6379/1
				password_env REDIS_PASSWORD
				prefix gw1:
				timeout 8ms
				pool_size 32
			}
		}`, Handler{Config: core.Config{Store: core.StoreConfig{
			Type: "redis", Address: "redis://10.0.0.5:6379/1", PasswordEnv: "REDIS_PASSWORD", Prefix: "gw1:", Timeout: "8ms", PoolSize: 32,
		}}}},
		{"ok/store-tls", `imgate {
			store {
				type redis
				address rediss://redis.internal:6380
				password_file /run/secrets/redis
				tls_ca_file /etc/ssl/redis-ca.pem
				client imgate
			}
		}`, Handler{RedisClient: "imgate", Config: core.Config{Store: core.StoreConfig{
			Type: "redis", Address: "rediss://redis.internal:6380", PasswordFile: "/run/secrets/redis", TLSCAFile: "/etc/ssl/redis-ca.pem",
		}}}},
		{"ok/limits-and-header", `imgate {
			max_body_bytes 131072
			rate_limit_max_keys 5000
			list_reload_interval 10s
			decision_header X-Imgate-Decision
		}`, Handler{Config: core.Config{MaxBodyBytes: 131072, RateLimitMaxKeys: 5000, ListReloadInterval: "10s", DecisionHeader: "X-Imgate-Decision"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(t, tt.input)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !reflect.DeepEqual(asJSON(t, got), asJSON(t, &tt.want)) {
				t.Errorf("got  %s\nwant %s", asJSON(t, got), asJSON(t, &tt.want))
			}
		})
	}
}

// TestUnmarshalCaddyfileErrors checks that mistakes are rejected with a
// message naming the token and the Caddyfile line.
func TestUnmarshalCaddyfileErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"fail/argument", "imgate foo", `imgate takes no arguments, only a block; got "foo"`},
		{"fail/unknown-subdirective", "imgate {\n\tdefault_acton deny\n}", `unrecognized imgate subdirective "default_acton", at Testfile:2`},
		{"fail/unknown-in-tencent", "imgate {\n\ttencent {\n\t\tappid 1\n\t}\n}", `unrecognized tencent subdirective "appid"`},
		{"fail/unknown-in-openim", "imgate {\n\topenim {\n\t\tcidrs 10.0.0.0/8\n\t}\n}", `unrecognized openim subdirective "cidrs"`},
		{"fail/unknown-in-list", "imgate {\n\tlist l {\n\t\tpath x\n\t}\n}", `unrecognized list subdirective "path"`},
		{"fail/unknown-in-rule", "imgate {\n\trule r {\n\t\taction deny\n\t\tmax 3\n\t}\n}", `unrecognized rule subdirective "max", at Testfile:4`},
		{"fail/unknown-in-forward", "imgate {\n\tforward {\n\t\ttimeout 1s\n\t}\n}", `unrecognized forward subdirective "timeout"`},
		{"fail/bad-duration", "imgate {\n\tforward {\n\t\ttencent_deadline 1.5\n\t}\n}", `tencent_deadline: "1.5" is not a positive duration such as 1500ms or 5s, at Testfile:3`},
		{"fail/negative-duration", "imgate {\n\ttencent {\n\t\tsign_window -5s\n\t}\n}", `sign_window: "-5s" is not a positive duration`},
		{"fail/bad-reload-interval", "imgate {\n\tlist_reload_interval often\n}", `list_reload_interval: "often" is not a positive duration`},
		{"fail/bad-code-range", "imgate {\n\trule r {\n\t\taction deny\n\t\tcode 404\n\t}\n}", `code 404 is not a Tencent reject code (1 or 10100-10200) or an OpenIM errCode (5000-9999), at Testfile:4`},
		{"fail/code-not-number", "imgate {\n\trule r {\n\t\tcode ten\n\t}\n}", `code ten is not a Tencent reject code`},
		{"fail/code-unknown-platform", "imgate {\n\trule r {\n\t\tcode wechat 1\n\t}\n}", `"wechat" is not tencent or openim`},
		{"fail/code-platform-twice", "imgate {\n\trule r {\n\t\tcode openim 5101\n\t\tcode openim 5102\n\t}\n}", `code openim is already specified`},
		{"fail/message-three-words", "imgate {\n\trule r {\n\t\tmessage you are banned\n\t}\n}", `quote texts containing spaces`},
		{"fail/negative-max-members", "imgate {\n\trule r {\n\t\tmax_members -1\n\t}\n}", `max_members: "-1" is not a non-negative whole number`},
		{"fail/bad-rate", "imgate {\n\trule r {\n\t\trate fast\n\t}\n}", `rate: "fast" is not N/duration such as "5/1m"`},
		{"fail/bad-rate-period", "imgate {\n\trule r {\n\t\trate 5/fortnight\n\t}\n}", `rate: "5/fortnight": "fortnight" is not a positive duration`},
		{"fail/bad-rate-by", "imgate {\n\trule r {\n\t\trate_by ip\n\t}\n}", `rate_by: "ip" is not one of actor, group`},
		{"fail/bad-action", "imgate {\n\trule r {\n\t\taction block\n\t}\n}", `action: "block" is not one of allow, deny, forward`},
		{"fail/rule-without-action", "imgate {\n\trule r {\n\t\tevents group.*\n\t}\n}", `rule "r" has no action; add: action allow|deny|forward`},
		{"fail/duplicate-rule", "imgate {\n\trule r {\n\t\taction deny\n\t}\n\trule r {\n\t\taction allow\n\t}\n}", `rule "r" is already defined`},
		{"fail/bad-platform-in-rule", "imgate {\n\trule r {\n\t\tplatforms wechat\n\t}\n}", `platforms: "wechat" is not tencent or openim`},
		{"fail/shadow-with-value", "imgate {\n\trule r {\n\t\tshadow yes\n\t}\n}", `shadow takes no value; unexpected "yes"`},
		{"fail/text-two-values", "imgate {\n\trule r {\n\t\ttext free money\n\t}\n}", `text takes one value; unexpected "money" (quote values containing spaces)`},
		{"fail/bad-platform", "imgate {\n\tplatform wechat\n}", `platform: "wechat" is not one of auto, tencent, openim`},
		{"fail/bad-default-action", "imgate {\n\tdefault_action maybe\n}", `default_action: "maybe" is not one of allow, deny, forward`},
		{"fail/duplicate-scalar", "imgate {\n\tdefault_action deny\n\tdefault_action allow\n}", `default_action is already specified in this block`},
		{"fail/duplicate-block", "imgate {\n\tforward {\n\t}\n\tforward {\n\t}\n}", `forward is already specified in this block`},
		{"fail/missing-value", "imgate {\n\tdecision_header\n}", `decision_header needs one value`},
		{"fail/list-without-name", "imgate {\n\tlist\n}", `list needs a name`},
		{"fail/duplicate-list", "imgate {\n\tlist a x\n\tlist a y\n}", `list "a" is already defined`},
		{"fail/values-empty", "imgate {\n\tlist a {\n\t\tvalues\n\t}\n}", `values needs at least one value`},
		{"fail/app-id-not-numeric", "imgate {\n\ttencent {\n\t\tapp_id abc\n\t}\n}", `app_id: "abc" is not a numeric SDKAppID`},
		{"fail/fallback", "imgate {\n\tforward {\n\t\tfallback forward\n\t}\n}", `fallback: "forward" is not one of allow, deny`},
		{"fail/fallback-event-arity", "imgate {\n\tforward {\n\t\tfallback_event group.join.apply\n\t}\n}", `fallback_event takes an event and a decision`},
		{"fail/fallback-event-decision", "imgate {\n\tforward {\n\t\tfallback_event group.join.apply maybe\n\t}\n}", `fallback_event group.join.apply: "maybe" is not allow or deny`},
		{"fail/forward-path", "imgate {\n\tforward {\n\t\tpath decide\n\t}\n}", `path "decide" does not start with /`},
		{"fail/format", "imgate {\n\tforward {\n\t\tformat xml\n\t}\n}", `format: "xml" is not one of normalized, native`},
		{"fail/store-type", "imgate {\n\tstore {\n\t\ttype etcd\n\t}\n}", `type: "etcd" is not one of memory, redis`},
		{"fail/store-argument", "imgate {\n\tstore redis://x\n}", `store takes a block, not arguments; got "redis://x"`},
		{"fail/store-unknown", "imgate {\n\tstore {\n\t\taddr redis://x\n\t}\n}", `unrecognized store subdirective "addr"`},
		{"fail/store-timeout", "imgate {\n\tstore {\n\t\ttimeout fast\n\t}\n}", `timeout: "fast" is not a positive duration`},
		{"fail/store-password-empty", "imgate {\n\tstore {\n\t\tpassword\n\t}\n}", `password has no value`},
		{"fail/store-failure", "imgate {\n\trule r {\n\t\tstore_failure open\n\t}\n}", `store_failure: "open" is not one of allow, deny, local`},
		{"fail/max-body-bytes", "imgate {\n\tmax_body_bytes 64k\n}", `max_body_bytes: "64k" is not a non-negative whole number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.input)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\ndoes not contain %q", err.Error(), tt.want)
			}
		})
	}
}

// TestCaddyfileRoundTrip renders a config that sets every key, parses it
// back and expects the same JSON: every key has a Caddyfile spelling. The
// reflection check makes the test fail when core gains a key that this
// config (and so the Caddyfile) does not cover.
func TestCaddyfileRoundTrip(t *testing.T) {
	full := &Handler{Name: "all keys", RedisClient: "imgate", Config: core.Config{
		Platform: "auto",
		Tencent: core.TencentConfig{AppID: "1400000001", Token: "tok en", TokenEnv: "IMGATE_TOKEN", TokenFile: "/run/secrets/tencent token",
			SignWindow: "45s"},
		OpenIM: core.OpenIMConfig{Secret: `s"e{c}r#et`, SecretEnv: "IMGATE_SECRET", SecretFile: "/run/secrets/openim",
			AllowedCIDRs: []string{"10.0.0.0/8", "::1"}},
		Lists: map[string]core.ListConfig{
			"banned": {Values: []string{"spammer*", "eve"}, File: "/tmp/banned list.txt"},
			"vip":    {Values: []string{"alice"}},
		},
		Rules: []core.RuleConfig{{
			Name: "every condition", Events: []string{"group.*"}, Platforms: []string{"tencent"}, Groups: []string{"@TGS#*"},
			GroupTypes: []string{"Public"}, Actors: []string{"@banned"}, Members: []string{"@vip", "bob"},
			Text: `(?i)\bfree money\b|` + "`casino`", MaxMembers: 3, Rate: "5/1m", RateBy: "group", Action: "deny",
			Code: 10101, Codes: map[string]int{"openim": 5101}, Message: `you are "banned"`, Messages: map[string]string{"openim": "banned on openim"}, Shadow: true, StoreFailure: "deny",
		}, {Action: "forward"}},
		DefaultAction: "allow",
		Forward: core.ForwardConfig{
			Format: "native", TencentDeadline: "1s", OpenIMDeadline: "2s", OpenIMTimeout: "4s", Fallback: "deny",
			FallbackEvents: map[string]string{"group.member.joined": "allow"}, Path: "/decide", MaxReplyBytes: 1000, KeepCredentials: true,
		},
		Delivery: core.DeliveryConfig{
			URL: "http://127.0.0.1:9000/after", Spool: "/var/lib/imgate spool", MaxAge: "48h", MaxEntries: 500, MaxBytes: 1 << 20,
			DedupWindow: "5m", Timeout: "3s", RetryMin: "500ms", RetryMax: "1m", Concurrency: 2,
		},
		Store: core.StoreConfig{
			Type: "redis", Address: "rediss://imgate@redis.internal:6380/2", Password: "p w", PasswordEnv: "IMGATE_REDIS_PASSWORD",
			PasswordFile: "/run/secrets/redis password", Prefix: "gw:", Timeout: "10ms", PoolSize: 4, TLSCAFile: "/etc/ssl/redis ca.pem",
		},
		MaxBodyBytes: 1000, RateLimitMaxKeys: 10, ReadTimeout: "2s", ListReloadInterval: "1s", DecisionHeader: "X-Decision",
	}}
	if zero := zeroFields(reflect.ValueOf(*full), "handler"); len(zero) > 0 {
		t.Fatalf("the round-trip config leaves keys unset: %v", zero)
	}
	text := renderCaddyfile(full)
	got, err := parse(t, text)
	if err != nil {
		t.Fatalf("parsing rendered Caddyfile: %v\n%s", err, text)
	}
	if a, b := asJSON(t, got), asJSON(t, full); a != b {
		t.Errorf("round trip changed the config\ngot  %s\nwant %s\nCaddyfile:\n%s", a, b, text)
	}
}

// zeroFields lists the struct fields (recursively, through slices and
// maps) left at their zero value, except unexported ones.
func zeroFields(v reflect.Value, path string) []string {
	var zero []string
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			zero = append(zero, zeroFields(v.Field(i), path+"."+f.Name)...)
		}
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		if v.Kind() == reflect.Slice {
			zero = append(zero, zeroFields(v.Index(0), path+"[0]")...)
		} else {
			// A key counts as covered when any entry sets it: take the
			// entry that leaves the fewest unset (map order is random).
			var best []string
			for iter, first := v.MapRange(), true; iter.Next(); first = false {
				if z := zeroFields(iter.Value(), path+"[key]"); first || len(z) < len(best) {
					best = z
				}
			}
			zero = append(zero, best...)
		}
	default:
		if v.IsZero() {
			return []string{path}
		}
	}
	return zero
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
