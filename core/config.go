package core

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole imgate configuration. The same struct is decoded by
// Caddy (encoding/json, strict, using the json tags) and by Traefik
// (mapstructure, matching exported field names case-insensitively), so every
// key is spelled the same way in both gateways. Durations are strings such as
// "1500ms".
type Config struct {
	// Platform fixes which IM platform this route answers: "tencent",
	// "openim", or "auto" to recognise each request (Tencent when the query
	// has CallbackCommand, OpenIM otherwise). Default: "auto".
	Platform string `json:"platform,omitempty"`

	// Tencent holds the Tencent Cloud IM verification settings (see
	// tencent.go). Each platform has its own section, so a new platform
	// adds one here.
	Tencent TencentConfig `json:"tencent,omitempty"`

	// OpenIM holds the OpenIM verification settings (see openim.go).
	OpenIM OpenIMConfig `json:"openim,omitempty"`

	// Lists are named user or group id lists that rules reference as
	// "@name". Default: none.
	Lists map[string]ListConfig `json:"lists,omitempty"`

	// Rules are evaluated in order; the first matching rule that is not a
	// shadow rule decides. Default: none.
	Rules []RuleConfig `json:"rules,omitempty"`

	// DefaultAction applies when no rule matches: "allow", "deny" or
	// "forward". Default: "allow".
	DefaultAction string `json:"defaultAction,omitempty"`

	// Forward configures how callbacks are sent to the business service.
	Forward ForwardConfig `json:"forward,omitempty"`

	// Delivery makes forwarded after-callbacks durable: spooled to disk
	// before the platform is acknowledged and delivered at least once.
	// Default: off (forwarded after-callbacks are delivered once, best
	// effort, through the gateway's next handler).
	Delivery DeliveryConfig `json:"delivery,omitempty"`

	// MaxBodyBytes is the largest callback body accepted; larger bodies get
	// HTTP 413. Default: 65536.
	MaxBodyBytes int `json:"maxBodyBytes,omitempty"`

	// RateLimitMaxKeys caps the token buckets one rate rule keeps in memory;
	// when full, refilled buckets are dropped first. Default: 100000.
	RateLimitMaxKeys int `json:"rateLimitMaxKeys,omitempty"`

	// ReadTimeout bounds how long the callback's body may take to arrive,
	// counted from when imgate starts reading it; a slower body gets HTTP
	// 408. Applied where the gateway's writer lets imgate set the
	// connection's read deadline (Caddy, Traefik); elsewhere the gateway's
	// own read timeout applies. Default: "5s".
	ReadTimeout string `json:"readTimeout,omitempty"`

	// ListReloadInterval is how often list files are checked for changes
	// (checked lazily on traffic, no background goroutine). Default: "5s".
	ListReloadInterval string `json:"listReloadInterval,omitempty"`

	// Store says where rate-limit state lives: "memory" (this process)
	// or "redis" (shared by every replica); see storeconfig.go.
	// Default: memory.
	Store StoreConfig `json:"store,omitempty"`

	// DecisionHeader, when set, names a response header carrying
	// "<result>; rule=<rule>" so access logs can count decisions.
	// Default: "" (no header).
	DecisionHeader string `json:"decisionHeader,omitempty"`
}

// ListConfig is one named list of ids.
type ListConfig struct {
	// Values are ids or "*" globs given inline. Default: none.
	Values []string `json:"values,omitempty"`

	// File is a path to a file of ids, one per line; "#" starts a comment
	// at the beginning of a line or after a space ("@TGS#..." stays an id).
	// A changed file is reloaded atomically; a file that fails to load keeps
	// the last good list. Default: "" (no file).
	File string `json:"file,omitempty"`
}

