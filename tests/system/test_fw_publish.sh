#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 3, port publishing: -p grammar, reachability from a remote host (source preserved), from
# the host (its addresses, 127.0.0.1), hairpin, from another network, specific host address,
# UDP with container replacement (conntrack), ephemeral ports, conflicts, refusals.
. "$(dirname "$0")/lib.sh"
bt_setup
fw_lan_setup || { ko "LAN namespaces"; bt_summary; }

say "# publish on every address (IPv4 + IPv6)"
check "network dual" berth network create --ipv6 --subnet 10.41.0.0/24 --subnet fd00:41::/64 dual
check "network other" berth network create --subnet 10.42.0.0/24 other
check "run web -p 8080:80 -p 5353:5300/udp -p 9000-9002:9000-9002" \
	berth run -d --name web --network dual -p 8080:80 -p 5353:5300/udp -p 9000-9002:9000-9002 busybox sleep 1d
fw_serve web tcp 80; fw_serve web udp 5300; fw_serve web tcp 9001
web4=$(ctr_ip web dual); web6=$(ctr_ip6 web dual)
check "berth port shows 0.0.0.0 and [::]" bash -c "berth port web 80 | grep -qx '0.0.0.0:8080' && berth port web 80 | grep -qx '\[::\]:8080'"
check "inspect has Docker's NetworkSettings.Ports" bash -c "berth inspect web | jq -e '.[0].NetworkSettings.Ports[\"80/tcp\"] | map(.HostPort) == [\"8080\",\"8080\"]'"
check "remote client reaches it over IPv4, its source preserved" bash -c "fw_get incl -- tcp $FW_HOST4 8080 | grep -qx 'web peer=$FW_CL4'"
check "remote client reaches it over IPv6, its source preserved" bash -c "fw_get incl -- tcp [$FW_HOST6] 8080 | grep -q \"web peer=\[$(fw_ip6_full $FW_CL6)\]\""
check "remote client over UDP (IPv4)" bash -c "fw_get incl -- udp $FW_HOST4 5353 | grep -qx 'web peer=$FW_CL4'"
check "remote client over UDP (IPv6)" bash -c "fw_get incl -- udp [$FW_HOST6] 5353 | grep -q \"web peer=\[$(fw_ip6_full $FW_CL6)\]\""
check "a port range is published port by port (9001)" bash -c "fw_get incl -- tcp $FW_HOST4 9001 | grep -q web"
check "the host reaches it via its own address" bash -c "fw_get inhost -- tcp $FW_HOST4 8080 | grep -q web"
check "the host reaches it via 127.0.0.1 (in the kernel: route_localnet + DNAT in output)" bash -c "fw_get inhost -- tcp 127.0.0.1 8080 | grep -q web"
check "the host reaches it via its IPv6 address" bash -c "fw_get inhost -- tcp [$FW_HOST6] 8080 | grep -q web"
# in this test's host namespace (a dockerd elsewhere on the machine may run docker-proxy)
check "no userland proxy process exists" bash -c "! pgrep --ns $BT_BERTHD_PID --nslist net -x 'docker-proxy|berth-proxy|rootlessport'"

say "# hairpin and other networks"
check "run peer on dual" berth run -d --name peer --network dual busybox sleep 1d
check "run far on other" berth run -d --name far --network other busybox sleep 1d
check "hairpin: a container on the same network via the host address (IPv4)" bash -c "fw_get in_ctr_ns peer -- tcp $FW_HOST4 8080 | grep -q web"
check "hairpin over IPv6" bash -c "fw_get in_ctr_ns peer -- tcp [$FW_HOST6] 8080 | grep -q web"
check "hairpin to itself: web reaches its own published port via the host address (IPv4)" bash -c "fw_get in_ctr_ns web -- tcp $FW_HOST4 8080 | grep -q 'web peer='"
check "hairpin to itself over IPv6" bash -c "fw_get in_ctr_ns web -- tcp [$FW_HOST6] 8080 | grep -q 'web peer='"
check "hairpin to itself is masqueraded (the server sees the gateway, not web's own address)" bash -c "fw_get in_ctr_ns web -- tcp $FW_HOST4 8080 | grep -qx \"web peer=$(ctr_ip web dual Gateway)\""
check "hairpin to itself over UDP" bash -c "fw_get in_ctr_ns web -- udp $FW_HOST4 5353 | grep -q 'web peer='"
check "hairpin mode is on for the container's bridge port" bash -c "inhost bridge -d link show | grep -A3 \"\$(berth inspect web | jq -r '.[0].NetworkSettings.Networks.dual.Berth.HostInterface')\" | grep -q 'hairpin on'"
check "a container on another network via the host address" bash -c "fw_get in_ctr_ns far -- tcp $FW_HOST4 8080 | grep -q web"
check_fail "but not the container's address directly (isolation)" bash -c "fw_get in_ctr_ns far -- tcp $web4 80 | grep -q web"

