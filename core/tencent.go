package core

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Tencent replies. The field order follows Tencent's documentation samples.
var (
	tencentAllowReply = []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)
)

type tencentMember struct {
	MemberAccount string `json:"Member_Account"`
}

type tencentMsgElem struct {
	MsgType    string `json:"MsgType"`
	MsgContent struct {
		Text string `json:"Text"`
	} `json:"MsgContent"`
}

// tencentBody is the union of the fields imgate reads from any Group.*
// callback; everything else is ignored.
type tencentBody struct {
	CallbackCommand    string           `json:"CallbackCommand"`
	GroupID            string           `json:"GroupId"`
	Type               string           `json:"Type"`
	OperatorAccount    string           `json:"Operator_Account"`
	OwnerAccount       string           `json:"Owner_Account"`
	NewOwnerAccount    string           `json:"NewOwner_Account"`
	RequestorAccount   string           `json:"Requestor_Account"`
	FromAccount        string           `json:"From_Account"`
	MemberAccount      string           `json:"Member_Account"`
	Name               string           `json:"Name"`
	MemberList         []tencentMember  `json:"MemberList"`
	DestinationMembers []tencentMember  `json:"DestinationMembers"`
	NewMemberList      []tencentMember  `json:"NewMemberList"`
	ExitMemberList     []tencentMember  `json:"ExitMemberList"`
	MsgBody            []tencentMsgElem `json:"MsgBody"`
	EventTime          json.RawMessage  `json:"EventTime"`
}

// fastTencent, when set (compiled builds only, see scan_gc.go), decodes
// the common Tencent bodies without encoding/json and reports whether it
// could; encoding/json decodes the rest.
var fastTencent func(body []byte, b *tencentBody) bool

// TencentSign returns hex(sha256(token + requestTime)), Tencent's callback
// signature.
func TencentSign(token, requestTime string) string {
	sum := sha256.Sum256([]byte(token + requestTime))
	return hex.EncodeToString(sum[:])
}

// tencentQuery holds the query parameters Tencent sends, read in one pass:
// reading each key separately costs a function call and a scan per key,
// which Yaegi makes expensive.
type tencentQuery struct {
	command, appID, clientIP, optPlatform, sign, requestTime string
}

func parseTencentQuery(raw string) tencentQuery {
	var q tencentQuery
	escaped := strings.IndexByte(raw, '%') >= 0 || strings.IndexByte(raw, '+') >= 0
	for raw != "" {
		pair := raw
		if i := strings.IndexByte(raw, '&'); i >= 0 {
			pair = raw[:i]
			raw = raw[i+1:]
		} else {
			raw = ""
		}
		eq := strings.IndexByte(pair, '=')
		if eq < 0 {
			continue
		}
		k := pair[:eq]
		v := pair[eq+1:]
		if escaped {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
		}
		var dst *string
		switch k {
		case "CallbackCommand":
			dst = &q.command
		case "SdkAppid":
			dst = &q.appID
		case "ClientIP":
			dst = &q.clientIP
		case "OptPlatform":
			dst = &q.optPlatform
		case "Sign":
			dst = &q.sign
		case "RequestTime":
			dst = &q.requestTime
		}
		// The first occurrence wins, as with url.Values.Get.
		if dst != nil && *dst == "" {
			*dst = v
		}
	}
	return q
}

