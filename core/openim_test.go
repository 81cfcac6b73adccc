package core_test

import (
	"encoding/json"
	"testing"

	"github.com/imgate/imgate/core"
)

// TestOpenIMRecognise covers the command in the path (v3.5+) and in the
// query (v3.0–3.4), the shared secret in either place, and the source list.
func TestOpenIMRecognise(t *testing.T) {
	secret := core.Config{OpenIM: core.OpenIMConfig{Secret: "s3cret"}}
	cidr := core.Config{OpenIM: core.OpenIMConfig{AllowedCIDRs: []string{"10.0.0.0/8", "fd00::/8"}}}
	body := []byte(`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g","applyID":"u"}`)
	cases := []struct {
		name     string
		cfg      core.Config
		path     string
		query    string
		remote   string
		result   string
		reason   string
		verified string
	}{
		{"path command", core.Config{}, "/openim/callbackBeforeJoinGroupCommand", "", "", core.ResultAllow, "", "none"},
		{"path command trailing slash", core.Config{}, "/openim/callbackBeforeJoinGroupCommand/", "", "", core.ResultAllow, "", "none"},
		{"query command", core.Config{}, "/openim", "command=callbackBeforeJoinGroupCommand", "", core.ResultAllow, "", "none"},
		{"no command", core.Config{}, "/openim/hook", "", "", core.ResultBadRequest, "no_command", ""},
		{"secret segment", secret, "/openim/s3cret/callbackBeforeJoinGroupCommand", "", "", core.ResultAllow, "", "secret"},
		{"secret query", secret, "/openim/callbackBeforeJoinGroupCommand", "secret=s3cret", "", core.ResultAllow, "", "secret"},
		{"secret last segment with query command", secret, "/openim/s3cret", "command=callbackBeforeJoinGroupCommand", "", core.ResultAllow, "", "secret"},
		{"wrong secret", secret, "/openim/guess/callbackBeforeJoinGroupCommand", "", "", core.ResultUnauthorized, "secret", ""},
		{"missing secret", secret, "/callbackBeforeJoinGroupCommand", "", "", core.ResultUnauthorized, "secret", ""},
		{"source inside", cidr, "/o/callbackBeforeJoinGroupCommand", "", "10.1.2.3:4000", core.ResultAllow, "", "source"},
		{"source mapped v4", cidr, "/o/callbackBeforeJoinGroupCommand", "", "[::ffff:10.1.2.3]:4000", core.ResultAllow, "", "source"},
		{"source v6", cidr, "/o/callbackBeforeJoinGroupCommand", "", "[fd00::1]:4000", core.ResultAllow, "", "source"},
		{"source bare ip", cidr, "/o/callbackBeforeJoinGroupCommand", "", "10.9.9.9", core.ResultAllow, "", "source"},
		{"source outside", cidr, "/o/callbackBeforeJoinGroupCommand", "", "192.0.2.1:4000", core.ResultForbidden, "source", ""},
		{"source unparsable", cidr, "/o/callbackBeforeJoinGroupCommand", "", "somewhere", core.ResultForbidden, "source", ""},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			e, err := core.New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			out := e.Decide(&core.Input{Method: "POST", Path: tc.path, RawQuery: tc.query, RemoteAddr: tc.remote, Body: body})
			if out.Result != tc.result || out.Reason != tc.reason || out.Verified != tc.verified {
				t.Fatalf("result %s reason %q verified %q (err %v), want %s %q %q", out.Result, out.Reason, out.Verified, out.Err, tc.result, tc.reason, tc.verified)
			}
		})
	}
}

// TestOpenIMDecode covers the field mapping, including groupType sent as a
// control character (protocols.md §2.6).
func TestOpenIMDecode(t *testing.T) {
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, command, body       string
		groupType, actor, members string
		text                      string
	}{
		{"join control-char type", "callbackBeforeJoinGroupCommand", `{"groupID":"g","groupType":"\u0002","applyID":"u","reqMessage":"hi"}`, "2", "u", "u", "hi"},
		{"join numeric type", "callbackBeforeJoinGroupCommand", `{"groupID":"g","groupType":2,"applyID":"u"}`, "2", "u", "u", ""},
		{"create", "callbackBeforeCreateGroupCommand", `{"groupName":"n","ownerUserID":"o","creatorUserID":"c","groupType":2,"initMemberList":[{"userID":"o","roleLevel":100},{"userID":"m","roleLevel":20}]}`, "2", "c", "o,m", "n"},
		{"invite", "callbackBeforeInviteJoinGroupCommand", `{"groupID":"g","reason":"welcome","invitedUserIDs":["a","b"]}`, "", "", "a,b", "welcome"},
		{"members join", "callbackBeforeMembersJoinGroupCommand", `{"groupID":"g","memberList":[{"userID":"x","ex":""}],"groupEx":""}`, "", "", "x", ""},
		{"kick", "callbackAfterKickGroupCommand", `{"groupID":"g","kickedUserIDs":["k"],"reason":"spam"}`, "", "", "k", "spam"},
		{"dismiss", "callbackAfterDisMissGroupCommand", `{"groupID":"g","ownerID":"o","groupType":"\u0002","membersID":["a","b","c"]}`, "2", "", "a,b,c", ""},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			out := e.Decide(openimIn(tc.command, tc.body))
			if out.Status != 200 || out.Event == nil {
				t.Fatalf("status %d result %s err %v", out.Status, out.Result, out.Err)
			}
			ev := out.Event
			members := ""
			for i, m := range ev.Members {
				if i > 0 {
					members += ","
				}
				members += m
			}
			if ev.GroupType != tc.groupType || ev.Actor != tc.actor || members != tc.members || ev.Text != tc.text {
				t.Fatalf("type %q actor %q members %q text %q", ev.GroupType, ev.Actor, members, ev.Text)
			}
		})
	}
}

// TestOpenIMSetGroupInfoEcho proves the allow reply to the set-group-info
// callbacks carries the fields OpenIM copies back (protocols.md §2.6).
func TestOpenIMSetGroupInfoEcho(t *testing.T) {
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := e.Decide(openimIn("callbackBeforeSetGroupInfoCommand", `{"groupID":"g1","groupName":"Name","introduction":"","needVerification":1}`))
	var reply map[string]interface{}
	if err := json.Unmarshal(out.Body, &reply); err != nil {
		t.Fatalf("reply %s: %v", out.Body, err)
	}
	if reply["groupID"] != "g1" || reply["groupName"] != "Name" || reply["faceURL"] != "" || reply["nextCode"] != float64(0) {
		t.Fatalf("reply %s lacks the echoed fields", out.Body)
	}
	out = e.Decide(openimIn("callbackBeforeSetGroupInfoExCommand", `{"groupID":"g1","groupName":null,"ex":"x","needVerification":2}`))
	reply = nil
	if err := json.Unmarshal(out.Body, &reply); err != nil {
		t.Fatalf("reply %s: %v", out.Body, err)
	}
	if reply["groupID"] != "g1" || reply["ex"] != "x" || reply["needVerification"] != float64(2) {
		t.Fatalf("reply %s lacks the echoed fields", out.Body)
	}
	if _, ok := reply["groupName"]; !ok {
		t.Fatalf("reply %s drops the null groupName", out.Body)
	}
}
