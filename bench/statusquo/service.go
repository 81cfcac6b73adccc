package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/imgate/imgate/core"
)

// Service decides callbacks with the rules of one imgate config.
type Service struct {
	// native answers platform callbacks: the config as given.
	native *core.Engine
	// normalized decides forwarded events: the same rules without the
	// Tencent token, because imgate checked the signature and the
	// normalized event does not carry it.
	normalized *core.Engine
	decidePath string
	// ruleReplies are each deny rule's code and message, for the
	// normalized reply.
	ruleReplies map[string]core.UpstreamReply
	maxBody     int64
}

// NewService builds both engines from cfg. A config that forwards is
// refused: this service is the end of the line.
func NewService(cfg core.Config, decidePath string) (*Service, error) {
	if core.MayForward(cfg) {
		return nil, fmt.Errorf("the config forwards: the status quo service decides itself")
	}
	s := &Service{decidePath: decidePath, ruleReplies: map[string]core.UpstreamReply{}, maxBody: core.DefaultMaxBodyBytes}
	if cfg.MaxBodyBytes > 0 {
		s.maxBody = int64(cfg.MaxBodyBytes)
	}
	for i, r := range cfg.Rules {
		name := r.Name
		if name == "" {
			name = "rule" + strconv.Itoa(i+1)
		}
		s.ruleReplies[name] = core.UpstreamReply{Decision: core.ActionDeny, Code: r.Code, Message: r.Message}
	}
	var err error
	if s.native, err = core.New(cfg); err != nil {
		return nil, fmt.Errorf("native engine: %w", err)
	}
	stripped := cfg
	stripped.Tencent.Token, stripped.Tencent.TokenEnv, stripped.Tencent.TokenFile = "", "", ""
	if s.normalized, err = core.New(stripped); err != nil {
		return nil, fmt.Errorf("normalized engine: %w", err)
	}
	return s, nil
}

// ServeHTTP answers a native callback or, on the decide path, a normalized
// event.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.decidePath {
		s.native.Serve(w, r, "", nil)
		return
	}
	reply, status, err := s.decide(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	body, err := json.Marshal(reply)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// envelope is the part of a normalized event (core.Event) the service needs
// to rebuild the callback: the rules then decode the raw body once, as in
// the native path, instead of the event's decoded copies of the same fields.
type envelope struct {
	Platform    string          `json:"platform"`
	Command     string          `json:"command"`
	AppID       string          `json:"appId"`
	ClientIP    string          `json:"clientIp"`
	OptPlatform string          `json:"optPlatform"`
	Raw         json.RawMessage `json:"raw"`
}

// decide parses a normalized event and applies the rules to the callback
// it carries.
func (s *Service) decide(r *http.Request) (core.UpstreamReply, int, error) {
	var ev envelope
	if r.Method != http.MethodPost {
		return core.UpstreamReply{}, http.StatusMethodNotAllowed, fmt.Errorf("method %s", r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody*2))
	if err != nil {
		return core.UpstreamReply{}, http.StatusBadRequest, fmt.Errorf("reading event: %w", err)
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return core.UpstreamReply{}, http.StatusBadRequest, fmt.Errorf("decoding event: %w", err)
	}
	in, err := callbackOf(&ev)
	if err != nil {
		return core.UpstreamReply{}, http.StatusBadRequest, err
	}
	out := s.normalized.Decide(in)
	switch out.Decision {
	case core.ActionAllow, core.ResultAck:
		return core.UpstreamReply{Decision: core.ActionAllow}, http.StatusOK, nil
	case "refuse":
		return core.UpstreamReply{Decision: core.ActionAllow, Refuse: out.Refused}, http.StatusOK, nil
	case core.ActionDeny:
		reply, ok := s.ruleReplies[out.Rule]
		if !ok {
			reply = core.UpstreamReply{Decision: core.ActionDeny}
		}
		return reply, http.StatusOK, nil
	}
	return core.UpstreamReply{}, http.StatusUnprocessableEntity, fmt.Errorf("event not decided: %s %s", out.Result, out.Reason)
}

// callbackOf rebuilds the platform callback a normalized event came from:
// the raw body plus the query (Tencent) or path (OpenIM) that name the
// command.
func callbackOf(ev *envelope) (*core.Input, error) {
	if len(ev.Raw) == 0 || ev.Command == "" {
		return nil, fmt.Errorf("event lacks raw body or command")
	}
	in := &core.Input{Method: http.MethodPost, Body: ev.Raw}
	switch ev.Platform {
	case core.PlatformTencent:
		q := url.Values{}
		q.Set("SdkAppid", ev.AppID)
		q.Set("CallbackCommand", ev.Command)
		q.Set("contenttype", "json")
		q.Set("ClientIP", ev.ClientIP)
		q.Set("OptPlatform", ev.OptPlatform)
		in.Path, in.RawQuery = "/tencent", q.Encode()
	case core.PlatformOpenIM:
		in.Path = "/openim/" + url.PathEscape(ev.Command)
	default:
		return nil, fmt.Errorf("event platform %q is not tencent or openim", ev.Platform)
	}
	return in, nil
}
