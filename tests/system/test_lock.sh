#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Nothing slow holds the manager lock, and nothing holds up SIGTERM. While the busybox image is
# built, while a container's files are removed (BERTH_DELAY_AT makes both slow) and while a
# `stop -t 3600` waits for a container that ignores SIGTERM, another client's `network ls`
# answers within 100 ms. Two starts racing on a missing image build it once, and berthd's reaper
# leaves the build's children alone (they are reaped late on purpose). SIGTERM stops
# berthd within 2 s although a stop is pending; the container keeps running and is adopted by
# the next berthd, which also finishes a removal the exit interrupted (or a crash prevented).
. "$(dirname "$0")/lib.sh"
export BERTH_DELAY_AT=image-build:3000,image-spawn-wait:300,ctr-rm:3000
bt_setup

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# api_ms PATH: milliseconds berthd takes to answer GET PATH, as a client measures it on a
# connection opened (and used once) beforehand: the time is berthd's, not a process start's,
# which alone exceeds 100 ms on a loaded machine.
api_ms() {
	python3 - "$BT_DIR/berth.sock" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
def get(path):
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    lens = [l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    while len(body) < int(lens[0]):
        body += s.recv(65536)
    if not head.startswith(b"HTTP/1.1 200"):
        sys.exit(head.split(b"\r\n")[0].decode())
get("/_ping")
t = time.monotonic()
get(sys.argv[2])
print(int((time.monotonic() - t) * 1000))
PY
}
# quick LABEL: another client's `network ls` (GET /networks) is answered within 100 ms.
quick() {
	local ms
	if ! ms=$(api_ms /networks); then ko "$1: GET /networks fails"; return; fi
	if [ "$ms" -lt 100 ]; then ok "$1: network ls is answered in $ms ms"
	else ko "$1: network ls took $ms ms (limit 100)"; fi
}
# delays POINT: how many times berthd went through the injected delay POINT.
delays() { grep -c "delay injected at $1" "$BT_DIR/berthd.log"; }
ctr_id() { berth inspect "$1" | jq -r '.[0].Id'; }
running() { [ "$(berth inspect "$1" | jq -r '.[0].State.Status')" = running ]; }
export -f delays running

say "# the busybox image is built outside the lock, once"
berth run -d --name i1 busybox sleep 1d >"$BT_DIR/i1.out" 2>&1 &
p1=$!
berth run -d --name i2 busybox sleep 1d >"$BT_DIR/i2.out" 2>&1 &
p2=$!
check "the image build begins" wait_for 10 bash -c '[ "$(delays image-build)" -ge 1 ]'
quick "during the image build"
check "... which was still going on" test ! -e "$BT_DIR/root/images/busybox"
check "run i1 succeeds" wait $p1
check "run i2 succeeds" wait $p2
check "two racing starts built the image once" test "$(delays image-build)" = 1
check "i1 and i2 run" bash -c "running i1 && running i2"

say "# a container's files are removed outside the lock"
check "run r, which writes into its layer" berth run -d --name r busybox sh -c 'echo data >/data'
check "r exits" wait_for 10 bash -c "! running r"
r_id=$(ctr_id r)
check "r's layer holds the file" test -f "$BT_DIR/root/containers/$r_id/upper/data"
berth rm r >"$BT_DIR/rm.out" 2>&1 &
rmpid=$!
check "the removal begins" wait_for 10 bash -c '[ "$(delays ctr-rm)" -ge 1 ]'
quick "during a removal"
check "... which was still going on" test -e "$BT_DIR/root/trash/$r_id"
check "rm r succeeds" wait $rmpid
check "r is gone from ps -a" bash -c "! berth ps -aq --no-trunc | grep -q $r_id"
check "r's files are gone from containers/" test ! -e "$BT_DIR/root/containers/$r_id"
check "r's files are deleted in the background" wait_for 10 test ! -e "$BT_DIR/root/trash/$r_id"

say "# auto-removal (run -d --rm) happens outside the lock too"
ar_id=$(berth run -d --rm --name ar busybox true)
check "run ar (--rm), which exits at once" test -n "$ar_id"
check "ar's removal begins" wait_for 10 bash -c '[ "$(delays ctr-rm)" -ge 2 ]'
quick "during an auto-removal"
check "... which was still going on" test -e "$BT_DIR/root/trash/$ar_id"
check "ar is gone" bash -c "! berth ps -a --format json | jq -e '.[] | select(.Names[0] | test(\"ar\$\"))'"

say "# stop -t 3600 of a container that ignores SIGTERM"
check "run stubborn, which ignores SIGTERM" \
	berth run -d --name stubborn busybox sh -c 'trap "" TERM; while :; do sleep 1; done'
check "create leftover" berth run -d --name leftover busybox true
check "leftover exits" wait_for 10 bash -c "! running leftover"
leftover_id=$(ctr_id leftover)
pid=$(ctr_pid stubborn)
berth stop -t 3600 stubborn >"$BT_DIR/stop.out" 2>&1 &
stoppid=$!
check "the stop is pending" wait_for 10 grep -q "stopping container stubborn" "$BT_DIR/berthd.log"
quick "while a stop -t 3600 is pending"
check "... which still waits" kill -0 $stoppid
n=$(delays ctr-rm)
check "rm leftover returns while its files are still being deleted" berth rm leftover
check "leftover's removal begins" wait_for 10 bash -c "[ \$(delays ctr-rm) -gt $n ]"

t0=$(now_ms)
kill -TERM "$(bt_berthd_pid)"
check "berthd exits on SIGTERM" bt_wait_berthd_exit 10
ms=$(($(now_ms) - t0))
if [ "$ms" -lt 2000 ]; then ok "SIGTERM stopped berthd in $ms ms (< 2000)"; else ko "SIGTERM took $ms ms to stop berthd (limit 2000)"; fi
check "... with status 0" test "${BT_BERTHD_RC:-x}" = 0
check "the pending stop ends" wait_for 5 bash -c "! kill -0 $stoppid"
wait $stoppid
check "... with an error" test $? -ne 0
check "stubborn keeps running without berthd" kill -0 "$pid"
check "leftover's files wait in the trash" test -e "$BT_DIR/root/trash/$leftover_id"

say "# the next berthd adopts stubborn and finishes the removal"
check "berthd starts again" bt_start_berthd
check "berth ps shows stubborn running" \
	bash -c "berth ps --format json | jq -e '.[] | select(.Names[0] | test(\"stubborn\")) | .State == \"running\"'"
check "... with the same process" test "$(ctr_pid stubborn)" = "$pid"
check "stubborn was adopted" grep -q "adopted running container stubborn" "$BT_DIR/berthd.log"
check "leftover's files are deleted" wait_for 10 test ! -e "$BT_DIR/root/trash/$leftover_id"
check "rm -f stubborn" berth rm -f stubborn
check "stubborn's process is gone" wait_for 10 bash -c "! kill -0 $pid"

say "# a crash between a removal's commit and the move of its files to the trash"
check "run gone" berth run -d --name gone busybox true
check "gone exits" wait_for 10 bash -c "! running gone"
gone_id=$(ctr_id gone)
check "berthd stops" bt_term_berthd
BERTH_CRASH_AT=ctr-rm:after-store bt_start_berthd || ko "the armed berthd starts"
check_fail "rm gone fails as berthd dies" berth rm gone
check "berthd died" bt_wait_berthd_exit 20
check "... of the injected crash" test "${BT_BERTHD_RC:-x}" = 137
check "gone's files are left in containers/" test -e "$BT_DIR/root/containers/$gone_id"
check "berthd starts again" bt_start_berthd
check "gone is removed" bash -c "! berth ps -aq --no-trunc | grep -q $gone_id"
check "the next start deletes gone's files" \
	wait_for 10 test ! -e "$BT_DIR/root/containers/$gone_id" -a ! -e "$BT_DIR/root/trash/$gone_id"
bt_summary