// RuleConfig is one rule. Every condition that is set must hold; omitted
// conditions match anything.
type RuleConfig struct {
	// Name identifies the rule in logs, metrics and X-Imgate-Rule.
	// Default: "rule<N>" (1-based position).
	Name string `json:"name,omitempty"`

	// Events are normalized event names or globs, e.g. "group.join.*".
	Events []string `json:"events,omitempty"`

	// Platforms are "tencent" and/or "openim".
	Platforms []string `json:"platforms,omitempty"`

	// Groups are group ids, globs or "@list" references; Tencent ids
	// starting with "@TGS#" are ids, not list references.
	Groups []string `json:"groups,omitempty"`

	// GroupTypes are group types (Tencent "Public", "Private", ...; OpenIM
	// numbers such as "2").
	GroupTypes []string `json:"groupTypes,omitempty"`

	// Actors are user ids, globs or "@list" references matched against the
	// operator, applicant or sender.
	Actors []string `json:"actors,omitempty"`

	// Members are user ids, globs or "@list" references; the condition holds
	// when any target member matches. A deny matched by members on a Tencent
	// invite refuses just those members.
	Members []string `json:"members,omitempty"`

	// Text is a regular expression matched against the event text (join
	// message, invite reason, group name, message text).
	Text string `json:"text,omitempty"`

	// MaxMembers holds when the callback targets more than this many
	// members. Default: 0 (off).
	MaxMembers int `json:"maxMembers,omitempty"`

	// Rate is "N/duration", e.g. "5/1m"; the condition holds once the key's
	// token bucket is empty, i.e. when the rate is exceeded. Default: "" (off).
	Rate string `json:"rate,omitempty"`

	// RateBy picks the rate key: "actor" or "group". Default: "actor".
	RateBy string `json:"rateBy,omitempty"`

	// StoreFailure decides the rate condition when the shared store
	// (store.type redis) fails or does not answer within store.timeout:
	// "allow" (the rate is not exceeded), "deny" (it is: the rule's action
	// applies) or "local" (this replica's in-memory buckets decide).
	// Only for a rule with a rate. Default: "local".
	StoreFailure string `json:"storeFailure,omitempty"`

	// Action is "allow", "deny" or "forward". Required.
	Action string `json:"action,omitempty"`

	// Code is the deny code on every platform the rule applies to:
	// Tencent 1 or 10100–10200, OpenIM 5000–9999. A rule for both
	// platforms needs a code valid on both, or Codes. Default: Tencent 1,
	// OpenIM 5000.
	Code int `json:"code,omitempty"`

	// Codes sets the deny code per platform, e.g. {"tencent": 10101,
	// "openim": 5101}, so that one rule serves both platforms; it
	// overrides Code for the platforms it names. Default: none.
	Codes map[string]int `json:"codes,omitempty"`

	// Message is the deny message passed to the client. Default: "".
	Message string `json:"message,omitempty"`

	// Messages sets the deny message per platform, overriding Message for
	// the platforms it names. Default: none.
	Messages map[string]string `json:"messages,omitempty"`

	// Shadow rules only record what they would have done and let
	// evaluation continue. Default: false.
	Shadow bool `json:"shadow,omitempty"`
}

