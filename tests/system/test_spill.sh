#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A network over several bridges (daemon/mgr_spill.c). berthd runs with BERTH_BRIDGE_PORTS=6
# (ports per bridge; the kernel's own cap is 1,023): a network's own bridge takes 3 containers
# (3 ports kept for trunks), each extra bridge 5 (+ its trunk). Containers on different bridges
# reach each other by name; the firewall holds as on one bridge (anti-spoofing, isolation from
# other networks, ICC off, hairpin to a published port); an extra bridge goes when its last
# container does; a crash at any point of adding or removing one is repaired at start-up; network
# rm leaves nothing. tests/scale/test_scale.sh does the same with 4,000 containers and the real
# cap.
. "$(dirname "$0")/lib.sh"
SPOOF=${SPOOF:-$TOP/build/tests/helpers/spoof}
export BERTH_BRIDGE_PORTS=6
bt_setup
fw_lan_setup || { ko "LAN namespaces"; bt_summary; }

host_links() { bt_host_links; }
bridges() { berth network inspect "$1" | jq -r '.[0].Berth.Bridges // [.[0].Berth.Bridge] | .[]'; }
bridge_of() { berth inspect "$1" | jq -r --arg n "$2" '.[0].NetworkSettings.Networks[$n].Berth.Bridge'; }
ports_of() { inhost ip -br link show master "$1" | wc -l; }
run_on() { berth run -d --name "$1" --network "$2" busybox sleep 1d >/dev/null; }
# every bridge of network $1 has at most 6 ports, and the extra ones a trunk each
bridges_ok() {
	local br n
	for br in $(bridges "$1"); do
		n=$(ports_of "$br")
		[ "$n" -le 6 ] || { say "$br has $n ports"; return 1; }
	done
}
# The links of network $1's extra bridges: exactly those its inspect lists, with their trunks.
spill_links_ok() {
	local id want got
	id=$(berth network inspect "$1" | jq -r '.[0].Id[:10]')
	want=$(bridges "$1" | grep '^bx' | sed 's/^bx//' | sort | while read -r s; do
		echo "bx$s"; echo "by$s"; echo "bz$s"; done | sort)
	got=$(host_links | awk '{sub(/@.*/, "", $1); print $1}' | grep -E "^b[xyz]$id" | sort)
	[ "$want" = "$got" ] || { say "want: $(echo $want)"; say "got:  $(echo $got)"; return 1; }
}
# nft: the trunk elements are those of the live extra bridges
trunk_elems() {
	local what=set
	[ "$1" = reflect ] && what=map
	inhost nft -j list $what bridge berth "$1" | jq '.nftables[] | select(.set or .map) | (.set // .map).elem // [] | length'
}
export -f host_links bridges bridge_of ports_of run_on bridges_ok spill_links_ok trunk_elems

say "# 13 containers on a network of 6-port bridges"
check "network sp" berth network create --subnet 10.91.0.0/24 sp
check "network other" berth network create --subnet 10.92.0.0/24 other
check "run c1..c13 on sp" bash -c "for i in \$(seq 13); do run_on c\$i sp || exit 1; done"
check "sp has 3 bridges" test "$(bridges sp | wc -l)" = 3
check "no bridge has more than 6 ports" bridges_ok sp
check "c1..c3 are on sp's own bridge" bash -c "for i in 1 2 3; do [ \$(bridge_of c\$i sp) = \$(bridges sp | head -1) ] || exit 1; done"
check "c4..c8 share an extra bridge, c9..c13 another" bash -c "[ \$(bridge_of c4 sp) = \$(bridge_of c8 sp) ] && [ \$(bridge_of c9 sp) = \$(bridge_of c13 sp) ] && [ \$(bridge_of c4 sp) != \$(bridge_of c13 sp) ]"
check "the extra bridges and their trunks are berth's names, nothing else" spill_links_ok sp
check "the trunk's end on sp's bridge is in hairpin mode" bash -c "inhost bridge -d link show | grep -A3 \"^[0-9]*: by\" | grep -q 'hairpin on'"
check "an extra bridge has no address" bash -c "[ -z \"\$(inhost ip addr show dev \$(bridge_of c13 sp) | grep inet)\" ]"

