#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Host objects berth did not create. A bridge that exists before its network
# (-o com.docker.network.bridge.name=<an existing bridge>, as in Docker) is used but never
# deleted: not by network rm, nor prune, nor start-up reconciliation (after a kill -9, or
# finishing a removal a crash interrupted); of its addresses only the gateways berth added go.
# A bridge berth created is still deleted, also when it re-created a user's bridge that vanished.
# Interfaces that merely share a prefix with berth's generated names are never swept.
. "$(dirname "$0")/lib.sh"
bt_setup

mkbr() { inhost ip link add "$1" type bridge && inhost ip link set "$1" up; }
has_link() { inhost ip link show "$1" >/dev/null 2>&1; }
# has_addr DEV ADDR/PREFIX
has_addr() { inhost ip -o addr show dev "$1" | awk '{print $4}' | grep -qxF "$2"; }
pings() { berth exec "$1" ping -c1 -W2 "$2"; }
export -f pings
is_port_of() { inhost ip -o link show master "$2" | grep -q "$1"; }
veth_of() { berth inspect "$1" | jq -r --arg n "$2" '.[0].NetworkSettings.Networks[$n].Berth.HostInterface'; }
export -f mkbr has_link has_addr
# crash_during POINT BERTH-ARGS...: berthd armed to crash at POINT runs the operation, dies of
# it, and is started again normally.
crash_during() {
	local point=$1; shift
	check "$point: berthd stops" bt_term_berthd
	BERTH_CRASH_AT=$point bt_start_berthd || { ko "$point: armed berthd starts"; return 1; }
	check_fail "$point: the operation fails as berthd dies" timeout 30 "$BERTH" "$@"
	check "$point: berthd died of the injected SIGKILL" \
		bash -c "grep -q 'crash injected at $point' '$BT_DIR/berthd.log'"
	check "$point: berthd is gone" bt_wait_berthd_exit 20
	check "$point: berthd restarts" bt_start_berthd
}

say "# network rm leaves a user's bridge and the addresses it had"
check "bridge usr1 made by hand, with an address of its own" \
	bash -c "mkbr usr1 && inhost ip addr add 10.89.9.1/24 dev usr1"
check "network u1 (dual stack) on usr1" berth network create --ipv6 --subnet 10.81.1.0/24 \
	--subnet fd00:81:1::/64 -o com.docker.network.bridge.name=usr1 u1
check "berth added its IPv4 gateway to usr1" has_addr usr1 10.81.1.1/24
check "... and its IPv6 gateway" has_addr usr1 fd00:81:1::1/64
check "container c1 runs on u1" berth run -d --name c1 --network u1 busybox sleep 1d
check "c1's veth is a port of usr1" is_port_of "$(veth_of c1 u1)" usr1
check "c1 reaches the gateway over usr1" pings c1 10.81.1.1
check "remove c1" berth rm -f c1
check "network rm u1" berth network rm u1
check "usr1 survives network rm" has_link usr1
check "the IPv4 gateway berth added is gone" bash -c "! has_addr usr1 10.81.1.1/24"
check "the IPv6 gateway berth added is gone" bash -c "! has_addr usr1 fd00:81:1::1/64"
check "usr1's own address stays" has_addr usr1 10.89.9.1/24

check "bridge usr2 already holding the gateway 10.82.1.1/24" \
	bash -c "mkbr usr2 && inhost ip addr add 10.82.1.1/24 dev usr2"
check "network u2 on usr2" berth network create --subnet 10.82.1.0/24 \
	-o com.docker.network.bridge.name=usr2 u2
check "network rm u2" berth network rm u2
check "usr2 survives, with the gateway it had before berth" has_addr usr2 10.82.1.1/24

check "a veth dum1 made by hand" inhost ip link add dum1 type veth peer name dum1p
check_err "a network cannot use dum1 as its bridge" "not a bridge" \
	berth network create --subnet 10.83.1.0/24 -o com.docker.network.bridge.name=dum1 d1
check "dum1 survives the refused create" has_link dum1

say "# prune"
check "bridge usr3 made by hand" mkbr usr3
check "network u3 on usr3" berth network create --subnet 10.81.3.0/24 \
	-o com.docker.network.bridge.name=usr3 u3
check "network mine3 on bridge btmine3 that berth creates" berth network create \
	--subnet 10.81.4.0/24 -o com.docker.network.bridge.name=btmine3 mine3
check "btmine3 exists" has_link btmine3
check "network prune" berth network prune -f
check "u3 and mine3 are pruned" bash -c "! berth network inspect u3 && ! berth network inspect mine3"
check "usr3 survives prune" has_link usr3
check "usr3 has no berth gateway left" bash -c "! inhost ip -br addr show dev usr3 | grep -q 10.81.3.1"
check "btmine3, berth's own, is gone" bash -c "! inhost ip link show btmine3"

