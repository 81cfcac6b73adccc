package core_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
	"github.com/imgate/imgate/internal/golden"
)

// The benchmarks measure Engine.Decide on bodies shaped like real platform
// traffic (compact JSON, all documented fields), with the example rule set
// from testdata/configs/example.json: a ban list from a file, an invite cap
// and a spam-text regexp. Body parsing is included; the HTTP layer is not.
//
//	go test -run '^$' -bench . -benchmem -count 5 ./core/

// benchQuery is a Tencent query as the platform sends it with signing on.
const benchTencentQuery = "SdkAppid=1400000001&CallbackCommand=%s&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS"

var benchApplyJoin = []byte(`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Requestor_Account":"jared","EventTime":1670574414123}`)

var benchAfterCreate = []byte(`{"CallbackCommand":"Group.CallbackAfterCreateGroup","GroupId":"@TGS#2J4SZEAEL","Operator_Account":"group_root","Owner_Account":"leckie","Type":"Public","Name":"MyFirstGroup","MemberList":[{"Member_Account":"bob"},{"Member_Account":"peter"}],"UserDefinedDataList":[{"Key":"UserDefined1","Value":"hello"},{"Key":"UserDefined2","Value":"world"}],"EventTime":1670574414123}`)

var benchOpenIMJoin = []byte(`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"3428712345","groupType":"\u0002","applyID":"user789","reqMessage":"hello, I am a colleague","ex":""}`)

// benchInvite returns a Tencent invite of n members, none banned.
func benchInvite(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#2J4SZEAEL","Type":"Public","Operator_Account":"leckie","DestinationMembers":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Member_Account":"user` + strconv.Itoa(1000+i) + `"}`)
	}
	b.WriteString(`],"EventTime":1670574414123}`)
	return []byte(b.String())
}

// exampleEngine builds an engine from testdata/configs/example.json, the
// rule set the README shows.
func exampleEngine(tb testing.TB) *core.Engine {
	tb.Helper()
	dir, err := golden.Dir()
	if err != nil {
		tb.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "configs", "example.json"))
	if err != nil {
		tb.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := decodeConfig(strings.ReplaceAll(string(data), "{testdata}", abs))
	if err != nil {
		tb.Fatal(err)
	}
	e, err := core.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func benchDecide(b *testing.B, in *core.Input, wantResult string) {
	e := exampleEngine(b)
	out := e.Decide(in)
	if out.Result != wantResult {
		b.Fatalf("result %s (reason %s, err %v), want %s", out.Result, out.Reason, out.Err, wantResult)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in.Body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Decide(in)
	}
}

func BenchmarkDecideTencentApplyJoin(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/im/callback", RawQuery: fmt.Sprintf(benchTencentQuery, "Group.CallbackBeforeApplyJoinGroup"), Body: benchApplyJoin}
	benchDecide(b, in, core.ResultAllow)
}

func BenchmarkDecideTencentInvite20(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/im/callback", RawQuery: fmt.Sprintf(benchTencentQuery, "Group.CallbackBeforeInviteJoinGroup"), Body: benchInvite(20)}
	// 20 invitees are over the example's cap of 10.
	benchDecide(b, in, core.ResultDeny)
}

func BenchmarkDecideTencentAfterCreate(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/im/callback", RawQuery: fmt.Sprintf(benchTencentQuery, "Group.CallbackAfterCreateGroup"), Body: benchAfterCreate}
	benchDecide(b, in, core.ResultAck)
}

func BenchmarkDecideOpenIMApplyJoin(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/openim/callbackBeforeJoinGroupCommand", RemoteAddr: "10.0.0.5:40000", Body: benchOpenIMJoin}
	benchDecide(b, in, core.ResultAllow)
}

// BenchmarkDecideTencentApplyJoinSigned adds Sign verification (one SHA-256).
func BenchmarkDecideTencentApplyJoinSigned(b *testing.B) {
	e := exampleEngine(b)
	cfg := e.Config()
	cfg.Tencent.Token = "xxxxyyyy"
	signed, err := core.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1669872112, 0)
	signed.SetClock(func() time.Time { return now })
	q := fmt.Sprintf(benchTencentQuery, "Group.CallbackBeforeApplyJoinGroup") + "&Sign=" + core.TencentSign("xxxxyyyy", "1669872112") + "&RequestTime=1669872112"
	in := &core.Input{Method: "POST", RawQuery: q, Body: benchApplyJoin}
	if out := signed.Decide(in); out.Result != core.ResultAllow {
		b.Fatalf("result %s (reason %s, err %v)", out.Result, out.Reason, out.Err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		signed.Decide(in)
	}
}

// BenchmarkJSONFloor is the cost of encoding/json alone on the apply-join
// body, decoded into the four strings the decision needs: the floor under
// BenchmarkDecideTencentApplyJoin for any decoder built on encoding/json.
func BenchmarkJSONFloor(b *testing.B) {
	var v struct {
		CallbackCommand  string `json:"CallbackCommand"`
		GroupID          string `json:"GroupId"`
		Type             string `json:"Type"`
		RequestorAccount string `json:"Requestor_Account"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchApplyJoin)))
	for i := 0; i < b.N; i++ {
		if err := json.Unmarshal(benchApplyJoin, &v); err != nil {
			b.Fatal(err)
		}
	}
}
