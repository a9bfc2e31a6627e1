#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A container's exit wakes the requests waiting for it (daemon/mgr_notify.c): a followed log, a
# /wait (every condition), a Docker client's SIGKILL and an attach end as soon as the exit is
# handled. Their poll ticks are only a safety net of 5 s, so each of these ending within 3 s of
# the exit shows the wake-up (berth does it in milliseconds; a generous bound, not a timing).
# SIGTERM of berthd ends pending waits at once too.
. "$(dirname "$0")/lib.sh"
bt_setup

LIMIT_MS=3000
now_ms() { bt_now_ms; }
# within LABEL T0: ok when less than LIMIT_MS passed since T0.
within() {
	local ms=$(($(now_ms) - $2))
	if [ "$ms" -lt $LIMIT_MS ]; then ok "$1 ($ms ms)"; else ko "$1 took $ms ms (limit $LIMIT_MS)"; fi
}
running() { [ "$("$BERTH" inspect "$1" | jq -r '.[0].State.Status')" = running ]; }
export -f running

check "network n" berth network create --subnet 10.231.0.0/24 --ipv6 --subnet fd00:231::/64 n

say "# run --rm: the followed log and the wait end at the exit"
for i in 1 2 3; do
	t0=$(now_ms)
	out=$(berth run --rm --network n busybox sh -c "echo hello $i")
	within "run --rm #$i printed and ended" "$t0"
	check "... with the container's output" test "$out" = "hello $i"
done
t0=$(now_ms)
berth run --rm --network n busybox sh -c 'exit 7'
rc=$?
within "run --rm of an exit 7 ended" "$t0"
check "... with code 7" test "$rc" = 7

say "# wait, logs -f and attach of a container stopped by another client"
check "run w" berth run -d --name w --network n busybox sh -c 'echo up; exec sleep 1d'
check "w is up" wait_for 10 bash -c '[ "$(berth logs w)" = up ]'
berth wait w >"$BT_DIR/wait.out" 2>&1 &
wpid=$!
berth logs -f w >"$BT_DIR/logs.out" 2>&1 &
lpid=$!
curl -s -X POST --unix-socket "$BT_DIR/berth.sock" \
	"http://x/containers/w/wait?condition=next-exit" >"$BT_DIR/next.out" 2>&1 &
npid=$!
curl -s -X POST --unix-socket "$BT_DIR/berth.sock" \
	"http://x/containers/w/wait?condition=removed" >"$BT_DIR/removed.out" 2>&1 &
rpid=$!
# each waiting request registers an exit watch (berthd logs it at debug level)
watches() { grep -c "exit watch on ${1:0:12}" "$BT_DIR/berthd.log"; }
export -f watches
w_id=$("$BERTH" inspect w | jq -r '.[0].Id')
check "the four requests wait" wait_for 10 bash -c "[ \$(watches $w_id) -ge 4 ]"
check "the followed log has started" wait_for 10 grep -q up "$BT_DIR/logs.out"
t0=$(now_ms)
check "kill w" berth kill w
check "the wait ends" wait_for 10 bash -c "! kill -0 $wpid"
within "wait of w ended after the kill" "$t0"
check "... with 137" grep -qx 137 "$BT_DIR/wait.out"
check "logs -f ends" wait_for 10 bash -c "! kill -0 $lpid"
within "logs -f of w ended after the kill" "$t0"
check "next-exit ends" wait_for 10 bash -c "! kill -0 $npid"
within "wait?condition=next-exit ended after the kill" "$t0"
check "... with StatusCode 137" grep -q '"StatusCode":137' "$BT_DIR/next.out"
check "condition=removed still waits" kill -0 $rpid
t0=$(now_ms)
check "rm w" berth rm w
check "condition=removed ends" wait_for 10 bash -c "! kill -0 $rpid"
within "wait?condition=removed ended after the removal" "$t0"

say "# a Docker client's SIGKILL returns once the container has stopped"
check "run k" berth run -d --name k --network n busybox sleep 1d
t0=$(now_ms)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$BT_DIR/berth.sock" \
	"http://x/v1.41/containers/k/kill?signal=KILL")
within "docker kill -s KILL k returned" "$t0"
check "... with 204" test "$code" = 204
check "... and k has stopped when it returns" bash -c '! running k'

say "# an attach (the output relayed from the log) ends at the exit"
check "create a" berth create --name a --network n busybox sh -c 'echo attached; exec sleep 1d'
python3 - "$BT_DIR/berth.sock" >"$BT_DIR/attach.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"POST /v1.41/containers/a/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
          b"Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
sys.stdout.write("attached" if b"attached" in data else "no output")
PY
apid=$!
a_id=$("$BERTH" inspect a | jq -r '.[0].Id')
check "the attach waits" wait_for 10 bash -c "[ \$(watches $a_id) -ge 1 ]"
check "start a" berth start a
check "a is up" wait_for 10 bash -c '[ "$(berth logs a)" = attached ]'
t0=$(now_ms)
check "kill a" berth kill a
check "the attach ends" wait_for 10 bash -c "! kill -0 $apid"
within "the attach of a ended after the kill" "$t0"
check "... having relayed the output" grep -q attached "$BT_DIR/attach.out"

say "# exited shims are reaped (waitpid runs after a SIGCHLD only)"
bpid=$(bt_berthd_pid)
check "run z" berth run -d --name z --network n busybox sleep 1d
check "berthd's children are its containers' shims (z's)" bash -c "ps -o stat=,comm= --ppid $bpid | grep -q '^S.* berth-shim'"
check "berthd has no zombie child after the containers above exited" \
	wait_for 10 bash -c "! ps -o stat= --ppid $bpid | grep -q '^Z'"

say "# SIGTERM ends pending waits at once"
check "run s" berth run -d --name s --network n busybox sleep 1d
berth wait s >"$BT_DIR/swait.out" 2>&1 &
spid=$!
berth logs -f s >/dev/null 2>&1 &
slpid=$!
s_id=$("$BERTH" inspect s | jq -r '.[0].Id')
check "the wait and the log on s are pending" wait_for 10 bash -c "[ \$(watches $s_id) -ge 2 ]"
t0=$(now_ms)
kill -TERM "$(bt_berthd_pid)"
check "berthd exits on SIGTERM" bt_wait_berthd_exit 10
within "berthd stopped with a wait and a followed log pending" "$t0"
check "the wait ends" wait_for 5 bash -c "! kill -0 $spid"
check "the followed log ends" wait_for 5 bash -c "! kill -0 $slpid"
check "berthd starts again" bt_start_berthd
check "s was adopted and still runs" running s
bt_summary
