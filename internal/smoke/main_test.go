package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// TestRunComparesExactReplies runs checks against a fake gateway that
// answers correctly for one path and wrongly for another.
func TestRunComparesExactReplies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "mallory") {
			io.WriteString(w, `{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":10101}`)
			return
		}
		io.WriteString(w, tencentOK)
	}))
	defer srv.Close()
	client := srv.Client()
	if err := run(client, srv.URL, checks[4]); err != nil {
		t.Errorf("banned applicant: %v", err)
	}
	if err := run(client, srv.URL, checks[5]); err == nil {
		t.Error("a wrong OpenIM reply passed the check")
	}
}

func TestSeedFilesExist(t *testing.T) {
	for _, c := range append(checks, forwardChecks...) {
		if c.bodyFile == "" {
			continue
		}
		if _, err := os.Stat("../../" + c.bodyFile); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestMetrics(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"# HELP x\ncaddy_imgate_decisions_total{platform=\"tencent\"} 3\n", true},
		{"caddy_http_requests_total 3\n", false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tc.body) }))
		err := metrics(srv.Client(), srv.URL)
		srv.Close()
		if (err == nil) != tc.ok {
			t.Errorf("metrics(%q) = %v, want ok=%v", tc.body, err, tc.ok)
		}
	}
}
