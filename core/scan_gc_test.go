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
// encoding/json.
var scanSeeds = []string{
	`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"jared","EventTime":"1670574414123"}`,
	`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"g","Operator_Account":"a","DestinationMembers":[{"Member_Account":"b"},{"Member_Account":"c","x":[1,{"y":null}]}],"EventTime":1670574414123}`,
	` {"MemberList":[],"NewMemberList":null,"ExitMemberList":[{}],"EventTime":null} `,
	`{"MemberList":[{"Member_Account":"a"}],"MemberList":null}`,
	`{"groupid":"lower case key"}`,
	`{"GroupId":"x","GroupId":"y"}`,
	`{"GroupId":"esc\"aped"}`,
	`{"GroupId":12}`,
	`{"GroupId":"a"} trailing`,
	`{"UserDefinedDataList":[{"Key":"k","Value":"v"}],"Extra":true,"N":-0,"F":1.5}`,
	`{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}`,
	`{"Requeſtor_Account":"long s"}`,
	`{"DestinationMembers":[{"member_account":"x"}]}`,
	`{"GroupId":"\u00e9","Name":"é"}`,
	`{"EventTime":"abc"}`,
	`{"EventTime":012}`,
	`{}`,
	`[]`,
	`{"a":[[[[1]]]]}`,
}

// FuzzScanTencent proves the scanner is a pure speed-up: whenever it
// accepts a body, encoding/json accepts it too and fills the same values.
func FuzzScanTencent(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	if files, _ := filepath.Glob("../testdata/seeds/tencent-*.json"); len(files) > 0 {
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScanMatchesJSON(t, body)
	})
}

func TestScanTencentSeeds(t *testing.T) {
	accepted := 0
	for _, s := range scanSeeds {
		if checkScanMatchesJSON(t, []byte(s)) {
			accepted++
		}
	}
	if accepted < 5 {
		t.Errorf("scanner accepted %d seed bodies; the common shapes must not fall back", accepted)
	}
	var b tencentBody
	if !scanTencentBody([]byte(scanSeeds[0]), &b) || b.RequestorAccount != "jared" || string(b.EventTime) != `"1670574414123"` {
		t.Errorf("apply-join body not scanned: %+v", b)
	}
}

func checkScanMatchesJSON(t *testing.T, body []byte) bool {
	t.Helper()
	var fast tencentBody
	if !scanTencentBody(body, &fast) {
		return false
	}
	var std tencentBody
	if err := json.Unmarshal(body, &std); err != nil {
		t.Fatalf("scanner accepted %q, encoding/json rejects it: %v", body, err)
	}
	if !reflect.DeepEqual(normalizeRaw(fast), normalizeRaw(std)) {
		t.Fatalf("body %q\n scanner       %+v\n encoding/json %+v", body, fast, std)
	}
	return true
}

// normalizeRaw makes an empty RawMessage compare equal to a nil one.
func normalizeRaw(b tencentBody) tencentBody {
	if len(b.EventTime) == 0 {
		b.EventTime = nil
	}
	return b
}
