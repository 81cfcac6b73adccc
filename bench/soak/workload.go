package soak

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imgate/imgate/core"
)

// Identities of the soak's callbacks: the Tencent app and its callback
// token (every Tencent callback is signed), OpenIM verified by source
// address (loopback).
const (
	AppID          = "1400000001"
	Token          = "soak-callback-token"
	DecisionHeader = "X-Imgate-Decision"
)

// Exact platform replies the soak expects.
const (
	TencentAllow = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`
	OpenIMAllow  = `{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`
)

// TencentDeny is Tencent's reply denying with code and message.
func TencentDeny(code int, message string) string {
	return fmt.Sprintf(`{"ActionStatus":"OK","ErrorInfo":%s,"ErrorCode":%d}`, jsonString(message), code)
}

// OpenIMDeny is OpenIM's reply denying with code and message.
func OpenIMDeny(code int, message string) string {
	return fmt.Sprintf(`{"actionCode":0,"errCode":%d,"errMsg":%s,"errDlt":"","nextCode":1}`, code, jsonString(message))
}

func jsonString(s string) string {
	out, _ := json.Marshal(s)
	return string(out)
}

// Deny codes of the soak's rules: a probe user on the list, a banned user.
const (
	tencentProbeCode  = 10101
	openimProbeCode   = 5001
	tencentBannedCode = 10102
	openimBannedCode  = 5002
)

// Answer is one exact reply: body and decision header.
type Answer struct {
	Body, Decision string
}

// Call is one callback the soak sends, with the replies it may get.
type Call struct {
	// Name says what it is, e.g. "tencent-probe-2".
	Name     string
	Platform string
	// Target is the path and query; Tencent's RequestTime and Sign are
	// filled in by Raw.
	Target string
	Header map[string]string
	Body   string
	// Want lists the valid replies. A probe's are filled per reply (see
	// CheckProbe) and Want is empty.
	Want []Answer
	// Probe is the probe user this callback asks about, -1 for none.
	Probe int
	// Before is true for a before-callback, false for an
	// after-callback.
	Before bool
}

// Raw is the whole HTTP/1.1 request for host, Tencent's signed with the
// token for requestTime.
func (c Call) Raw(host, requestTime string) []byte {
	target := c.Target
	if c.Platform == core.PlatformTencent {
		target += "&RequestTime=" + requestTime + "&Sign=" + core.TencentSign(Token, requestTime)
	}
	var b strings.Builder
	b.WriteString("POST " + target + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n")
	keys := make([]string, 0, len(c.Header))
	for k := range c.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + c.Header[k] + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(c.Body)) + "\r\n\r\n" + c.Body)
	return []byte(b.String())
}

// Request is the call as a net/http request against base
// ("http://127.0.0.1:<port>"), signed for requestTime.
func (c Call) Request(base, requestTime string) (*http.Request, error) {
	target := c.Target
	if c.Platform == core.PlatformTencent {
		target += "&RequestTime=" + requestTime + "&Sign=" + core.TencentSign(Token, requestTime)
	}
	r, err := http.NewRequest(http.MethodPost, base+target, strings.NewReader(c.Body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	for k, v := range c.Header {
		r.Header.Set(k, v)
	}
	return r, nil
}

// Check reports whether a reply is one of the call's valid replies.
func (c Call) Check(status int, decision string, body []byte) bool {
	if status != http.StatusOK {
		return false
	}
	for _, w := range c.Want {
		if string(body) == w.Body && decision == w.Decision {
			return true
		}
	}
	return false
}

const tencentQuery = "/im?SdkAppid=" + AppID + "&contenttype=json&ClientIP=10.1.2.3&OptPlatform=iOS&CallbackCommand="

// tencentJoin is Tencent's application to join a group by user.
func tencentJoin(user string) Call {
	return Call{
		Platform: core.PlatformTencent, Before: true, Probe: -1,
		Target: tencentQuery + "Group.CallbackBeforeApplyJoinGroup",
		Body:   `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#soak","Type":"Public","Requestor_Account":"` + user + `","ApplyMsg":"hi"}`,
	}
}

// openimJoin is OpenIM's application to join a group by user.
func openimJoin(user string) Call {
	return Call{
		Platform: core.PlatformOpenIM, Before: true, Probe: -1,
		Target: "/im/callbackBeforeJoinGroupCommand",
		Header: map[string]string{"operationID": "op-soak-" + user},
		Body:   `{"callbackCommand":"callbackBeforeJoinGroupCommand","operationID":"op-soak-` + user + `","groupID":"g-soak","groupType":2,"applyID":"` + user + `","reqMessage":"hi"}`,
	}
}

func named(c Call, name string, want ...Answer) Call {
	c.Name, c.Want = name, want
	return c
}

