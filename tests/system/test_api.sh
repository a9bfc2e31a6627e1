#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The HTTP API (daemon/api.c) end to end over its unix socket, against the fake manager of
# tests/helpers/apitest.c. No privileges, no kernel objects: runs in a private temp dir.
#   APITEST=path/to/apitest tests/system/test_api.sh
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
APITEST=${APITEST:-$ROOT/build/tests/helpers/apitest}
if [ ! -x "$APITEST" ]; then
	echo "SKIP: $APITEST is not built (make helpers, or set APITEST)"
	exit 77
fi
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

TMP=$(mktemp -d /tmp/berth-api.XXXXXX)
SOCK=$TMP/berth.sock
PIDS=()
SERVER=

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; }

# Poll a command for up to ~5 s.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# start_server: runs apitest on $SOCK, sets SERVER to its pid, waits for "ready".
start_server() {
	"$APITEST" "$SOCK" "$TMP" >"$TMP/server.out" 2>"$TMP/server.err" &
	SERVER=$!
	PIDS+=("$SERVER")
	wait_for grep -q ready "$TMP/server.out"
}

# req METHOD PATH [curl args...]: sets CODE, BODY and HDRS.
req() {
	local method=$1 path=$2
	shift 2
	CODE=$(curl -s --max-time 10 --unix-socket "$SOCK" -X "$method" -D "$TMP/hdrs" \
		-o "$TMP/body" -w '%{http_code}' "$@" "http://berth$path")
	BODY=$(cat "$TMP/body")
	HDRS=$(tr -d '\r' <"$TMP/hdrs")
}

# check NAME WANT_CODE [BODY_SUBSTRING]
check() {
	local name=$1 want=$2 sub=${3-}
	if [ "$CODE" != "$want" ]; then
		ko "$name: status $CODE, want $want (body: ${BODY:0:200})"
	elif [ -n "$sub" ] && [[ "$BODY" != *"$sub"* ]]; then
		ko "$name: body lacks '$sub' (body: ${BODY:0:200})"
	else
		ok "$name"
	fi
}

# t NAME WANT_CODE SUBSTRING METHOD PATH [curl args...]
t() {
	local name=$1 want=$2 sub=$3
	shift 3
	req "$@"
	check "$name" "$want" "$sub"
}

json() { printf '%s' "$1" | jq -r "$2" 2>/dev/null || echo "?"; }

start_server || { ko "apitest did not start: $(cat "$TMP/server.err")"; echo "$pass passed, $fail failed"; exit 1; }

