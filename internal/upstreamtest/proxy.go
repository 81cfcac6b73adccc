package upstreamtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// Proxy is a reverse proxy to one upstream: the part a Caddy reverse_proxy
// or a Traefik service plays in front of the business service.
type Proxy struct {
	target    *url.URL
	transport *http.Transport
}

// NewProxy proxies to rawURL ("http://127.0.0.1:<port>") with a transport of
// its own, so a test can close its idle connections and count goroutines.
func NewProxy(rawURL string) *Proxy {
	target, err := url.Parse(rawURL)
	if err != nil {
		panic("upstreamtest: bad upstream URL " + rawURL + ": " + err.Error())
	}
	dialer := &net.Dialer{Timeout: time.Second}
	return &Proxy{
		target: target,
		transport: &http.Transport{
			// A literal, not the method value: Yaegi cannot convert the latter.
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dialer.DialContext(ctx, network, addr)
				return conn, err
			},
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     5 * time.Second,
		},
	}
}

// reverseProxy builds the httputil.ReverseProxy; onError, when not nil,
// replaces its default 502 answer.
func (p *Proxy) reverseProxy(onError func(http.ResponseWriter, *http.Request, error)) *httputil.ReverseProxy {
	target := p.target
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
		},
		Transport:    p.transport,
		ErrorHandler: onError,
	}
}

// Handler reports a failed upstream only through the status it writes
// (502 Bad Gateway), as a Traefik service does. It answers like
// ReverseProxy's default error handler without its log line: failures are
// what the fault suites provoke.
func (p *Proxy) Handler() http.Handler {
	return p.reverseProxy(func(w http.ResponseWriter, _ *http.Request, _ error) {
		w.WriteHeader(http.StatusBadGateway)
	})
}

// Next proxies and returns the transport error without writing anything,
// as Caddy's reverse_proxy does; it fits core.NextFunc.
func (p *Proxy) Next(w http.ResponseWriter, r *http.Request) error {
	var failure error
	rp := p.reverseProxy(func(_ http.ResponseWriter, _ *http.Request, err error) {
		failure = err
	})
	rp.ServeHTTP(w, r)
	return failure
}

// StatusNext calls Handler and never returns an error, as the Traefik
// adapter's next does; it fits core.NextFunc.
func (p *Proxy) StatusNext(w http.ResponseWriter, r *http.Request) error {
	p.Handler().ServeHTTP(w, r)
	return nil
}

// Close drops the proxy's idle upstream connections.
func (p *Proxy) Close() {
	p.transport.CloseIdleConnections()
}
