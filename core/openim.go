package core

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

var openimAllowReply = []byte(`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`)

type openimUser struct {
	UserID string `json:"userID"`
}

// openimBody is the union of the fields imgate reads from any OpenIM group
// callback; everything else is ignored.
type openimBody struct {
	CallbackCommand string          `json:"callbackCommand"`
	GroupID         string          `json:"groupID"`
	GroupType       json.RawMessage `json:"groupType"`
	GroupName       string          `json:"groupName"`
	OwnerUserID     string          `json:"ownerUserID"`
	OwnerID         string          `json:"ownerID"`
	NewOwnerUserID  string          `json:"newOwnerUserID"`
	CreatorUserID   string          `json:"creatorUserID"`
	ApplyID         string          `json:"applyID"`
	InviterUserID   string          `json:"inviterUserID"`
	UserID          string          `json:"userID"`
	SendID          string          `json:"sendID"`
	ReqMessage      string          `json:"reqMessage"`
	Reason          string          `json:"reason"`
	Content         string          `json:"content"`
	SendTime        int64           `json:"sendTime"`
	InitMemberList  []openimUser    `json:"initMemberList"`
	MemberList      []openimUser    `json:"memberList"`
	InvitedUserIDs  []string        `json:"invitedUserIDs"`
	KickedUserIDs   []string        `json:"kickedUserIDs"`
	MembersID       []string        `json:"membersID"`
}

// openimCommandOf returns the command word and the path left before it.
// v3.5+ appends the command as the last path segment; v3.0–3.4 send it as
// ?command=.
func openimCommandOf(path, query string) (cmd, rest string, inQuery bool) {
	if q := queryValue(query, "command"); q != "" {
		return q, path, true
	}
	trimmed := strings.TrimRight(path, "/")
	i := strings.LastIndexByte(trimmed, '/')
	seg := trimmed[i+1:]
	if !strings.HasPrefix(strings.ToLower(seg), "callback") {
		if _, glued := querySecret(query); glued != "" {
			return glued, path, true
		}
		return "", path, false
	}
	if i < 0 {
		return seg, "", false
	}
	return seg, trimmed[:i], false
}

// querySecret returns the "secret" query parameter and the command OpenIM
// glued onto it. OpenIM appends the command to the configured URL as plain
// text (v3.5+: url + "/" + command; v3.0–3.4: url + "?command=" + command),
// so a URL configured as ".../openim?secret=s" arrives with the query
// "secret=s/<command>" or "secret=s?command=<command>".
func querySecret(query string) (secret, cmd string) {
	v := queryValue(query, "secret")
	if i := strings.Index(v, "?command="); i >= 0 {
		return v[:i], v[i+len("?command="):]
	}
	if i := strings.IndexByte(v, '/'); i >= 0 {
		cmd = v[i+1:]
		if j := strings.IndexByte(cmd, '?'); j >= 0 {
			cmd = cmd[:j]
		}
		return v[:i], cmd
	}
	return v, ""
}

// verifyOpenIM checks the source address and the shared secret carried in
// the callback URL.
func verifyOpenIM(e *Engine, rest, query, remote string) (string, error) {
	var done []string
	if len(e.set.cidrs) > 0 {
		addr, err := parseRemote(remote)
		if err != nil {
			return "", fmt.Errorf("source %q is not an IP address: %w", remote, ErrSource)
		}
		if !prefixesContain(e.set.cidrs, addr) {
			return "", fmt.Errorf("source %s is not in openim.allowedCidrs: %w", addr, ErrSource)
		}
		done = append(done, "source")
	}
	if secret := e.set.secret; secret != "" {
		got, _ := querySecret(query)
		if got == "" {
			trimmed := strings.TrimRight(rest, "/")
			got = trimmed[strings.LastIndexByte(trimmed, '/')+1:]
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			return "", fmt.Errorf("callback URL does not carry the configured secret: %w", ErrSecret)
		}
		done = append(done, "secret")
	}
	if len(done) == 0 {
		return "none", nil
	}
	return strings.Join(done, ","), nil
}

func parseRemote(remote string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(remote)
	if err != nil {
		return a, err
	}
	return a.Unmap(), nil
}

