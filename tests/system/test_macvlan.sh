#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The macvlan driver (issue 5), IPv4 and IPv6. The "host" namespace (where berthd runs) has veths
# lan0..lan4 whose peers are ports of a bridge in a "LAN" namespace; an "outside host" namespace
# is attached to that bridge too. Containers on macvlan networks over lanN must reach the outside
# host directly, each other in bridge mode and not in private mode.
. "$(dirname "$0")/lib.sh"
bt_setup

inlan() { nsenter --net=/run/netns/$BT_ID-lan "$@"; }
inout() { nsenter --net=/run/netns/$BT_ID-out "$@"; }
export -f inlan inout

# The LAN: bridge br0, the outside host (one address per test subnet), parents lan0..lan4.
lan_setup() {
	bt_netns lan && bt_netns out || return 1
	inlan ip link add br0 type bridge && inlan ip link set br0 up || return 1
	inout ip link add eth0 type veth peer name po netns "$BT_ID-lan" || return 1
	inlan ip link set po master br0 up || return 1
	for a in 192.0.2.254/24 198.51.100.254/24 203.0.113.254/24 10.77.0.253/24; do
		inout ip addr add "$a" dev eth0 || return 1
	done
	for a in fd00:2::fe/64 fd00:3::fe/64 fd00:77::fe/64; do
		inout ip addr add "$a" dev eth0 nodad || return 1
	done
	inout ip link set eth0 up || return 1
	for i in 0 1 2 3 4; do
		inhost ip link add lan$i type veth peer name p$i netns "$BT_ID-lan" || return 1
		inlan ip link set p$i master br0 up && inhost ip link set lan$i up || return 1
	done
}
check "the LAN, its outside host and the parents lan0..lan4 exist" lan_setup
check "lan0's MTU is 1480 (containers inherit it)" inhost ip link set lan0 mtu 1480

say "# bridge mode, dual stack"
check "create lan on parent lan0" berth network create -d macvlan --ipv6 --subnet 192.0.2.0/24 \
	--gateway 192.0.2.1 --subnet fd00:2::/64 -o parent=lan0 lan
check "inspect shows the driver and its options (mode defaults to bridge)" bash -c \
	"berth network inspect lan | jq -e '.[0].Driver == \"macvlan\" and .[0].Options.parent == \"lan0\" and .[0].Options.macvlan_mode == \"bridge\"'"
check "run m1 on lan" berth run -d --name m1 --network lan busybox sleep 1d
check "run m2 on lan with static --ip and --ip6" berth run -d --name m2 --network lan \
	--ip 192.0.2.20 --ip6 fd00:2::20 busybox sleep 1d
m1=$(ctr_ip m1 lan); m16=$(ctr_ip6 m1 lan)
check "m1 has addresses in both subnets" bash -c "[[ $m1 == 192.0.2.* && $m16 == fd00:2::* ]]"
check "m1's eth0 is a macvlan with the endpoint's MAC" bash -c \
	"[ \$(berth exec m1 cat /sys/class/net/eth0/address) = \$(ctr_ip m1 lan MacAddress) ]"
check "m1's MTU is the parent's (1480)" bash -c "[ \$(berth exec m1 cat /sys/class/net/eth0/mtu) = 1480 ]"
check "accept_ra is off in m1" bash -c "[ \$(berth exec m1 cat /proc/sys/net/ipv6/conf/eth0/accept_ra) = 0 ]"
check "m1 has the default route via the LAN gateway" bash -c "berth exec m1 ip route | grep -q 'default via 192.0.2.1 dev eth0'"
check "m1 pings the outside host over IPv4" in_ctr m1 ping -c1 -W2 192.0.2.254
check "m1 pings the outside host over IPv6" in_ctr m1 ping -c1 -W2 fd00:2::fe
check "the outside host pings m2" inout busybox ping -c1 -W2 192.0.2.20
check "m1 pings m2 over IPv4 (bridge mode)" in_ctr m1 ping -c1 -W2 192.0.2.20
check "m1 pings m2 over IPv6 (bridge mode)" in_ctr m1 ping -c1 -W2 fd00:2::20
check "no interface was added to the host for the containers" bash -c "! inhost ip -br link | grep -Eq '^(bv|bmv)'"

say "# the host without a shim"
inhost ip addr add 192.0.2.250/24 dev lan0
check "with an address on lan0 the host pings the outside host" inhost busybox ping -c1 -W2 192.0.2.254
check_fail "but it cannot reach m1 through the parent (kernel rule)" inhost busybox ping -c1 -W1 "$m1"
inhost ip addr del 192.0.2.250/24 dev lan0

