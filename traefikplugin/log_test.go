package traefikplugin

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	logToken  = "tok-4f9a2c"
	logSecret = "sec-77d1e0"
)

// logConfig denies banned actors, refuses banned invitees, shadows an
// invite cap, forwards Tencent
// create-group callbacks and checks both platforms' credentials.
const logConfig = `{
  "tencent": {"appId": "1400000001", "token": "` + logToken + `"},
  "openim": {"secret": "` + logSecret + `"},
  "lists": {"banned": {"values": ["mallory"]}},
  "rules": [
    {"name": "try-cap", "events": ["group.join.invite"], "maxMembers": 3, "action": "deny", "shadow": true},
    {"name": "banned", "actors": ["@banned"], "action": "deny", "message": "banned"},
    {"name": "banned-invitee", "members": ["@banned"], "action": "deny"},
    {"name": "to-app", "events": ["group.create.before"], "action": "forward"}
  ]
}`

func tencentURL(command string, signed bool) string {
	rt := strconv.FormatInt(time.Now().Unix(), 10)
	sign := "0000000000000000000000000000000000000000000000000000000000000000"
	if signed {
		sum := sha256.Sum256([]byte(logToken + rt))
		sign = hex.EncodeToString(sum[:])
	}
	return "/im?SdkAppid=1400000001&CallbackCommand=" + command + "&contenttype=json&Sign=" + sign + "&RequestTime=" + rt
}

// TestLogLines proves each kind of outcome an operator must see gives
// exactly one line on the right stream, with the documented fields, that
// allowed callbacks are silent, and that no line ever carries the token,
// the Sign, the OpenIM secret or the body.
func TestLogLines(t *testing.T) {
	cases := []struct {
		name, url, body string
		stream          string // "debug", "errs" or "" for silence
		want            []string
	}{
		{"allow/silent", tencentURL("Group.CallbackBeforeApplyJoinGroup", true),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"jared"}`, "", nil},
		{"deny", tencentURL("Group.CallbackBeforeApplyJoinGroup", true),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"mallory"}`, "debug",
			[]string{"result=deny", "platform=tencent", "command=Group.CallbackBeforeApplyJoinGroup", "event=group.join.apply", "group=@TGS#1", "actor=mallory", "rule=banned", "upstream=false", "duration="}},
		{"refuse", tencentURL("Group.CallbackBeforeInviteJoinGroup", true),
			`{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#1","Operator_Account":"jared","DestinationMembers":[{"Member_Account":"mallory"},{"Member_Account":"bob"}]}`, "debug",
			[]string{"result=refuse", "rule=banned-invitee", "refused=1"}},
		{"fallback", tencentURL("Group.CallbackBeforeCreateGroup", true),
			`{"CallbackCommand":"Group.CallbackBeforeCreateGroup","Operator_Account":"jared","Name":"g"}`, "errs",
			[]string{"result=fallback", "rule=to-app", "reason=status_500", "event=group.create.before", "error="}},
		{"verification/signature", tencentURL("Group.CallbackBeforeApplyJoinGroup", false),
			`{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"@TGS#1","Requestor_Account":"jared"}`, "errs",
			[]string{"result=unauthorized", "reason=signature", "platform=tencent"}},
		{"verification/openim-secret", "/openim/wrong-secret/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"jared"}`, "errs",
			[]string{"result=unauthorized", "reason=secret", "platform=openim"}},
		{"openim-deny-with-secret-in-url", "/openim/" + logSecret + "/callbackBeforeJoinGroupCommand",
			`{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"mallory"}`, "debug",
			[]string{"result=deny", "platform=openim", "actor=mallory"}},
		{"bad-request", tencentURL("Group.CallbackBeforeApplyJoinGroup", true), `{"CallbackCommand":`, "debug",
			[]string{"result=bad_request", "reason=bad_body"}},
		{"unknown-command", tencentURL("Group.CallbackBeforeSomethingNew", true), `{"CallbackCommand":"Group.CallbackBeforeSomethingNew"}`, "debug",
			[]string{"result=unknown", "command=Group.CallbackBeforeSomethingNew"}},
	}
	for i := range cases {
		c := cases[i]
		t.Run(c.name, func(t *testing.T) {
			m := newTestMiddleware(t, logConfig, staticNext(http.StatusInternalServerError, "boom"))
			rec := httptest.NewRecorder()
			m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, c.url, strings.NewReader(c.body)))
			debug, errs := logLines(m.debug.String()), logLines(m.errs.String())
			all := strings.Join(append(append([]string{}, debug...), errs...), "\n")
			for _, secret := range []string{logToken, logSecret, "Sign=", "0000000000", c.body} {
				if strings.Contains(all, secret) {
					t.Errorf("log carries %q:\n%s", secret, all)
				}
			}
			var lines []string
			switch c.stream {
			case "debug":
				lines = debug
				if len(errs) != 0 {
					t.Errorf("unexpected error lines: %v", errs)
				}
			case "errs":
				lines = errs
				if len(debug) != 0 {
					t.Errorf("unexpected debug lines: %v", debug)
				}
			default:
				if all != "" {
					t.Fatalf("allowed callback logged: %s", all)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("%d lines on %s, want 1: %v", len(lines), c.stream, lines)
			}
			line := lines[0]
			if !strings.HasPrefix(line, "imgate middleware="+m.name+" ") {
				t.Errorf("line does not start with the middleware name: %s", line)
			}
			for _, want := range c.want {
				if !strings.Contains(line, " "+want) {
					t.Errorf("line lacks %q: %s", want, line)
				}
			}
		})
	}
}

