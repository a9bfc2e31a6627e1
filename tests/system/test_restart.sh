#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berthd restarts: containers keep running (and keep their networking) while berthd is stopped
# or killed; berthd re-adopts them; state survives; containers that died meanwhile are cleaned
# up; one berthd per --root; the socket is private and removed on a clean exit.
. "$(dirname "$0")/lib.sh"
bt_setup

# Host view of berth's interfaces with their ifindex (re-created interfaces get new indexes).
host_links() { wait_for 10 bt_reaped; inhost ip -o link | awk '{sub(/@.*/, "", $2); print $1, $2}' | grep -E ' (bv|berth)'; }
ctr_addrs() { berth exec "$1" ip addr | awk '/^[0-9]+:/ {print $2} /inet/ {print $1, $2}'; }
# world_state [SKIP_ID SKIP_VETH]: what clients and the kernel show, without one container.
# (pool usage, Berth.Subnets, counts the skipped container's address too: left out)
world_state() {
	local skip=${1:-none} veth=${2:-none} c n
	berth network ls --format json |
		jq -S --arg s "$skip" 'sort_by(.Name) | map(.Containers |= with_entries(select(.key != $s)) | del(.Berth.Subnets))'
	berth ps -a --format json |
		jq -S --arg s "$skip" 'map(select(.Id != $s) | del(.Status)) | sort_by(.Names[0])'
	for c in $(berth ps -aq --no-trunc | grep -v "$skip" | sort); do berth inspect "$c" | jq -S .; done
	for n in n4 dual; do
		berth network inspect "$n" | jq -S --arg s "$skip" 'map(.Containers |= with_entries(select(.key != $s)) | del(.Berth.Subnets))'
	done
	echo "## host links"; host_links | grep -v "$veth"
	echo "## container a"; ctr_addrs a
	echo "## container b"; ctr_addrs b
}
# ping_ok FILE: the ping ended with every echo answered (the one in flight when it was
# interrupted may be unanswered) and icmp_seq has no gap.
ping_ok() {
	local tx rx seqs n
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1")
	rx=$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' "$1")
	seqs=$(sed -n 's/.*seq=\([0-9]*\).*/\1/p' "$1")
	n=$(echo "$seqs" | wc -l)
	say "transmitted $tx, received $rx, replies $n"
	[ -n "$tx" ] && [ -n "$rx" ] && [ "$rx" -ge 10 ] && [ "$rx" -ge $((tx - 1)) ] &&
		[ "$seqs" = "$(seq 0 $((n - 1)))" ]
}

say "# setup"
check "socket is a socket of mode 0600 owned by root:root" \
	bash -c "[ -S '$BT_DIR/berth.sock' ] && [ \"\$(stat -c '%a %U %G' '$BT_DIR/berth.sock')\" = '600 root root' ]"
check "create n4" berth network create --subnet 10.50.0.0/24 n4
check "create dual" berth network create --ipv6 --subnet 10.51.0.0/24 --subnet fd00:51::/64 \
	--label keep=yes dual
check "run a on n4 and dual" berth run -d --name a --network n4 --network dual busybox sleep 1d
check "run b on dual" berth run -d --name b --network dual busybox sleep 1d
check "run d on n4 with a static address (dies while berthd is away)" \
	berth run -d --name d --network n4 --ip 10.50.0.50 busybox \
	sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done'
check "create s (never started) on dual" berth create --name s --network dual busybox sleep 1d
check "run x" berth run -d --name x --network n4 busybox sleep 1d
x_ip=$(ctr_ip x n4)
check "stop x: its address is freed" berth stop -t 1 x
a6=$(ctr_ip6 a dual)
check "a has an IPv6 address on dual" test -n "$a6" -a "$a6" != null
bt_check_consistent "before restarts"
pid_a=$(ctr_pid a); pid_b=$(ctr_pid b); pid_d=$(ctr_pid d)
d_ns=$(berth inspect d | jq -r '.[0].NetworkSettings.SandboxKey')
d_veth=$(berth inspect d | jq -r '.[0].NetworkSettings.Networks.n4.Berth.HostInterface')
d_ep=$(berth inspect d | jq -r '.[0].NetworkSettings.Networks.n4.EndpointID')
d_id=$(berth inspect d | jq -r '.[0].Id')
world_state "$d_id" "$d_veth" >"$BT_DIR/state0" 2>&1

