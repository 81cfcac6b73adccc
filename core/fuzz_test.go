package core_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// Fuzz targets for the two platform decoders. Run them with .ci/fuzz.sh;
// plain `go test` runs their seeds. Yaegi v0.16.1 compiles this file but its
// test runner only collects func(*testing.T) and func(*testing.B), so under
// `yaegi test` the fuzz targets are skipped and TestDecodersNeverPanic runs
// the same property over the seeds and their truncations instead.

// fuzzEngine has a rule on every decoded field, so that random bodies reach
// every condition, and no verification, so that they reach the decoder.
func fuzzEngine(tb testing.TB) *core.Engine {
	e, err := core.New(core.Config{
		Lists: map[string]core.ListConfig{"banned": {Values: []string{"mallory", "bot-*"}}},
		Rules: []core.RuleConfig{
			{Name: "shadow", Text: "shadow", Action: "deny", Shadow: true},
			{Name: "actor", Actors: []string{"@banned"}, Action: "deny", Code: 10101, Message: "banned \"quoted\" <x>", Platforms: []string{"tencent"}},
			{Name: "actor-openim", Actors: []string{"@banned"}, Action: "deny", Code: 5001, Platforms: []string{"openim"}},
			{Name: "members", Members: []string{"@banned", "*evil*"}, Action: "deny"},
			{Name: "cap", MaxMembers: 5, Action: "deny"},
			{Name: "group", Groups: []string{"@TGS#deny*"}, GroupTypes: []string{"public", "2"}, Action: "deny"},
			{Name: "text", Text: "(?i)free money|casino", Action: "deny"},
			{Name: "rate", Rate: "3/1m", Action: "deny"},
		},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// seedBodies returns the vendor samples of testdata/seeds whose name starts
// with prefix.
func seedBodies(tb testing.TB, prefix string) [][]byte {
	dir, err := golden.Dir()
	if err != nil {
		tb.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(dir, "seeds", prefix+"*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no seeds %s*.json: %v", prefix, err)
	}
	var out [][]byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// checkOutcome is the property both fuzz targets hold: Decide returns, and a
// 200 always carries a reply the platform accepts; anything else is one of
// the documented HTTP failures with a plain-text body.
func checkOutcome(t *testing.T, platform string, out *core.Outcome) {
	if out == nil {
		t.Fatal("nil outcome")
	}
	switch out.Status {
	case 200:
	case 0:
		if out.Result != core.ResultForward {
			t.Fatalf("status 0 with result %s", out.Result)
		}
		return
	case 400, 401, 403, 405, 413:
		if !bytes.HasPrefix(out.Body, []byte("imgate: ")) || out.Err == nil {
			t.Fatalf("status %d with body %q, err %v", out.Status, out.Body, out.Err)
		}
		return
	default:
		t.Fatalf("unexpected status %d (%s)", out.Status, out.Result)
	}
	if out.Event == nil {
		t.Fatalf("200 without an event: %s", out.Body)
	}
	if out.Event.Platform != platform {
		platform = out.Event.Platform
	}
	if platform == core.PlatformTencent {
		checkTencentReply(t, out)
	} else {
		checkOpenIMReply(t, out)
	}
}

func checkTencentReply(t *testing.T, out *core.Outcome) {
	var r struct {
		ActionStatus *string   `json:"ActionStatus"`
		ErrorInfo    *string   `json:"ErrorInfo"`
		ErrorCode    *int      `json:"ErrorCode"`
		Refused      *[]string `json:"RefusedMembers_Account"`
	}
	dec := json.NewDecoder(bytes.NewReader(out.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("Tencent reply %s: %v", out.Body, err)
	}
	if r.ActionStatus == nil || *r.ActionStatus != "OK" || r.ErrorInfo == nil || r.ErrorCode == nil {
		t.Fatalf("Tencent reply %s lacks a common field", out.Body)
	}
	code := *r.ErrorCode
	if code != 0 && code != 1 && (code < 10100 || code > 10200) {
		t.Fatalf("Tencent reply %s: ErrorCode out of range", out.Body)
	}
	if r.Refused != nil {
		if code != 0 || len(*r.Refused) == 0 || out.Event.Command != "Group.CallbackBeforeInviteJoinGroup" {
			t.Fatalf("Tencent reply %s: refusal on %s", out.Body, out.Event.Command)
		}
		members := map[string]bool{}
		for _, m := range out.Event.Members {
			members[m] = true
		}
		for _, m := range *r.Refused {
			if !members[m] {
				t.Fatalf("Tencent reply %s refuses %q, not an invitee", out.Body, m)
			}
		}
	}
	if !out.Event.Before() && code != 0 {
		t.Fatalf("after-callback answered %s", out.Body)
	}
}

func checkOpenIMReply(t *testing.T, out *core.Outcome) {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(out.Body, &r); err != nil {
		t.Fatalf("OpenIM reply %s: %v", out.Body, err)
	}
	var actionCode, errCode, nextCode int
	var errMsg, errDlt string
	for key, dst := range map[string]interface{}{"actionCode": &actionCode, "errCode": &errCode, "nextCode": &nextCode, "errMsg": &errMsg, "errDlt": &errDlt} {
		raw, ok := r[key]
		if !ok {
			t.Fatalf("OpenIM reply %s lacks %s", out.Body, key)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("OpenIM reply %s: %s: %v", out.Body, key, err)
		}
	}
	if actionCode != 0 {
		t.Fatalf("OpenIM reply %s: actionCode must be 0 (v3.7+ ignores anything else with nextCode 1)", out.Body)
	}
	switch nextCode {
	case 0:
		if errCode != 0 {
			t.Fatalf("OpenIM allow %s with errCode", out.Body)
		}
	case 1:
		if errCode < 5000 || errCode > 9999 || !out.Event.Before() {
			t.Fatalf("OpenIM deny %s", out.Body)
		}
	default:
		t.Fatalf("OpenIM reply %s: nextCode %d", out.Body, nextCode)
	}
}

func FuzzTencent(f *testing.F) {
	for _, body := range seedBodies(f, "tencent-") {
		f.Add("SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&OptPlatform=iOS", body)
		f.Add("CallbackCommand=Group.CallbackBeforeInviteJoinGroup", body)
		f.Add("CallbackCommand=Group.CallbackAfterCreateGroup&ClientIP=%31.2.3.4", body)
	}
	f.Add("CallbackCommand=Group.CallbackBeforeInviteJoinGroup", []byte(`{"DestinationMembers":[{"Member_Account":"a"},{"Member_Account":"mallory"},{"Member_Account":"evil1"}]}`))
	f.Add("CallbackCommand=Group.CallbackBeforeSendMsg", []byte(`{"From_Account":"x","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"casino"}}],"EventTime":"12"}`))
	f.Add("CallbackCommand=Group.CallbackBeforeCreateGroup", []byte(`{"Name":"free money","MemberList":[{"Member_Account":"a"}]}`))
	e := fuzzEngine(f)
	f.Fuzz(func(t *testing.T, query string, body []byte) {
		if firstQueryValue(query, "CallbackCommand") == "" {
			query = "CallbackCommand=Group.CallbackBeforeApplyJoinGroup&" + query
		}
		checkOutcome(t, core.PlatformTencent, e.Decide(&core.Input{Method: "POST", Path: "/im", RawQuery: query, Body: body}))
	})
}

func FuzzOpenIM(f *testing.F) {
	for _, body := range seedBodies(f, "openim-") {
		f.Add("/openim/callbackBeforeJoinGroupCommand", "", body)
		f.Add("/openim", "command=callbackBeforeInviteJoinGroupCommand", body)
	}
	f.Add("/o/callbackBeforeSetGroupInfoExCommand", "", []byte(`{"groupID":"g","groupName":null,"ex":"x","needVerification":2}`))
	f.Add("/o/callbackBeforeSetGroupInfoCommand/", "", []byte(`{"groupID":"g","introduction":"i"}`))
	f.Add("/o/callbackBeforeCreateGroupCommand", "", []byte(`{"groupType":"\u0002","initMemberList":[{"userID":"bot-1"}],"groupName":"casino"}`))
	f.Add("/o/callbackBeforeInviteJoinGroupCommand", "", []byte(`{"invitedUserIDs":["a","b","c","d","e","f"]}`))
	e := fuzzEngine(f)
	f.Fuzz(func(t *testing.T, path, query string, body []byte) {
		checkOutcome(t, core.PlatformOpenIM, e.Decide(&core.Input{Method: "POST", Path: path, RawQuery: query, RemoteAddr: "10.0.0.1:1", Body: body}))
	})
}

// firstQueryValue is a test-side copy of the first-value lookup, to keep the
// Tencent target on Tencent: without CallbackCommand auto-detection picks
// OpenIM.
func firstQueryValue(query, key string) string {
	for _, pair := range strings.Split(query, "&") {
		if strings.HasPrefix(pair, key+"=") {
			return pair[len(key)+1:]
		}
	}
	return ""
}

// TestDecodersNeverPanic runs the fuzz property over every seed, every
// truncation of it and every command, natively and under Yaegi.
func TestDecodersNeverPanic(t *testing.T) {
	e := fuzzEngine(t)
	step := 1
	if testing.Short() {
		step = 7
	}
	var tencentCmds, openimCmds []string
	for _, row := range core.CommandTable() {
		if row[0] == core.PlatformTencent {
			tencentCmds = append(tencentCmds, row[1])
		} else {
			openimCmds = append(openimCmds, row[1])
		}
	}
	for _, body := range seedBodies(t, "tencent-") {
		for n := 0; n <= len(body); n += step {
			checkOutcome(t, core.PlatformTencent, e.Decide(&core.Input{Method: "POST", RawQuery: "CallbackCommand=Group.CallbackBeforeInviteJoinGroup", Body: body[:n]}))
		}
		for _, cmd := range tencentCmds {
			checkOutcome(t, core.PlatformTencent, e.Decide(&core.Input{Method: "POST", RawQuery: "CallbackCommand=" + cmd, Body: body}))
		}
	}
	for _, body := range seedBodies(t, "openim-") {
		for n := 0; n <= len(body); n += step {
			checkOutcome(t, core.PlatformOpenIM, e.Decide(&core.Input{Method: "POST", Path: "/o/callbackBeforeJoinGroupCommand", Body: body[:n]}))
		}
		for _, cmd := range openimCmds {
			checkOutcome(t, core.PlatformOpenIM, e.Decide(&core.Input{Method: "POST", Path: "/o/" + cmd, Body: body}))
		}
	}
}
