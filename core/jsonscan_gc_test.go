//go:build gc
// +build gc

package core

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// scanSeeds cover what the scanner takes and what it must hand over to
// encoding/json, for both platforms' body structs.
var scanSeeds = []string{
	`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"jared","EventTime":"1670574414123"}`,
	`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"g","Operator_Account":"a","DestinationMembers":[{"Member_Account":"b"},{"Member_Account":"c","x":[1,{"y":null}]}],"EventTime":1670574414123}`,
	` {"MemberList":[],"NewMemberList":null,"ExitMemberList":[{}],"EventTime":null} `,
	`{"MemberList":[{"Member_Account":"a"}],"MemberList":null}`,
	`{"MemberList":[{"Member_Account":"a"}],"MemberList":[{}]}`,
	`{"groupid":"lower case key"}`,
	`{"GroupId":"x","GroupId":"y"}`,
	`{"GroupId":"esc\"aped"}`,
	`{"GroupId":12}`,
	`{"GroupId":"a"} trailing`,
	`{"UserDefinedDataList":[{"Key":"k","Value":"v"}],"Extra":true,"N":-0,"F":1.5}`,
	`{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}`,
	`{"Requeſtor_Account":"long s"}`,
	`{"DestinationMembers":[{"member_account":"x"}]}`,
	`{"DestinationMembers":[{"Member_Account":"x","Member_Account":"y"}]}`,
	`{"GroupId":"\u00e9","Name":"é"}`,
	`{"EventTime":"abc"}`,
	`{"EventTime":"\u0031"}`,
	`{"EventTime":012}`,
	`{"EventTime":[1,2]}`,
	`{}`,
	`[]`,
	`{"a":[[[[1]]]]}`,
	`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"3428712345","groupType":"\u0002","applyID":"user789","reqMessage":"hello, I am a colleague","ex":""}`,
	`{"callbackCommand":"callbackBeforeInviteJoinGroupCommand","groupID":"g","reason":"","invitedUserIDs":["u1","u2"]}`,
	`{"callbackCommand":"callbackAfterCreateGroupCommand","groupID":"g","groupType":2,"initMemberList":[{"userID":"a","roleLevel":100},{"userID":"b","roleLevel":20}]}`,
	`{"sendTime":1670574414123,"sendID":"s","content":"hi"}`,
	`{"sendTime":-0}`,
	`{"sendTime":99999999999999999999}`,
	`{"sendTime":1.5}`,
	`{"sendTime":"1"}`,
	`{"invitedUserIDs":null}`,
	`{"invitedUserIDs":["a",null]}`,
	`{"groupType":"\x"}`,
	`{"groupType":"\ud800"}`,
	`{"kickedUserIDs":["a"],"KickedUserIDs":["b"]}`,
}

// FuzzScanBody proves the scanner is a pure speed-up: whenever it accepts
// a body, encoding/json accepts it too and fills the same values, for both
// platforms' body structs; and when it declines, it leaves its target zero.
func FuzzScanBody(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	if files, _ := filepath.Glob("../testdata/seeds/*.json"); len(files) > 0 {
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScanMatchesJSON(t, body, &tencentBody{}, &tencentBody{})
		checkScanMatchesJSON(t, body, &openimBody{}, &openimBody{})
	})
}

func TestScanBodySeeds(t *testing.T) {
	accepted := 0
	for _, s := range scanSeeds {
		if checkScanMatchesJSON(t, []byte(s), &tencentBody{}, &tencentBody{}) {
			accepted++
		}
		if checkScanMatchesJSON(t, []byte(s), &openimBody{}, &openimBody{}) {
			accepted++
		}
	}
	if accepted < 20 {
		t.Errorf("scanner accepted %d seed bodies; the common shapes must not fall back", accepted)
	}
	var b tencentBody
	if !scanBody([]byte(scanSeeds[0]), &b) || b.RequestorAccount != "jared" || string(b.EventTime) != `"1670574414123"` {
		t.Errorf("apply-join body not scanned: %+v", b)
	}
	var o openimBody
	if !scanBody([]byte(scanSeeds[23]), &o) || o.ApplyID != "user789" || string(o.GroupType) != `"\u0002"` {
		t.Errorf("OpenIM join body not scanned: %+v", o)
	}
}

// checkScanMatchesJSON scans body into fast and, when the scanner takes it,
// decodes it with encoding/json into std and compares.
func checkScanMatchesJSON(t *testing.T, body []byte, fast, std interface{}) bool {
	t.Helper()
	if !scanBody(body, fast) {
		if !reflect.ValueOf(fast).Elem().IsZero() {
			t.Fatalf("scanner declined %q but left %+v behind", body, fast)
		}
		return false
	}
	if err := json.Unmarshal(body, std); err != nil {
		t.Fatalf("scanner accepted %q, encoding/json rejects it: %v", body, err)
	}
	if !reflect.DeepEqual(normalizeRaw(fast), normalizeRaw(std)) {
		t.Fatalf("body %q\n scanner       %+v\n encoding/json %+v", body, fast, std)
	}
	return true
}

// normalizeRaw makes empty RawMessages and slices compare equal to nil
// ones, which encoding/json and the scanner may leave either way.
func normalizeRaw(v interface{}) interface{} {
	rv := reflect.ValueOf(v).Elem()
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.Slice && f.Len() == 0 && f.Type() == rawMessageType {
			f.SetZero()
		}
	}
	return v
}
