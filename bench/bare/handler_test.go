package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		target string
		status int
		body   string
	}{
		{"/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup", 200, `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`},
		{"/openim/callbackBeforeJoinGroupCommand", 200, `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`},
		{"/other", 404, "404 page not found\n"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tt.target, strings.NewReader("{}")))
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("%s: got %d %q, want %d %q", tt.target, rec.Code, rec.Body.String(), tt.status, tt.body)
		}
		if tt.status == 200 && rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", tt.target, rec.Header().Get("Content-Type"))
		}
	}
}