// SoakCalls are the callbacks of the soak, sent in turn: joins allowed
// and denied on both platforms, a Tencent invitation, an after-callback
// of each platform, and a join by each probe user on each platform,
// whose answer depends on the list version and configuration epoch in
// force.
func SoakCalls() []Call {
	allowT := Answer{TencentAllow, "allow; rule=default"}
	allowO := Answer{OpenIMAllow, "allow; rule=default"}
	calls := []Call{
		named(tencentJoin("alice"), "tencent-join", allowT),
		named(openimJoin("alice"), "openim-join", allowO),
		named(tencentJoin("banned-7"), "tencent-join-banned", Answer{TencentDeny(tencentBannedCode, "banned"), "deny; rule=banned-tencent"}),
		named(openimJoin("banned-8"), "openim-join-banned", Answer{OpenIMDeny(openimBannedCode, "banned"), "deny; rule=banned-openim"}),
		named(Call{
			Platform: core.PlatformTencent, Before: true, Probe: -1,
			Target: tencentQuery + "Group.CallbackBeforeInviteJoinGroup",
			Body:   `{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#soak","Type":"Public","Operator_Account":"alice","MemberList":[{"Member_Account":"bob"},{"Member_Account":"carol"}]}`,
		}, "tencent-invite", allowT),
		named(Call{
			Platform: core.PlatformTencent, Probe: -1,
			Target: tencentQuery + "Group.CallbackAfterNewMemberJoin",
			Body:   `{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"@TGS#soak","Type":"Public","JoinType":"Apply","Operator_Account":"alice","NewMemberList":[{"Member_Account":"alice"}]}`,
		}, "tencent-after", Answer{TencentAllow, "ack; rule=default"}),
		named(Call{
			Platform: core.PlatformOpenIM, Probe: -1,
			Target: "/im/callbackAfterJoinGroupCommand",
			Header: map[string]string{"operationID": "op-soak-after"},
			Body:   `{"callbackCommand":"callbackAfterJoinGroupCommand","operationID":"op-soak-after","groupID":"g-soak","groupType":2,"userID":"alice","joinSource":3}`,
		}, "openim-after", Answer{OpenIMAllow, "ack; rule=default"}),
	}
	for j := 0; j < Probes; j++ {
		t := tencentJoin(ProbeUser(j))
		t.Name, t.Probe = "tencent-probe-"+strconv.Itoa(j), j
		o := openimJoin(ProbeUser(j))
		o.Name, o.Probe = "openim-probe-"+strconv.Itoa(j), j
		calls = append(calls, t, o)
	}
	return calls
}

// epochMessage is the probe rules' message in configuration epoch e.
func epochMessage(e int) string { return "epoch " + strconv.Itoa(e) }

// CheckProbe reads a probe's reply: listed (denied by its platform's
// probe rule, whose message names the configuration epoch) or not
// (allowed by default). ok is false when the reply is neither.
func (c Call) CheckProbe(status int, decision string, body []byte) (listed bool, epoch int, ok bool) {
	if status != http.StatusOK {
		return false, 0, false
	}
	allow, code := TencentAllow, tencentProbeCode
	if c.Platform == core.PlatformOpenIM {
		allow, code = OpenIMAllow, openimProbeCode
	}
	if string(body) == allow && decision == "allow; rule=default" {
		return false, -1, true
	}
	if decision != "deny; rule=probe-"+c.Platform {
		return false, 0, false
	}
	var msg string
	if i := strings.Index(string(body), `"epoch `); i >= 0 {
		rest := string(body)[i+1:]
		if j := strings.IndexByte(rest, '"'); j >= 0 {
			msg = rest[:j]
		}
	}
	e, err := strconv.Atoi(strings.TrimPrefix(msg, "epoch "))
	if err != nil || e < 0 {
		return false, 0, false
	}
	want := TencentDeny(code, epochMessage(e))
	if c.Platform == core.PlatformOpenIM {
		want = OpenIMDeny(code, epochMessage(e))
	}
	if string(body) != want {
		return false, 0, false
	}
	return true, e, true
}

// SoakConfig is the imgate configuration of the soak in configuration
// epoch: both platforms verified, the probe list read from listFile and
// checked every listReload, a rule per platform denying probe users with
// a message naming the epoch, and one per platform denying banned users.
// signWindow must cover the whole run: the soak signs its Tencent
// callbacks once.
func SoakConfig(listFile string, epoch int, listReload, signWindow time.Duration) core.Config {
	return core.Config{
		Tencent: core.TencentConfig{AppID: AppID, Token: Token, SignWindow: signWindow.String()},
		OpenIM:  core.OpenIMConfig{AllowedCIDRs: []string{"127.0.0.1/32"}},
		Lists: map[string]core.ListConfig{
			"probe":  {File: listFile},
			"banned": {Values: []string{"banned-*"}},
		},
		Rules: []core.RuleConfig{
			{Name: "probe-tencent", Platforms: []string{"tencent"}, Actors: []string{"@probe"}, Action: "deny", Code: tencentProbeCode, Message: epochMessage(epoch)},
			{Name: "probe-openim", Platforms: []string{"openim"}, Actors: []string{"@probe"}, Action: "deny", Code: openimProbeCode, Message: epochMessage(epoch)},
			{Name: "banned-tencent", Platforms: []string{"tencent"}, Actors: []string{"@banned"}, Action: "deny", Code: tencentBannedCode, Message: "banned"},
			{Name: "banned-openim", Platforms: []string{"openim"}, Actors: []string{"@banned"}, Action: "deny", Code: openimBannedCode, Message: "banned"},
		},
		ListReloadInterval: listReload.String(),
		DecisionHeader:     DecisionHeader,
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
