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

// Tencent Cloud IM (Chat): the callback carries its command and app id in
// the query, is signed with sha256(token + RequestTime) when the console
// enables authentication, and is answered with ActionStatus/ErrorCode/
// ErrorInfo. See docs/events.md for the commands.

// TencentConfig verifies Tencent Cloud IM callbacks.
type TencentConfig struct {
	// AppID is the app's SDKAppID; callbacks whose SdkAppid differs get
	// HTTP 403. Default: "" (not checked, logged as a warning at start-up;
	// set it in production).
	AppID string `json:"appId,omitempty"`

	// Token is the callback authentication token set in the Tencent console;
	// when set, Sign and RequestTime are required and checked. Prefer
	// TokenEnv or TokenFile, which keep it out of config files.
	// Default: "" (no signature check, logged as a warning at start-up).
	Token string `json:"token,omitempty"`

	// TokenEnv names an environment variable holding the token. The
	// variable must be set and non-empty when the config loads, or loading
	// fails: a configured check is never silently off. Default: "".
	TokenEnv string `json:"tokenEnv,omitempty"`

	// TokenFile is the path of a file holding the token (surrounding
	// whitespace is ignored), e.g. a mounted secret. The file must exist
	// and not be empty, or loading fails. Default: "".
	TokenFile string `json:"tokenFile,omitempty"`

	// SignWindow is how far RequestTime may be from now, in either
	// direction. Default: "60s".
	SignWindow string `json:"signWindow,omitempty"`
}

// Tencent's platform name, limits and defaults.
const (
	PlatformTencent        = "tencent"
	DefaultSignWindow      = 60 * time.Second
	DefaultTencentDeadline = 1500 * time.Millisecond
	TencentBudget          = 2 * time.Second
	DefaultTencentDenyCode = 1
)

// tencentSettings are the parsed Tencent settings.
type tencentSettings struct {
	// appID and token are the credentials in force, the token resolved
	// from its inline, environment or file source.
	appID      string
	token      string
	signWindow time.Duration
	deadline   time.Duration
}

var tencentPlatform = &platform{
	name:            PlatformTencent,
	index:           0,
	settle:          settleTencent,
	credential:      func(s *settings) string { return s.tencent.token },
	parse:           parseTencent,
	notCallback:     func(in *Input) error { return fmt.Errorf("query has no CallbackCommand: %w", ErrNotCallback) },
	lookup:          lookupTencent,
	commands:        tencentCommands,
	verify:          verifyTencent,
	decode:          decodeTencent,
	reply:           tencentReply,
	allowReply:      tencentAllowReply,
	validCode:       validTencentCode,
	codeRange:       "a Tencent reject code (1 or 10100-10200)",
	defaultDenyCode: DefaultTencentDenyCode,
	deadline:        func(s *settings) time.Duration { return s.tencent.deadline },
	checkNative:     checkTencentNative,
	warnings:        tencentWarnings,
	scrub:           scrubTencent,
}

// settleTencent validates the tencent section and forward.tencentDeadline.
func settleTencent(c *Config, s *settings) error {
	t := &s.tencent
	var err error
	if t.signWindow, err = parseDuration("tencent.signWindow", c.Tencent.SignWindow, DefaultSignWindow); err != nil {
		return err
	}
	if c.Tencent.AppID != "" {
		if err = ValidateAppID(c.Tencent.AppID); err != nil {
			return fmt.Errorf("tencent.appId: %w", err)
		}
		t.appID = c.Tencent.AppID
	}
	t.token, err = credential{
		inline: c.Tencent.Token, env: c.Tencent.TokenEnv, file: c.Tencent.TokenFile,
		inlineKey: "tencent.token", envKey: "tencent.tokenEnv", fileKey: "tencent.tokenFile",
	}.resolve()
	if err != nil {
		return err
	}
	if t.deadline, err = parseDuration("forward.tencentDeadline", c.Forward.TencentDeadline, DefaultTencentDeadline); err != nil {
		return err
	}
	if t.deadline >= TencentBudget {
		return configErr("forward.tencentDeadline", "%s is not below Tencent's fixed 2s callback budget", t.deadline)
	}
	return nil
}

