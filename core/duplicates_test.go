package core

import "testing"

// TestDuplicateFieldsNested: a field imgate reads, given twice in one of
// the objects it reads below the top level (a member list's element, a
// message element, its MsgContent), is found under every spelling
// encoding/json folds together; the same names spread over different
// objects, or inside strings and objects imgate does not read, are not
// duplicates. Both paths are checked: the regexp scan and token walk that
// Yaegi runs, and (compiled) the walk natively built hosts run.
func TestDuplicateFieldsNested(t *testing.T) {
	for _, c := range []struct {
		name  string
		names *fieldNames
		body  string
		dup   string
	}{
		{"members once each", tencentFields, `{"MemberList":[{"Member_Account":"a"},{"Member_Account":"b"}],"Member_Account":"c"}`, ""},
		{"member twice", tencentFields, `{"MemberList":[{"Member_Account":"mallory","Member_Account":"alice"}]}`, "Member_Account"},
		{"member twice, other case", tencentFields, `{"DestinationMembers":[{"Member_Account":"a"},{"member_account":"mallory","MEMBER_ACCOUNT":"alice"}]}`, "MEMBER_ACCOUNT"},
		{"member twice, escaped", tencentFields, `{"NewMemberList":[{"Member_Account":"mallory","Member_Acc\u006funt":"alice"}]}`, "Member_Account"},
		{"member twice, object between", tencentFields, `{"MemberList":[{"Member_Account":"mallory","X":{"}":"{"},"Member_Account":"alice"}]}`, "Member_Account"},
		{"member twice, braces in a string between", tencentFields, `{"MemberList":[{"Member_Account":"mallory","X":"}{","Member_Account":"alice"}]}`, "Member_Account"},
		{"empty element beside a doubled one", tencentFields, `{"MemberList":[{},{"Member_Account":"mallory","Member_Account":"alice"}]}`, "Member_Account"},
		{"member inside an unread object", tencentFields, `{"MemberList":[{"Member_Account":"a","X":{"Member_Account":"b"}}]}`, ""},
		{"message text twice", tencentFields, `{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"casino","Text":"hi"}}]}`, "Text"},
		{"message type twice", tencentFields, `{"MsgBody":[{"MsgType":"TIMTextElem","MsgType":"TIMFaceElem","MsgContent":{"Text":"hi"}}]}`, "MsgType"},
		{"two message elements", tencentFields, `{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"a"}},{"MsgType":"TIMTextElem","MsgContent":{"Text":"b"}}]}`, ""},
		{"openim members once each", openimFields, `{"memberList":[{"userID":"a","ex":""},{"userID":"b","ex":"{\"userID\":\"c\"}"}]}`, ""},
		{"openim member twice", openimFields, `{"memberList":[{"userID":"eve","ex":"","userID":"u201"}]}`, "userID"},
		{"openim init member twice", openimFields, `{"initMemberList":[{"userid":"eve","userID":"u201"}]}`, "userID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := findDuplicateField([]byte(c.body), c.names); got != c.dup {
				t.Errorf("scan and walk: %q, want %q", got, c.dup)
			}
			if err := checkDuplicateFields([]byte(c.body), c.names); (err != nil) != (c.dup != "") {
				t.Errorf("check: %v, want a duplicate %q", err, c.dup)
			}
		})
	}
}
