package core

import "encoding/json"

// Event is a callback in platform-neutral form. In the normalized forward
// format it is the JSON body sent to the business service.
type Event struct {
	// Platform is "tencent" or "openim".
	Platform string `json:"platform"`
	// Event is the normalized name, e.g. "group.join.apply"; "unknown" for
	// commands imgate does not know.
	Event string `json:"event"`
	// Phase is "before" (the platform waits for a decision) or "after"
	// (notification only).
	Phase string `json:"phase"`
	// Command is the platform's own command word.
	Command string `json:"command"`
	// AppID is Tencent's SdkAppid.
	AppID string `json:"appId,omitempty"`
	// GroupID is the group concerned.
	GroupID string `json:"groupId,omitempty"`
	// GroupType is Tencent's Type or OpenIM's groupType as a decimal string.
	GroupType string `json:"groupType,omitempty"`
	// Actor is the operator, applicant, requestor or sender.
	Actor string `json:"actor,omitempty"`
	// Owner is the (new) group owner where the callback names one.
	Owner string `json:"owner,omitempty"`
	// Members are the invitees, initial, new, leaving or affected members.
	Members []string `json:"members,omitempty"`
	// Text is the join request message, invite reason, group name or
	// message text.
	Text string `json:"text,omitempty"`
	// EventTime is the platform's event time in milliseconds, when sent.
	EventTime int64 `json:"eventTime,omitempty"`
	// ClientIP is Tencent's ClientIP query parameter.
	ClientIP string `json:"clientIp,omitempty"`
	// OptPlatform is Tencent's OptPlatform, normalized ("iOS", "Mac", ...).
	OptPlatform string `json:"optPlatform,omitempty"`
	// Raw is the original body (as valid JSON: documentation samples with
	// // comments arrive without them). Filled when the event is forwarded.
	Raw json.RawMessage `json:"raw"`

	// The unexported fields are tagged json:"-" because Yaegi (Traefik)
	// builds interpreted structs with every field exported ("Xplatform"),
	// and encoding/json would marshal them into the normalized body.

	// platform is the platform entry the event came from.
	platform *platform `json:"-"`
	// cmd describes the command: its phase, whether the reply can refuse
	// some members, which fields an allow must echo.
	cmd command `json:"-"`
	// echo, for OpenIM commands whose reply overwrites the request, holds the
	// request's fields to copy back into an "allow" reply.
	echo []byte `json:"-"`
}

// Before reports whether the platform waits for and acts on the decision.
func (e *Event) Before() bool { return e.cmd.before }

// Normalized event names.
const (
	EventUnknown = "unknown"
)
