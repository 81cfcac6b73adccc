package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// TestTencentSignVector checks the test vector of protocols.md §1.4, and that
// the older page's typo token does not produce it.
func TestTencentSignVector(t *testing.T) {
	const want = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
	if got := core.TencentSign("xxxxyyyy", "1669872112"); got != want {
		t.Fatalf("TencentSign = %s, want %s", got, want)
	}
	if got := core.TencentSign("xxxyyy", "1669872112"); got == want {
		t.Fatal("the doc-typo token xxxyyy gives the same hash")
	}
}

const applyJoinBody = `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Type":"Public","Requestor_Account":"jared","EventTime":1670574414123}`

func signedQuery(token, requestTime string) string {
	return "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&Sign=" +
		core.TencentSign(token, requestTime) + "&RequestTime=" + requestTime
}

// TestTencentVerify covers app id, signature and the RequestTime window in
// both directions, with the clock set by SetClock.
func TestTencentVerify(t *testing.T) {
	const rt = int64(1669872112)
	rts := "1669872112"
	cases := []struct {
		name     string
		window   string
		skew     time.Duration // now minus RequestTime
		query    string
		result   string
		status   int
		reason   string
		verified string
	}{
		{"exact time", "", 0, signedQuery("xxxxyyyy", rts), core.ResultAllow, 200, "", "appid,sign"},
		{"59s late", "", 59 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultAllow, 200, "", "appid,sign"},
		{"59s early", "", -59 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultAllow, 200, "", "appid,sign"},
		{"61s late is stale", "", 61 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultUnauthorized, 401, "stale", ""},
		{"61s early is stale", "", -61 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultUnauthorized, 401, "stale", ""},
		{"custom window late", "10s", 11 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultUnauthorized, 401, "stale", ""},
		{"custom window early", "10s", -11 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultUnauthorized, 401, "stale", ""},
		{"custom window inside", "10s", 9 * time.Second, signedQuery("xxxxyyyy", rts), core.ResultAllow, 200, "", "appid,sign"},
		{"upper-case hex sign", "", 0, strings.Replace(signedQuery("xxxxyyyy", rts), "Sign=17773bc3", "Sign=17773BC3", 1), core.ResultAllow, 200, "", "appid,sign"},
		{"wrong token", "", 0, signedQuery("xxxyyy", rts), core.ResultUnauthorized, 401, "signature", ""},
		{"sign for another time", "", 0, strings.Replace(signedQuery("xxxxyyyy", rts), "RequestTime="+rts, "RequestTime=1669872113", 1), core.ResultUnauthorized, 401, "signature", ""},
		{"no sign", "", 0, "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup", core.ResultUnauthorized, 401, "signature", ""},
		{"sign without time", "", 0, "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&Sign=" + core.TencentSign("xxxxyyyy", rts), core.ResultUnauthorized, 401, "signature", ""},
		{"signed non-numeric time", "", 0, signedQuery("xxxxyyyy", "soon"), core.ResultUnauthorized, 401, "stale", ""},
		{"other app", "", 0, strings.Replace(signedQuery("xxxxyyyy", rts), "1400000001", "1400000002", 1), core.ResultForbidden, 403, "appid", ""},
		{"no app id", "", 0, strings.Replace(signedQuery("xxxxyyyy", rts), "SdkAppid=1400000001&", "", 1), core.ResultForbidden, 403, "appid", ""},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			e, err := core.New(core.Config{Tencent: core.TencentConfig{AppID: "1400000001", Token: "xxxxyyyy", SignWindow: tc.window}})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(rt, 0).Add(tc.skew)
			e.SetClock(func() time.Time { return now })
			out := e.Decide(&core.Input{Method: "POST", RawQuery: tc.query, Body: []byte(applyJoinBody)})
			if out.Result != tc.result || out.Status != tc.status || out.Reason != tc.reason {
				t.Fatalf("result %s status %d reason %q (err %v), want %s %d %q", out.Result, out.Status, out.Reason, out.Err, tc.result, tc.status, tc.reason)
			}
			if out.Verified != tc.verified {
				t.Errorf("verified %q, want %q", out.Verified, tc.verified)
			}
			if tc.status != 200 && strings.Contains(string(out.Body), "ActionStatus") {
				t.Errorf("a verification failure answered like the platform: %s", out.Body)
			}
		})
	}
}

