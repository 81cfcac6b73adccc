package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// Fuzz targets for what operators write: the config (rules included) and
// list files. A config either loads or fails with an ErrConfig naming a
// key; a list file of any content loads or is refused, and never lets an
// id it does not hold match. .ci/fuzz.sh runs them briefly; plain go test
// runs their seeds and the corpus under testdata/fuzz.

// FuzzConfig decodes arbitrary JSON as a config and builds an engine.
func FuzzConfig(f *testing.F) {
	for _, name := range []string{"example.json", "commands.json"} {
		f.Add(golden.ReadTestdata(f, "configs", name))
	}
	f.Add([]byte(`{"rules":[{"action":"deny","rate":"5/1m","rateBy":"group","code":10101,"platforms":["tencent"]}]}`))
	f.Add([]byte(`{"platform":"openim","rules":[{"action":"deny","code":5001,"events":["group.join.*"],"text":"(?i)x|y"}]}`))
	f.Add([]byte(`{"forward":{"tencentDeadline":"1999ms","openimTimeout":"15s","openimDeadline":"14s","fallbackEvents":{"group.create.before":"deny"}}}`))
	f.Add([]byte(`{"delivery":{"url":"http://127.0.0.1:1/x","spool":"SPOOL","maxEntries":3}}`))
	f.Add([]byte(`{"store":{"type":"redis","address":"rediss://u@redis.internal:6380/2","password":"p","prefix":"gw:","timeout":"5ms","poolSize":3},"rules":[{"action":"deny","rate":"5/1m","storeFailure":"deny"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg core.Config
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if dec.Decode(&cfg) != nil {
			return
		}
		// Files and directories the config names stay inside a temp dir.
		dir := t.TempDir()
		for name, l := range cfg.Lists {
			if l.File != "" {
				l.File = filepath.Join(dir, "list")
				cfg.Lists[name] = l
			}
		}
		cfg.Tencent.TokenFile, cfg.OpenIM.SecretFile = "", ""
		cfg.Store.PasswordFile, cfg.Store.TLSCAFile = "", ""
		// An engine on Redis dials at once: only ever a closed loopback port.
		if u, perr := url.Parse(cfg.Store.Address); perr == nil && u.Host != "" {
			u.Host = "127.0.0.1:1"
			cfg.Store.Address = u.String()
		}
		if cfg.Delivery.Spool != "" {
			cfg.Delivery.Spool = filepath.Join(dir, "spool")
		}
		e, err := core.New(cfg)
		if err != nil {
			if !errors.Is(err, core.ErrConfig) && !strings.Contains(err.Error(), "no such file") {
				t.Fatalf("error %q does not wrap ErrConfig", err)
			}
			return
		}
		e.Close()
	})
}

// FuzzListFile loads arbitrary bytes as a list file and checks that an id
// the file cannot hold (it has a character no line of the file has) is
// never on the list.
func FuzzListFile(f *testing.F) {
	f.Add([]byte("# banned users\nmallory\n  eve  \n\nbot-*   # every bot\n#trudy\n@TGS#2J4SZEAEL\n"))
	f.Add([]byte("*\n"))
	f.Add([]byte("a*b*c\n*x\n\r\n\x00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "ids.txt")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := core.New(core.Config{Lists: map[string]core.ListConfig{"l": {File: file}}})
		if err != nil {
			return // e.g. a line over the scanner's 1 MiB limit
		}
		l := e.List("l")
		if bytes.IndexByte(data, '*') < 0 && l.Contains("\x01never-in-a-file\x01") && !bytes.Contains(data, []byte("\x01never-in-a-file\x01")) {
			t.Fatal("an id the file does not hold matched")
		}
		for _, line := range strings.Split(string(data), "\n") {
			id := strings.TrimSpace(line)
			if id == "" || strings.ContainsAny(id, "*# \t") {
				continue
			}
			if !l.Contains(id) {
				t.Fatalf("id %q of the file is not on the list", id)
			}
		}
	})
}