say "# parent down and up"
check "lan0 down" inhost ip link set lan0 down
check_fail "m1 cannot reach the outside host while lan0 is down" in_ctr m1 ping -c1 -W1 192.0.2.254
check "lan0 up" inhost ip link set lan0 up
check "m1 reaches the outside host again over IPv4 without any action" wait_for 15 in_ctr m1 ping -c1 -W1 192.0.2.254
check "and over IPv6" wait_for 15 in_ctr m1 ping -c1 -W1 fd00:2::fe
check "m1 still reaches m2" in_ctr m1 ping -c1 -W2 192.0.2.20

say "# refused networks"
check_err "overlapping subnet on the same parent" "overlaps" berth network create -d macvlan \
	--subnet 192.0.2.0/25 -o parent=lan0 lan-dup
check_err "a second network on the same parent (one per parent, as Docker)" "already used by network" \
	berth network create -d macvlan --subnet 10.92.0.0/24 -o parent=lan0 lan-two
check_err "no parent option" "needs a parent interface" berth network create -d macvlan \
	--subnet 10.90.0.0/24 nop
check_err "missing parent" "parent interface nosuch0 does not exist" berth network create \
	-d macvlan --subnet 10.90.0.0/24 -o parent=nosuch0 missing
inhost ip link set lan4 down
check_err "down parent" "parent interface lan4 is down" berth network create -d macvlan \
	--subnet 10.90.0.0/24 -o parent=lan4 down
inhost ip link set lan4 up
check_err "unknown mode" "must be bridge, private, vepa or passthru" berth network create \
	-d macvlan --subnet 10.90.0.0/24 -o parent=lan4 -o macvlan_mode=nat badmode
check_err "MTU above the parent's" "larger than the MTU of parent interface lan4" berth network \
	create -d macvlan --subnet 10.90.0.0/24 -o parent=lan4 -o com.docker.network.driver.mtu=9000 bigmtu
check_err "VLAN parent on a kernel without 802.1q" \
	"802.1q VLAN sub-interfaces are not supported by this kernel (module 8021q missing): cannot create lan4.10" \
	berth network create -d macvlan --subnet 10.90.0.0/24 -o parent=lan4.10 vlan
check_err "VLAN parent on a missing interface" "nor nosuch0 to create it on" berth network \
	create -d macvlan --subnet 10.90.0.0/24 -o parent=nosuch0.10 vlan2
check_err "host shim outside bridge mode" "needs macvlan_mode=bridge" berth network create \
	-d macvlan --subnet 10.90.0.0/24 -o parent=lan4 -o macvlan_mode=private \
	-o berth.macvlan.host_shim=true shimpriv
check_err "the reserved option" "reserved" berth network create -d macvlan --subnet 10.90.0.0/24 \
	-o parent=lan4 -o berth.macvlan.vlan_created=true resv
check "no refused network was kept" bash -c \
	"[ \"\$(berth network ls --format json | jq -r '.[] | select(.Driver == \"macvlan\") | .Name')\" = lan ]"
check "no VLAN interface was left behind" bash -c "! inhost ip link show lan4.10 >/dev/null 2>&1"

say "# explicit MTU"
check "create mtu on lan4 with an MTU of 1400" berth network create -d macvlan \
	--subnet 10.91.0.0/24 -o parent=lan4 -o com.docker.network.driver.mtu=1400 mtu
check "its container has MTU 1400" bash -c \
	"[ \"\$(berth run --rm --network mtu busybox cat /sys/class/net/eth0/mtu)\" = 1400 ]"
check "rm mtu" berth network rm mtu

say "# embedded DNS on macvlan"
check "m1 resolves m2 by name (A)" bash -c "berth exec m1 nslookup m2 127.0.0.11 | grep -q \"\$(ctr_ip m2 lan)\""
check "m1 pings m2 by name" in_ctr m1 ping -c1 -W2 m2
say "# private mode"
check "create priv on lan1 in private mode" berth network create -d macvlan --ipv6 \
	--subnet 198.51.100.0/24 --subnet fd00:3::/64 -o parent=lan1 -o macvlan_mode=private priv
check "run p1 and p2 on priv" bash -c "berth run -d --name p1 --network priv busybox sleep 1d && berth run -d --name p2 --network priv busybox sleep 1d"
p2=$(ctr_ip p2 priv); p26=$(ctr_ip6 p2 priv)
check "p1 pings the outside host over IPv4" in_ctr p1 ping -c1 -W2 198.51.100.254
check "p1 pings the outside host over IPv6" in_ctr p1 ping -c1 -W2 fd00:3::fe
check_fail "p1 cannot ping p2 over IPv4 (private mode)" in_ctr p1 ping -c1 -W1 "$p2"
check_fail "p1 cannot ping p2 over IPv6 (private mode)" in_ctr p1 ping -c1 -W1 "$p26"

