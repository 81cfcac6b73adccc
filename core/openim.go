package core

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OpenIM: the command is the last path segment (v3.5+) or the query's
// command= (v3.0–3.4); the open-source server signs nothing, so imgate
// checks a shared secret carried in the URL and the source address; the
// v3.7+ reply rejects with actionCode 0 and nextCode 1. See docs/events.md
// for the commands.

// OpenIMConfig verifies OpenIM callbacks, which carry no signature.
type OpenIMConfig struct {
	// Secret, when set, must appear in the callback URL configured in
	// OpenIM: as the path segment just before the command (v3.5+), as the
	// last path segment (v3.0–3.4, command in the query), or as the query
	// parameter "secret". Prefer SecretEnv or SecretFile, which keep it out
	// of config files. Default: "" (not checked, logged as a warning at
	// start-up unless AllowedCIDRs is set).
	Secret string `json:"secret,omitempty"`

	// SecretEnv names an environment variable holding the secret; it must
	// be set and non-empty when the config loads, or loading fails.
	// Default: "".
	SecretEnv string `json:"secretEnv,omitempty"`

	// SecretFile is the path of a file holding the secret (surrounding
	// whitespace is ignored); it must exist and not be empty, or loading
	// fails. Default: "".
	SecretFile string `json:"secretFile,omitempty"`

	// AllowedCIDRs lists the source networks OpenIM calls from, e.g.
	// "10.0.0.0/8". Default: none (any source).
	AllowedCIDRs []string `json:"allowedCidrs,omitempty"`
}

// OpenIM's platform name, limits and defaults.
const (
	PlatformOpenIM        = "openim"
	DefaultOpenIMDeadline = 3 * time.Second
	DefaultOpenIMTimeout  = 5 * time.Second
	OpenIMMaxTimeout      = 15 * time.Second
	DefaultOpenIMDenyCode = 5000
)

// openimSettings are the parsed OpenIM settings.
type openimSettings struct {
	// secret is the shared secret in force, resolved from its inline,
	// environment or file source.
	secret   string
	cidrs    []netip.Prefix
	deadline time.Duration
}

var openimPlatform = &platform{
	name:            PlatformOpenIM,
	index:           1,
	settle:          settleOpenIM,
	credential:      func(s *settings) string { return s.openim.secret },
	parse:           parseOpenIM,
	notCallback:     openimNotCallback,
	lookup:          lookupOpenIM,
	commands:        openimCommands,
	verify:          verifyOpenIM,
	decode:          decodeOpenIM,
	reply:           openimReply,
	allowReply:      openimAllowReply,
	validCode:       validOpenIMCode,
	codeRange:       "an OpenIM errCode (5000-9999)",
	defaultDenyCode: DefaultOpenIMDenyCode,
	deadline:        func(s *settings) time.Duration { return s.openim.deadline },
	checkNative:     checkOpenIMNative,
	warnings:        openimWarnings,
	scrub:           scrubOpenIM,
}

// settleOpenIM validates the openim section and forward.openimDeadline and
// forward.openimTimeout.
func settleOpenIM(c *Config, s *settings) error {
	o := &s.openim
	var err error
	o.secret, err = credential{
		inline: c.OpenIM.Secret, env: c.OpenIM.SecretEnv, file: c.OpenIM.SecretFile,
		inlineKey: "openim.secret", envKey: "openim.secretEnv", fileKey: "openim.secretFile",
	}.resolve()
	if err != nil {
		return err
	}
	for i, cidr := range c.OpenIM.AllowedCIDRs {
		p, perr := parsePrefix(cidr)
		if perr != nil {
			return configErr(fmt.Sprintf("openim.allowedCidrs[%d]", i), "%q is not a CIDR or IP address", cidr)
		}
		o.cidrs = append(o.cidrs, p)
	}
	timeout, err := parseDuration("forward.openimTimeout", c.Forward.OpenIMTimeout, DefaultOpenIMTimeout)
	if err != nil {
		return err
	}
	if timeout > OpenIMMaxTimeout {
		return configErr("forward.openimTimeout", "%s is above OpenIM's 15s HTTP client cap", timeout)
	}
	if o.deadline, err = parseDuration("forward.openimDeadline", c.Forward.OpenIMDeadline, DefaultOpenIMDeadline); err != nil {
		return err
	}
	if o.deadline >= timeout {
		return configErr("forward.openimDeadline", "%s is not below the OpenIM callback timeout %s", o.deadline, timeout)
	}
	return nil
}