say "# a specific host address"
inhost ip addr add 192.0.2.2/24 dev eth0
inhost ip addr add 2001:db8::2/64 dev eth0 nodad
check "run only -p 192.0.2.2:8081:80 -p [2001:db8::2]:8081:80 -p 127.0.0.1:8082:80" \
	berth run -d --name only --network dual -p 192.0.2.2:8081:80 -p [2001:db8::2]:8081:80 -p 127.0.0.1:8082:80 busybox sleep 1d
fw_serve only tcp 80
check "answers on 192.0.2.2" bash -c "fw_get incl -- tcp 192.0.2.2 8081 | grep -q only"
check "answers on [2001:db8::2]" bash -c "fw_get incl -- tcp [2001:db8::2] 8081 | grep -q only"
check_fail "not on the host's other address" bash -c "fw_get incl -- tcp $FW_HOST4 8081 | grep -q only"
check_fail "not on the host's other IPv6 address" bash -c "fw_get incl -- tcp [$FW_HOST6] 8081 | grep -q only"
check "127.0.0.1:8082 answers on the host" bash -c "fw_get inhost -- tcp 127.0.0.1 8082 | grep -q only"
check_fail "127.0.0.1:8082 not via the host's LAN address" bash -c "fw_get incl -- tcp $FW_HOST4 8082 | grep -q only"
check "berth port shows the addresses" bash -c "berth port only | grep -q '80/tcp -> 192.0.2.2:8081' && berth port only | grep -q '\[2001:db8::2\]:8081' && berth port only | grep -q '127.0.0.1:8082'"

say "# ephemeral ports"
check "run eph -p 80 -p 127.0.0.1::81" berth run -d --name eph --network dual -p 80 -p 127.0.0.1::81 busybox sleep 1d
read -r lo hi < <(inhost cat /proc/sys/net/ipv4/ip_local_port_range)
eport=$(berth port eph 80/tcp | head -1 | sed 's/.*://')
check "a host port from ip_local_port_range ($lo-$hi) was chosen: $eport" test "$eport" -ge "$lo" -a "$eport" -le "$hi"
check "inspect shows the same port" bash -c "berth inspect eph | jq -e --arg p $eport '.[0].NetworkSettings.Ports[\"80/tcp\"][0].HostPort == \$p'"
fw_serve eph tcp 80
check "it answers" bash -c "fw_get incl -- tcp $FW_HOST4 $eport | grep -q eph"
check "a host range picks a free port of the range" bash -c "berth run -d --name rng --network dual -p 8080-8085:80 busybox sleep 1d >/dev/null && berth port rng 80 | head -1 | grep -Eq ':808[1-5]$'"

say "# UDP after replacing the container (stale conntrack entries)"
check "run u1 -p 7000:5300/udp" berth run -d --name u1 --network dual -p 7000:5300/udp busybox sleep 1d
fw_serve u1 udp 5300
# the client keeps the same source port, so without a conntrack flush the old binding would stick
# udp_flow NAME: the fixed-source-port flow gets NAME's answer. Two tries for a slow fork of the
# server under load; a stale conntrack entry would fail both (it outlives seconds by far).
udp_flow() { for _ in 1 2; do echo x | incl timeout 4 socat -t3 -T3 - UDP4:$FW_HOST4:7000,sourceport=40000,reuseaddr | grep -q "$1" && return 0; done; return 1; }
export -f udp_flow
check "client (fixed source port) reaches u1" udp_flow u1
check "remove u1" berth rm -f u1
check "run u2 on the same host port" berth run -d --name u2 --network dual -p 7000:5300/udp busybox sleep 1d
fw_serve u2 udp 5300
check "the same client flow now reaches u2" udp_flow u2

