// Command upstream is an example business service for imgate's forward
// route. It speaks the normalized upstream protocol: imgate POSTs the
// normalized event as JSON (any path) with X-Imgate-* headers, and the
// service answers {"decision":"allow"|"deny","code":N,"message":"...",
// "refuse":["user"]}. imgate turns that into the exact Tencent Cloud IM or
// OpenIM reply, so this one endpoint serves both platforms.
//
// The policy is deliberately small: banned users may not create, join or
// invite; invitations of banned users are refused (per member on Tencent,
// whole request on OpenIM, which imgate handles); an invitation of more
// than -max-invite members is denied. After-callbacks are logged and
// acknowledged.
//
//	go run ./examples/upstream -addr 127.0.0.1:9000 -ban mallory,trudy -max-invite 20
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imgate/imgate/core"
)

// Deny codes per platform: Tencent passes 10100–10200 to the client,
// OpenIM documents 5000–9999 for business errors.
const (
	tencentBannedCode  = 10101
	tencentTooManyCode = 10102
	openimBannedCode   = 5101
	openimTooManyCode  = 5102
)

// maxEventBytes bounds the request body; imgate's own limit is 64 KiB and
// the normalized event adds little to it.
const maxEventBytes = 256 << 10

// policy is the service's whole business logic.
type policy struct {
	banned    map[string]bool
	maxInvite int
	logger    *log.Logger
}

func newPolicy(banned []string, maxInvite int, logger *log.Logger) *policy {
	p := &policy{banned: map[string]bool{}, maxInvite: maxInvite, logger: logger}
	for _, u := range banned {
		if u = strings.TrimSpace(u); u != "" {
			p.banned[u] = true
		}
	}
	return p
}

// decide answers one normalized event.
func (p *policy) decide(ev *core.Event) core.UpstreamReply {
	if ev.Phase != "before" {
		return core.UpstreamReply{Decision: core.ActionAllow}
	}
	tencent := ev.Platform == core.PlatformTencent
	if p.banned[ev.Actor] {
		code := openimBannedCode
		if tencent {
			code = tencentBannedCode
		}
		return core.UpstreamReply{Decision: core.ActionDeny, Code: code, Message: "you are banned"}
	}
	if ev.Event != "group.join.invite" {
		return core.UpstreamReply{Decision: core.ActionAllow}
	}
	if p.maxInvite > 0 && len(ev.Members) > p.maxInvite {
		code := openimTooManyCode
		if tencent {
			code = tencentTooManyCode
		}
		return core.UpstreamReply{Decision: core.ActionDeny, Code: code, Message: "at most " + strconv.Itoa(p.maxInvite) + " invitees at once"}
	}
	var refuse []string
	for _, m := range ev.Members {
		if p.banned[m] {
			refuse = append(refuse, m)
		}
	}
	if len(refuse) > 0 {
		// imgate refuses just these members on Tencent and denies the
		// whole invitation on OpenIM, which cannot refuse part of it.
		code := openimBannedCode
		if tencent {
			code = tencentBannedCode
		}
		return core.UpstreamReply{Decision: core.ActionAllow, Code: code, Message: "banned invitees", Refuse: refuse}
	}
	return core.UpstreamReply{Decision: core.ActionAllow}
}

// ServeHTTP decodes the event, decides, logs and answers.
func (p *policy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a normalized imgate event", http.StatusMethodNotAllowed)
		return
	}
	var ev core.Event
	dec := json.NewDecoder(io.LimitReader(r.Body, maxEventBytes))
	if err := dec.Decode(&ev); err != nil || ev.Event == "" {
		http.Error(w, "body is not a normalized imgate event", http.StatusBadRequest)
		return
	}
	reply := p.decide(&ev)
	p.logger.Printf("%s %s %s group=%s actor=%s members=%d -> %s%s (rule %s, request %s, %s left)",
		ev.Platform, ev.Phase, ev.Event, ev.GroupID, ev.Actor, len(ev.Members),
		reply.Decision, refusalNote(reply.Refuse), r.Header.Get(core.HeaderRule),
		r.Header.Get(core.HeaderRequestID), budgetLeft(r.Header.Get(core.HeaderDeadline)))
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(reply); err != nil {
		p.logger.Printf("writing reply: %v", err)
	}
}

func refusalNote(refuse []string) string {
	if len(refuse) == 0 {
		return ""
	}
	return " refusing " + strings.Join(refuse, ",")
}

// budgetLeft shows how much of imgate's deadline remains: an answer after
// it is ignored and the fallback decision applies.
func budgetLeft(deadline string) string {
	ms, err := strconv.ParseInt(deadline, 10, 64)
	if err != nil {
		return "unknown time"
	}
	return time.Until(time.UnixMilli(ms)).Round(time.Millisecond).String()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	ban := flag.String("ban", "mallory,trudy", "comma-separated banned user ids")
	maxInvite := flag.Int("max-invite", 20, "largest invitation allowed (0: no limit)")
	flag.Parse()

	logger := log.New(os.Stderr, "upstream: ", log.LstdFlags|log.Lmicroseconds)
	srv := &http.Server{
		Addr:              *addr,
		Handler:           newPolicy(strings.Split(*ban, ","), *maxInvite, logger),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	logger.Printf("listening on http://%s (banned: %s, max invite: %d)", *addr, *ban, *maxInvite)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Fatal(err)
	}
}
