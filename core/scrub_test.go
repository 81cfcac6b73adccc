package core_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// TestForwardScrubsCredentials proves that the credentials a platform puts
// in the callback URL do not travel to the business service unless
// forward.keepCredentials says so: Tencent's Sign and RequestTime, the
// OpenIM secret as a path segment or a query parameter.
func TestForwardScrubsCredentials(t *testing.T) {
	rt := strconv.FormatInt(time.Now().Unix(), 10)
	sign := core.TencentSign("tok", rt)
	tencentURL := "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&RequestTime=" + rt + "&Sign=" + sign + "&ClientIP=1.2.3.4"
	tencentBody := `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"a"}`
	openimBody := `{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g","applyID":"a"}`
	cases := []struct {
		name      string
		format    string
		keep      bool
		url, body string
		wantURI   string
	}{
		{"tencent native", "native", false, tencentURL, tencentBody, "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&ClientIP=1.2.3.4"},
		{"tencent native kept", "native", true, tencentURL, tencentBody, tencentURL},
		{"tencent normalized", "normalized", false, tencentURL, tencentBody, "/im"},
		{"openim path secret v3.5", "native", false, "/im/openim/s3cret/callbackBeforeJoinGroupCommand", openimBody, "/im/openim/callbackBeforeJoinGroupCommand"},
		{"openim path secret normalized", "normalized", false, "/im/openim/s3cret/callbackBeforeJoinGroupCommand", openimBody, "/im/openim/callbackBeforeJoinGroupCommand"},
		{"openim path secret kept", "native", true, "/im/openim/s3cret/callbackBeforeJoinGroupCommand", openimBody, "/im/openim/s3cret/callbackBeforeJoinGroupCommand"},
		{"openim v3.0 last segment", "native", false, "/im/openim/s3cret?command=callbackBeforeJoinGroupCommand", openimBody, "/im/openim/?command=callbackBeforeJoinGroupCommand"},
		{"openim query secret glued v3.5", "native", false, "/im/openim?secret=s3cret/callbackBeforeJoinGroupCommand", openimBody, "/im/openim?command=callbackBeforeJoinGroupCommand"},
		{"openim query secret", "native", false, "/im/openim/callbackBeforeJoinGroupCommand?secret=s3cret&x=1", openimBody, "/im/openim/callbackBeforeJoinGroupCommand?x=1"},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			e, err := core.New(core.Config{
				DefaultAction: "forward",
				Tencent:       core.TencentConfig{AppID: "1400000001", Token: "tok"},
				OpenIM:        core.OpenIMConfig{Secret: "s3cret"},
				Forward:       core.ForwardConfig{Format: tc.format, KeepCredentials: tc.keep},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got string
			next := func(w http.ResponseWriter, r *http.Request) error {
				got = r.URL.RequestURI()
				w.Write([]byte(`{"decision":"allow"}`))
				return nil
			}
			if tc.format == "native" {
				next = func(w http.ResponseWriter, r *http.Request) error {
					got = r.URL.RequestURI()
					if strings.Contains(tc.body, "CallbackCommand") {
						w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`))
					} else {
						w.Write([]byte(`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`))
					}
					return nil
				}
			}
			rec := httptest.NewRecorder()
			out := e.Serve(rec, httptest.NewRequest(http.MethodPost, tc.url, strings.NewReader(tc.body)), "", next)
			if out.Result != core.ResultAllow {
				t.Fatalf("result %s (%s %v)", out.Result, out.Reason, out.Err)
			}
			if got != tc.wantURI {
				t.Errorf("upstream got %s\nwant         %s", got, tc.wantURI)
			}
			if !tc.keep && (strings.Contains(got, "s3cret") || strings.Contains(got, sign)) {
				t.Errorf("a credential reached the upstream: %s", got)
			}
		})
	}
}
