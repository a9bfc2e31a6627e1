#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash safety: berthd is killed (SIGKILL, injected with BERTH_CRASH_AT) in the middle of
# connect, disconnect, network create, network rm and container start. After a normal restart
# nothing leaks and nothing is duplicated (bt_check_consistent), and each interrupted operation
# has the one outcome recovery must give it (daemon/mgr_reconcile.c):
#   connect:after-store, after-join   endpoint still PENDING in the store: rolled back
#   connect:after-commit              ACTIVE committed: the container stays connected
#   disconnect:after-intent, -leave   endpoint PENDING (intent recorded): the removal finishes
#   network-create:after-store        the row is committed: the network exists, bridge re-made
#   network-rm:after-store            the removal intent is recorded: the network is gone
#   start:after-exec                  the shim runs: the start is finished, container running
. "$(dirname "$0")/lib.sh"
bt_setup

# crash_during POINT BERTH-ARGS...: restart berthd armed to crash at POINT, run the operation
# (which fails: the daemon dies under it), wait for the death, restart berthd normally.
crash_during() {
	local point=$1; shift
	check "$point: berthd stops" bt_term_berthd
	BERTH_CRASH_AT=$point bt_start_berthd || { ko "$point: armed berthd starts"; return 1; }
	check_fail "$point: the operation fails as berthd dies" timeout 30 "$BERTH" "$@"
	check "$point: berthd died" bt_wait_berthd_exit 20
	check "$point: berthd died of SIGKILL (the injected crash)" test "${BT_BERTHD_RC:-x}" = 137
	check "$point: the crash is in the log" grep -q "crash injected at $point" "$BT_DIR/berthd.log"
	check "$point: berthd restarts normally" bt_start_berthd
}
connected() { berth inspect "$1" | jq -e --arg n "$2" '.[0].NetworkSettings.Networks[$n] != null' >/dev/null; }
gw_of() { berth network inspect "$1" | jq -r --arg f "$2" '.[0].IPAM.Config[] | select(.Subnet | contains($f)) | .Gateway'; }
# pings_gateways CONTAINER NETWORK: the container reaches the network's gateway(s).
pings_gateways() {
	local gw
	for gw in $(berth network inspect "$2" | jq -r '.[0].IPAM.Config[].Gateway'); do
		berth exec "$1" ping -c1 -W2 "$gw" || return 1
	done
}
bridge_of() { berth network inspect "$1" | jq -r '.[0].Berth.Bridge'; }
export -f pings_gateways

check "create base" berth network create --subnet 10.70.0.0/24 base
bt_check_consistent "start"

say "# connect"
k=0
for fam in v4 dual; do
	for pt in after-store after-join after-commit; do
		k=$((k + 1)); net=c$k-$fam; ctr=c$k; point=connect:$pt
		opts=(--subnet 10.71.$k.0/24)
		[ $fam = dual ] && opts+=(--ipv6 --subnet fd00:71:$k::/64)
		say "## $point ($fam)"
		check "$point: create $net" berth network create "${opts[@]}" "$net"
		check "$point: run $ctr on base" berth run -d --name "$ctr" --network base busybox sleep 1d
		crash_during "$point" network connect "$net" "$ctr"
		bt_check_consistent "$point ($fam) after restart"
		check "$point: $ctr is still running" \
			bash -c "[ \$(berth inspect $ctr | jq -r .[0].State.Status) = running ]"
		if [ $pt = after-commit ]; then
			check "$point: the committed connect is kept" connected "$ctr" "$net"
			check "$point: $ctr has eth1" in_ctr "$ctr" ip link show eth1
		else
			check_fail "$point: the half-done connect was rolled back" connected "$ctr" "$net"
			check "$point: $ctr has no eth1" bash -c "! berth exec $ctr ip link show eth1"
			check "$point: connect again succeeds" berth network connect "$net" "$ctr"
		fi
		check "$point: $ctr reaches $net's gateways" pings_gateways "$ctr" "$net"
		check "$point: $ctr still reaches base's gateway" pings_gateways "$ctr" base
		bt_check_consistent "$point ($fam) after retry"
	done
done