// ForwardConfig configures the upstream (business service) protocol.
type ForwardConfig struct {
	// Format is "normalized" (the body is the normalized event and the
	// upstream answers {"decision",...}) or "native" (body and query pass
	// through, the upstream answers in the platform's format).
	// Default: "normalized".
	Format string `json:"format,omitempty"`

	// The deadline keys are per platform but live in this section, where
	// operators look for them; each platform's settle reads its own.

	// TencentDeadline bounds a forwarded Tencent callback; it must stay
	// below Tencent's fixed 2 s budget. Default: "1500ms".
	TencentDeadline string `json:"tencentDeadline,omitempty"`

	// OpenIMDeadline bounds a forwarded OpenIM callback; it must stay below
	// OpenIMTimeout. Default: "3s".
	OpenIMDeadline string `json:"openimDeadline,omitempty"`

	// OpenIMTimeout is the callback timeout set in OpenIM's webhooks.yml
	// (capped at 15 s by OpenIM). Default: "5s".
	OpenIMTimeout string `json:"openimTimeout,omitempty"`

	// Fallback is the decision when the upstream fails (refused, timeout,
	// 5xx, bad body): "allow" or "deny". Default: "allow".
	Fallback string `json:"fallback,omitempty"`

	// FallbackEvents overrides Fallback per normalized event name.
	// Default: none.
	FallbackEvents map[string]string `json:"fallbackEvents,omitempty"`

	// Path, when set, replaces the request path sent upstream, e.g.
	// "/imgate/decide". Default: "" (path unchanged).
	Path string `json:"path,omitempty"`

	// MaxReplyBytes caps the upstream reply read. Default: 65536.
	MaxReplyBytes int `json:"maxReplyBytes,omitempty"`

	// KeepCredentials sends the credentials the platform put in the URL
	// (Tencent's Sign and RequestTime, the OpenIM secret) on to the
	// upstream, for a service that checks them itself. Default: false (they
	// are taken out: imgate verified them, and a URL that carries them lets
	// whoever reads it, or the service's access log, call the gateway).
	KeepCredentials bool `json:"keepCredentials,omitempty"`
}

// DeliveryConfig configures the durable delivery of after-callbacks that a
// rule (or the default action) forwards. URL and Spool turn it on together.
type DeliveryConfig struct {
	// URL is where after-callbacks are delivered: the business service's
	// endpoint, e.g. "http://127.0.0.1:9000/imgate/after". imgate calls it
	// itself, in the background, with its own HTTP client (after a restart
	// no request is there to carry the gateway's next handler).
	// Default: "" (off).
	URL string `json:"url,omitempty"`

	// Spool is the directory where after-callbacks wait for delivery,
	// created if missing. One gateway process per directory. Default: ""
	// (off).
	Spool string `json:"spool,omitempty"`

	// MaxAge is how long an entry is retried before it moves to the
	// dead-letter folder <spool>/dead. Default: "24h".
	MaxAge string `json:"maxAge,omitempty"`

	// MaxEntries and MaxBytes bound the spool; when either is reached, new
	// after-callbacks get HTTP 503, so that the platform's own retry (where
	// it has one) applies. Defaults: 100000 entries, 268435456 bytes.
	MaxEntries int   `json:"maxEntries,omitempty"`
	MaxBytes   int64 `json:"maxBytes,omitempty"`

	// DedupWindow is how long a delivered or pending after-callback is
	// remembered: the same callback again within it (a platform retry) is
	// acknowledged without being delivered again. Default: "10m".
	DedupWindow string `json:"dedupWindow,omitempty"`

	// Timeout bounds one delivery attempt. Default: "10s".
	Timeout string `json:"timeout,omitempty"`

	// RetryMin and RetryMax bound the exponential backoff between attempts
	// (with jitter). Defaults: "1s" and "5m".
	RetryMin string `json:"retryMin,omitempty"`
	RetryMax string `json:"retryMax,omitempty"`

	// Concurrency is how many deliveries run at once; one group's
	// callbacks are always delivered one after another, in order.
	// Default: 4.
	Concurrency int `json:"concurrency,omitempty"`
}

// Delivery defaults.
const (
	DefaultDeliveryMaxAge      = 24 * time.Hour
	DefaultDeliveryMaxEntries  = 100000
	DefaultDeliveryMaxBytes    = 256 << 20
	DefaultDeliveryDedup       = 10 * time.Minute
	DefaultDeliveryTimeout     = 10 * time.Second
	DefaultDeliveryRetryMin    = time.Second
	DefaultDeliveryRetryMax    = 5 * time.Minute
	DefaultDeliveryConcurrency = 4
)

// deliverySettings is the parsed DeliveryConfig.
type deliverySettings struct {
	url         string
	dir         string
	maxAge      time.Duration
	maxEntries  int
	maxBytes    int64
	dedupWindow time.Duration
	timeout     time.Duration
	retryMin    time.Duration
	retryMax    time.Duration
	concurrency int
	client      *http.Client
}

