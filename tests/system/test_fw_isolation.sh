#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 3, exposure, egress and isolation: other hosts cannot reach container addresses or
# 127.0.0.1-published ports (even routing them to us) unless the network is in routed mode;
# masquerade per network (and off); internal networks; isolation between networks (ICMP, TCP,
# UDP; IPv4 and IPv6) with a container on both reaching both; enable_icc=false.
. "$(dirname "$0")/lib.sh"
bt_setup
fw_lan_setup || { ko "LAN namespaces"; bt_summary; }
cl6=$(fw_ip6_full $FW_CL6)

check "network a (dual)" berth network create --ipv6 --subnet 10.51.0.0/24 --subnet fd00:51::/64 a
check "network b (dual)" berth network create --ipv6 --subnet 10.52.0.0/24 --subnet fd00:52::/64 b
check "run a1, a2 on a; b1 on b; ab on both" bash -c "berth run -d --name a1 --network a -p 127.0.0.1:8088:80 busybox sleep 1d && berth run -d --name a2 --network a busybox sleep 1d && berth run -d --name b1 --network b busybox sleep 1d && berth run -d --name ab --network a --network b busybox sleep 1d" 
for c in a1 a2 b1 ab; do fw_serve $c tcp 80; fw_serve $c udp 5300; done
a1_4=$(ctr_ip a1 a); a1_6=$(ctr_ip6 a1 a); b1_4=$(ctr_ip b1 b); b1_6=$(ctr_ip6 b1 b)

say "# exposure to other hosts"
inat ip route add 10.51.0.0/24 via $FW_HOST4
inat ip -6 route add fd00:51::/64 via $FW_HOST6
incl ip route add 10.51.0.0/24 via $FW_HOST4
check_fail "an attacker routing the container subnet via the host cannot reach a1 (TCP v4)" bash -c "fw_get inat -- tcp $a1_4 80 | grep -q a1"
check_fail "nor over IPv6" bash -c "fw_get inat -- tcp [$a1_6] 80 | grep -q a1"
check_fail "nor over UDP" bash -c "fw_get inat -- udp $a1_4 5300 | grep -q a1"
check_fail "nor ping it" inat ping -c1 -W1 $a1_4
# the attacker sends to 127.0.0.1:8088 through the host (its own loopback route bypassed)
inat sysctl -qw net.ipv4.conf.eth0.route_localnet=1 net.ipv4.conf.all.route_localnet=1
inat ip rule add pref 10 to 127.0.0.1 lookup 77
inat ip rule del pref 0 lookup local; inat ip rule add pref 100 lookup local
inat ip route add 127.0.0.1/32 via $FW_HOST4 dev eth0 src $FW_AT4 table 77
check "the attacker's packets to 127.0.0.1 do go to the host (route in place)" bash -c "inat ip route get 127.0.0.1 | grep -q 'via $FW_HOST4'"
check_fail "a port published on 127.0.0.1 is not reachable from another host routing 127.0.0.1 to us" bash -c "fw_get inat -- tcp 127.0.0.1 8088 | grep -q a1"
check "while the host itself reaches it" bash -c "fw_get inhost -- tcp 127.0.0.1 8088 | grep -q a1"

say "# routed mode"
check "network r in routed mode (IPv4 and IPv6)" berth network create --ipv6 --subnet 10.53.0.0/24 --subnet fd00:53::/64 -o com.docker.network.bridge.gateway_mode_ipv4=routed -o com.docker.network.bridge.gateway_mode_ipv6=routed r
check "run r1" berth run -d --name r1 --network r busybox sleep 1d
# The host solicits a container's address (to forward to it) from the bridge's link-local
# address; while that one was in DAD (1-2 s after the first port came up), nothing was sent and
# the first IPv6 connections from outside stalled or timed out under load.
ll_ready() { local br; br=$(berth network inspect r | jq -r '.[0].Berth.Bridge'); inhost ip -6 addr show dev "$br" scope link | grep -q fe80:: && ! inhost ip -6 addr show dev "$br" | grep -q tentative; }
export -f ll_ready
check "r's bridge has a usable link-local address at once (no DAD)" wait_for 0.5 ll_ready
fw_serve r1 tcp 80
incl ip route add 10.53.0.0/24 via $FW_HOST4; incl ip -6 route add fd00:53::/64 via $FW_HOST6
check "a remote host reaches r1's address directly (v4), no NAT" bash -c "fw_get incl -- tcp $(ctr_ip r1 r) 80 | grep -qx 'r1 peer=$FW_CL4'"
check "and over IPv6" bash -c "fw_get incl -- tcp [$(ctr_ip6 r1 r)] 80 | grep -q \"r1 peer=\[$cl6\]\""
check "r1's egress is not masqueraded (routed)" bash -c "! inhost nft list set inet berth masq4 | grep -q \$(berth network inspect r | jq -r '.[0].Berth.Bridge')"
check_err "a bad gateway mode is refused" "nat or routed" berth network create -o com.docker.network.bridge.gateway_mode_ipv4=bogus bad