# b pings a over IPv6 through both restarts; it is interrupted (SIGINT: summary) afterwards.
berth exec b ping -i 0.05 "$a6" >"$BT_DIR/ping.out" 2>&1 &
pingpid=$!
check "the ping loop is answered before the restarts" \
	wait_for 10 bash -c "grep -q 'seq=3 ' '$BT_DIR/ping.out'"

say "# SIGTERM"
check "berthd exits on SIGTERM" bt_term_berthd
check "... with status 0" test "${BT_BERTHD_RC:-x}" = 0
check "... and removes its socket" test ! -e "$BT_DIR/berth.sock"
check "a is still running without berthd" kill -0 "$pid_a"
check "b is still running without berthd" kill -0 "$pid_b"
check "a's veths are still in the host" bash -c "[ \$(inhost ip -br link | grep -c '^bv') -ge 4 ]"
check "d dies while berthd is away" kill -TERM "$pid_d"
check "d is gone" wait_for 10 bash -c "! kill -0 $pid_d"
check "berthd starts again" bt_start_berthd
check "the ping loop is still running" kill -0 "$pingpid"

say "# adopted after SIGTERM"
check "a is running with the same pid" test "$(ctr_pid a)" = "$pid_a"
check "b is running with the same pid" test "$(ctr_pid b)" = "$pid_b"
check "a's state is running" bash -c "[ \$(berth inspect a | jq -r .[0].State.Status) = running ]"
check "d is marked exited" bash -c "[ \$(berth inspect d | jq -r .[0].State.Status) = exited ]"
check "d's exit code 7 is recorded" bash -c "[ \$(berth inspect d | jq -r .[0].State.ExitCode) = 7 ]"
check "d's host veth is gone" bash -c "! inhost ip link show $d_veth"
check "d's netns file is gone" test ! -e "$d_ns"
check "d's address is freed in the store" \
	bash -c "[ -z \"\$(sqlite3 '$BT_DIR/root/berth.db' \"select * from allocations where address = '10.50.0.50' or owner = '$d_ep'\")\" ]"
check "d is still attached to n4 (inactive) for its next start" \
	bash -c "[ \$(berth inspect d | jq -r '.[0].NetworkSettings.Networks.n4.Berth.State') = inactive ]"
bt_check_consistent "after SIGTERM restart"
world_state "$d_id" "$d_veth" >"$BT_DIR/state1" 2>&1
check "ls/inspect, host interfaces and container addresses identical (but for d)" \
	diff "$BT_DIR/state0" "$BT_DIR/state1"
check "x's old address is free after the restart: y takes it" \
	berth run -d --name y --network n4 --ip "$x_ip" busybox sleep 1d
check "disconnect the stopped x from n4" berth network disconnect n4 x
check_err "... does not free y's address: a static --ip on it is refused" "in use" \
	berth run -d --name z --network n4 --ip "$x_ip" busybox sleep 1d
check "remove y" berth rm -f y
check "reconnect x to n4 (stopped)" berth network connect n4 x
check "a new container takes d's address with --ip" \
	berth run -d --name d2 --network n4 --ip 10.50.0.50 busybox sleep 1d
check "d2 answers on d's old address" in_ctr a ping -c1 -W2 10.50.0.50
check "remove d2" berth rm -f d2
check "d can be started again (its old address is free)" berth start d
check "d is running on n4" bash -c "[ \$(berth inspect d | jq -r .[0].State.Status) = running ] && berth exec a ping -c1 -W2 \$(berth inspect d | jq -r .[0].NetworkSettings.Networks.n4.IPAddress)"
check "stop d again" berth stop -t 1 d
bt_check_consistent "after restarting d"
world_state >"$BT_DIR/state1" 2>&1

