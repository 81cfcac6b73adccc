// Command bare is benchmark setup A, the ceiling: a plain net/http server
// that answers every callback with the platform's fixed allow reply without
// reading or deciding anything. No gateway can answer a callback cheaper on
// the same machine.
//
//	go run ./bench/bare -addr 127.0.0.1:18081
package main

import (
	"flag"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18081", "listen address (loopback only)")
	flag.Parse()
	srv := &http.Server{Addr: *addr, Handler: Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
