package core_test

import (
	"strings"
	"testing"

	"github.com/imgate/imgate/core"
)

// tencentGroupCallbacks are the Group.* callbacks of protocols.md §1.8,
// §1.8.18 and the 2024–26 additions of §1.10.
var tencentGroupCallbacks = []string{
	"Group.CallbackBeforeCreateGroup", "Group.CallbackAfterCreateGroup",
	"Group.CallbackBeforeApplyJoinGroup", "Group.CallbackBeforeInviteJoinGroup",
	"Group.CallbackAfterNewMemberJoin", "Group.CallbackAfterMemberExit",
	"Group.CallbackBeforeSendMsg", "Group.CallbackAfterSendMsg",
	"Group.CallbackAfterGroupFull", "Group.CallbackAfterGroupDestroyed",
	"Group.CallbackAfterGroupInfoChanged", "Group.CallbackOnMemberStateChange",
	"Group.CallbackSendMsgException", "Group.CallbackAfterRecallMsg",
	"Group.CallbackAfterMemberFieldChanged", "Group.CallbackAfterGroupAttrChanged",
	"Group.CallbackAfterChangeGroupOwner", "Group.CallbackAfterReadReceipt",
	"Group.CallbackBeforeCreateTopic", "Group.CallbackAfterCreateTopic",
	"Group.CallbackAfterTopicDestroyed", "Group.CallbackAfterTopicInfoChanged",
	"Group.CallbackOnDailyGroupQuotaAlarm", "Group.CallbackAfterGroupMsgExtension",
}

// openimGroupCommands are the group command names of protocols.md §2.6 over
// every version (main, v3.7, v3.5–3.6, v3.0).
var openimGroupCommands = []string{
	"callbackBeforeCreateGroupCommand", "callbackAfterCreateGroupCommand",
	"callbackBeforeMembersJoinGroupCommand", "callbackBeforeMemberJoinGroupCommand",
	"callbackBeforeInviteJoinGroupCommand", "callbackBeforeJoinGroupCommand",
	"callbackAfterJoinGroupCommand", "callbackAfterQuitGroupCommand", "callbackQuitGroupCommand",
	"callbackAfterKickGroupCommand", "callbackKillGroupCommand",
	"callbackAfterDisMissGroupCommand", "callbackDisMissGroupCommand",
	"callbackAfterTransferGroupOwnerCommand", "callbackTransferGroupOwnerAfter", "callbackAfterTransferGroupOwner",
	"callbackBeforeSetGroupInfoCommand", "callbackAfterSetGroupInfoCommand",
	"callbackBeforeSetGroupInfoExCommand", "callbackAfterSetGroupInfoExCommand",
	"callbackBeforeSetGroupMemberInfoCommand", "callbackAfterSetGroupMemberInfoCommand",
	"callbackBeforeSendGroupMsgCommand", "callbackAfterSendGroupMsgCommand",
	"callbackBeforeMsgModifyCommand", "callbackMsgModifyCommand",
	"callbackAfterGroupMsgReadCommand", "callbackGroupMsgReadCommand",
	"callbackAfterMsgSaveDBCommand", "callbackBeforeGroupOnlinePushCommand",
	"callbackSuperGroupOnlinePushCommand", "callbackBeforeAfterMsgCommand",
}

// TestCommandTable proves the table covers every documented command exactly
// once, in a stable sorted order, with the phase the command name says.
func TestCommandTable(t *testing.T) {
	rows := core.CommandTable()
	byKey := map[string][4]string{}
	tencent := 0
	for i, row := range rows {
		if i > 0 && !rowLess(rows[i-1], row) {
			t.Errorf("rows %d and %d are out of order: %v, %v", i-1, i, rows[i-1], row)
		}
		key := row[0] + " " + row[1]
		if _, dup := byKey[key]; dup {
			t.Errorf("duplicate row %v", row)
		}
		byKey[key] = row
		if row[0] == core.PlatformTencent {
			tencent++
		}
		if row[2] == "" || row[2] == core.EventUnknown {
			t.Errorf("row %v has no event", row)
		}
		wantBefore := strings.Contains(strings.ToLower(row[1]), "before")
		if phase, odd := oddPhases[row[1]]; odd {
			wantBefore = phase == "before"
		}
		if (row[3] == "before") != wantBefore {
			t.Errorf("row %v: phase %s, the command name says before=%v", row, row[3], wantBefore)
		}
	}
	if tencent != 24 {
		t.Errorf("%d Tencent commands, want 24", tencent)
	}
	for _, name := range tencentGroupCallbacks {
		if _, ok := byKey["tencent "+name]; !ok {
			t.Errorf("Tencent %s missing", name)
		}
	}
	for _, name := range openimGroupCommands {
		if _, ok := byKey["openim "+name]; !ok {
			t.Errorf("OpenIM %s missing", name)
		}
	}
	if len(rows) != len(tencentGroupCallbacks)+len(openimGroupCommands) {
		t.Errorf("%d rows, want %d", len(rows), len(tencentGroupCallbacks)+len(openimGroupCommands))
	}
}