func parsePrefix(v string) (netip.Prefix, error) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Fields OpenIM copies from the reply of the set-group-info callbacks back
// into the request. A reply that omits them blanks the group's name or id,
// so an allow must echo them: every one for SetGroupInfo (an absent one as
// ""), the ones present for SetGroupInfoEx.
var (
	setGroupInfoEcho   = &echoSpec{fields: []string{"groupID", "groupName", "introduction", "faceURL"}, fillMissing: true}
	setGroupInfoExEcho = &echoSpec{fields: []string{"groupID", "groupName", "notification", "introduction", "faceURL", "ex", "needVerification", "lookMemberInfo", "applyMemberFriend"}}
)

// echoSpec names the request fields an allow reply copies back.
type echoSpec struct {
	fields []string
	// fillMissing sends "" for a field the request lacks.
	fillMissing bool
}

// openimCommands maps every OpenIM group command, old and new names, to its
// normalized event. docs/events.md lists them; core/readme_test.go keeps
// the two in step. Lookups go through openimIndex, which is
// case-insensitive: v3.0 spelled one command with a capital C.
var openimCommands = map[string]command{
	"callbackBeforeCreateGroupCommand":        {event: "group.create.before", before: true},
	"callbackAfterCreateGroupCommand":         {event: "group.create.after"},
	"callbackBeforeMemberJoinGroupCommand":    {event: "group.join.admit", before: true},
	"callbackBeforeMembersJoinGroupCommand":   {event: "group.join.admit", before: true},
	"callbackBeforeInviteJoinGroupCommand":    {event: "group.join.invite", before: true},
	"callbackBeforeJoinGroupCommand":          {event: "group.join.apply", before: true},
	"callbackAfterJoinGroupCommand":           {event: "group.member.joined"},
	"callbackAfterQuitGroupCommand":           {event: "group.member.left"},
	"callbackQuitGroupCommand":                {event: "group.member.left"},
	"callbackAfterKickGroupCommand":           {event: "group.member.left"},
	"callbackKillGroupCommand":                {event: "group.member.left"},
	"callbackAfterDisMissGroupCommand":        {event: "group.destroyed"},
	"callbackDisMissGroupCommand":             {event: "group.destroyed"},
	"callbackAfterTransferGroupOwnerCommand":  {event: "group.owner.changed"},
	"callbackAfterTransferGroupOwner":         {event: "group.owner.changed"},
	"callbackTransferGroupOwnerAfter":         {event: "group.owner.changed"},
	"callbackBeforeSetGroupInfoCommand":       {event: "group.info.change.before", before: true, echo: setGroupInfoEcho},
	"callbackAfterSetGroupInfoCommand":        {event: "group.info.changed"},
	"callbackBeforeSetGroupInfoExCommand":     {event: "group.info.change.before", before: true, echo: setGroupInfoExEcho},
	"callbackAfterSetGroupInfoExCommand":      {event: "group.info.changed"},
	"callbackBeforeSetGroupMemberInfoCommand": {event: "group.member.change.before", before: true},
	"callbackAfterSetGroupMemberInfoCommand":  {event: "group.member.changed"},
	"callbackBeforeSendGroupMsgCommand":       {event: "group.message.before", before: true},
	"callbackAfterSendGroupMsgCommand":        {event: "group.message.after"},
	"callbackBeforeMsgModifyCommand":          {event: "group.message.modify.before", before: true},
	"callbackMsgModifyCommand":                {event: "group.message.modify.before", before: true},
	"callbackAfterGroupMsgReadCommand":        {event: "group.message.read"},
	"callbackGroupMsgReadCommand":             {event: "group.message.read"},
	"callbackAfterMsgSaveDBCommand":           {event: "group.message.saved"},
	"callbackBeforeGroupOnlinePushCommand":    {event: "group.message.push.before", before: true},
	"callbackSuperGroupOnlinePushCommand":     {event: "group.message.push.before", before: true},
	"callbackBeforeAfterMsgCommand":           {event: "group.message.recalled"},
}