// signMatches compares Sign (hex, either case) with sha256(token +
// requestTime) in constant time, on the raw 32 bytes: no hex string or
// lower-cased copy is built on every signed callback.
func signMatches(token, requestTime, sign string) bool {
	var got [sha256.Size]byte
	if len(sign) != 2*sha256.Size {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(sign)); err != nil {
		return false
	}
	buf := make([]byte, 0, 96)
	buf = append(buf, token...)
	buf = append(buf, requestTime...)
	want := sha256.Sum256(buf)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// verifyTencent checks SdkAppid, Sign and RequestTime. It returns what was
// verified, for X-Imgate-Verified.
func verifyTencent(e *Engine, q *tencentQuery, now time.Time) (string, error) {
	verified := "none"
	if e.set.appID != "" {
		if subtle.ConstantTimeCompare([]byte(q.appID), []byte(e.set.appID)) != 1 {
			if q.appID == "" {
				return "", fmt.Errorf("SdkAppid missing: %w", ErrAppID)
			}
			return "", fmt.Errorf("SdkAppid %q is not the configured app: %w", q.appID, ErrAppID)
		}
		verified = "appid"
	}
	if e.set.token == "" {
		return verified, nil
	}
	if q.sign == "" || q.requestTime == "" {
		return "", fmt.Errorf("the query lacks Sign or RequestTime: %w", ErrSignature)
	}
	if !signMatches(e.set.token, q.requestTime, q.sign) {
		return "", fmt.Errorf("the query's Sign does not match its RequestTime: %w", ErrSignature)
	}
	secs, err := strconv.ParseInt(q.requestTime, 10, 64)
	if err != nil {
		return "", fmt.Errorf("RequestTime %q is not unix seconds: %w", q.requestTime, ErrStale)
	}
	skew := now.Sub(time.Unix(secs, 0))
	if skew > e.set.signWindow || skew < -e.set.signWindow {
		return "", fmt.Errorf("RequestTime is %s away from now, window %s: %w", skew.Round(time.Second), e.set.signWindow, ErrStale)
	}
	if verified == "appid" {
		return "appid,sign", nil
	}
	return "sign", nil
}

// decodeTencent fills ev from a Tencent body. ev.Command is the query's
// CallbackCommand; the body's, when present, must agree.
func decodeTencent(ev *Event, q *tencentQuery, body []byte) error {
	var b tencentBody
	if fastTencent == nil || !fastTencent(body, &b) {
		b = tencentBody{}
		if err := unmarshalBody(body, &b); err != nil {
			return err
		}
	}
	if b.CallbackCommand != "" && b.CallbackCommand != ev.Command {
		return fmt.Errorf("query says %q, body says %q: %w", ev.Command, b.CallbackCommand, ErrCommandMismatch)
	}
	ev.AppID = q.appID
	ev.ClientIP = q.clientIP
	ev.OptPlatform = normalizeOptPlatform(q.optPlatform)
	ev.GroupID = b.GroupID
	ev.GroupType = b.Type
	ev.Actor = b.RequestorAccount
	if ev.Actor == "" {
		ev.Actor = b.FromAccount
	}
	if ev.Actor == "" {
		ev.Actor = b.OperatorAccount
	}
	ev.Owner = b.NewOwnerAccount
	if ev.Owner == "" {
		ev.Owner = b.OwnerAccount
	}
	if len(b.EventTime) > 0 {
		ev.EventTime = parseEventTime(b.EventTime)
	}
	ev.Members = tencentMembers(&b)
	ev.Text = b.Name
	if len(b.MsgBody) > 0 {
		ev.Text = tencentText(&b)
	}
	ev.partialRefusal = ev.Command == "Group.CallbackBeforeInviteJoinGroup"
	return nil
}

func tencentMembers(b *tencentBody) []string {
	list := b.DestinationMembers
	if len(list) == 0 {
		list = b.NewMemberList
	}
	if len(list) == 0 {
		list = b.ExitMemberList
	}
	if len(list) == 0 {
		list = b.MemberList
	}
	if len(list) == 0 {
		// An applicant or a changed member is the one member the callback is about.
		if one := firstNonEmpty(b.RequestorAccount, b.MemberAccount); one != "" {
			return []string{one}
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, m := range list {
		out = append(out, m.MemberAccount)
	}
	return out
}

func tencentText(b *tencentBody) string {
	if len(b.MsgBody) == 0 {
		return b.Name
	}
	var parts []string
	for _, el := range b.MsgBody {
		if el.MsgContent.Text != "" {
			parts = append(parts, el.MsgContent.Text)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts, "\n")
}

// normalizeOptPlatform folds the spellings Tencent uses for one platform.
// EqualFold rather than ToLower: this runs on every callback and ToLower
// allocates for "iOS". Plain ifs: Yaegi v0.16.1 misjudges a tagless switch
// case with two expressions (TestTencentDecode/macOS_spelling caught it).
func normalizeOptPlatform(p string) string {
	if strings.EqualFold(p, "ios") {
		return "iOS"
	}
	if strings.EqualFold(p, "mac") || strings.EqualFold(p, "macos") {
		return "Mac"
	}
	return p
}

// tencentReply encodes a Tencent reply. code 0 with refused members is a
// partial refusal of invitees.
func tencentReply(code int, info string, refused []string) []byte {
	if code == 0 && info == "" && len(refused) == 0 {
		return tencentAllowReply
	}
	reply := struct {
		ActionStatus string   `json:"ActionStatus"`
		ErrorInfo    string   `json:"ErrorInfo"`
		ErrorCode    int      `json:"ErrorCode"`
		Refused      []string `json:"RefusedMembers_Account,omitempty"`
	}{"OK", info, code, refused}
	out, err := json.Marshal(reply)
	if err != nil {
		// Strings and ints always marshal; keep the platform answered regardless.
		return tencentAllowReply
	}
	return out
}

// validTencentCode reports whether code may reject a Tencent group callback.
func validTencentCode(code int) bool {
	return code == 1 || (code >= 10100 && code <= 10200)
}