// oddPhases are the command names that do not say their phase: the revoke
// notification is named "BeforeAfter" (sic, §2.6) and the pre-v3.7 modify
// and push commands lack "Before".
var oddPhases = map[string]string{
	"callbackBeforeAfterMsgCommand":       "after",
	"callbackMsgModifyCommand":            "before",
	"callbackSuperGroupOnlinePushCommand": "before",
}

func rowLess(a, b [4]string) bool {
	for k := 0; k < 4; k++ {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return false
}

// TestCommandTableDecides proves every row is what Decide reports: the same
// event and phase for a request carrying that command.
func TestCommandTableDecides(t *testing.T) {
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range core.CommandTable() {
		in := &core.Input{Method: "POST", Body: []byte(`{}`)}
		if row[0] == core.PlatformTencent {
			in.RawQuery = "SdkAppid=1400000001&CallbackCommand=" + row[1]
		} else {
			in.Path = "/openim/" + row[1]
		}
		out := e.Decide(in)
		if out.Event == nil {
			t.Errorf("%v: no event (result %s, err %v)", row, out.Result, out.Err)
			continue
		}
		if out.Event.Platform != row[0] || out.Event.Event != row[2] || out.Event.Phase != row[3] {
			t.Errorf("%v: decided as %s %s %s", row, out.Event.Platform, out.Event.Event, out.Event.Phase)
		}
		want := core.ResultAllow
		if row[3] == "after" {
			want = core.ResultAck
		}
		if out.Result != want || out.Status != 200 {
			t.Errorf("%v: result %s status %d, want %s 200", row, out.Result, out.Status, want)
		}
	}
}

// TestUnknownCommands proves new vendor commands get the continue reply, with
// a phase guessed from the name, and are never rejected.
func TestUnknownCommands(t *testing.T) {
	e, err := core.New(core.Config{DefaultAction: "deny"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		in    core.Input
		phase string
		body  string
	}{
		{"tencent new before", core.Input{RawQuery: "CallbackCommand=Group.CallbackBeforeMsgExtension", Body: []byte(`{"GroupId":"g"}`)}, "before", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`},
		{"tencent new after", core.Input{RawQuery: "CallbackCommand=Group.CallbackAfterSomethingNew", Body: []byte(`{}`)}, "after", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`},
		{"tencent non-group", core.Input{RawQuery: "CallbackCommand=C2C.CallbackBeforeSendMsg", Body: []byte(`{}`)}, "before", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`},
		{"openim new before", core.Input{Path: "/cb/callbackBeforeSomethingNewCommand", Body: []byte(`{}`)}, "before", `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`},
	}
	for _, tc := range cases {
		tc := tc
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Method = "POST"
			out := e.Decide(&in)
			if out.Result != core.ResultUnknown || out.Status != 200 || string(out.Body) != tc.body {
				t.Fatalf("result %s status %d body %s (err %v)", out.Result, out.Status, out.Body, out.Err)
			}
			if out.Event.Event != core.EventUnknown || out.Event.Phase != tc.phase {
				t.Errorf("event %s phase %s, want unknown %s", out.Event.Event, out.Event.Phase, tc.phase)
			}
		})
	}
}

// TestOpenIMCommandCase proves v3.0's capital-C spelling is recognised.
func TestOpenIMCommandCase(t *testing.T) {
	e, err := core.New(core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	out := e.Decide(&core.Input{Method: "POST", Path: "/cb/CallbackBeforeSetGroupMemberInfoCommand", Body: []byte(`{"groupID":"g","userID":"u"}`)})
	if out.Event == nil || out.Event.Event != "group.member.change.before" {
		t.Fatalf("outcome %+v", out)
	}
}