say "# egress masquerade"
# the client plays "the internet": it sees the host's address as the source
incl socat TCP4-LISTEN:9999,fork,reuseaddr SYSTEM:'echo seen=$SOCAT_PEERADDR' >/dev/null 2>&1 &
incl socat TCP6-LISTEN:9999,fork,reuseaddr,ipv6only=1 SYSTEM:'echo seen=$SOCAT_PEERADDR' >/dev/null 2>&1 &
wait_for 5 bash -c "incl cat /proc/net/tcp6 | grep -qi ':270F '"
inhost ip route add default via $FW_CL4 2>/dev/null; inhost ip -6 route add default via $FW_CL6 2>/dev/null
check "a1 -> outside is masqueraded to the host address (v4)" bash -c "fw_get in_ctr_ns a1 -- tcp $FW_CL4 9999 | grep -qx 'seen=$FW_HOST4'"
check "a1 -> outside is masqueraded (v6)" bash -c "fw_get in_ctr_ns a1 -- tcp [$FW_CL6] 9999 | grep -q \"seen=\[$(fw_ip6_full $FW_HOST6)\]\""
check "network nomasq with enable_ip_masquerade=false" berth network create --subnet 10.54.0.0/24 -o com.docker.network.bridge.enable_ip_masquerade=false nomasq
check "run n1" berth run -d --name n1 --network nomasq busybox sleep 1d
incl ip route add 10.54.0.0/24 via $FW_HOST4
check "n1 -> outside keeps its own address" bash -c "fw_get in_ctr_ns n1 -- tcp $FW_CL4 9999 | grep -qx 'seen=$(ctr_ip n1 nomasq)'"

say "# internal networks"
check "internal network" berth network create --internal --subnet 10.55.0.0/24 inside
check "run i1, i2" bash -c "berth run -d --name i1 --network inside busybox sleep 1d && berth run -d --name i2 --network inside busybox sleep 1d"
check "i1 has no default route" bash -c "! berth exec i1 ip route | grep -q default"
check "i1 reaches i2" in_ctr i1 ping -c1 -W2 $(ctr_ip i2 inside)
in_ctr_ns i1 ip route add default via 10.55.0.1
check_fail "even with a default route, i1 cannot get out (no route out, no masquerade)" bash -c "fw_get in_ctr_ns i1 -- tcp $FW_CL4 9999 | grep -q seen"
check_fail "and the outside cannot get in" bash -c "incl ip route add 10.55.0.0/24 via $FW_HOST4; fw_get incl -- tcp $(ctr_ip i1 inside) 80 | grep -q i1"

say "# isolation between networks"
check_fail "a1 cannot ping b1 (v4)" in_ctr a1 ping -c1 -W1 $b1_4
check_fail "a1 cannot ping b1 (v6)" in_ctr a1 ping -c1 -W1 $b1_6
check_fail "a1 cannot reach b1 over TCP (v4)" bash -c "fw_get in_ctr_ns a1 -- tcp $b1_4 80 | grep -q b1"
check_fail "a1 cannot reach b1 over TCP (v6)" bash -c "fw_get in_ctr_ns a1 -- tcp [$b1_6] 80 | grep -q b1"
check_fail "a1 cannot reach b1 over UDP (v4)" bash -c "fw_get in_ctr_ns a1 -- udp $b1_4 5300 | grep -q b1"
check_fail "a1 cannot reach b1 over UDP (v6)" bash -c "fw_get in_ctr_ns a1 -- udp [$b1_6] 5300 | grep -q b1"
check_fail "b1 cannot reach a1 (v4)" bash -c "fw_get in_ctr_ns b1 -- tcp $a1_4 80 | grep -q a1"
check "a1 reaches a2 on the same network (TCP v4)" bash -c "fw_get in_ctr_ns a1 -- tcp $(ctr_ip a2 a) 80 | grep -q a2"
check "a1 reaches a2 (v6)" bash -c "fw_get in_ctr_ns a1 -- tcp [$(ctr_ip6 a2 a)] 80 | grep -q a2"
check "ab (on both) reaches a1 (v4 + v6)" bash -c "fw_get in_ctr_ns ab -- tcp $a1_4 80 | grep -q a1 && fw_get in_ctr_ns ab -- tcp [$a1_6] 80 | grep -q a1"
check "ab reaches b1 (v4 + v6, UDP too)" bash -c "fw_get in_ctr_ns ab -- tcp $b1_4 80 | grep -q b1 && fw_get in_ctr_ns ab -- tcp [$b1_6] 80 | grep -q b1 && fw_get in_ctr_ns ab -- udp $b1_4 5300 | grep -q b1"
check "a1 reaches b1 only through a published port on the host address" bash -c "berth run -d --name b2 --network b -p 8111:80 busybox sleep 1d >/dev/null && fw_serve b2 tcp 80 && fw_get in_ctr_ns a1 -- tcp $FW_HOST4 8111 | grep -q b2"

say "# enable_icc=false"
check "network quiet with icc off" berth network create --ipv6 --subnet 10.56.0.0/24 --subnet fd00:56::/64 -o com.docker.network.bridge.enable_icc=false quiet
check "run q1, q2" bash -c "berth run -d --name q1 --network quiet -p 8112:80 busybox sleep 1d && berth run -d --name q2 --network quiet busybox sleep 1d"
fw_serve q1 tcp 80; fw_serve q1 udp 5300
check_fail "q2 cannot ping q1 (v4)" in_ctr q2 ping -c1 -W1 $(ctr_ip q1 quiet)
check_fail "q2 cannot reach q1 over TCP (v4)" bash -c "fw_get in_ctr_ns q2 -- tcp $(ctr_ip q1 quiet) 80 | grep -q q1"
check_fail "q2 cannot reach q1 over UDP (v6)" bash -c "fw_get in_ctr_ns q2 -- udp [$(ctr_ip6 q1 quiet)] 5300 | grep -q q1"
check "q1's published port still works from outside" bash -c "fw_get incl -- tcp $FW_HOST4 8112 | grep -q q1"
check_err "a bad enable_icc value is refused" "true or false" berth network create -o com.docker.network.bridge.enable_icc=maybe bad2
bt_summary
