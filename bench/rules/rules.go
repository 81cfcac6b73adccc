// Package rules loads the benchmark's imgate configuration,
// bench/configs/rules.json: the one rules file that every deciding setup,
// the status quo service, the expectation the harness checks replies
// against and the in-process benchmarks decide with. Serve runs the
// benchmark's own deciding servers from it.
package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/traefikload"
)

// Path is the rules file of the repository (or exported tree) at root.
func Path(root string) string {
	return filepath.Join(root, "bench", "configs", "rules.json")
}

// Read decodes the rules file at path strictly, as Caddy decodes its JSON
// config: a key core.Config does not know is an error, not a rule quietly
// left out.
func Read(path string) (core.Config, error) {
	var cfg core.Config
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ReadMap decodes the rules file at path into the untyped map that a
// gateway's dynamic configuration hands the Traefik plugin to decode.
func ReadMap(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Serve reads the rules file at path, builds a handler from it and serves
// it on addr until the server fails, as the benchmark's deciding servers
// (bench/plain, bench/statusquo) do.
func Serve(addr, path string, build func(core.Config) (http.Handler, error)) error {
	cfg, err := Read(path)
	if err != nil {
		return err
	}
	h, err := build(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// File is the rules file of the module that holds the working directory,
// wherever inside it a test or command runs.
func File() (string, error) {
	root, _, err := traefikload.RepoRoot()
	if err != nil {
		return "", err
	}
	return Path(root), nil
}

// Load reads File.
func Load() (core.Config, error) {
	path, err := File()
	if err != nil {
		return core.Config{}, err
	}
	return Read(path)
}