func prefixesContain(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// decodeOpenIM fills ev from an OpenIM body.
func decodeOpenIM(ev *Event, body []byte) error {
	var b openimBody
	if err := unmarshalBody(body, &b); err != nil {
		return err
	}
	ev.GroupID = b.GroupID
	ev.GroupType = openimGroupType(b.GroupType)
	ev.Actor = firstNonEmpty(b.ApplyID, b.SendID, b.InviterUserID, b.UserID, b.CreatorUserID)
	ev.Owner = firstNonEmpty(b.NewOwnerUserID, b.OwnerUserID, b.OwnerID)
	ev.Text = firstNonEmpty(b.ReqMessage, b.Reason, b.Content, b.GroupName)
	ev.EventTime = b.SendTime
	ev.Members = openimMembers(&b)
	// EqualFold, not ToLower: this runs on every OpenIM callback.
	infoEx := strings.EqualFold(ev.Command, "callbackBeforeSetGroupInfoExCommand")
	if infoEx || strings.EqualFold(ev.Command, "callbackBeforeSetGroupInfoCommand") {
		echo, err := openimEcho(body, infoEx)
		if err != nil {
			return err
		}
		ev.echo = echo
	}
	return nil
}

func openimMembers(b *openimBody) []string {
	switch {
	case len(b.InvitedUserIDs) > 0:
		return b.InvitedUserIDs
	case len(b.KickedUserIDs) > 0:
		return b.KickedUserIDs
	case len(b.MembersID) > 0:
		return b.MembersID
	}
	list := b.MemberList
	if len(list) == 0 {
		list = b.InitMemberList
	}
	if len(list) == 0 {
		// An applicant, a joining or leaving user is the one member concerned.
		if one := firstNonEmpty(b.ApplyID, b.InviterUserID, b.UserID); one != "" {
			return []string{one}
		}
		return nil
	}
	out := make([]string, 0, len(list))
	for _, m := range list {
		out = append(out, m.UserID)
	}
	return out
}

// openimGroupType turns OpenIM's groupType into a decimal string. Some
// commands send it as a number; others build it with string(int32), so it
// arrives as a control character such as "\u0002".
func openimGroupType(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] != '"' {
		return strings.TrimSpace(string(raw))
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	r := []rune(s)
	if len(r) == 1 && r[0] < '0' {
		return strconv.Itoa(int(r[0]))
	}
	return s
}

// Fields OpenIM copies from the reply of the set-group-info callbacks back
// into the request. A reply that omits them blanks the group's name or id.
var (
	setGroupInfoEcho   = []string{"groupID", "groupName", "introduction", "faceURL"}
	setGroupInfoExEcho = []string{"groupID", "groupName", "notification", "introduction", "faceURL", "ex", "needVerification", "lookMemberInfo", "applyMemberFriend"}
)

// openimEcho returns `,"k":v` pairs copying the request fields that an
// "allow" reply must carry back.
func openimEcho(body []byte, ex bool) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := unmarshalBody(body, &fields); err != nil {
		return nil, err
	}
	keys := setGroupInfoEcho
	if ex {
		keys = setGroupInfoExEcho
	}
	var buf bytes.Buffer
	for _, k := range keys {
		v, ok := fields[k]
		if !ok {
			if ex {
				continue
			}
			v = json.RawMessage(`""`)
		}
		buf.WriteString(`,"`)
		buf.WriteString(k)
		buf.WriteString(`":`)
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("field %s: %w", k, ErrBadBody)
		}
	}
	return buf.Bytes(), nil
}

// openimReply encodes an OpenIM v3.7+ reply: deny is actionCode 0 with
// nextCode 1. echo is appended to an allow reply.
func openimReply(deny bool, code int, msg string, echo []byte) []byte {
	if !deny {
		if len(echo) == 0 {
			return openimAllowReply
		}
		out := make([]byte, 0, len(openimAllowReply)+len(echo))
		out = append(out, openimAllowReply[:len(openimAllowReply)-1]...)
		out = append(out, echo...)
		return append(out, '}')
	}
	reply := struct {
		ActionCode int    `json:"actionCode"`
		ErrCode    int    `json:"errCode"`
		ErrMsg     string `json:"errMsg"`
		ErrDlt     string `json:"errDlt"`
		NextCode   int    `json:"nextCode"`
	}{0, code, msg, "", 1}
	out, err := json.Marshal(reply)
	if err != nil {
		return openimAllowReply
	}
	return out
}

// validOpenIMCode reports whether code is in OpenIM's documented business range.
func validOpenIMCode(code int) bool {
	return code >= 5000 && code <= 9999
}