say "# one L2 domain: names, addresses, the gateway"
check "c1 (own bridge) pings c13 (second extra) by name" in_ctr c1 ping -c1 -W2 c13
check "c13 pings c1 by name" in_ctr c13 ping -c1 -W2 c1
check "c8 (first extra) pings c9 (second extra) by name" in_ctr c8 ping -c1 -W2 c9
check "c4 pings c8 on its own extra bridge" in_ctr c4 ping -c1 -W2 c8
check "c13 reaches the gateway" in_ctr c13 ping -c1 -W2 10.91.0.1
check "c13 resolves c2 through the embedded DNS" bash -c "berth exec c13 nslookup c2 127.0.0.11 | grep -q \$(ctr_ip c2 sp)"

say "# ARP across bridges: answered by the bridge a request enters, not flooded over trunks"
c1_4=$(ctr_ip c1 sp); c13_4=$(ctr_ip c13 sp); own=$(bridges sp | head -1)
own_mac=$(inhost ip -j link show dev "$own" | jq -r '.[0].address')
# arp_seen WATCHER ASKER TARGET: ARP frames from ASKER that WATCHER's eth0 sees while ASKER asks
# for TARGET's address (busybox arping, answered or not)
arp_seen() {
	local out=$BT_DIR/arp.$RANDOM ip
	ip=$(ctr_ip "$2" sp)
	in_ctr_ns "$1" "$SPOOF" recv eth0 2 "arp:$ip" > "$out" &
	local pid=$!
	wait_for 5 grep -q ready "$out"
	berth exec "$2" arping -c1 -w1 "$3" >/dev/null 2>&1
	wait $pid
	tail -1 "$out"
}
export -f arp_seen; export SPOOF
check "c13 (second extra bridge) gets c1's MAC for c1's address" bash -c "
	berth exec c13 arping -c1 -w2 $c1_4 | grep -qi \"\[$(ctr_ip c1 sp MacAddress)\]\""
check "c13 gets the own bridge's MAC for the gateway" bash -c "
	berth exec c13 arping -c1 -w2 10.91.0.1 | grep -qi \"\[$own_mac\]\""
if [ -x "$SPOOF" ]; then
	check "control: c12 (c13's bridge) sees c13's request for c1" bash -c "[ \$(arp_seen c12 c13 $c1_4) -ge 1 ]"
	check "c4 (first extra bridge) does not see it" bash -c "[ \$(arp_seen c4 c13 $c1_4) = 0 ]"
	check "c2 (own bridge) does not see it" bash -c "[ \$(arp_seen c2 c13 $c1_4) = 0 ]"
	check "c4 does not see c1's request for c13" bash -c "[ \$(arp_seen c4 c1 $c13_4) = 0 ]"
fi
check "the host's entry for c13 is permanent, with c13's MAC" bash -c "
	inhost ip neigh show dev $own $c13_4 | grep -i '$(ctr_ip c13 sp MacAddress) PERMANENT'"

say "# the firewall holds across bridges"
check "run o1 on other" run_on o1 other
check "c13 cannot reach o1 on another network" bash -c "! berth exec c13 ping -c1 -W1 $(ctr_ip o1 other)"
check "o1 cannot reach c13" bash -c "! berth exec o1 ping -c1 -W1 $(ctr_ip c13 sp)"
if [ -x "$SPOOF" ]; then
	att_id=$(berth inspect c12 | jq -r '.[0].Id')
	check "copy the spoof helper into c12 (an extra bridge)" cp "$SPOOF" "$BT_DIR/root/containers/$att_id/upper/spoof"
	# recv CONTAINER sender args...: frames marked as the helper's seen by CONTAINER while c12 sends
	recv() { local c=$1; shift; bt_spoof_recv c12 "$c" marker -- "$@"; }
	export -f recv; export SPOOF
	c1_4=$(ctr_ip c1 sp); c1_mac=$(ctr_ip c1 sp MacAddress)
	check "control: c12's genuine packet reaches c1 across the trunk" bash -c "[ \$(recv c1 ip4 $(ctr_ip c12 sp) $c1_4 $c1_mac) -ge 1 ]"
	check "a forged IPv4 source from c12 does not cross the trunk" bash -c "[ \$(recv c1 ip4 10.91.0.200 $c1_4 $c1_mac) = 0 ]"
	check "nor a forged MAC" bash -c "[ \$(recv c1 mac 02:de:ad:be:ef:01 $(ctr_ip c12 sp) $c1_4 $c1_mac) = 0 ]"