say "# kill -9"
check "berthd dies on SIGKILL" bt_kill_berthd
check "a is still running after berthd's SIGKILL" kill -0 "$pid_a"
check "berthd starts after SIGKILL (stale socket and lock)" bt_start_berthd
check "the ping loop is still running after kill -9" kill -0 "$pingpid"
world_state >"$BT_DIR/state2" 2>&1
check "ls/inspect, host interfaces and container addresses identical across kill -9" \
	diff "$BT_DIR/state1" "$BT_DIR/state2"
check "a is running with the same pid after kill -9" test "$(ctr_pid a)" = "$pid_a"
bt_check_consistent "after kill -9 restart"
check "store survives kill -9 intact (integrity check)" \
	bash -c "[ \"\$(sqlite3 '$BT_DIR/root/berth.db' 'pragma integrity_check')\" = ok ]"

say "# networking after the restarts"
check "interrupt the ping loop" berth exec b killall -INT ping
check "the ping loop ends" wait_for 10 bash -c "! kill -0 $pingpid"
wait "$pingpid" 2>/dev/null
check "no echo was lost across both restarts" ping_ok "$BT_DIR/ping.out"
a_ip=$(ctr_ip a dual)
check "b pings a over IPv4 on dual" in_ctr b ping -c1 -W2 "$a_ip"
check "live connect still works after restart" berth network connect n4 b
check "b reaches a over n4" in_ctr b ping -c1 -W2 "$(ctr_ip a n4)"
check "live disconnect still works after restart" berth network disconnect n4 b
check "a container exiting now is noticed (exit watch re-armed)" \
	bash -c "kill -KILL $pid_a; wait_for 10 bash -c '[ \$(berth inspect a | jq -r .[0].State.Status) = exited ]'"
bt_check_consistent "after a's exit"

say "# one berthd per root"
check "a second berthd on the same --root refuses to start" \
	bash -c "! timeout 20 nsenter --net=/run/netns/$BT_NS '$BERTHD' --root '$BT_DIR/root' --run '$BT_DIR/run2' --socket '$BT_DIR/second.sock' >'$BT_DIR/second.out' 2>&1"
check "... saying why, with the other's pid" \
	grep -qE "another berthd \(pid $(bt_berthd_pid)\) is already using root" "$BT_DIR/second.out"
check "a second berthd with the same socket refuses too" \
	bash -c "! timeout 20 nsenter --net=/run/netns/$BT_NS '$BERTHD' --root '$BT_DIR/root' --run '$BT_DIR/run' --socket '$BT_DIR/berth.sock' >'$BT_DIR/second.out' 2>&1"
check "... and says why" grep -q "already using root" "$BT_DIR/second.out"
check "the first berthd still answers on its socket" berth network ls
check "the first berthd still works (run)" berth run -d --name late --network dual busybox sleep 1d
# b still holds a's address with a's MAC in its neighbour cache: handing it out again first (the
# allocation cursor used to start over after a restart) left late unreachable from b for seconds
# whenever its arp_notify announcement was lost (the bridge port may not forward yet then).
check "late does not get a's address freed after the restarts (allocation goes on)" \
	test "$(ctr_ip late dual)" != "$a_ip"
late4=$(ctr_ip late dual)
# bounded poll: one echo right after the start may meet a machine too busy to answer in 2 s
check "b reaches late" wait_for 10 in_ctr b ping -c1 -W1 "$late4"
check "the socket is still mode 0600 root:root" \
	bash -c "[ \"\$(stat -c '%a %U %G' '$BT_DIR/berth.sock')\" = '600 root root' ]"
bt_check_consistent "at the end"
bt_summary
