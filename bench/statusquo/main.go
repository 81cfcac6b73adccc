// Command statusquo is the business service of benchmark setups D and E:
// what an app runs today to answer IM group callbacks. It parses each
// callback and applies the rules of an imgate config with core.Engine, so
// its decisions are exactly imgate's. It answers two protocols:
//
//   - any path but -decide-path: the platform's native callback (setup D,
//     Caddy reverse_proxy in front), answered in the platform's reply format;
//
//   - -decide-path: imgate's normalized forward format (setup E, Caddy +
//     imgate forwarding), a core.Event answered with {"decision",...}.
//
//     go run ./bench/statusquo -addr 127.0.0.1:18090 -rules bench/configs/rules.json
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/pprof"

	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (loopback only)")
	rulesPath := flag.String("rules", rules.Path("."), "imgate config (core.Config JSON) whose rules to apply")
	decidePath := flag.String("decide-path", "/imgate/decide", "path of the normalized forward protocol")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address, e.g. 127.0.0.1:18190 (default off)")
	flag.Parse()
	if *pprofAddr != "" {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		go func() { log.Print(http.ListenAndServe(*pprofAddr, mux)) }()
	}
	log.Fatal(rules.Serve(*addr, *rulesPath, func(cfg core.Config) (http.Handler, error) {
		return NewService(cfg, *decidePath)
	}))
}
