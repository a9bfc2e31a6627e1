#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# 4,000 containers on one /16 bridge network (issue 13): past the kernel's 1,023 ports per bridge
# the network spills over extra bridges (daemon/mgr_spill.c; tests/system/test_spill.sh has the
# details with small bridges). Containers (busybox sleep) are started through the API; any two,
# on the same or different bridges, reach each other by name; the firewall still isolates another
# network; berthd's RSS stays <= 40 MiB; removing them all and the network leaves nothing.
# `make scale`; SCALE_N=... for another count (default 4000).
. "$(dirname "$0")/../system/lib.sh"
N=${SCALE_N:-4000}
RSS_MAX_KIB=$((40 * 1024))
bt_setup

bridges() { berth network inspect "$1" | jq -r '.[0].Berth.Bridges // [.[0].Berth.Bridge] | .[]'; }
bridge_of() { berth inspect "$1" | jq -r --arg n "$2" '.[0].NetworkSettings.Networks[$n].Berth.Bridge'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$BT_BERTHD_PID/status"; }
export -f bridges bridge_of

# run_many FIRST LAST: containers s<FIRST>..s<LAST> on network big, two requests at a time
# (the machine has 2 cores). Fails on the first container that does not start.
run_many() {
	seq "$1" "$2" | xargs -P2 -I{} sh -c \
		'"$BERTH" run -d --name s{} --network big busybox sleep 1d >/dev/null ||
		 { echo "s{} failed" >&2; exit 255; }'
}
export -f run_many

say "# $N containers on one network"
t0=$SECONDS
check "network big (a /16)" berth network create --subnet 10.200.0.0/16 big
check "network other" berth network create --subnet 10.201.0.0/24 other
check "run $N containers on big" run_many 1 "$N"
say "  (started in $((SECONDS - t0)) s)"
# berthd's memory with N endpoints, before any request lists them all (a reply of thousands of
# containers leaves freed heap behind: measured again after the listings below)
rss=$(rss_kib)
say "  berthd RSS with $N endpoints: $((rss / 1024)) MiB ($rss KiB)"
check "berthd RSS <= 40 MiB with $N endpoints" test "$rss" -le "$RSS_MAX_KIB"
# not_running: the containers that are not running, with their exit codes (none expected)
not_running() {
	berth ps -a --format json | jq -r '.[] | select(.State != "running") |
		"\(.Names) \(.Status)"' | head -20
}
export -f not_running
check "all $N run" bash -c "[ -z \"\$(not_running | tee /dev/stderr)\" ] && [ \$(berth ps -q | wc -l) = $N ]"
nbr=$(bridges big | wc -l)
# the own bridge keeps 64 of its 1,023 ports for trunks, an extra bridge one for its trunk
want=$(( N <= 1023 - 64 ? 1 : 1 + (N - (1023 - 64) + 1021) / 1022 ))
check "big spans $want bridges ($nbr)" test "$nbr" = "$want"
check "no bridge has more than 1,023 ports" bash -c "for b in \$(bridges big); do
	[ \$(inhost ip -br link show master \$b | wc -l) -le 1023 ] || exit 1; done"
rss=$(rss_kib)
say "  berthd RSS after listing them (ps, network inspect): $((rss / 1024)) MiB ($rss KiB)"
# a big reply's freed heap is given back once the request is done (daemon/api.c)
check "berthd RSS still <= 40 MiB after listing them" test "$rss" -le "$RSS_MAX_KIB"

say "# any two reach each other by name"
last=s$N mid=s$(( N / 2 ))
check "s1 ($(bridge_of s1 big)) pings $last ($(bridge_of $last big)) by name" in_ctr s1 ping -c1 -W2 "$last"
check "$last pings s1 by name" in_ctr "$last" ping -c1 -W2 s1
check "$mid ($(bridge_of $mid big)) pings $last by name" in_ctr "$mid" ping -c1 -W2 "$last"
check "s2 pings s3 (same bridge)" in_ctr s2 ping -c1 -W2 s3
check "$last reaches the gateway" in_ctr "$last" ping -c1 -W2 10.200.0.1
for k in 1 2 3 4 5 6; do   # pairs spread over the bridges: i on one, j about 1,500 further
	i=$(( (k * 617) % N + 1 )) j=$(( (k * 617 + 1500) % N + 1 ))
	check "s$i ($(bridge_of s$i big)) pings s$j ($(bridge_of s$j big)) by name" in_ctr s$i ping -c1 -W2 s$j
done
check "one more container starts" berth run -d --name extra --network big busybox sleep 1d

say "# the firewall still holds"
check "run o1 on other" bash -c "berth run -d --name o1 --network other busybox sleep 1d >/dev/null"
o1=$(ctr_ip o1 other)
check_fail "$last cannot reach o1 on another network" in_ctr "$last" ping -c1 -W1 "$o1"
check_fail "o1 cannot reach $last" in_ctr o1 ping -c1 -W1 "$(ctr_ip "$last" big)"

say "# removing everything leaves nothing"
t0=$SECONDS
check "remove every container" bash -c "berth ps -aq | xargs -P2 -n50 \"\$BERTH\" rm -f >/dev/null"
say "  (removed in $((SECONDS - t0)) s)"
check "no container is left" bash -c "[ -z \"\$(berth ps -aq)\" ]"
check "big is back to one bridge" test "$(bridges big | wc -l)" = 1
check "network rm big other" berth network rm big other
check "no bridge, trunk or veth is left" bash -c "! bt_host_links | grep -Eq '^(b[xyzv]|berth[0-9a-f]{10})'"
check "no address of big is allocated" bash -c "[ -z \"\$(sqlite3 '$BT_DIR/root/berth.db' \"select address from allocations where address like '10.200.%'\")\" ]"
check "no neighbour entry of big is left" bash -c "[ -z \"\$(inhost ip neigh show to 10.200.0.0/16 | grep PERMANENT)\" ]"
bt_summary
