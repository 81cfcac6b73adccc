// Command plain is benchmark setup F, the deciding ceiling: imgate's engine
// (core.Engine) in a plain net/http server, no gateway, answering the same
// callbacks with the same rules as Caddy + imgate (setup C). It is what
// "imgate without a gateway" can reach on the machine, so C/F is the cost
// of the gateway around the engine.
//
//	go run ./bench/plain -addr 127.0.0.1:18086 -rules bench/configs/rules.json
package main

import (
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/imgate/imgate/core"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18086", "listen address (loopback only)")
	rules := flag.String("rules", "bench/configs/rules.json", "imgate config (core.Config JSON) to decide with")
	flag.Parse()
	raw, err := os.ReadFile(*rules)
	if err != nil {
		log.Fatal(err)
	}
	var cfg core.Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		log.Fatalf("%s: %v", *rules, err)
	}
	h, err := NewHandler(cfg, slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if err != nil {
		log.Fatalf("%s: %v", *rules, err)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