// tencentCommands maps every Tencent Cloud IM Group.* callback to its
// normalized event. docs/events.md lists them; core/readme_test.go keeps
// the two in step.
var tencentCommands = map[string]command{
	"Group.CallbackBeforeCreateGroup":       {event: "group.create.before", before: true},
	"Group.CallbackAfterCreateGroup":        {event: "group.create.after"},
	"Group.CallbackBeforeApplyJoinGroup":    {event: "group.join.apply", before: true},
	"Group.CallbackBeforeInviteJoinGroup":   {event: "group.join.invite", before: true, partialRefusal: true},
	"Group.CallbackAfterNewMemberJoin":      {event: "group.member.joined"},
	"Group.CallbackAfterMemberExit":         {event: "group.member.left"},
	"Group.CallbackBeforeSendMsg":           {event: "group.message.before", before: true},
	"Group.CallbackAfterSendMsg":            {event: "group.message.after"},
	"Group.CallbackAfterGroupFull":          {event: "group.full"},
	"Group.CallbackAfterGroupDestroyed":     {event: "group.destroyed"},
	"Group.CallbackAfterGroupInfoChanged":   {event: "group.info.changed"},
	"Group.CallbackOnMemberStateChange":     {event: "group.member.state"},
	"Group.CallbackSendMsgException":        {event: "group.message.failed"},
	"Group.CallbackBeforeCreateTopic":       {event: "group.topic.create.before", before: true},
	"Group.CallbackAfterCreateTopic":        {event: "group.topic.created"},
	"Group.CallbackAfterTopicDestroyed":     {event: "group.topic.destroyed"},
	"Group.CallbackAfterTopicInfoChanged":   {event: "group.topic.changed"},
	"Group.CallbackAfterRecallMsg":          {event: "group.message.recalled"},
	"Group.CallbackAfterMemberFieldChanged": {event: "group.member.changed"},
	"Group.CallbackAfterGroupAttrChanged":   {event: "group.attr.changed"},
	"Group.CallbackAfterReadReceipt":        {event: "group.message.read"},
	"Group.CallbackAfterChangeGroupOwner":   {event: "group.owner.changed"},
	"Group.CallbackOnDailyGroupQuotaAlarm":  {event: "group.quota.alarm"},
	"Group.CallbackAfterGroupMsgExtension":  {event: "group.message.extension"},
}

// lookupTencent describes a command. A command imgate does not know counts
// as "before" when its name says so, so that its continue reply and logs
// are honest about what the platform waits for.
func lookupTencent(name string) command {
	if c, ok := tencentCommands[name]; ok {
		return c
	}
	return command{event: EventUnknown, before: strings.Contains(name, "Before") || strings.Contains(name, "Prev")}
}

