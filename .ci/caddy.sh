#!/usr/bin/env bash
# Smoke test of the Caddy build: builds cmd/caddy, runs it on
# Caddyfile.example (gateway :8080, admin localhost:2019), sends the four
# vendor sample callbacks (testdata/seeds) plus a rule denial and a forward
# fallback, and checks the exact replies. Exits non-zero on any mismatch.
# Bounded: about 10 s after the build, 60 s at most.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
caddy_pid=""
cleanup() {
	if [ -n "$caddy_pid" ]; then
		kill "$caddy_pid" 2>/dev/null || true
		wait "$caddy_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "caddy.sh: building cmd/caddy"
go build -o "$tmp/caddy" ./cmd/caddy
"$tmp/caddy" list-modules | grep -qx 'http.handlers.imgate' || { echo "caddy.sh: imgate module not in the build"; exit 1; }

for port in 8080 2019; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "caddy.sh: port $port is already in use; stop what listens there"
		exit 1
	fi
done

"$tmp/caddy" run --config Caddyfile.example >"$tmp/caddy.log" 2>&1 &
caddy_pid=$!
ready=""
for _ in $(seq 1 100); do
	if curl -fsS -o /dev/null --max-time 1 http://localhost:2019/config/ 2>/dev/null; then
		ready=1
		break
	fi
	if ! kill -0 "$caddy_pid" 2>/dev/null; then break; fi
	sleep 0.1
done
if [ -z "$ready" ]; then
	echo "caddy.sh: caddy did not become ready"
	cat "$tmp/caddy.log"
	exit 1
fi

base=http://127.0.0.1:8080
fail=0
# check <name> <url path+query> <body file or @-prefixed inline body> <expected reply>
check() {
	local name=$1 url=$2 body=$3 want=$4 got
	if [[ $body == @* ]]; then
		got=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' --data-binary "${body#@}" "$base$url")
	else
		got=$(curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' --data-binary "@$body" "$base$url")
	fi
	if [ "$got" == "$want" ]; then
		echo "ok   $name"
	else
		echo "FAIL $name"
		echo "     got  $got"
		echo "     want $want"
		fail=1
	fi
}

tencent_ok='{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}'
openim_ok='{"actionCode":0,"errCode":0,"errMsg":"","errDlt":"","nextCode":0}'

check tencent-before-apply-join \
	"/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup&contenttype=json&ClientIP=127.0.0.1&OptPlatform=iOS" \
	testdata/seeds/tencent-before-apply-join.json "$tencent_ok"
check tencent-before-invite-join \
	"/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeInviteJoinGroup&contenttype=json&ClientIP=127.0.0.1&OptPlatform=Android" \
	testdata/seeds/tencent-before-invite-join.json "$tencent_ok"
check openim-before-join-group \
	"/im/openim/callbackBeforeJoinGroupCommand?contenttype=json" \
	testdata/seeds/openim-before-join-group.json "$openim_ok"
check tencent-after-create-group \
	"/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackAfterCreateGroup&contenttype=json&ClientIP=127.0.0.1&OptPlatform=Web" \
	testdata/seeds/tencent-after-create-group.json "$tencent_ok"
check tencent-banned-applicant \
	"/im/tencent?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup" \
	'@{"CallbackCommand":"Group.CallbackBeforeApplyJoinGroup","GroupId":"g1","Requestor_Account":"mallory","ApplyMsg":"hi"}' \
	'{"ActionStatus":"OK","ErrorInfo":"you are banned","ErrorCode":1}'
check openim-spam-text \
	"/im/openim/callbackBeforeJoinGroupCommand" \
	'@{"callbackCommand":"callbackBeforeJoinGroupCommand","groupID":"g1","userID":"u7","reqMessage":"FREE MONEY here"}' \
	'{"actionCode":0,"errCode":5000,"errMsg":"","errDlt":"","nextCode":1}'
# Nothing listens on 127.0.0.1:9000 here (unless examples/upstream runs):
# the forward route answers with its fallback, in time.
if ! (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null; then
	check forward-fallback-upstream-down \
		"/im/forward/x?SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeApplyJoinGroup" \
		testdata/seeds/tencent-before-apply-join.json "$tencent_ok"
fi

if ! curl -fsS --max-time 5 http://localhost:2019/metrics | grep -q '^caddy_imgate_decisions_total{'; then
	echo "FAIL metrics: no caddy_imgate_decisions_total on the admin /metrics endpoint"
	fail=1
else
	echo "ok   metrics"
fi

if [ $fail -ne 0 ]; then
	echo "caddy.sh: FAILED; caddy log:"
	cat "$tmp/caddy.log"
	exit 1
fi
echo "caddy.sh: all replies as expected"