// Limits and defaults shared by every platform; each platform's own are
// in its file.
const (
	DefaultMaxBodyBytes     = 64 << 10
	DefaultRateLimitMaxKeys = 100000
	DefaultListReload       = 5 * time.Second
	DefaultReadTimeout      = 5 * time.Second
)

// Actions, formats, and the platform setting that answers every platform.
const (
	ActionAllow   = "allow"
	ActionDeny    = "deny"
	ActionForward = "forward"

	PlatformAuto = "auto"

	FormatNormalized = "normalized"
	FormatNative     = "native"
)

// settings is the validated, parsed form of Config.
type settings struct {
	// platform is the configured platform ("auto" or a platform's name);
	// platforms are the ones this route answers, in recognition order.
	platform       string
	platforms      []*platform
	maxBody        int
	listReload     time.Duration
	readTimeout    time.Duration
	rateMaxKeys    int
	defaultAction  string
	format         string
	fallback       string
	fallbackEvents map[string]string
	forwardPath    string
	maxReply       int
	keepCreds      bool
	// delivery is nil when durable delivery is off.
	delivery *deliverySettings

	// store is where rate-limit state lives.
	store storeSettings

	// Each platform's settle fills its own settings (a new platform adds
	// its fields here).
	tencent tencentSettings
	openim  openimSettings
}

func configErr(key string, format string, args ...interface{}) error {
	return fmt.Errorf("%s: %s: %w", key, fmt.Sprintf(format, args...), ErrConfig)
}

func parseDuration(key, value string, def time.Duration) (time.Duration, error) {
	if value == "" {
		return def, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(value))
	if err != nil || d <= 0 {
		return 0, configErr(key, "%q is not a positive duration such as \"1500ms\"", value)
	}
	return d, nil
}

func oneOf(key, value, def string, allowed ...string) (string, error) {
	if value == "" {
		return def, nil
	}
	v := strings.ToLower(strings.TrimSpace(value))
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", configErr(key, "%q is not one of %s", value, strings.Join(allowed, ", "))
}

// validate checks the top-level settings and returns their parsed form.
func (c *Config) validate() (*settings, error) {
	s := &settings{}
	var err error
	if s.platform, err = oneOf("platform", c.Platform, PlatformAuto, append([]string{PlatformAuto}, platformNames()...)...); err != nil {
		return nil, err
	}
	s.platforms = platforms
	if s.platform != PlatformAuto {
		s.platforms = []*platform{platformNamed(s.platform)}
	}
	s.maxBody = c.MaxBodyBytes
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxBody < 0 {
		return nil, configErr("maxBodyBytes", "%d is negative", c.MaxBodyBytes)
	}
	s.rateMaxKeys = c.RateLimitMaxKeys
	if s.rateMaxKeys == 0 {
		s.rateMaxKeys = DefaultRateLimitMaxKeys
	}
	if s.rateMaxKeys < 0 {
		return nil, configErr("rateLimitMaxKeys", "%d is negative", c.RateLimitMaxKeys)
	}
	if s.readTimeout, err = parseDuration("readTimeout", c.ReadTimeout, DefaultReadTimeout); err != nil {
		return nil, err
	}
	if s.listReload, err = parseDuration("listReloadInterval", c.ListReloadInterval, DefaultListReload); err != nil {
		return nil, err
	}
	if s.defaultAction, err = oneOf("defaultAction", c.DefaultAction, ActionAllow, ActionAllow, ActionDeny, ActionForward); err != nil {
		return nil, err
	}
	for _, p := range platforms {
		if err = p.settle(c, s); err != nil {
			return nil, err
		}
	}
	if err = c.Forward.validate(s); err != nil {
		return nil, err
	}
	if s.delivery, err = c.Delivery.validate(); err != nil {
		return nil, err
	}
	if err = settleStore(&c.Store, s); err != nil {
		return nil, err
	}
	return s, nil
}