say "# disconnect"
for fam in v4 dual; do
	for pt in after-intent after-leave; do
		k=$((k + 1)); net=d$k-$fam; ctr=d$k; point=disconnect:$pt
		opts=(--subnet 10.71.$k.0/24)
		[ $fam = dual ] && opts+=(--ipv6 --subnet fd00:71:$k::/64)
		say "## $point ($fam)"
		check "$point: create $net" berth network create "${opts[@]}" "$net"
		check "$point: run $ctr on base and $net" \
			berth run -d --name "$ctr" --network base --network "$net" busybox sleep 1d
		crash_during "$point" network disconnect "$net" "$ctr"
		bt_check_consistent "$point ($fam) after restart"
		check_fail "$point: the disconnect was completed at restart" connected "$ctr" "$net"
		check "$point: $ctr has no eth1 left" bash -c "! berth exec $ctr ip link show eth1"
		check "$point: $ctr still reaches base's gateway" pings_gateways "$ctr" base
		check "$point: reconnect succeeds" berth network connect "$net" "$ctr"
		check "$point: $ctr reaches $net's gateways" pings_gateways "$ctr" "$net"
		bt_check_consistent "$point ($fam) after retry"
	done
done

say "# network create"
for variant in default custom; do
	k=$((k + 1)); net=nc$k; point=network-create:after-store
	opts=(--subnet 10.72.$k.0/24)
	[ $variant = custom ] && opts+=(-o com.docker.network.bridge.name=btcrash$k)
	say "## $point ($variant bridge name)"
	crash_during "$point" network create "${opts[@]}" "$net"
	check "$point: the committed network exists after the restart" berth network inspect "$net"
	if berth network inspect "$net" >/dev/null 2>&1; then
		br=$(bridge_of "$net")
		check "$point: $net's bridge $br exists with the gateway" \
			bash -c "inhost ip -br addr show dev $br | grep -q 10.72.$k.1/24"
		check "$point: a container joins $net" \
			berth run -d --name n$k --network "$net" busybox sleep 1d
		check "$point: it reaches the gateway" pings_gateways "n$k" "$net"
		check "$point: remove the container" berth rm -f "n$k"
		check "$point: $net can be removed" berth network rm "$net"
		check "$point: its bridge is gone" bt_link_gone "$br"
	fi
	bt_check_consistent "$point ($variant)"
done

say "# network rm"
for variant in default custom; do
	k=$((k + 1)); net=nr$k; point=network-rm:after-store
	opts=(--subnet 10.73.$k.0/24)
	[ $variant = custom ] && opts+=(-o com.docker.network.bridge.name=btcrash$k)
	say "## $point ($variant bridge name)"
	check "$point: create $net" berth network create "${opts[@]}" "$net"
	br=$(bridge_of "$net")
	check "$point: $net's bridge $br exists" inhost ip link show "$br"
	crash_during "$point" network rm "$net"
	check_fail "$point: the recorded removal was finished at restart" berth network inspect "$net"
	check "$point: no orphan bridge $br" bt_link_gone "$br"
	check "$point: no address of $net is left in the host" \
		bash -c "! inhost ip -br addr | grep -q 10.73.$k.1/"
	check "$point: $net's subnet can be used again" \
		berth network create --subnet 10.73.$k.0/24 "$net-again"
	bt_check_consistent "$point ($variant)"
done

say "# container start"
point=start:after-exec
check "$point: create s1 on base (dual-stack network s6 too)" bash -c "berth network create --ipv6 --subnet 10.74.0.0/24 --subnet fd00:74::/64 s6 >/dev/null && berth create --name s1 --network base --network s6 busybox sleep 1d >/dev/null"
crash_during "$point" start s1
check "$point: s1 is running after the restart (the start was finished)" \
	bash -c "[ \$(berth inspect s1 | jq -r .[0].State.Status) = running ]"
check "$point: inspect's pid is s1's live process" bash -c "kill -0 \$(ctr_pid s1)"
check "$point: s1 reaches both gateways" bash -c "pings_gateways s1 base && pings_gateways s1 s6"
bt_check_consistent "$point"
check "$point: s1 stops cleanly" berth stop -t 1 s1
check "$point: no process of s1 is left" bash -c "! pgrep -f \"__berth-shim.*\$(berth inspect s1 | jq -r .[0].Id)\""
bt_check_consistent "$point after stop"

say "# the end"
check "remove every container" bash -c "berth rm -f \$(berth ps -aq)"
check "prune every network" berth network prune -f
bt_check_consistent "after removing everything"
check "only the predefined networks are left" \
	bash -c "berth network ls --format json | jq -e 'map(.Name) | sort == [\"bridge\", \"host\", \"none\"]'"
br0=$(bridge_of bridge)
check "no berth interface but the predefined bridge is left in the host" \
	bash -c "! bt_host_links | grep -E '^(bv|berth|btcrash)' | grep -v '^$br0 '"
check "only the predefined bridge's gateway is allocated" \
	bash -c "[ \"\$(sqlite3 '$BT_DIR/root/berth.db' 'select address from allocations')\" = '$(gw_of bridge .)' ]"
bt_summary
