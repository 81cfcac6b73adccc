package core

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Fingerprint identifies a configuration: equal configs give equal
// fingerprints, so state built from one (rate buckets, list files) can be
// reused when a gateway reloads the same config. The credentials a config
// names by environment variable or file count with their current values, so
// a rotated token file gets a new engine on the next reload.
func Fingerprint(cfg Config) string {
	data, err := json.Marshal(cfg)
	if err != nil {
		return ""
	}
	var s settings
	if rerr := resolveCredentials(&cfg, &s); rerr != nil {
		data = append(data, rerr.Error()...)
	} else {
		data = append(data, 0)
		data = append(data, s.token...)
		data = append(data, 0)
		data = append(data, s.secret...)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
