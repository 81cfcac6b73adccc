// Command plain is benchmark setup F, the deciding ceiling: imgate's engine
// (core.Engine) in a plain net/http server, no gateway, answering the same
// callbacks with the same rules as Caddy + imgate (setup C). It is what
// "imgate without a gateway" can reach on the machine, so C/F is the cost
// of the gateway around the engine.
//
//	go run ./bench/plain -addr 127.0.0.1:18086 -rules bench/configs/rules.json
package main

import (
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18086", "listen address (loopback only)")
	rulesPath := flag.String("rules", rules.Path("."), "imgate config (core.Config JSON) to decide with")
	flag.Parse()
	log.Fatal(rules.Serve(*addr, *rulesPath, func(cfg core.Config) (http.Handler, error) {
		return NewHandler(cfg, slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	}))
}