# ---------------------------------------------------------------- system and socket
t "ping" 200 OK GET /_ping
[[ "$HDRS" == *"Api-Version: 1.41"* && "$HDRS" == *"Server: berth"* ]] && ok "ping headers" || ko "ping headers: $HDRS"
CODE=$(curl -s --unix-socket "$SOCK" -I -o /dev/null -w '%{http_code}' http://berth/_ping)
[ "$CODE" = 200 ] && ok "HEAD /_ping" || ko "HEAD /_ping: $CODE"
t "version" 200 '"ApiVersion":"1.41"' GET /version
[[ "$HDRS" == *"Content-Type: application/json"* ]] && ok "json content type" || ko "json content type: $HDRS"
t "version prefix" 200 OK GET /v1.41/_ping
t "other version prefix" 200 '"Os":"linux"' GET /v1.24/version
t "bare version prefix" 404 "page not found" GET /v1.41
t "bad version prefix" 404 "page not found" GET /v1.x/_ping
t "info" 200 '"Networks":0' GET /info
t "unknown path" 404 '"message":"page not found"' GET /nope
t "unknown nested path" 404 "page not found" GET /networks/a/b/c

mode=$(stat -c %a "$SOCK")
[ "$mode" = 600 ] && ok "socket mode 0600" || ko "socket mode is $mode"

if "$APITEST" "$SOCK" "$TMP" >/dev/null 2>"$TMP/second.err"; then
	ko "second instance on a live socket started"
elif grep -q "another berthd is listening on $SOCK" "$TMP/second.err"; then
	ok "second instance refused: $(cat "$TMP/second.err")"
else
	ko "second instance error: $(cat "$TMP/second.err")"
fi
[ -S "$SOCK" ] && t "first instance still serves" 200 OK GET /_ping || ko "socket vanished"

# ---------------------------------------------------------------- bodies
J=(-H 'Content-Type: application/json')
t "network create" 201 '"Id":"' POST /networks/create "${J[@]}" -d '{"Name":"n1"}'
N1=$(json "$BODY" .Id)
t "network create duplicate" 409 "already exists" POST /networks/create "${J[@]}" -d '{"Name":"n1"}'
t "network create no name" 400 "name is missing" POST /networks/create "${J[@]}" -d '{}'
t "network create 500" 500 "fake store failure" POST /networks/create "${J[@]}" -d '{"Name":"boom"}'
grep -q "fake store failure" "$TMP/server.err" && ok "5xx logged at warn" || ko "5xx not logged"
t "network create 501" 501 "not supported" POST /networks/create "${J[@]}" -d '{"Name":"x","Driver":"weird"}'
t "malformed JSON" 400 "malformed JSON body" POST /networks/create "${J[@]}" -d '{"Name":'
t "trailing garbage" 400 "malformed JSON body" POST /networks/create "${J[@]}" -d '{"Name":"z"} x'
t "non-object body" 400 "must be a JSON object" POST /networks/create "${J[@]}" -d '["n"]'
t "empty body" 400 "empty" POST /networks/create
head -c 2097152 /dev/zero | tr '\0' ' ' >"$TMP/big"
t "2 MiB body" 413 '"message":"request body exceeds 1 MiB"' POST /networks/create "${J[@]}" --data-binary @"$TMP/big"
t "2 MiB chunked body" 413 "exceeds 1 MiB" POST /networks/create -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big"
{ printf '{"Name":"padded"}'; head -c 1000000 /dev/zero | tr '\0' ' '; } >"$TMP/almost"
t "1 MB body accepted" 201 '"Id"' POST /networks/create "${J[@]}" --data-binary @"$TMP/almost"

# ---------------------------------------------------------------- networks
t "network list" 200 '"Name":"n1"' GET /networks
t "network list filter array" 200 '"Name":"padded"' GET /networks --get --data-urlencode 'filters={"name":["padd"]}'
[[ "$BODY" != *'"n1"'* ]] && ok "filter excludes others" || ko "filter did not filter: $BODY"
t "network list filter map" 200 '"Name":"n1"' GET /networks --get --data-urlencode 'filters={"name":{"n1":true}}'
[[ "$BODY" != *'"padded"'* ]] && ok "map filter excludes others" || ko "map filter: $BODY"
t "network list empty filters" 200 '"Name":"n1"' GET '/networks?filters=%7B%7D'
t "network list bad filters" 400 "filters" GET /networks --get --data-urlencode 'filters=[1'
t "network inspect by name" 200 "\"Id\":\"$N1\"" GET /networks/n1
t "network inspect by id prefix" 200 '"Name":"n1"' GET "/networks/${N1:0:12}"
t "network inspect missing" 404 "not found" GET /networks/missing
t "encoded slash in id" 400 "invalid path parameter" GET /networks/a%2Fb
t "empty id" 400 "invalid path parameter" POST /networks//connect
t "network wrong method" 405 "not allowed" PUT /networks/n1
[[ "$HDRS" == *"Allow: GET, DELETE"* ]] && ok "405 Allow header" || ko "405 Allow header: $HDRS"
t "network remove missing" 404 "not found" DELETE /networks/missing

# ---------------------------------------------------------------- containers
t "container create" 201 '"Warnings":[]' POST '/containers/create?name=web' "${J[@]}" -d '{"Image":"busybox"}'
WEB=$(json "$BODY" .Id)
t "container create duplicate" 409 "already in use" POST '/containers/create?name=web' "${J[@]}" -d '{}'
t "container create missing image" 404 "image nope" POST '/containers/create?name=x' "${J[@]}" -d '{"Image":"nope"}'
t "container create encoded name" 201 '"Id"' POST '/containers/create?name=my%2Dc' "${J[@]}" -d '{}'
t "container inspect decoded name" 200 '"Name":"/my-c"' GET /containers/my-c/json
t "container create no name" 201 '"Id"' POST /containers/create
t "container start" 204 "" POST /containers/web/start
[ -z "$BODY" ] && ok "204 has no body" || ko "204 body: $BODY"
t "container start again" 304 "" POST /containers/web/start
[ -z "$BODY" ] && ok "304 has no body" || ko "304 body: $BODY"
t "container start missing" 404 "no such container" POST /containers/ghost/start
t "connect" 200 "" POST /networks/n1/connect "${J[@]}" -d '{"Container":"web"}'
t "connect again" 409 "already connected" POST /networks/n1/connect "${J[@]}" -d '{"Container":"web"}'
t "connect missing container" 404 "no such container" POST /networks/n1/connect "${J[@]}" -d '{"Container":"ghost"}'
t "connect no body" 400 "empty" POST /networks/n1/connect
t "inspect shows endpoint" 200 "\"$WEB\"" GET /networks/n1
t "network remove busy" 409 "active endpoints" DELETE /networks/n1
t "prune keeps used" 200 '"NetworksDeleted":["padded"]' POST /networks/prune
t "disconnect" 200 "" POST /networks/n1/disconnect "${J[@]}" -d '{"Container":"web","Force":false}'
t "disconnect again" 409 "not connected" POST /networks/n1/disconnect "${J[@]}" -d '{"Container":"web"}'
t "container list running" 200 '"Name":"/web"' GET /containers/json
[[ "$BODY" != *'"/my-c"'* ]] && ok "list hides stopped" || ko "list shows stopped: $BODY"
t "container list all" 200 '"Name":"/my-c"' GET '/containers/json?all=1'
t "container list all=true" 200 '"Name":"/my-c"' GET '/containers/json?all=true'
t "container list bad bool" 400 "must be 1, true, 0 or false" GET '/containers/json?all=maybe'
t "stop t=5" 204 "" POST '/containers/web/stop?t=5'
t "stop timeout passed" 200 '"StopTimeout":5' GET /containers/web/json
t "stop again" 304 "" POST /containers/web/stop
t "stop bad t" 400 "query parameter t" POST '/containers/web/stop?t=abc'
t "kill not running" 409 "not running" POST /containers/web/kill
req POST /containers/web/start
t "kill SIGUSR1" 204 "" POST '/containers/web/kill?signal=SIGUSR1'
t "kill signal passed" 200 '"LastSignal":10' GET /containers/web/json
req POST /containers/web/start
t "kill numeric" 204 "" POST '/containers/web/kill?signal=15'
t "kill numeric passed" 200 '"LastSignal":15' GET /containers/web/json
req POST /containers/web/start
t "kill bad signal" 400 "invalid signal" POST '/containers/web/kill?signal=BOGUS'
t "kill default KILL" 204 "" POST /containers/web/kill
t "kill default passed" 200 '"ExitCode":137' GET /containers/web/json

req POST /containers/web/start
curl -s --max-time 20 --unix-socket "$SOCK" -X POST http://berth/containers/web/wait >"$TMP/wait.out" &
WAITER=$!
PIDS+=("$WAITER")
# The waiter is blocked in the manager until the stop below.
t "stop for wait" 204 "" POST /containers/web/stop
if wait_for grep -q '"StatusCode":143' "$TMP/wait.out"; then ok "wait returns exit code"; else ko "wait: $(cat "$TMP/wait.out")"; fi
t "wait on exited" 200 '"StatusCode":143' POST /containers/web/wait

req POST /containers/web/start
t "remove running" 409 "is running" DELETE /containers/web
t "remove force" 204 "" DELETE '/containers/web?force=1'
t "removed" 404 "no such container" GET /containers/web/json
t "network remove" 204 "" DELETE /networks/n1
t "network removed" 404 "not found" GET /networks/n1

# ---------------------------------------------------------------- logs
t "create logger" 201 '"Id"' POST '/containers/create?name=logger' "${J[@]}" -d '{}'
t "logs before start" 200 "" GET /containers/logger/logs
[ -z "$BODY" ] && ok "logs empty before start" || ko "logs before start: $BODY"
req POST /containers/logger/start
t "logs" 200 "started" GET '/containers/logger/logs?stdout=1&stderr=1'
[[ "$HDRS" == *"Content-Type: text/plain"* ]] && ok "logs are text/plain" || ko "logs headers: $HDRS"
t "logs missing container" 404 "no such container" GET /containers/ghost/logs
curl -s -N --max-time 20 --unix-socket "$SOCK" 'http://berth/containers/logger/logs?follow=1' >"$TMP/follow.out" &
FOLLOW=$!
PIDS+=("$FOLLOW")
wait_for grep -q started "$TMP/follow.out" && ok "follow sends existing log" || ko "follow: $(cat "$TMP/follow.out")"
echo "line one" >>"$TMP/logger.log"
wait_for grep -q "line one" "$TMP/follow.out" && ok "follow streams appended line" || ko "follow missed line one"
echo "line two" >>"$TMP/logger.log"
wait_for grep -q "line two" "$TMP/follow.out" && ok "follow streams second line" || ko "follow missed line two"
kill -0 "$FOLLOW" 2>/dev/null && ok "follow still open while running" || ko "follow ended early"
req POST /containers/logger/stop
if wait_for bash -c "! kill -0 $FOLLOW 2>/dev/null"; then
	wait "$FOLLOW"
	rc=$?
	[ "$rc" = 0 ] && ok "follow ends cleanly when the container stops" || ko "follow curl exit $rc"
else
	ko "follow did not end after stop"
fi
t "logs follow on stopped" 200 "line two" GET '/containers/logger/logs?follow=1'

# ---------------------------------------------------------------- restart: stale socket, cleanup
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null
[ -S "$SOCK" ] && ok "killed server leaves a stale socket" || ko "no stale socket left"
start_server && ok "restart replaces the stale socket" || ko "restart failed: $(cat "$TMP/server.err")"
t "new server answers" 200 OK GET /_ping
req POST '/containers/create?name=w2' -d '{}'
req POST /containers/w2/start
# a client that gives up on wait: the server must stay healthy
curl -s --max-time 0.3 --unix-socket "$SOCK" -X POST http://berth/containers/w2/wait >/dev/null
t "server fine after abandoned wait" 200 OK GET /_ping
# a wait still pending at shutdown must not block api_stop
curl -s --max-time 20 --unix-socket "$SOCK" -X POST http://berth/containers/w2/wait >"$TMP/wait2.out" &
PIDS+=("$!")
t "running w2" 200 '"Running":true' GET /containers/w2/json
kill -TERM "$SERVER"
if wait_for bash -c "! kill -0 $SERVER 2>/dev/null"; then
	wait "$SERVER"
	rc=$?
	[ "$rc" = 0 ] && ok "SIGTERM exits 0 despite a pending wait" || ko "SIGTERM exit $rc"
else
	ko "server did not exit on SIGTERM with a pending wait"
fi
[ ! -e "$SOCK" ] && ok "api_stop removes the socket" || ko "socket left after stop"
echo data >"$SOCK"
if "$APITEST" "$SOCK" "$TMP" >/dev/null 2>"$TMP/file.err"; then
	ko "started over a regular file"
else
	grep -q "is not a socket" "$TMP/file.err" && ok "refuses a non-socket path" || ko "non-socket: $(cat "$TMP/file.err")"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