// openimIndex is openimCommands keyed by exact and by lower-case name, so
// the usual spelling is found without allocating.
var openimIndex = lowerKeys(openimCommands)

func lowerKeys(m map[string]command) map[string]command {
	out := make(map[string]command, 2*len(m))
	for k, v := range m {
		out[k] = v
		out[strings.ToLower(k)] = v
	}
	return out
}

// lookupOpenIM describes a command, matching its name case-insensitively;
// an unknown command counts as "before" when its name says so.
func lookupOpenIM(name string) command {
	c, ok := openimIndex[name]
	if !ok {
		c, ok = openimIndex[strings.ToLower(name)]
	}
	if ok {
		return c
	}
	return command{event: EventUnknown, before: strings.Contains(strings.ToLower(name), "before")}
}

var openimAllowReply = []byte(`{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}`)

type openimUser struct {
	UserID string `json:"userID"`
}

// openimBody is the union of the fields imgate reads from any OpenIM group
// callback; everything else is ignored. Its json tags are the one list of
// the fields: encoding/json and the compiled-only scanner (jsonscan_gc.go)
// both read them.
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

// openimFields are openimBody's fields, for the duplicate-field check.
var openimFields = fieldNamesOf(&openimBody{})

// parseOpenIM finds the command word and the path left before it. v3.5+
// appends the command as the last path segment; v3.0–3.4 send it as
// ?command=.
func parseOpenIM(in *Input) (callbackQuery, bool) {
	q := callbackQuery{rawQuery: in.RawQuery}
	// v3.5+ URLs usually carry no query: then none of its calls run.
	if in.RawQuery != "" {
		if queryCount(in.RawQuery, "command") > 1 {
			q.duplicate = "command"
		} else if queryCount(in.RawQuery, "secret") > 1 {
			q.duplicate = "secret"
		}
		if cmd := queryValue(in.RawQuery, "command"); cmd != "" {
			q.command = cmd
			q.pathRest = in.Path
			return q, true
		}
	}
	trimmed := strings.TrimRight(in.Path, "/")
	i := strings.LastIndexByte(trimmed, '/')
	seg := trimmed[i+1:]
	// EqualFold on the prefix, not ToLower: this runs on every callback.
	if len(seg) < len("callback") || !strings.EqualFold(seg[:len("callback")], "callback") {
		if _, glued := querySecret(in.RawQuery); glued != "" {
			q.command = glued
			q.pathRest = in.Path
			return q, true
		}
		return q, false
	}
	q.command = seg
	if i >= 0 {
		q.pathRest = trimmed[:i]
	}
	return q, true
}