say "# passthru"
check "create pt on lan2 in passthru mode" berth network create -d macvlan \
	--subnet 203.0.113.0/24 -o parent=lan2 -o macvlan_mode=passthru pt
check "run pt1 on pt" berth run -d --name pt1 --network pt busybox sleep 1d
check "pt1 pings the outside host" in_ctr pt1 ping -c1 -W2 203.0.113.254
check_err "a second passthru endpoint is refused, naming the network" "network pt uses macvlan_mode passthru" \
	berth run -d --name pt2 --network pt busybox sleep 1d
check "pt1 still reaches the outside host" in_ctr pt1 ping -c1 -W2 203.0.113.254
check "pt's address pool kept only pt1's address" bash -c \
	"[ \$(sqlite3 $BT_DIR/root/berth.db \"select count(*) from allocations where network_id = '\$(berth network inspect pt | jq -r .[0].Id)'\") = 2 ]"

say "# host shim"
check "create shim on lan3 with a host shim" berth network create -d macvlan --ipv6 \
	--subnet 10.77.0.0/24 --subnet fd00:77::/64 -o parent=lan3 -o berth.macvlan.host_shim=true shim
shimif=bmv$(berth network inspect shim | jq -r '.[0].Id' | cut -c1-10)
check "the shim's addresses are reserved as aux addresses" bash -c \
	"berth network inspect shim | jq -e '[.[0].IPAM.Config[].AuxiliaryAddresses[\"berth-host-shim\"]] == [\"10.77.0.254\", \"fd00:77::ffff:ffff:ffff:ffff\"]'"
check "the shim interface holds them with a route to the subnets" bash -c \
	"inhost ip addr show $shimif | grep -q 10.77.0.254/24 && inhost ip route | grep -q '10.77.0.0/24 dev $shimif' && inhost ip -6 route | grep -q 'fd00:77::/64 dev $shimif'"
check "run s1 on shim" berth run -d --name s1 --network shim busybox sleep 1d
check "the host pings s1 over IPv4" inhost busybox ping -c1 -W2 "$(ctr_ip s1 shim)"
check "the host pings s1 over IPv6" inhost busybox ping -c1 -W2 "$(ctr_ip6 s1 shim)"
check "s1 pings the host's shim address" in_ctr s1 ping -c1 -W2 10.77.0.254
check "s1 still reaches the outside host" in_ctr s1 ping -c1 -W2 10.77.0.253

say "# live connect of a running bridge container"
check "create a bridge network and run bc on it" bash -c "berth network create brnet >/dev/null && berth run -d --name bc --network brnet busybox sleep 1d"
check "connect lan to the running bc" berth network connect lan bc
check "bc got eth1 with IPv4 and IPv6" bash -c "berth exec bc ip addr show eth1 | grep -q 192.0.2. && berth exec bc ip addr show eth1 | grep -q fd00:2::"
check "bc reaches the outside host through eth1" in_ctr bc ping -c1 -W2 192.0.2.254
check "bc reaches m1 over IPv6" in_ctr bc ping -c1 -W2 "$m16"
check "bc keeps its default route on the bridge network" bash -c "berth exec bc ip route | grep -q 'default via .* dev eth0'"

say "# restart: missing interfaces are re-created"
m2pid=$(ctr_pid m2)
bt_stop_berthd
nsenter --net=/proc/$m2pid/ns/net ip link del eth0
inhost ip link del "$shimif"
check "berthd restarts" bt_start_berthd
check "m2's eth0 is back" wait_for 10 in_ctr m2 ip link show eth0
check "m1 pings m2 again" wait_for 10 in_ctr m1 ping -c1 -W1 192.0.2.20
check "the deleted shim was re-created at start-up" inhost busybox ping -c1 -W2 "$(ctr_ip s1 shim)"

check "disconnect bc from lan" berth network disconnect lan bc
check "bc's eth1 is gone" bash -c "! berth exec bc ip link show eth1 >/dev/null 2>&1"
check "reconnect bc to lan" berth network connect lan bc
check "bc reaches the outside host again" in_ctr bc ping -c1 -W2 192.0.2.254
say "# removal"
check "container interfaces are exactly their endpoints" bt_ifaces_consistent
check "allocations are gateways, aux addresses and endpoint addresses" bt_ipam_consistent
check "remove every container" bash -c "berth rm -f \$(berth ps -aq) >/dev/null"
check "rm the macvlan networks" berth network rm lan priv pt shim
check "the shim interface is gone" bash -c "! inhost ip link show $shimif >/dev/null 2>&1"
check "the parents are still there and up" bash -c "for i in 0 1 2 3; do inhost ip link show lan\$i | grep -q 'state UP' || exit 1; done"
check "allocations are consistent after the removals" bt_ipam_consistent
bt_summary
