package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/imgate/imgate/bench/plan"
	"github.com/imgate/imgate/core"
)

// Expectation computes the reply each kind of setup must give.
type Expectation struct {
	// rules decides as setups C, D and E must.
	rules *core.Engine
	// allow gives the platform's allow reply, what A and B always send.
	allow       *core.Engine
	requestTime string
	sign        string
}

// NewExpectation builds the reference engines from the rules config.
func NewExpectation(cfg core.Config, requestTime string) (*Expectation, error) {
	rules, err := core.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("rules config: %w", err)
	}
	allow, err := core.New(core.Config{})
	if err != nil {
		return nil, err
	}
	return &Expectation{rules: rules, allow: allow, requestTime: requestTime, sign: core.TencentSign(cfg.Tencent.Token, requestTime)}, nil
}

// Want returns the reply body and the decision for one plan request.
func (x *Expectation) Want(p plan.Request, decides bool) (string, string) {
	engine := x.allow
	if decides {
		engine = x.rules
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, p.Sign(x.requestTime, x.sign), bytes.NewReader(p.Body))
	out := engine.Serve(rec, req, "", nil)
	return rec.Body.String(), out.Decision
}

// DenyShare counts the plan's requests the rules deny.
func (x *Expectation) DenyShare(reqs []plan.Request) (denied int) {
	for _, p := range reqs {
		if _, decision := x.Want(p, true); decision == core.ActionDeny {
			denied++
		}
	}
	return denied
}

// Preflight sends every distinct request of the plan to the setup at base
// and checks status, content type and the exact reply body, so that every
// setup measured is known to do the work it claims.
func (x *Expectation) Preflight(client *http.Client, base string, reqs []plan.Request, decides bool) error {
	seen := map[string]bool{}
	for _, p := range reqs {
		key := p.Target + " " + p.BodyFile
		if seen[key] {
			continue
		}
		seen[key] = true
		want, _ := x.Want(p, decides)
		resp, err := client.Post(base+p.Sign(x.requestTime, x.sign), "application/json", bytes.NewReader(p.Body))
		if err != nil {
			return fmt.Errorf("%s: %w", p.BodyFile, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s: reading reply: %w", p.BodyFile, err)
		}
		if resp.StatusCode != http.StatusOK || string(got) != want {
			return fmt.Errorf("%s: got HTTP %d %q, want 200 %q", p.BodyFile, resp.StatusCode, got, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			return fmt.Errorf("%s: Content-Type %q, want application/json", p.BodyFile, ct)
		}
	}
	return nil
}

// newClient is a keep-alive client for the preflight checks.
func newClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second}
}