// Tencent replies. The field order follows Tencent's documentation samples.
var tencentAllowReply = []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`)

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
// callback; everything else is ignored. Its json tags are the one list of
// the fields: encoding/json and the compiled-only scanner (jsonscan_gc.go)
// both read them.
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

// tencentFields are tencentBody's fields, for the duplicate-field check.
var tencentFields = fieldNamesOf(&tencentBody{})

// TencentSign returns hex(sha256(token + requestTime)), Tencent's callback
// signature.
func TencentSign(token, requestTime string) string {
	sum := sha256.Sum256([]byte(token + requestTime))
	return hex.EncodeToString(sum[:])
}

// tencentQueryKeys numbers the query parameters Tencent sends, in the
// order parseTencent stores them.
var tencentQueryKeys = map[string]int{"CallbackCommand": 0, "SdkAppid": 1, "ClientIP": 2, "OptPlatform": 3, "Sign": 4, "RequestTime": 5}

// parseTencent reads the query parameters Tencent sends in one pass:
// reading each key separately costs a function call and a scan per key,
// which Yaegi makes expensive; for the same reason the query is split in
// one call and each key found with one map lookup. A Tencent callback is
// one whose query has CallbackCommand.
func parseTencent(in *Input) (callbackQuery, bool) {
	q := callbackQuery{rawQuery: in.RawQuery}
	if !strings.Contains(in.RawQuery, "CallbackCommand=") {
		// No pair can be the command: an OpenIM callback offered to
		// Tencent first (platform auto) costs one call.
		return q, false
	}
	var values [6]string
	seen := 0
	escaped := strings.IndexByte(in.RawQuery, '%') >= 0 || strings.IndexByte(in.RawQuery, '+') >= 0
	for _, pair := range strings.Split(in.RawQuery, "&") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		i, known := tencentQueryKeys[k]
		if !known {
			continue
		}
		if escaped {
			if u, err := url.QueryUnescape(v); err == nil {
				v = u
			}
		}
		// A parameter given twice is refused (decide): picking one would
		// let two readers of the URL disagree.
		if seen&(1<<i) != 0 {
			q.duplicate = k
		}
		seen |= 1 << i
		values[i] = v
	}
	q.command = values[0]
	q.appID = values[1]
	q.clientIP = values[2]
	q.optPlatform = values[3]
	q.sign = values[4]
	q.requestTime = values[5]
	return q, q.command != ""
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
func verifyTencent(set *settings, q callbackQuery, remote string, now time.Time) (string, error) {
	s := &set.tencent
	verified := "none"
	if s.appID != "" {
		if subtle.ConstantTimeCompare([]byte(q.appID), []byte(s.appID)) != 1 {
			if q.appID == "" {
				return "", fmt.Errorf("the query lacks SdkAppid: %w", ErrAppID)
			}
			return "", fmt.Errorf("SdkAppid %q is not the configured app: %w", q.appID, ErrAppID)
		}
		verified = "appid"
	}
	if s.token == "" {
		return verified, nil
	}
	if q.sign == "" || q.requestTime == "" {
		return "", fmt.Errorf("the query lacks Sign or RequestTime: %w", ErrSignature)
	}
	if !signMatches(s.token, q.requestTime, q.sign) {
		return "", fmt.Errorf("the query's Sign does not match its RequestTime: %w", ErrSignature)
	}
	secs, err := strconv.ParseInt(q.requestTime, 10, 64)
	if err != nil {
		return "", fmt.Errorf("RequestTime %q is not unix seconds: %w", q.requestTime, ErrStale)
	}
	skew := now.Sub(time.Unix(secs, 0))
	if skew > s.signWindow || skew < -s.signWindow {
		return "", fmt.Errorf("RequestTime is %s away from now, window %s: %w", skew.Round(time.Second), s.signWindow, ErrStale)
	}
	if verified == "appid" {
		return "appid,sign", nil
	}
	return "sign", nil
}

// decodeTencent fills ev from a Tencent body. ev.Command is the query's
// CallbackCommand; the body's, when present, must agree.
func decodeTencent(ev *Event, q callbackQuery, body []byte) error {
	var b tencentBody
	if err := decodeBody(body, &b, tencentFields); err != nil {
		return err
	}
	if err := checkBodyCommand(ev, b.CallbackCommand, "CallbackCommand"); err != nil {
		return err
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

// tencentReply encodes a Tencent reply. Only a deny carries a code and a
// message; a partial refusal is an allow that names the refused members.
func tencentReply(ev *Event, deny bool, code int, info string, refused []string) []byte {
	if !deny {
		code = 0
		info = ""
	}
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

// tencentNativeReply is a Tencent reply as a native-format upstream sends it.
type tencentNativeReply struct {
	ActionStatus *string  `json:"ActionStatus"`
	ErrorCode    *int     `json:"ErrorCode"`
	ErrorInfo    *string  `json:"ErrorInfo"`
	Refused      []string `json:"RefusedMembers_Account"`
}

// checkTencentNative accepts a reply Tencent will read the way the
// upstream meant it, and returns its decision.
func checkTencentNative(ev *Event, body []byte) (string, error) {
	var r tencentNativeReply
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("upstream reply is not JSON: %s: %w", err.Error(), ErrUpstream)
	}
	if r.ActionStatus == nil || r.ErrorCode == nil || r.ErrorInfo == nil {
		return "", fmt.Errorf("the Tencent reply lacks ActionStatus, ErrorCode or ErrorInfo: %w", ErrUpstream)
	}
	code := *r.ErrorCode
	if code != 0 && !validTencentCode(code) && !(code == 2 && ev.Command == "Group.CallbackBeforeSendMsg") {
		return "", fmt.Errorf("the Tencent ErrorCode %d is not 0, 1 or 10100-10200: %w", code, ErrUpstream)
	}
	if code != 0 {
		return ActionDeny, nil
	}
	if len(r.Refused) > 0 {
		return decisionRefuse, nil
	}
	return ActionAllow, nil
}

func tencentWarnings(set *settings) []string {
	s := &set.tencent
	var warnings []string
	if s.appID == "" {
		warnings = append(warnings, "tencent.appId is not set: the SdkAppid of Tencent callbacks is not checked")
	}
	if s.token == "" {
		warnings = append(warnings, "no tencent.token, tencent.tokenEnv or tencent.tokenFile: Tencent callbacks are not signature-checked, anyone who can reach this route can send them")
	}
	return warnings
}

// scrubTencent drops Sign and RequestTime from the query.
func scrubTencent(s *settings, in *Input) (string, string) {
	return dropQueryKeys(in.RawQuery, "Sign", "RequestTime"), in.Path
}