// validate parses the delivery section; it returns nil settings when
// delivery is off.
func (d *DeliveryConfig) validate() (*deliverySettings, error) {
	if d.URL == "" && d.Spool == "" {
		if *d != (DeliveryConfig{}) {
			return nil, configErr("delivery", "url and spool are not set, so the other delivery keys do nothing; set both to deliver after-callbacks durably")
		}
		return nil, nil
	}
	if d.URL == "" || d.Spool == "" {
		return nil, configErr("delivery", "url and spool go together: set both, or neither")
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, configErr("delivery.url", "%q is not an http or https URL", d.URL)
	}
	dir, err := filepath.Abs(d.Spool)
	if err != nil {
		return nil, configErr("delivery.spool", "%s", err.Error())
	}
	s := &deliverySettings{url: d.URL, dir: dir, maxEntries: d.MaxEntries, maxBytes: d.MaxBytes, concurrency: d.Concurrency}
	if s.maxAge, err = parseDuration("delivery.maxAge", d.MaxAge, DefaultDeliveryMaxAge); err != nil {
		return nil, err
	}
	if s.dedupWindow, err = parseDuration("delivery.dedupWindow", d.DedupWindow, DefaultDeliveryDedup); err != nil {
		return nil, err
	}
	if s.timeout, err = parseDuration("delivery.timeout", d.Timeout, DefaultDeliveryTimeout); err != nil {
		return nil, err
	}
	if s.retryMin, err = parseDuration("delivery.retryMin", d.RetryMin, DefaultDeliveryRetryMin); err != nil {
		return nil, err
	}
	if s.retryMax, err = parseDuration("delivery.retryMax", d.RetryMax, DefaultDeliveryRetryMax); err != nil {
		return nil, err
	}
	if s.retryMax < s.retryMin {
		return nil, configErr("delivery.retryMax", "%s is below delivery.retryMin %s", s.retryMax, s.retryMin)
	}
	if s.maxEntries == 0 {
		s.maxEntries = DefaultDeliveryMaxEntries
	}
	if s.maxBytes == 0 {
		s.maxBytes = DefaultDeliveryMaxBytes
	}
	if s.concurrency == 0 {
		s.concurrency = DefaultDeliveryConcurrency
	}
	if s.maxEntries < 0 || s.maxBytes < 0 || s.concurrency < 0 {
		return nil, configErr("delivery", "maxEntries, maxBytes and concurrency cannot be negative")
	}
	s.client = &http.Client{Timeout: s.timeout}
	return s, nil
}

func (f *ForwardConfig) validate(s *settings) error {
	var err error
	if s.format, err = oneOf("forward.format", f.Format, FormatNormalized, FormatNormalized, FormatNative); err != nil {
		return err
	}
	if s.fallback, err = oneOf("forward.fallback", f.Fallback, ActionAllow, ActionAllow, ActionDeny); err != nil {
		return err
	}
	s.fallbackEvents = map[string]string{}
	for ev, action := range f.FallbackEvents {
		a, aerr := oneOf("forward.fallbackEvents."+ev, action, ActionAllow, ActionAllow, ActionDeny)
		if aerr != nil {
			return aerr
		}
		s.fallbackEvents[ev] = a
	}
	if f.Path != "" && !strings.HasPrefix(f.Path, "/") {
		return configErr("forward.path", "%q does not start with /", f.Path)
	}
	s.forwardPath = f.Path
	s.keepCreds = f.KeepCredentials
	s.maxReply = f.MaxReplyBytes
	if s.maxReply == 0 {
		s.maxReply = DefaultMaxBodyBytes
	}
	if s.maxReply < 0 {
		return configErr("forward.maxReplyBytes", "%d is negative", f.MaxReplyBytes)
	}
	return nil
}
