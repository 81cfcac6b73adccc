package core

import "strings"

// command describes one platform command word.
type command struct {
	event  string
	before bool
}

// tencentCommands maps every Tencent Cloud IM Group.* callback to its
// normalized event. Keep in sync with the table in README.md.
var tencentCommands = map[string]command{
	"Group.CallbackBeforeCreateGroup":       {"group.create.before", true},
	"Group.CallbackAfterCreateGroup":        {"group.create.after", false},
	"Group.CallbackBeforeApplyJoinGroup":    {"group.join.apply", true},
	"Group.CallbackBeforeInviteJoinGroup":   {"group.join.invite", true},
	"Group.CallbackAfterNewMemberJoin":      {"group.member.joined", false},
	"Group.CallbackAfterMemberExit":         {"group.member.left", false},
	"Group.CallbackBeforeSendMsg":           {"group.message.before", true},
	"Group.CallbackAfterSendMsg":            {"group.message.after", false},
	"Group.CallbackAfterGroupFull":          {"group.full", false},
	"Group.CallbackAfterGroupDestroyed":     {"group.destroyed", false},
	"Group.CallbackAfterGroupInfoChanged":   {"group.info.changed", false},
	"Group.CallbackOnMemberStateChange":     {"group.member.state", false},
	"Group.CallbackSendMsgException":        {"group.message.failed", false},
	"Group.CallbackBeforeCreateTopic":       {"group.topic.create.before", true},
	"Group.CallbackAfterCreateTopic":        {"group.topic.created", false},
	"Group.CallbackAfterTopicDestroyed":     {"group.topic.destroyed", false},
	"Group.CallbackAfterTopicInfoChanged":   {"group.topic.changed", false},
	"Group.CallbackAfterRecallMsg":          {"group.message.recalled", false},
	"Group.CallbackAfterMemberFieldChanged": {"group.member.changed", false},
	"Group.CallbackAfterGroupAttrChanged":   {"group.attr.changed", false},
	"Group.CallbackAfterReadReceipt":        {"group.message.read", false},
	"Group.CallbackAfterChangeGroupOwner":   {"group.owner.changed", false},
	"Group.CallbackOnDailyGroupQuotaAlarm":  {"group.quota.alarm", false},
	"Group.CallbackAfterGroupMsgExtension":  {"group.message.extension", false},
}

// openimCommands maps every OpenIM group command, old and new names, to its
// normalized event. Keep in sync with the table in README.md. Lookups go
// through openimIndex, which is case-insensitive: v3.0 spelled one command
// with a capital C.
var openimCommands = map[string]command{
	"callbackBeforeCreateGroupCommand":        {"group.create.before", true},
	"callbackAfterCreateGroupCommand":         {"group.create.after", false},
	"callbackBeforeMemberJoinGroupCommand":    {"group.join.admit", true},
	"callbackBeforeMembersJoinGroupCommand":   {"group.join.admit", true},
	"callbackBeforeInviteJoinGroupCommand":    {"group.join.invite", true},
	"callbackBeforeJoinGroupCommand":          {"group.join.apply", true},
	"callbackAfterJoinGroupCommand":           {"group.member.joined", false},
	"callbackAfterQuitGroupCommand":           {"group.member.left", false},
	"callbackQuitGroupCommand":                {"group.member.left", false},
	"callbackAfterKickGroupCommand":           {"group.member.left", false},
	"callbackKillGroupCommand":                {"group.member.left", false},
	"callbackAfterDisMissGroupCommand":        {"group.destroyed", false},
	"callbackDisMissGroupCommand":             {"group.destroyed", false},
	"callbackAfterTransferGroupOwnerCommand":  {"group.owner.changed", false},
	"callbackAfterTransferGroupOwner":         {"group.owner.changed", false},
	"callbackTransferGroupOwnerAfter":         {"group.owner.changed", false},
	"callbackBeforeSetGroupInfoCommand":       {"group.info.change.before", true},
	"callbackAfterSetGroupInfoCommand":        {"group.info.changed", false},
	"callbackBeforeSetGroupInfoExCommand":     {"group.info.change.before", true},
	"callbackAfterSetGroupInfoExCommand":      {"group.info.changed", false},
	"callbackBeforeSetGroupMemberInfoCommand": {"group.member.change.before", true},
	"callbackAfterSetGroupMemberInfoCommand":  {"group.member.changed", false},
	"callbackBeforeSendGroupMsgCommand":       {"group.message.before", true},
	"callbackAfterSendGroupMsgCommand":        {"group.message.after", false},
	"callbackBeforeMsgModifyCommand":          {"group.message.modify.before", true},
	"callbackMsgModifyCommand":                {"group.message.modify.before", true},
	"callbackAfterGroupMsgReadCommand":        {"group.message.read", false},
	"callbackGroupMsgReadCommand":             {"group.message.read", false},
	"callbackAfterMsgSaveDBCommand":           {"group.message.saved", false},
	"callbackBeforeGroupOnlinePushCommand":    {"group.message.push.before", true},
	"callbackSuperGroupOnlinePushCommand":     {"group.message.push.before", true},
	"callbackBeforeAfterMsgCommand":           {"group.message.recalled", false},
}

// unknownTencent describes a command imgate does not know. It counts as
// "before" when its name says so, so that its continue reply and logs are
// honest about what the platform waits for.
func unknownTencent(name string) command {
	return command{event: EventUnknown, before: strings.Contains(name, "Before") || strings.Contains(name, "Prev")}
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

func lookupOpenIM(name string) (command, bool) {
	c, ok := openimIndex[name]
	if !ok {
		c, ok = openimIndex[strings.ToLower(name)]
	}
	if ok {
		return c, true
	}
	return command{event: EventUnknown, before: strings.Contains(strings.ToLower(name), "before")}, false
}

// CommandTable lists every known command as platform, command, event, phase
// rows in a stable order, for documentation and tests.
func CommandTable() [][4]string {
	var rows [][4]string
	for name, c := range tencentCommands {
		rows = append(rows, [4]string{PlatformTencent, name, c.event, phaseOf(c.before)})
	}
	for name, c := range openimCommands {
		rows = append(rows, [4]string{PlatformOpenIM, name, c.event, phaseOf(c.before)})
	}
	sortRows(rows)
	return rows
}

func phaseOf(before bool) string {
	if before {
		return "before"
	}
	return "after"
}

// sortRows is an insertion sort: the slices package cannot sort under Yaegi and
// the table is small.
func sortRows(rows [][4]string) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && lessRow(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func lessRow(a, b [4]string) bool {
	for k := 0; k < 4; k++ {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return false
}
