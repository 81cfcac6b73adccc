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
	// A config that does not settle fails in New anyway; its error text
	// then stands in for the credentials.
	var s settings
	for _, p := range platforms {
		if serr := p.settle(&cfg, &s); serr != nil {
			data = append(data, serr.Error()...)
		}
	}
	for _, p := range platforms {
		data = append(data, 0)
		data = append(data, p.credential(&s)...)
	}
	// So does the Redis password: a rotated password file reconnects.
	password, perr := storeCredential(&cfg.Store).resolve()
	if perr != nil {
		data = append(data, perr.Error()...)
	}
	data = append(data, 0)
	data = append(data, password...)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}
