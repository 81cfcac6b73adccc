package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/bench/rules"
	"github.com/imgate/imgate/core"
)

// TestHandlerAnswersLikeTheEngine: every reply is the engine's, and only
// what the Caddy module logs at info (a denial here) is logged.
func TestHandlerAnswersLikeTheEngine(t *testing.T) {
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h, err := NewHandler(cfg, slogTo(&logs))
	if err != nil {
		t.Fatal(err)
	}
	requestTime := time.Now().Unix()
	sign := core.TencentSign(cfg.Tencent.Token, itoa(requestTime))
	query := "/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&RequestTime=" + itoa(requestTime) + "&Sign=" + sign
	tests := []struct {
		target, body, wantBody string
		logged                 bool
	}{
		{query, `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"jared"}`, `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`, false},
		{query, `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"spammer1"}`, `{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`, true},
	}
	for _, tt := range tests {
		logs.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader(tt.body)))
		if rec.Code != 200 || rec.Body.String() != tt.wantBody || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: got %d %q", tt.body, rec.Code, rec.Body.String())
		}
		if logged := strings.Contains(logs.String(), `"msg":"callback deny"`); logged != tt.logged {
			t.Errorf("%s: logged %v (%q), want %v", tt.body, logged, logs.String(), tt.logged)
		}
	}
}

func TestHandlerRefusesForwarding(t *testing.T) {
	cfg, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultAction = core.ActionForward
	if _, err := NewHandler(cfg, slogTo(&bytes.Buffer{})); err == nil {
		t.Fatal("a forwarding config was accepted")
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
