package soak

import (
	"time"

	"github.com/imgate/imgate/core"
)

// BannedByUpstream is the user the fault run's business service
// (examples/upstream -ban) denies.
const BannedByUpstream = "mallory"

// FaultCalls are the before-callbacks of the fault run, every one
// forwarded to the business service (examples/upstream, banning
// BannedByUpstream): each gets the service's decision or, while the
// service is killed, frozen or starting, the fallback (allow).
func FaultCalls() []Call {
	fallbackT := Answer{TencentAllow, "fallback; rule=default"}
	fallbackO := Answer{OpenIMAllow, "fallback; rule=default"}
	return []Call{
		named(tencentJoin("alice"), "tencent-join", Answer{TencentAllow, "allow; rule=upstream"}, fallbackT),
		named(openimJoin("alice"), "openim-join", Answer{OpenIMAllow, "allow; rule=upstream"}, fallbackO),
		named(tencentJoin(BannedByUpstream), "tencent-join-banned", Answer{TencentDeny(10101, "you are banned"), "deny; rule=upstream"}, fallbackT),
		named(openimJoin(BannedByUpstream), "openim-join-banned", Answer{OpenIMDeny(5101, "you are banned"), "deny; rule=upstream"}, fallbackO),
	}
}

// FaultOpenIMTimeout is the OpenIM webhook timeout of the fault run
// (webhooks.yml), the budget OpenIM gives a callback; Tencent's is a fixed
// core.TencentBudget.
const FaultOpenIMTimeout = 2 * time.Second

// Budget is how long the platform waits for a reply in the fault run.
func Budget(platform string) time.Duration {
	if platform == core.PlatformTencent {
		return core.TencentBudget
	}
	return FaultOpenIMTimeout
}

// FaultConfig forwards every callback to the route's next handler with
// deadline on both platforms and the fallback allow.
func FaultConfig(deadline, signWindow time.Duration) core.Config {
	return core.Config{
		Tencent:       core.TencentConfig{AppID: AppID, Token: Token, SignWindow: signWindow.String()},
		OpenIM:        core.OpenIMConfig{AllowedCIDRs: []string{"127.0.0.1/32"}},
		DefaultAction: core.ActionForward,
		Forward: core.ForwardConfig{
			TencentDeadline: deadline.String(), OpenIMDeadline: deadline.String(),
			OpenIMTimeout: FaultOpenIMTimeout.String(), Fallback: core.ActionAllow,
		},
		DecisionHeader: DecisionHeader,
	}
}

// DeliveryConfig forwards every callback and delivers after-callbacks
// durably to url through spool, retrying between retryMin and retryMax.
func DeliveryConfig(url, spool string, retryMin, retryMax, signWindow time.Duration) core.Config {
	return core.Config{
		Tencent:       core.TencentConfig{AppID: AppID, Token: Token, SignWindow: signWindow.String()},
		OpenIM:        core.OpenIMConfig{AllowedCIDRs: []string{"127.0.0.1/32"}},
		DefaultAction: core.ActionForward,
		Delivery: core.DeliveryConfig{
			URL: url, Spool: spool, RetryMin: retryMin.String(), RetryMax: retryMax.String(),
		},
		DecisionHeader: DecisionHeader,
	}
}

// MemberJoined is after-callback n of the delivery run: platforms
// alternate, groups cycle through groups, and every body differs (the
// spool takes an equal body for a platform's retry). Its actor is
// "u<n>", which the delivery service reports back.
func MemberJoined(n, groups int) Call {
	user := "u" + itoa(n)
	if n%2 == 0 {
		group := "@TGS#g" + itoa(n%groups)
		return Call{
			Name: "tencent-after", Platform: core.PlatformTencent, Probe: -1,
			Target: tencentQuery + "Group.CallbackAfterNewMemberJoin",
			Body:   `{"CallbackCommand":"Group.CallbackAfterNewMemberJoin","GroupId":"` + group + `","Type":"Public","JoinType":"Apply","Operator_Account":"` + user + `","NewMemberList":[{"Member_Account":"` + user + `"}]}`,
			Want:   []Answer{{TencentAllow, "ack; rule=default"}},
		}
	}
	op := "op-after-" + itoa(n)
	return Call{
		Name: "openim-after", Platform: core.PlatformOpenIM, Probe: -1,
		Target: "/im/callbackAfterJoinGroupCommand",
		Header: map[string]string{"operationID": op},
		Body:   `{"callbackCommand":"callbackAfterJoinGroupCommand","operationID":"` + op + `","groupID":"g` + itoa(n%groups) + `","groupType":2,"userID":"` + user + `","joinSource":3}`,
		Want:   []Answer{{OpenIMAllow, "ack; rule=default"}},
	}
}