else
	say "skip - anti-spoofing: $SPOOF not built (make helpers)"
fi
check "run web with -p 8080:80: a third extra bridge" bash -c "berth run -d --name web --network sp -p 8080:80 busybox sleep 1d >/dev/null && [ \$(bridges sp | wc -l) = 4 ]"
check "run c14, on web's bridge" bash -c "run_on c14 sp && [ \$(bridge_of c14 sp) = \$(bridge_of web sp) ]"
fw_serve web tcp 80
check "a remote client reaches web's published port" bash -c "fw_get incl -- tcp $FW_HOST4 8080 | grep -q web"
check "c1 (own bridge) reaches it through the host address" bash -c "fw_get in_ctr_ns c1 -- tcp $FW_HOST4 8080 | grep -q web"
check "web reaches its own published port through the host address (hairpin over the trunk)" bash -c "fw_get in_ctr_ns web -- tcp $FW_HOST4 8080 | grep -q 'web peer='"
check "so does c14, behind the same trunk" bash -c "fw_get in_ctr_ns c14 -- tcp $FW_HOST4 8080 | grep -q web"
# on_own_port C: C's bridge has learnt C's MAC on C's own port (not on the trunk)
on_own_port() {
	inhost bridge fdb show br "$(bridge_of "$1" sp)" | grep "^$(ctr_ip "$1" sp MacAddress) " |
		grep -q "dev $(berth inspect "$1" | jq -r '.[0].NetworkSettings.Networks.sp.Berth.HostInterface')"
}
export -f on_own_port
check "after the hairpins, web's bridge still has web's MAC on web's port" on_own_port web
check "a broadcast from behind a trunk does not come back to its bridge (c13 stays on its port)" bash -c "
	berth exec c13 arping -c2 -w2 10.91.0.99 >/dev/null 2>&1; on_own_port c13"
check "remove web and c14: their bridge goes" bash -c "berth rm -f web c14 >/dev/null && [ \$(bridges sp | wc -l) = 3 ]"

say "# ICC off over several bridges"
check "network quiet (ICC off)" berth network create --subnet 10.93.0.0/24 -o com.docker.network.bridge.enable_icc=false quiet
check "run q1..q6 on quiet" bash -c "for i in \$(seq 6); do run_on q\$i quiet || exit 1; done"
check "quiet has 2 bridges" test "$(bridges quiet | wc -l)" = 2
check "q6 (extra bridge) reaches the gateway" in_ctr q6 ping -c1 -W2 10.93.0.1
check "q6 cannot reach q1 (own bridge)" bash -c "! berth exec q6 ping -c1 -W1 $(ctr_ip q1 quiet)"
check "q1 cannot reach q6" bash -c "! berth exec q1 ping -c1 -W1 $(ctr_ip q6 quiet)"
check "q5 and q6 (both behind the trunk) cannot reach each other" bash -c "[ \$(bridge_of q5 quiet) = \$(bridge_of q6 quiet) ] && ! berth exec q5 ping -c1 -W1 $(ctr_ip q6 quiet)"

say "# an extra bridge goes with its last container"
check "remove c9..c13" berth rm -f c9 c10 c11 c12 c13
check "sp has 2 bridges" test "$(bridges sp | wc -l)" = 2
check "the retired bridge and its trunk are gone" spill_links_ok sp
check "no neighbour entry of c13's address is left" bash -c "[ -z \"\$(inhost ip neigh show $c13_4)\" ]"
check "its trunk's elements are gone (one trunk left in sp, one in quiet)" bash -c "[ \$(trunk_elems uplinks) = 2 ] && [ \$(trunk_elems reflect) = 2 ]"
check "remove c2, run c15: it takes c2's place on sp's own bridge" bash -c "berth rm -f c2 >/dev/null && run_on c15 sp && [ \$(bridge_of c15 sp) = \$(bridges sp | head -1) ]"
check "still 2 bridges" test "$(bridges sp | wc -l)" = 2