say "# kill -9 and start-up reconciliation"
check "bridge usr4 made by hand" mkbr usr4
check "network u4 on usr4" berth network create --subnet 10.81.5.0/24 \
	-o com.docker.network.bridge.name=usr4 u4
check "container c4 runs on u4" berth run -d --name c4 --network u4 busybox sleep 1d
check "a user's bridge berth-lan that no network uses" mkbr berth-lan
check "a user's veth pair bvlan/bvlanp that no network uses" \
	inhost ip link add bvlan type veth peer name bvlanp
check "berthd is killed (SIGKILL)" bt_kill_berthd
check "berthd restarts" bt_start_berthd
check "usr4 survives the restart" has_link usr4
check "berth-lan is not swept as an orphan" has_link berth-lan
check "bvlan is not swept as an orphan" has_link bvlan
check "c4 still reaches u4's gateway" pings c4 10.81.5.1
check "remove c4" berth rm -f c4
crash_during network-rm:after-store network rm u4
check "u4's removal was finished at the restart" bash -c "! berth network inspect u4"
check "usr4 survives the finished removal" has_link usr4
check "its berth gateway is gone" bash -c "! inhost ip -br addr show dev usr4 | grep -q 10.81.5.1"

check "bridge usr5 made by hand" mkbr usr5
crash_during network-create:after-store network create --subnet 10.81.6.0/24 \
	-o com.docker.network.bridge.name=usr5 u5
if berth network inspect u5 >/dev/null 2>&1; then
	check "u5's interrupted create was finished: gateway on usr5" has_addr usr5 10.81.6.1/24
	check "network rm u5" berth network rm u5
else
	ok "u5's interrupted create was rolled back"
fi
check "usr5 survives" has_link usr5

say "# a user's bridge that vanished is re-created, and then it is berth's"
check "bridge usr6 made by hand" mkbr usr6
check "network u6 on usr6" berth network create --subnet 10.81.7.0/24 \
	-o com.docker.network.bridge.name=usr6 u6
check "berthd stops" bt_term_berthd
check "usr6 is deleted while berthd is away" inhost ip link del usr6
check "berthd starts" bt_start_berthd
check "berthd re-created usr6 with the gateway" has_addr usr6 10.81.7.1/24
check "network rm u6" berth network rm u6
check "usr6, now berth's, is gone" bt_link_gone usr6

say "# a bridge berth created is deleted"
check "network mine on bridge btmine that berth creates" berth network create \
	--subnet 10.81.8.0/24 -o com.docker.network.bridge.name=btmine mine
check "btmine exists" has_link btmine
check "network rm mine" berth network rm mine
check "btmine is gone" bt_link_gone btmine
check "network gen with a generated bridge name" berth network create --subnet 10.81.10.0/24 gen
gen_br=$(berth network inspect gen | jq -r '.[0].Berth.Bridge')
check "berthd stops" bt_term_berthd
check "gen's row is removed from the store while berthd is away (its bridge $gen_br leaks)" \
	sqlite3 "$BT_DIR/root/berth.db" "delete from allocations where network_id = (select id from networks where name = 'gen'); delete from networks where name = 'gen'"
check "berthd starts" bt_start_berthd
check "the orphan generated bridge $gen_br is swept" bash -c "! inhost ip link show $gen_br"
say "# a stopped container's host veth is retired, reaped later, even across a crash"
# The reaper waits 60 s before each batch here; a process of the test holds the container's
# namespace, so its veth pair outlives the container (the kernel would delete it with the
# namespace otherwise).
hold_ns() { # container: start a process inside its namespace, wait until it is there
	local ns ino
	ns="$BT_DIR/run/netns/$(berth inspect "$1" | jq -r '.[0].Id')"
	ino=$(stat -L -c %i "$ns") || return 1
	nsenter --net="$ns" sleep 1d &
	HOLDERS="$HOLDERS $!"
	wait_for 10 bash -c "[ \"\$(stat -L -c %i /proc/$!/ns/net)\" = $ino ]"
}
retired() { inhost ip -br link show group "$BT_DOOMED_GROUP" | grep -q "^$1[ @]" &&
	inhost ip -o link show "$1" | grep -q 'state DOWN' && ! inhost ip -o link show "$1" | grep -q master; }
