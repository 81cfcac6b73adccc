package main

import (
	"net/http"
	"strconv"
	"strings"
)

// The platforms' allow replies, byte for byte what imgate answers.
var (
	tencentAllow = []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
	openimAllow  = []byte(`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`)
)

// Handler answers /tencent with Tencent's allow reply and /openim/... with
// OpenIM's, with the same headers imgate sends; any other path is 404.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		switch {
		case r.URL.Path == "/tencent":
			body = tencentAllow
		case strings.HasPrefix(r.URL.Path, "/openim/"):
			body = openimAllow
		default:
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	})
}