say "# restart: where each endpoint is comes from the kernel"
check "berthd stops" bt_term_berthd
check "berthd starts again" bt_start_berthd
check "sp still has 2 bridges" test "$(bridges sp | wc -l)" = 2
check "c8 still reaches c1" in_ctr c8 ping -c1 -W2 c1
[ -x "$SPOOF" ] && check "c3 (own bridge) does not see c8's request for c1 (entries kept)" bash -c "
	[ \$(arp_seen c3 c8 $c1_4) = 0 ]"
check "run c16 and c17: the bridges are full, a new one is added" bash -c "run_on c16 sp && run_on c17 sp && [ \$(bridges sp | wc -l) = 3 ]"
check "c17 reaches c1" in_ctr c17 ping -c1 -W2 c1
check "remove c16, c17: back to 2 bridges" bash -c "berth rm -f c16 c17 >/dev/null && [ \$(bridges sp | wc -l) = 2 ]"
bt_check_consistent "after the restart"

say "# crashes while adding or removing an extra bridge"
# sp's two bridges are full (c1 c3 c15, c4..c8): the next container needs a new one
for point in spill-add:after-bridge spill-add:after-trunk; do
	check "$point: berthd stops" bt_term_berthd
	BERTH_CRASH_AT=$point bt_start_berthd || ko "$point: armed berthd starts"
	check_fail "$point: run x dies with berthd" timeout 30 "$BERTH" run -d --name x --network sp busybox sleep 1d
	check "$point: berthd died" bt_wait_berthd_exit 20
	check "$point: berthd starts" bt_start_berthd
	check "$point: no half-made bridge is left" spill_links_ok sp
	check "$point: run x now" bash -c "berth rm -f x >/dev/null 2>&1; run_on x sp"
	check "$point: x reaches c1" in_ctr x ping -c1 -W2 c1
	check "$point: the bridges are right" spill_links_ok sp
	check "$point: remove x (its bridge goes)" bash -c "berth rm -f x >/dev/null && [ \$(bridges sp | wc -l) = 2 ]"
	bt_check_consistent "$point"
done
check "run x on a new bridge" bash -c "run_on x sp && [ \$(bridges sp | wc -l) = 3 ]"
for point in spill-del:after-trunk spill-del:after-retire; do
	check "$point: berthd stops" bt_term_berthd
	BERTH_CRASH_AT=$point bt_start_berthd || ko "$point: armed berthd starts"
	check_fail "$point: rm -f x dies with berthd" timeout 30 "$BERTH" rm -f x
	check "$point: berthd died" bt_wait_berthd_exit 20
	check "$point: berthd starts" bt_start_berthd
	check "$point: x is gone or stopped" bash -c "! berth inspect x >/dev/null 2>&1 || [ \$(berth inspect x | jq -r '.[0].State.Status') != running ]"
	check "$point: sp is back to 2 bridges, nothing half-removed" bash -c "[ \$(bridges sp | wc -l) = 2 ] && spill_links_ok sp"
	check "$point: the trunk elements are the live trunks' (sp, quiet)" bash -c "[ \$(trunk_elems uplinks) = 2 ]"
	check "$point: c8 still reaches c1" in_ctr c8 ping -c1 -W2 c1
	bt_check_consistent "$point"
	check "$point: run x again on a new bridge" bash -c "berth rm -f x >/dev/null 2>&1; run_on x sp && [ \$(bridges sp | wc -l) = 3 ]"
done

say "# network rm leaves nothing"
check "remove every container" bash -c "berth rm -f \$(berth ps -aq) >/dev/null"
check "network rm sp quiet other" berth network rm sp quiet other
check "no bridge, trunk or veth of them is left" bash -c "! host_links | grep -Eq '^(b[xyzv]|berth[0-9a-f]{10})'"
check "no trunk element is left" bash -c "[ \$(trunk_elems uplinks) = 0 ] && [ \$(trunk_elems reflect) = 0 ]"
bt_summary