// TestLogShadowHit proves a shadow rule logs what it would have done,
// on the line of the real result, on the debug stream.
func TestLogShadowHit(t *testing.T) {
	m := newTestMiddleware(t, logConfig, unusedNext(t))
	rec := httptest.NewRecorder()
	body := `{"CallbackCommand":"Group.CallbackBeforeInviteJoinGroup","GroupId":"@TGS#1","Operator_Account":"jared","DestinationMembers":[{"Member_Account":"ann"},{"Member_Account":"bob"},{"Member_Account":"cy"},{"Member_Account":"di"}]}`
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tencentURL("Group.CallbackBeforeInviteJoinGroup", true), strings.NewReader(body)))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ErrorCode":0`) {
		t.Fatalf("reply %d %s, want the allow reply", rec.Code, rec.Body.String())
	}
	lines := logLines(m.debug.String())
	if len(lines) != 1 {
		t.Fatalf("debug lines %v, want one line", lines)
	}
	for _, want := range []string{" result=allow ", " rule=default ", " shadow=try-cap:deny", " actor=jared "} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("shadow line lacks %q: %s", want, lines[0])
		}
	}
}

// TestLogFieldQuoting proves values from the callback cannot forge fields
// or lines.
func TestLogFieldQuoting(t *testing.T) {
	cases := []struct {
		value, want string
	}{
		{"jared", " actor=jared"},
		{"", ` actor=""`},
		{"evil\nimgate result=allow", ` actor="evil\nimgate result=allow"`},
		{"a b", ` actor="a b"`},
		{`q"uote`, ` actor="q\"uote"`},
		{"k=v", ` actor="k=v"`},
		{"群主", ` actor="群主"`},
	}
	for _, c := range cases {
		got := string(appendField(nil, "actor", c.value))
		if got != c.want {
			t.Errorf("appendField(%q) = %s, want %s", c.value, got, c.want)
		}
	}
}

// TestNeedsQuoteEveryByte checks quoteNeeded against the rule it stands
// for, byte by byte: a value needs quotes when it is empty or holds a byte
// that is a space or control, '"', '=', DEL or not ASCII.
func TestNeedsQuoteEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := c <= ' ' || c == '"' || c == '=' || c >= 0x7f
		value := "a" + string([]byte{byte(c)}) + "b"
		if got := needsQuote(value); got != want {
			t.Errorf("needsQuote(%q) = %v, want %v", value, got, want)
		}
	}
	if !needsQuote("") || needsQuote("user-42_@TGS#x") {
		t.Error("empty values are quoted, plain ids are not")
	}
}

// TestFormatDuration checks the ASCII millisecond rendering.
func TestFormatDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{42 * time.Microsecond, "0.042ms"},
		{1500 * time.Millisecond, "1500.000ms"},
		{0, "0.000ms"},
	}
	for _, c := range cases {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%s) = %s, want %s", c.d, got, c.want)
		}
	}
}

// TestLogFailedDelivery checks that an after-callback whose background
// delivery fails is logged on the error stream with the reason, although
// the platform was acknowledged at once.
func TestLogFailedDelivery(t *testing.T) {
	m := newTestMiddleware(t, `{"defaultAction":"forward","forward":{"openimDeadline":"500ms"}}`, staticNext(http.StatusInternalServerError, "boom"))
	req := httptest.NewRequest(http.MethodPost, "/openim/callbackAfterQuitGroupCommand", strings.NewReader(`{"callbackCommand":"callbackAfterQuitGroupCommand","groupID":"g1","userID":"u1"}`))
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("after-callback answered HTTP %d, want the acknowledgement", rec.Code)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(m.errs.String(), "result=delivery_failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	line := m.errs.String()
	if !strings.Contains(line, "result=delivery_failed") || !strings.Contains(line, "reason=status_500") || !strings.Contains(line, "event=group.member.left") {
		t.Errorf("error log %q, want a delivery_failed line with reason=status_500", line)
	}
}
