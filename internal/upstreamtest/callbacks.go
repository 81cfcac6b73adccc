package upstreamtest

import (
	"net/http"
	"strconv"
	"strings"
)

// Callback is a platform request a test sends to the gateway, with what the
// upstream must be told about it.
type Callback struct {
	// Platform is "tencent" or "openim".
	Platform string
	// Target is the path and query, e.g. "/im?SdkAppid=...".
	Target string
	// Header is sent with the request (OpenIM's operationID).
	Header map[string]string
	// Body is the platform's JSON body.
	Body string
	// Event, Command, Group and Actor are what X-Imgate-* must carry.
	Event, Command, Group, Actor string
	// Before is true when the platform waits for the decision.
	Before bool
}

// BeforeCallback is an application to join a group: the platform waits for
// the decision.
func BeforeCallback(platform string) Callback {
	if platform == "tencent" {
		return Callback{
			Platform: platform,
			Target:   "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=10.1.2.3&OptPlatform=iOS",
			Body:     `{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#grp1","Type":"Public","Requestor_Account":"alice","EventTime":"1670574414123"}`,
			Event:    "group.join.apply", Command: "Group.CallbackBeforeApplyJoinGroup", Group: "@TGS#grp1", Actor: "alice", Before: true,
		}
	}
	return Callback{
		Platform: platform,
		Target:   "/openim/callbackBeforeJoinGroupCommand",
		Header:   map[string]string{"operationID": "op-before-1"},
		Body:     `{"callbackCommand":"callbackBeforeJoinGroupCommand","operationID":"op-before-1","groupID":"g1","groupType":2,"applyID":"alice","reqMessage":"hi"}` + "\n",
		Event:    "group.join.apply", Command: "callbackBeforeJoinGroupCommand", Group: "g1", Actor: "alice", Before: true,
	}
}

// AfterCallback is a member-joined notification: the platform ignores the
// answer.
func AfterCallback(platform string) Callback {
	if platform == "tencent" {
		return MemberJoined(platform, "@TGS#grp1", "alice", "1")
	}
	return MemberJoined(platform, "g1", "alice", "1")
}

// MemberJoined is the member-joined notification of user in group, the
// OpenIM one with operationID "op-after-<op>": callbacks with different
// users (or operations) have different bodies, so a durable spool
// delivers each of them rather than taking one for a retry of another.
func MemberJoined(platform, group, user, op string) Callback {
	if platform == "tencent" {
		return Callback{
			Platform: platform,
			Target:   "/im?SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterNewMemberJoin&contenttype=json&ClientIP=10.1.2.3&OptPlatform=Android",
			Body:     `{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"` + group + `","Type":"Public","JoinType":"Apply","Operator_Account":"` + user + `","NewMemberList":[{"Member_Account":"` + user + `"}],"EventTime":1670574414123}`,
			Event:    "group.member.joined", Command: "Group.CallbackAfterNewMemberJoin", Group: group, Actor: user,
		}
	}
	return Callback{
		Platform: platform,
		Target:   "/openim/callbackAfterJoinGroupCommand",
		Header:   map[string]string{"operationID": "op-after-" + op},
		Body:     `{"callbackCommand":"callbackAfterJoinGroupCommand","operationID":"op-after-` + op + `","groupID":"` + group + `","groupType":2,"userID":"` + user + `","joinSource":3}` + "\n",
		Event:    "group.member.joined", Command: "callbackAfterJoinGroupCommand", Group: group, Actor: user,
	}
}

// Request builds the callback against base: "" for a handler called
// directly, "http://127.0.0.1:<port>" for a running gateway.
func (c Callback) Request(base string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, base+c.Target, strings.NewReader(c.Body))
	if err != nil {
		panic("upstreamtest: bad callback target " + c.Target + ": " + err.Error())
	}
	if base == "" {
		r.RequestURI = c.Target
		r.RemoteAddr = "127.0.0.1:40000"
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	for k, v := range c.Header {
		r.Header.Set(k, v)
	}
	return r
}

// Reply is the acknowledgement of an after-callback.
func (c Callback) Reply() string {
	if c.Platform == "tencent" {
		return TencentAllow
	}
	return OpenIMAllow
}

// Check compares what the upstream received for this callback, forwarded
// with rule "default" and no verification in format ("normalized" or
// "native"), with what the gateway must send: the X-Imgate-* headers and
// the body (unchanged when native, the normalized event otherwise). It
// returns one line per difference.
func (c Callback) Check(got Received, format string) []string {
	var problems []string
	want := [][2]string{
		{"X-Imgate-Platform", c.Platform}, {"X-Imgate-Event", c.Event}, {"X-Imgate-Command", c.Command},
		{"X-Imgate-Group", c.Group}, {"X-Imgate-Actor", c.Actor}, {"X-Imgate-Rule", "default"}, {"X-Imgate-Verified", "none"},
	}
	for _, h := range want {
		if v := got.Header.Get(h[0]); v != h[1] {
			problems = append(problems, h[0]+" "+strconv.Quote(v)+", want "+strconv.Quote(h[1]))
		}
	}
	if got.Header.Get("X-Imgate-Deadline") == "" || got.Header.Get("X-Imgate-Request-Id") == "" {
		problems = append(problems, "no X-Imgate-Deadline or X-Imgate-Request-Id header")
	}
	body := string(got.Body)
	if format == "native" {
		if body != c.Body {
			problems = append(problems, "native body changed: "+body)
		}
		return problems
	}
	if !strings.Contains(body, `"event":"`+c.Event+`"`) || !strings.Contains(body, `"actor":"`+c.Actor+`"`) || !strings.Contains(body, `"raw":{`) {
		problems = append(problems, "normalized body "+body)
	}
	return problems
}