say "# SCTP"
if inhost python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132)' 2>/dev/null; then
	check "run s1 -p 7100:7100/sctp" berth run -d --name s1 --network dual -p 7100:7100/sctp busybox sleep 1d
	fw_serve s1 sctp 7100
	check "remote client over SCTP" bash -c "fw_get incl -- sctp $FW_HOST4 7100 | grep -q s1"
else
	say "  skip SCTP: this kernel has no SCTP support (socket(IPPROTO_SCTP) fails); the rules cover it (th dport)"
	check "an sctp port is still accepted and mapped" bash -c "berth run -d --name s1 --network dual -p 7100:7100/sctp busybox sleep 1d >/dev/null && berth port s1 | grep -q '7100/sctp -> 0.0.0.0:7100'"
fi

say "# conflicts and refusals"
check_err "a port published by another container is refused, naming it" "published by container web" \
	berth run -d --name dup --network dual -p 8080:80 busybox sleep 1d
inhost socat TCP4-LISTEN:8090,reuseaddr,fork SYSTEM:true >/dev/null 2>&1 &
wait_for 5 bash -c "inhost cat /proc/net/tcp | grep -qi ':1F9A '"
check_err "a port held by a listening socket on the host is refused, naming the process" "process socat" \
	berth run -d --name held --network dual -p 8090:80 busybox sleep 1d
check "nothing half-applied: no map element for 8090" bash -c "! inhost nft list table inet berth | grep -q 8090"
check_err "a container with one good and one taken port: refused" "already" \
	berth run -d --name half --network dual -p 8091:80 -p 8080:81 busybox sleep 1d
check "and its good port was not published" bash -c "! inhost nft list table inet berth | grep -q 8091"
check_err "publishing on ::1 is refused with the reason" "route_localnet" berth run -d --name lo6 --network dual -p [::1]:8443:443 busybox sleep 1d
check_err "publishing on an address the host does not have is refused" "not an address of this host" \
	berth create --name bad --network dual -p 198.51.100.7:80:80 busybox sleep 1d
check_err "a bad -p is refused by the CLI" "invalid" berth run -d --network dual -p 80:80/icmp busybox true
check_err "a bad PortBindings is refused by the daemon" "invalid container port" \
	bash -c "curl -sf --unix-socket $BT_DIR/berth.sock -H 'Content-Type: application/json' -d '{\"Image\":\"busybox\",\"HostConfig\":{\"PortBindings\":{\"99999/tcp\":[{\"HostPort\":\"1\"}]}}}' http://x/containers/create || curl -s --unix-socket $BT_DIR/berth.sock -H 'Content-Type: application/json' -d '{\"Image\":\"busybox\",\"HostConfig\":{\"PortBindings\":{\"99999/tcp\":[{\"HostPort\":\"1\"}]}}}' http://x/containers/create; false"
check "internal network" berth network create --internal backend
check_err "--internal networks refuse -p" "internal" berth run -d --name in1 --network backend -p 8095:80 busybox sleep 1d

say "# unpublish"
check "stop web" berth stop -t 1 web
check "its ports are gone from the maps" bash -c "! inhost nft list table inet berth | grep -qE '8080 :|5353 :'"
check_fail "and unreachable" bash -c "fw_get incl -- tcp $FW_HOST4 8080 | grep -q web"
check "inspect of the stopped container has no Ports" bash -c "berth inspect web | jq -e '.[0].NetworkSettings.Ports == {}'"
check "start web: published again" bash -c "berth start web && berth port web 80 | grep -q 8080"
bt_summary