// TestTencentVerifyOff proves that without appId and token nothing is
// checked and Verified says so.
func TestTencentVerifyOff(t *testing.T) {
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := e.Decide(&core.Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", Body: []byte(applyJoinBody)})
	if out.Result != core.ResultAllow || out.Verified != "none" {
		t.Fatalf("result %s verified %q (err %v)", out.Result, out.Verified, out.Err)
	}
}

// TestTencentDecode covers the field mapping and the parsing gotchas of
// protocols.md §1.10.
func TestTencentDecode(t *testing.T) {
	cases := []struct {
		name  string
		query string
		body  string
		check func(ev *core.Event) string
	}{
		{"event time as string", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g","Requestor_Account":"u","EventTime":"1670574414123"}`,
			func(ev *core.Event) string {
				return expect(ev.EventTime == 1670574414123 && ev.Actor == "u" && len(ev.Members) == 1 && ev.Members[0] == "u", ev)
			}},
		{"event time as number", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
			`{"GroupId":"g","Requestor_Account":"u","EventTime":1670574414123}`,
			func(ev *core.Event) string { return expect(ev.EventTime == 1670574414123, ev) }},
		{"event time missing", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
			`{"GroupId":"g"}`,
			func(ev *core.Event) string { return expect(ev.EventTime == 0 && ev.Actor == "", ev) }},
		{"query fields and IOS spelling", "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&ClientIP=203.0.113.7&OptPlatform=IOS",
			`{"GroupId":"g"}`,
			func(ev *core.Event) string {
				return expect(ev.AppID == "1400000001" && ev.ClientIP == "203.0.113.7" && ev.OptPlatform == "iOS", ev)
			}},
		{"macOS spelling", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup&OptPlatform=macOS",
			`{"GroupId":"g"}`,
			func(ev *core.Event) string { return expect(ev.OptPlatform == "Mac", ev) }},
		{"invite members and operator", "CallbackCommand=Group.CallbackBeforeInviteJoinGroup",
			`{"GroupId":"g","Type":"Work","Operator_Account":"op","DestinationMembers":[{"Member_Account":"a"},{"Member_Account":"b"}]}`,
			func(ev *core.Event) string {
				return expect(ev.Actor == "op" && ev.GroupType == "Work" && strings.Join(ev.Members, ",") == "a,b" && ev.Event == "group.join.invite", ev)
			}},
		{"create group name and owner", "CallbackCommand=Group.CallbackBeforeCreateGroup",
			`{"Operator_Account":"op","Owner_Account":"own","Name":"free money","MemberList":[{"Member_Account":"m1"}]}`,
			func(ev *core.Event) string {
				return expect(ev.Owner == "own" && ev.Text == "free money" && strings.Join(ev.Members, ",") == "m1", ev)
			}},
		{"message text joined", "CallbackCommand=Group.CallbackBeforeSendMsg",
			`{"GroupId":"g","From_Account":"s","Operator_Account":"s","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}},{"MsgType":"TIMFaceElem","MsgContent":{"Index":1}},{"MsgType":"TIMTextElem","MsgContent":{"Text":"there"}}]}`,
			func(ev *core.Event) string { return expect(ev.Actor == "s" && ev.Text == "hi\nthere", ev) }},
		{"new owner wins", "CallbackCommand=Group.CallbackAfterChangeGroupOwner",
			`{"GroupId":"g","Owner_Account":"old","NewOwner_Account":"new"}`,
			func(ev *core.Event) string { return expect(ev.Owner == "new" && ev.Phase == "after", ev) }},
		{"exit members", "CallbackCommand=Group.CallbackAfterMemberExit",
			`{"GroupId":"g","ExitType":"Kicked","Operator_Account":"admin","ExitMemberList":[{"Member_Account":"x"}]}`,
			func(ev *core.Event) string { return expect(strings.Join(ev.Members, ",") == "x", ev) }},
		{"unknown fields and comments", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup",
			"{\n\"GroupId\": \"g\", // the group\n\"Extra\": {\"deep\": [1, 2, {\"x\": null}]},\n\"Requestor_Account\": \"u\" // who\n}",
			func(ev *core.Event) string { return expect(ev.GroupID == "g" && ev.Actor == "u", ev) }},
	}
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			out := e.Decide(&core.Input{Method: "POST", RawQuery: tc.query, Body: []byte(tc.body)})
			if out.Status != 200 || out.Event == nil {
				t.Fatalf("status %d result %s err %v", out.Status, out.Result, out.Err)
			}
			if msg := tc.check(out.Event); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// expect returns "" when ok, else a description of ev for the failure.
func expect(ok bool, ev *core.Event) string {
	if ok {
		return ""
	}
	return "unexpected event: platform=" + ev.Platform + " event=" + ev.Event + " group=" + ev.GroupID +
		" type=" + ev.GroupType + " actor=" + ev.Actor + " owner=" + ev.Owner + " members=" + strings.Join(ev.Members, ",") +
		" text=" + ev.Text + " opt=" + ev.OptPlatform + " appid=" + ev.AppID
}

// TestTencentBadBodies proves malformed callbacks get HTTP 400, never a
// platform answer.
func TestTencentBadBodies(t *testing.T) {
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, query, body, reason string }{
		{"command mismatch", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", `{"CallbackCommand":"Group.CallbackBeforeCreateGroup"}`, "command_mismatch"},
		{"truncated", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", `{"GroupId":"g","Requestor_Acc`, "bad_body"},
		{"array", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", `[{"GroupId":"g"}]`, "bad_body"},
		{"empty", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", ``, "bad_body"},
		{"wrong type", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", `{"GroupId":12}`, "bad_body"},
		{"trailing data", "CallbackCommand=Group.CallbackBeforeApplyJoinGroup", `{"GroupId":"g"} {"GroupId":"h"}`, "bad_body"},
		{"no command", "SdkAppid=1400000001&CallbackCommand=", `{}`, ""},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			cfg := core.Config{Platform: core.PlatformTencent}
			pe, err := core.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, eng := range []*core.Engine{e, pe} {
				out := eng.Decide(&core.Input{Method: "POST", RawQuery: tc.query, Body: []byte(tc.body)})
				if out.Status != 400 || out.Result != core.ResultBadRequest {
					t.Fatalf("status %d result %s body %s", out.Status, out.Result, out.Body)
				}
				if tc.reason != "" && out.Reason != tc.reason {
					t.Errorf("reason %q, want %q", out.Reason, tc.reason)
				}
			}
		})
	}
}
