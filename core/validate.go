package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The checks below are exported so that config front ends (the Caddyfile
// parser) point at the offending line with core's own rule instead of a
// copy of it. Their errors wrap ErrConfig and do not name the key: the
// caller does.

// ParseRate reads a rule's rate, "N/duration" such as "5/1m" or "100/s".
func ParseRate(spec string) (float64, time.Duration, error) {
	slash := strings.IndexByte(spec, '/')
	if slash < 0 {
		return 0, 0, fmt.Errorf("%q is not N/duration such as \"5/1m\": %w", spec, ErrConfig)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(spec[:slash]), 64)
	if err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("%q: count must be a positive number: %w", spec, ErrConfig)
	}
	per := strings.TrimSpace(spec[slash+1:])
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "10/m" means per one minute
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("%q: %q is not a positive duration: %w", spec, spec[slash+1:], ErrConfig)
	}
	return n, d, nil
}

// ValidateAppID checks a Tencent SDKAppID, a decimal number.
func ValidateAppID(id string) error {
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return fmt.Errorf("%q is not a numeric SDKAppID: %w", id, ErrConfig)
	}
	return nil
}

// ValidDenyCode reports whether code is a deny code on at least one
// platform; which platforms a rule applies to decides the rest when the
// config loads.
func ValidDenyCode(code int) bool {
	for _, p := range platforms {
		if p.validCode(code) {
			return true
		}
	}
	return false
}

// DenyCodeRanges describes every platform's deny codes, for messages.
func DenyCodeRanges() string {
	ranges := make([]string, 0, len(platforms))
	for _, p := range platforms {
		ranges = append(ranges, p.codeRange)
	}
	return strings.Join(ranges, " or ")
}

// Platforms lists the platform names a config may use.
func Platforms() []string { return platformNames() }

// MayForward reports whether any callback under cfg can reach the forward
// path, so that gateways skip preparing an upstream call for routes that
// only answer from rules.
func MayForward(cfg Config) bool {
	if isForward(cfg.DefaultAction) {
		return true
	}
	for _, r := range cfg.Rules {
		if isForward(r.Action) && !r.Shadow {
			return true
		}
	}
	return false
}

func isForward(action string) bool {
	return strings.EqualFold(strings.TrimSpace(action), ActionForward)
}
