package core_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgate/imgate/core"
)

// The benchmarks measure Engine.Decide on the callback bodies the bench
// harness sends (bench/workloads/bodies), decided with the rules every
// benchmark setup uses (bench/configs/rules.json: a ban list, an invite cap
// of 50 and a spam-text regexp on messages), so these numbers and the
// harness's load tests do the same work. Body parsing is included; the
// HTTP layer is not.
//
//	go test -run '^$' -bench . -benchmem -count 5 ./core/

// benchTencentQuery is a Tencent query as the platform sends it.
const benchTencentQuery = "SdkAppid=1400000001&CallbackCommand=%s&contenttype=json&ClientIP=203.0.113.7&OptPlatform=iOS"

var benchAfterCreate = []byte(`{"CallbackCommand":"Group.CallbackAfterCreateGroup","GroupId":"@TGS#2J4SZEAEL","Operator_Account":"group_root","Owner_Account":"leckie","Type":"Public","Name":"MyFirstGroup","MemberList":[{"Member_Account":"bob"},{"Member_Account":"peter"}],"UserDefinedDataList":[{"Key":"UserDefined1","Value":"hello"},{"Key":"UserDefined2","Value":"world"}],"EventTime":1670574414123}`)

// benchBody reads one of the bench harness's callback bodies.
func benchBody(tb testing.TB, name string) []byte {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "bench", "workloads", "bodies", name))
	if err != nil {
		tb.Fatal(err)
	}
	return body
}

// benchConfig is bench/configs/rules.json, the bench harness's rules.
func benchConfig(tb testing.TB) core.Config {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "bench", "configs", "rules.json"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := decodeConfig(string(data))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// exampleEngine decides with the harness's rules without the Tencent
// token: BenchmarkDecideTencentApplyJoinSigned measures the signature.
func exampleEngine(tb testing.TB) *core.Engine {
	tb.Helper()
	cfg := benchConfig(tb)
	cfg.Tencent.Token = ""
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
	in := &core.Input{Method: "POST", Path: "/im/callback", RawQuery: fmt.Sprintf(benchTencentQuery, "Group.CallbackBeforeApplyJoinGroup"), Body: benchBody(b, "tencent-before-apply-join.json")}
	benchDecide(b, in, core.ResultAllow)
}

func BenchmarkDecideTencentInvite20(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/im/callback", RawQuery: fmt.Sprintf(benchTencentQuery, "Group.CallbackBeforeInviteJoinGroup"), Body: benchBody(b, "tencent-before-invite-join-20.json")}
	// 20 invitees, none banned, under the cap of 50: allowed, as in the harness.
	benchDecide(b, in, core.ResultAllow)
}

func BenchmarkDecideTencentAfterCreate(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/im/callback", RawQuery: fmt.Sprintf(benchTencentQuery, "Group.CallbackAfterCreateGroup"), Body: benchAfterCreate}
	benchDecide(b, in, core.ResultAck)
}

func BenchmarkDecideOpenIMApplyJoin(b *testing.B) {
	in := &core.Input{Method: "POST", Path: "/openim/callbackBeforeJoinGroupCommand", RemoteAddr: "10.0.0.5:40000", Body: benchBody(b, "openim-before-join-group.json")}
	benchDecide(b, in, core.ResultAllow)
}

// BenchmarkDecideTencentApplyJoinSigned adds Sign verification (one
// SHA-256) with the harness's token: the work of its tencent-join workload.
func BenchmarkDecideTencentApplyJoinSigned(b *testing.B) {
	cfg := benchConfig(b)
	signed, err := core.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1669872112, 0)
	signed.SetClock(func() time.Time { return now })
	q := fmt.Sprintf(benchTencentQuery, "Group.CallbackBeforeApplyJoinGroup") + "&Sign=" + core.TencentSign(cfg.Tencent.Token, "1669872112") + "&RequestTime=1669872112"
	in := &core.Input{Method: "POST", RawQuery: q, Body: benchBody(b, "tencent-before-apply-join.json")}
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
	body := benchBody(b, "tencent-before-apply-join.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}
