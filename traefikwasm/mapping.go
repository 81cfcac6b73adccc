package main

import (
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/imgate/imgate/core"
)

// callbackRequest rebuilds the request Traefik received from what the ABI
// gives (method, request URI, source address, Content-Length header and
// the body), so that core.Engine.ReadInput reads it exactly as it reads
// the interpreted plugin's *http.Request.
func callbackRequest(method, uri, remoteAddr, contentLength string, body io.Reader) (*http.Request, error) {
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return nil, err
	}
	length := int64(-1)
	if contentLength != "" {
		if n, perr := strconv.ParseInt(contentLength, 10, 64); perr == nil {
			length = n
		}
	}
	return &http.Request{
		Method:        method,
		URL:           u,
		RequestURI:    uri,
		RemoteAddr:    remoteAddr,
		ContentLength: length,
		Body:          io.NopCloser(body),
		Header:        http.Header{},
	}, nil
}

// upstreamURI is the request URI the router's service gets for call: the
// configured forward path or the callback's own (without a secret segment:
// core sets call.Path then), with the query core prepared (native format:
// the callback's, without its credentials), as core.Engine.Forward builds
// it for net/http hosts.
func upstreamURI(call *core.UpstreamCall, callback *url.URL) string {
	u := url.URL{Path: callback.Path, RawPath: callback.RawPath}
	if call.Path != "" {
		u = url.URL{Path: call.Path}
	}
	u.RawQuery = call.RawQuery
	return u.RequestURI()
}

// addedHeaders returns the names in after that are not in before: the
// response headers the router's service set, which the platform's reply
// must not carry (the interpreted plugin captures the service's answer and
// never relays its headers). Headers set before imgate ran stay.
func addedHeaders(before, after []string) []string {
	seen := make(map[string]bool, len(before))
	for _, name := range before {
		seen[http.CanonicalHeaderKey(name)] = true
	}
	var added []string
	for _, name := range after {
		if !seen[http.CanonicalHeaderKey(name)] {
			added = append(added, name)
		}
	}
	return added
}

// splitNUL splits the ABI's NUL-terminated list of count entries.
func splitNUL(buf []byte, count int) []string {
	out := make([]string, 0, count)
	start := 0
	for i, c := range buf {
		if c == 0 {
			out = append(out, string(buf[start:i]))
			start = i + 1
		}
	}
	return out
}
