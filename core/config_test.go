package core_test

import (
	"bytes"
	"encoding/json"

	"github.com/imgate/imgate/core"
)

// decodeConfig decodes a JSON config strictly, as Caddy does.
func decodeConfig(text string) (core.Config, error) {
	var cfg core.Config
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	err := dec.Decode(&cfg)
	return cfg, err
}