func openimNotCallback(in *Input) error {
	return fmt.Errorf("path %q ends in no OpenIM callback command and the query has no command=: %w", in.Path, ErrNotCallback)
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
// the callback URL. The query is read again for the secret: parse keeps
// only what every callback needs.
func verifyOpenIM(set *settings, q callbackQuery, remote string, now time.Time) (string, error) {
	s := &set.openim
	var done []string
	if len(s.cidrs) > 0 {
		addr, err := parseRemote(remote)
		if err != nil {
			return "", fmt.Errorf("source %q is not an IP address: %w", remote, ErrSource)
		}
		if !prefixesContain(s.cidrs, addr) {
			return "", fmt.Errorf("source %s is not in openim.allowedCidrs: %w", addr, ErrSource)
		}
		done = append(done, "source")
	}
	if secret := s.secret; secret != "" {
		got, _ := querySecret(q.rawQuery)
		if got == "" {
			trimmed := strings.TrimRight(q.pathRest, "/")
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
func decodeOpenIM(ev *Event, q callbackQuery, body []byte) error {
	var b openimBody
	if err := decodeBody(body, &b, openimFields); err != nil {
		return err
	}
	if err := checkBodyCommand(ev, b.CallbackCommand, "callbackCommand"); err != nil {
		return err
	}
	ev.GroupID = b.GroupID
	ev.GroupType = openimGroupType(b.GroupType)
	ev.Actor = firstNonEmpty(b.ApplyID, b.SendID, b.InviterUserID, b.UserID, b.CreatorUserID)
	ev.Owner = firstNonEmpty(b.NewOwnerUserID, b.OwnerUserID, b.OwnerID)
	ev.Text = firstNonEmpty(b.ReqMessage, b.Reason, b.Content, b.GroupName)
	ev.EventTime = b.SendTime
	ev.Members = openimMembers(&b)
	if spec := ev.cmd.echo; spec != nil {
		echo, err := openimEcho(body, spec)
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

// openimEcho returns `,"k":v` pairs copying the request fields that an
// "allow" reply must carry back.
func openimEcho(body []byte, spec *echoSpec) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := unmarshalBody(body, &fields); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, k := range spec.fields {
		v, ok := fields[k]
		if !ok {
			if !spec.fillMissing {
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
// nextCode 1; an allow carries the echo. OpenIM cannot refuse part of a
// request, so the engine never asks it to.
func openimReply(ev *Event, deny bool, code int, msg string, refused []string) []byte {
	if !deny {
		if len(ev.echo) == 0 {
			return openimAllowReply
		}
		out := make([]byte, 0, len(openimAllowReply)+len(ev.echo))
		out = append(out, openimAllowReply[:len(openimAllowReply)-1]...)
		out = append(out, ev.echo...)
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

// openimNativeReply is an OpenIM reply as a native-format upstream sends it.
type openimNativeReply struct {
	ActionCode *int `json:"actionCode"`
	ErrCode    *int `json:"errCode"`
	NextCode   *int `json:"nextCode"`
}

// checkOpenIMNative accepts a reply OpenIM v3.7+ will read the way the
// upstream meant it, and returns its decision.
func checkOpenIMNative(ev *Event, body []byte) (string, error) {
	var r openimNativeReply
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("upstream reply is not JSON: %s: %w", err.Error(), ErrUpstream)
	}
	if r.ActionCode == nil || r.NextCode == nil {
		return "", fmt.Errorf("the OpenIM reply lacks actionCode or nextCode: %w", ErrUpstream)
	}
	if *r.ActionCode == 0 && *r.NextCode == 1 && (r.ErrCode == nil || !validOpenIMCode(*r.ErrCode)) {
		return "", fmt.Errorf("the OpenIM rejection has no errCode in 5000-9999: %w", ErrUpstream)
	}
	if *r.ActionCode != 0 && *r.NextCode == 1 {
		// OpenIM v3.7+ ignores this combination: the upstream meant deny, the platform would allow.
		return "", fmt.Errorf("the OpenIM reply with actionCode %d does not reject since v3.7: %w", *r.ActionCode, ErrUpstream)
	}
	if *r.NextCode == 1 {
		return ActionDeny, nil
	}
	return ActionAllow, nil
}

func openimWarnings(s *settings) []string {
	if s.openim.secret == "" && len(s.openim.cidrs) == 0 {
		return []string{"no openim.secret (or secretEnv, secretFile) and no openim.allowedCidrs: OpenIM callbacks are not verified, anyone who can reach this route can send them"}
	}
	return nil
}

// scrubOpenIM takes the configured secret out of the URL: the "secret"
// query parameter (keeping a command OpenIM glued onto it, as command=),
// or the path segment that carries it.
func scrubOpenIM(s *settings, in *Input) (string, string) {
	secret := s.openim.secret
	if secret == "" {
		return in.RawQuery, in.Path
	}
	if got, glued := querySecret(in.RawQuery); got != "" {
		query := dropQueryKeys(in.RawQuery, "secret")
		if glued != "" && queryValue(query, "command") == "" {
			if query != "" {
				query += "&"
			}
			query += "command=" + url.QueryEscape(glued)
		}
		return query, in.Path
	}
	q, ok := parseOpenIM(in)
	if !ok {
		return in.RawQuery, in.Path
	}
	rest := strings.TrimRight(q.pathRest, "/")
	i := strings.LastIndexByte(rest, '/')
	if rest[i+1:] != secret {
		return in.RawQuery, in.Path
	}
	if queryValue(in.RawQuery, "command") != "" {
		// v3.0-3.4: the secret is the last segment, the command in the query.
		return in.RawQuery, rest[:i+1]
	}
	return in.RawQuery, rest[:i+1] + q.command
}