export -f retired
HOLDERS=
check "network rp" berth network create --subnet 10.81.11.0/24 rp
check "container c7 runs on rp" berth run -d --name c7 --network rp busybox sleep 1d
hv=$(berth inspect c7 | jq -r '.[0].NetworkSettings.Networks.rp.Berth.HostInterface')
check "a process holds c7's namespace" hold_ns c7
check "stop c7" berth stop -t 1 c7
check "the reaper deletes its host veth $hv" wait_for 10 bash -c "! inhost ip link show $hv"
check "start c7 again" berth start c7
check "berthd stops" bt_term_berthd
BERTH_DELAY_AT=reaper:60000 bt_start_berthd
check "berthd starts with a slow reaper" test -n "$BT_BERTHD_PID"
check "a process holds c7's namespace" hold_ns c7
check "stop c7" berth stop -t 1 c7
check "c7's host veth $hv is retired: down, off the bridge, in berth's link group" retired "$hv"
check "c7 starts again while its old veth waits for the reaper" berth start c7
check "c7 reaches rp's gateway" pings c7 10.81.11.1
check "its new veth is a port of rp's bridge" bash -c "inhost ip -o link show $hv | grep -q master"
check "a process holds c7's new namespace" hold_ns c7
check "stop c7 again" berth stop -t 1 c7
check "its veth is retired again" retired "$hv"
check "berthd is killed (SIGKILL) before the reaper ran" bt_kill_berthd
check "the retired veth outlived berthd" has_link "$hv"
check "berthd restarts" bt_start_berthd
check "the restart reaped it" wait_for 10 bash -c "! inhost ip link show $hv"
[ -z "$HOLDERS" ] || { kill $HOLDERS; wait $HOLDERS; } 2>/dev/null
check "remove c7 and rp" bash -c "berth rm c7 && berth network rm rp"

say "# network rm retires the bridge: the reaper deletes it, a new network takes its place at once"
check "network nb (dual stack)" berth network create --subnet 10.81.12.0/24 --ipv6 --subnet fd00:81:12::/64 nb
nb_br=$(berth network inspect nb | jq -r '.[0].Berth.Bridge')
check "nb's bridge $nb_br exists" has_link "$nb_br"
check "network rm nb" berth network rm nb
check "the reaper deletes $nb_br" wait_for 10 bash -c "! inhost ip link show $nb_br"
check "berthd stops" bt_term_berthd
BERTH_DELAY_AT=reaper:60000 bt_start_berthd
check "berthd starts with a slow reaper" test -n "$BT_BERTHD_PID"
check "network nb again, same subnets" berth network create --subnet 10.81.12.0/24 --ipv6 --subnet fd00:81:12::/64 nb
nb_br=$(berth network inspect nb | jq -r '.[0].Berth.Bridge')
check "network rm nb" berth network rm nb
check "its bridge $nb_br is retired: down, in berth's link group" retired "$nb_br"
check "... without its gateway addresses" bash -c "[ -z \"\$(inhost ip -o addr show dev $nb_br scope global)\" ]"
check "network nb at once, same name and subnets" \
	berth network create --subnet 10.81.12.0/24 --ipv6 --subnet fd00:81:12::/64 nb
check "... its bridge is up with the gateways" bash -c \
	"inhost ip -o addr show dev \$(berth network inspect nb | jq -r '.[0].Berth.Bridge') | grep -q 10.81.12.1/24"
check "container c8 on the new nb reaches its gateway over IPv4 and IPv6" bash -c \
	"berth run -d --name c8 --network nb busybox sleep 1d >/dev/null && pings c8 10.81.12.1 && berth exec c8 ping -6 -c1 -W2 fd00:81:12::1"
check "remove c8 and nb" bash -c "berth rm -f c8 && berth network rm nb"
check "network own on bridge btown that berth creates" berth network create \
	--subnet 10.81.13.0/24 -o com.docker.network.bridge.name=btown own
check "network rm own" berth network rm own
check "btown is retired" retired btown
check "network own again at once, on btown" berth network create \
	--subnet 10.81.13.0/24 -o com.docker.network.bridge.name=btown own
check "... btown is berth's again, not taken for a user's bridge, and up with its gateway" bash -c \
	"! inhost ip -br link show group $BT_DOOMED_GROUP | grep -q '^btown ' && inhost ip -o addr show dev btown | grep -q 10.81.13.1/24"
check "network rm own: btown is retired again (berth's, so not kept)" bash -c "berth network rm own && retired btown"
nb_br=$(inhost ip -br link show group "$BT_DOOMED_GROUP" type bridge | awk '{print $1; exit}')
check "a retired bridge waits for the reaper" test -n "$nb_br"
check "berthd is killed (SIGKILL) before the reaper ran" bt_kill_berthd
check "berthd restarts" bt_start_berthd
check "the restart reaped the retired bridge" wait_for 10 bash -c "! inhost ip link show $nb_br"
bt_summary
