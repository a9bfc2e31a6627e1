#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Storm: 8 clients send random operations at once (network create/rm on IPv4 and dual-stack
# networks, run/rm, connect/disconnect with and without static addresses and aliases, published
# ports, stop/start) while berthd is killed -9 at 20 random moments and restarted. The
# operations are random; the assertions are not: no 5xx or crash-free failure (tests/system/
# storm.py classifies every answer), and after each restart and at the end the full
# bt_check_consistent (no address twice, IPAM = live endpoints in store and kernel, no orphan
# link, netns mount or bridge, nft elements = store, DNS answers = live endpoints).
# Replay a failing run with the seed it prints: BT_STORM_SEED=N bash tests/system/test_storm.sh
. "$(dirname "$0")/lib.sh"
mkdir -p "$BT_DIR"
printf 'options timeout:1\n' >"$BT_DIR/resolv.conf"   # no upstream: unknown names fail at once
export BERTH_RESOLV_CONF=$BT_DIR/resolv.conf
bt_setup

SEED=${BT_STORM_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
KILLS=${BT_STORM_KILLS:-20}
ROUND_OPS=${BT_STORM_ROUND_OPS:-34}   # each killed round: the kill comes after 17-34 of them
FINAL_OPS=${BT_STORM_FINAL_OPS:-80}   # at least; more if the killed rounds left MIN_OPS unmet
MIN_OPS=${BT_STORM_MIN_OPS:-500}
STORM=$TOP/tests/system/storm.py
LOG=$BT_DIR/storm.log
# Names to ask the embedded DNS besides the live containers: those of removed ones must not answer.
export BT_DNS_NAMES="c0 c1 c2 c3 c4 c5 c6 c7 a0 a1 a2 a3"
say "# storm seed $SEED (replay: BT_STORM_SEED=$SEED bash tests/system/test_storm.sh)"

say "# races the storm found, reproduced on purpose"
# rm -f waits (lock released) for the killed process to exit; a start slipping into that window
# used to restart the container, and rm then waited 30 s for the new process: 500 "did not die".
start_hammer() {
	local end=$(( $(bt_now_ms) + 1200 ))
	while [ "$(bt_now_ms)" -lt $end ]; do
		curl -s -o /dev/null -X POST --unix-socket "$BT_DIR/berth.sock" http://x/containers/r1/start
	done
}
rm_under_starts() {
	local i h1 h2 bad=0
	for i in 1 2 3 4; do
		berth run -d --name r1 --network race busybox sleep 1d >/dev/null || return 1
		start_hammer & h1=$!
		start_hammer & h2=$!
		timeout 15 "$BERTH" rm -f r1 || bad=1
		wait $h1 $h2
		berth rm -f r1 >/dev/null 2>&1
	done
	return $bad
}
check "create network race" berth network create --subnet 10.98.0.0/24 race
check "rm -f succeeds while other clients keep starting the container" rm_under_starts
check "remove network race" berth network rm race

# Disconnecting a running container from the network its published port goes to removed the
# port from the kernel but not from the container's record: inspect still showed it, and a
# restart published it again towards an address the container no longer held.
ports_of() { berth inspect "$1" | jq -c '.[0].NetworkSettings.Ports'; }
check "create networks pa, pb" bash -c "berth network create --subnet 10.98.1.0/24 pa >/dev/null && berth network create --subnet 10.98.2.0/24 pb >/dev/null"
check "run p1 on pa and pb publishing 8099" berth run -d --name p1 --network pa --network pb -p 8099:80 busybox sleep 1d
check "disconnect p1 from pa (its ports' target)" berth network disconnect pa p1
check "inspect no longer shows the port" test "$(ports_of p1)" = '{"80/tcp":null}'
check "record (store) and kernel agree" bt_nft_consistent
check "stop berthd" bt_term_berthd
check "berthd starts" bt_start_berthd
not_republished() { bt_nft_consistent && ! inhost nft list map inet berth pubany4 | grep -q 8099; }
check "after a restart the port is not published again" not_republished
check "p1 publishes 8099 again after a restart of the container" bash -c "berth stop -t 0 p1 >/dev/null && berth start p1 >/dev/null && inhost nft list map inet berth pubany4 | grep -q \"8099 : \$(ctr_ip p1 pb) \""
# The same record left stale by a kill -9 between the kernel update and the record's (made here
# by editing the store of a stopped berthd): start-up drops the port instead of publishing it.
check "stop berthd" bt_term_berthd
check "p1's record names a port towards 10.98.1.99 (not its address)" sqlite3 "$BT_DIR/root/berth.db" \
	"update containers set extra = json_set(extra, '\$.BerthPorts[1]', json('{\"Family\":4,\"HostIp\":\"\",\"HostPort\":8098,\"Proto\":\"tcp\",\"ContainerPort\":80,\"Target\":\"10.98.1.99\"}')) where name = 'p1'"
check "berthd starts" bt_start_berthd
check "the stale port is neither published nor recorded" bash -c "! inhost nft list map inet berth pubany4 | grep -q 8098 && [ \"\$(berth inspect p1 | jq -c '.[0].NetworkSettings.Ports')\" = '{\"80/tcp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8099\"}]}' ]"
check "record and kernel agree" bt_nft_consistent
check "remove p1, pa, pb" bash -c "berth rm -f p1 >/dev/null && berth network rm pa pb >/dev/null"

# A created container whose networks were all disconnected before its start cannot publish its
# ports: that is the client's conflict (4xx), it was answered 500.
check "create q1 on network q publishing 8097" bash -c "berth network create --subnet 10.98.3.0/24 q >/dev/null && berth create --name q1 --network q -p 8097:80 busybox sleep 1d >/dev/null"
check "disconnect q1 from q before its start" berth network disconnect q q1
start_refused() { [ "$(bt_http POST /containers/q1/start)" = 400 ] && grep -q 'has no address to publish' "$BT_DIR/http.out"; }
check "starting q1 is refused with 400, saying why" start_refused
check "remove q1 and q" bash -c "berth rm -f q1 >/dev/null && berth network rm q >/dev/null"

completed=0 unexpected=0 kills=0 conflicts=0 interrupted=0
# storm_round ROUND OPS [kill]: one round of the driver; adds up its counts.
storm_round() {
	local args=("$BT_DIR/berth.sock" "$SEED" "$1" "$2" --log "$LOG") out rc
	[ "${3:-}" = kill ] && args+=(--kill-pid "$(bt_berthd_pid)")
	out=$(python3 "$STORM" "${args[@]}"); rc=$?
	say "  round $1: $out"
	completed=$((completed + $(echo "$out" | jq .completed)))
	unexpected=$((unexpected + $(echo "$out" | jq .unexpected)))
	conflicts=$((conflicts + $(echo "$out" | jq .expected)))
	interrupted=$((interrupted + $(echo "$out" | jq .interrupted)))
	if [ $rc != 0 ]; then
		grep -E "^r$1 .* unexpected " "$LOG" | head -5 | sed 's/^/       | /'
	fi
	return $rc
}

reap_killed() {
	bt_wait_berthd_exit 20 && [ "${BT_BERTHD_RC:-}" = 137 ] && kills=$((kills + 1))
}

for r in $(seq 1 "$KILLS"); do
	check "round $r: every answer is a success or an expected conflict" storm_round "$r" "$ROUND_OPS" kill
	check "round $r: berthd died of the kill -9" reap_killed
	check "round $r: berthd restarts" bt_start_berthd
	bt_check_consistent "after kill $r"
done

final=$((MIN_OPS - completed > FINAL_OPS ? MIN_OPS - completed : FINAL_OPS))
check "final round ($final operations, no kill): every answer is a success or an expected conflict" \
	storm_round $((KILLS + 1)) "$final"
bt_check_consistent "after the storm"
check "$KILLS kills -9 happened" test "$kills" -eq "$KILLS"
check "at least $MIN_OPS operations completed ($completed)" test "$completed" -ge "$MIN_OPS"
check "no unexpected answer in all ($unexpected)" test "$unexpected" -eq 0

say "# clean up"
check "every container can be removed" bash -c 'for c in $(berth ps -aq); do berth rm -f $c >/dev/null || exit 1; done'
check "every network can be removed" berth network prune -f
bt_check_consistent "after removing everything"
check "no berth interface but the predefined bridge is left" \
	bash -c "! bt_host_links | grep -E '^(bv|berth)' | grep -v '^berth0 '"
say "storm: $completed operations completed ($conflicts expected conflicts among their requests), $interrupted interrupted by $kills kills -9, seed $SEED"
bt_summary
