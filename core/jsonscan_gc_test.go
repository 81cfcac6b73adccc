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
	`{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"@TGS#2J4SZEAEL","Type":"Public","From_Account":"jared","Operator_Account":"jared","Random":123456,"OnlineOnlyFlag":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"see you all at the meetup on friday at 9"}}],"CloudCustomData":"","EventTime":"1670574414123"}`,
	`{"sendID":"user789","callbackCommand":"callbackBeforeSendGroupMsgCommand","serverMsgID":"9f0d1c3e1b0a4c1f","senderPlatformID":2,"sessionType":3,"contentType":101,"sendTime":1732241234567,"content":"{\"content\":\"see you all at the meetup on friday at 9\"}","seq":0,"atUserList":null,"ex":"","groupID":"3467818820"}`,
	`{"MsgBody":[null,{"MsgContent":null},{"MsgType":"a","MsgContent":{"Text":"x"}}]}`,
	`{"MsgBody":[{"MsgType":"a","MsgContent":{"Text":"x","Text":"y"}}]}`,
	`{"MsgBody":[{"MsgContent":{"text":"case"}}]}`,
	`{"MsgBody":[{"msgType":"case"}]}`,
	`{"MsgBody":[{"MsgContent":{"Text":"a\u00e9\n\"q\"","Data":{"k":"\\"}}}]}`,
	`{"MsgBody":[{"MsgContent":{"Text":"a"},"MsgContent":{}}]}`,
	`{"MsgBody":{}}`,
	`{"MsgBody":[{"MsgContent":"s"}]}`,
	`{"MsgBody":[]}`,
	`{"MsgBody":null}`,
	`{"MsgBody":[{"MsgContent":{"Text":"a"}}],"MsgBody":[]}`,
	`{"content":"{\"content\":\"hi\"}","ex":"a\"b"}`,
	`{"content":"\ud800\udc00 \ud800 \u00"}`,
	`{"content":"\ud83d\ude00 \udc00\ud800"}`,
	`{"GroupId":"a\/b\t"}`,
	`{"reason":"x\u0000y","content":null}`,
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
	if accepted < 30 {
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
	// The bench workloads' message bodies: a nested MsgBody, and an
	// OpenIM content that is JSON in a string.
	tencentMsg, err := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", "tencent-before-send-msg.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m tencentBody
	if !scanBody(tencentMsg, &m) || len(m.MsgBody) != 1 || m.MsgBody[0].MsgContent.Text != "see you all at the meetup on friday at 9" {
		t.Errorf("Tencent message body not scanned: %+v", m)
	}
	openimMsg, err := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", "openim-before-send-group-msg.json"))
	if err != nil {
		t.Fatal(err)
	}
	var om openimBody
	if !scanBody(openimMsg, &om) || om.Content != `{"content":"see you all at the meetup on friday at 9"}` {
		t.Errorf("OpenIM message body (escaped content) not scanned: %+v", om)
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

// duplicateSeeds are bodies for the duplicate-field walk: repeats under
// every spelling encoding/json folds together, repeats it must not count
// (nested, inside strings), and what it must hand back (escaped keys,
// comments, floats).
var duplicateSeeds = []string{
	`{"GroupId":"g","Requestor_Account":"mallory","Requestor_Account":"alice"}`,
	`{"GroupId":"g","requestor_account":"mallory","REQUESTOR_ACCOUNT":"alice"}`,
	`{"Requestor_Account":"a","Requeſtor_Account":"b"}`,
	`{"groupID":"a","groupid":"b"}`,
	`{"sendID":"a","content":"\"sendID\":\"b\""}`,
	`{"sendID":"a","x":{"sendID":"b","sendID":"c"}}`,
	`{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"\"GroupId\" \u00e9"}}],"GroupId":"g"}`,
	`{"GroupId":"g","Group\u0049d":"h"}`,
	`{"GroupId":"g", // comment
"GroupId":"h"}`,
	`{"GroupId":"g","F":1.5,"GroupId":"h"}`,
	`{"X":"a","X":"b"}`,
	`{"GroupId":"g"} trailing`,
	` {"GroupId" : "g" , "GroupId" : "h"} `,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"GroupId":"g","GroupId":"h"}`,
	`{"sendID":"\ud800","sendID":"b"}`,
	`{"MemberList":[{"Member_Account":"a"},{"Member_Account":"b","member_account":"c"}]}`,
	`{"MemberList":[{"Member_Account":"a","X":{"}":"{"},"Member_Account":"c"}]}`,
	`{"MemberList":[{},{"Member_Account":"a"},{"Member_Account":"b"}],"Member_Account":"c"}`,
	`{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"casino","Text":"hi"}}]}`,
	`{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}},{"MsgType":"TIMTextElem","msgtype":"x"}]}`,
	`{"memberList":[{"userID":"a","ex":"{\"userID\":1}"},{"userID":"b","ex":"","userid":"c"}]}`,
	`{"memberList":[{"userID":"a"}],"userID":"b","userID":"c"}`,
}

// FuzzScanDuplicates proves the compiled duplicate-field walk a pure
// speed-up: whenever it reads a body, it names the repeated field the
// interpreted scan and walk name, for both platforms' fields.
func FuzzScanDuplicates(f *testing.F) {
	for _, s := range append(append([]string(nil), duplicateSeeds...), scanSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDuplicatesMatch(t, body, tencentFields)
		checkDuplicatesMatch(t, body, openimFields)
	})
}

func TestScanDuplicatesSeeds(t *testing.T) {
	walked := 0
	for _, s := range duplicateSeeds {
		if checkDuplicatesMatch(t, []byte(s), tencentFields) {
			walked++
		}
		checkDuplicatesMatch(t, []byte(s), openimFields)
	}
	if walked < 8 {
		t.Errorf("the walk read %d seed bodies; plain bodies must not fall back", walked)
	}
	for _, c := range []struct {
		body, dup string
		walked    bool
	}{
		{duplicateSeeds[0], "Requestor_Account", true},
		{duplicateSeeds[1], "REQUESTOR_ACCOUNT", true},
		{duplicateSeeds[2], "Requeſtor_Account", true},
		{duplicateSeeds[5], "", true},
		{duplicateSeeds[6], "", true},
		{duplicateSeeds[7], "", false},
		{duplicateSeeds[8], "", false},
	} {
		dup, walked := scanDuplicateKeys([]byte(c.body), tencentFields.shape)
		if dup != c.dup || walked != c.walked {
			t.Errorf("%q: walk gave %q, %v; want %q, %v", c.body, dup, walked, c.dup, c.walked)
		}
	}
}

// checkDuplicatesMatch compares the walk with the interpreted path on
// body, and reports whether the walk read it.
func checkDuplicatesMatch(t *testing.T, body []byte, names *fieldNames) bool {
	t.Helper()
	dup, walked := scanDuplicateKeys(body, names.shape)
	if !walked {
		if dup != "" {
			t.Fatalf("walk declined %q but named %q", body, dup)
		}
		return false
	}
	if want := findDuplicateField(body, names); dup != want {
		t.Fatalf("body %q: walk names %q, the interpreted path %q", body, dup, want)
	}
	return true
}

// BenchmarkDuplicateFields compares, in one run, the duplicate-field check
// interpreted hosts keep (the regexp scan, then the walk on a suspect
// body) with the compiled walk native and WASM builds use, on the bench
// workloads' message bodies: the bodies that miss scanBody (a nested
// MsgBody, an escaped OpenIM content) and so take this check.
//
//	go test -run '^$' -bench DuplicateFields -count 10 ./core/ | benchstat -col /check -
func BenchmarkDuplicateFields(b *testing.B) {
	for _, c := range []struct {
		body  string
		names *fieldNames
	}{
		{"tencent-before-send-msg.json", tencentFields},
		{"openim-before-send-group-msg.json", openimFields},
	} {
		body, err := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", c.body))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("body="+c.body+"/check=regexp", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				findDuplicateField(body, c.names)
			}
		})
		b.Run("body="+c.body+"/check=walk", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, walked := scanDuplicateKeys(body, c.names.shape); !walked {
					b.Fatal("the walk declined a workload body")
				}
			}
		})
	}
}
