#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 3, anti-spoofing: a container with CAP_NET_RAW sends forged frames with
# tests/helpers/spoof (static, copied into its writable layer); a receiver in the victim's
# namespace counts what arrives. Controls with genuine addresses prove the path works.
. "$(dirname "$0")/lib.sh"
SPOOF=${SPOOF:-$TOP/build/tests/helpers/spoof}
[ -x "$SPOOF" ] || { say "skip: $SPOOF not built (make helpers)"; exit 77; }
bt_setup

check "network s (dual)" berth network create --ipv6 --subnet 10.71.0.0/24 --subnet fd00:71::/64 s
check "run att, vic, third" bash -c "for c in att vic third; do berth run -d --name \$c --network s busybox sleep 1d >/dev/null || exit 1; done"
att_id=$(berth inspect att | jq -r '.[0].Id')
check "copy the helper into att's writable layer" cp "$SPOOF" "$BT_DIR/root/containers/$att_id/upper/spoof"
check "att has CAP_NET_RAW (Docker's default set)" bash -c "berth exec att cat /proc/self/status | grep -q 'CapEff:.*a80425fb'"
att4=$(ctr_ip att s); att6=$(ctr_ip6 att s); vic4=$(ctr_ip vic s); vic6=$(ctr_ip6 vic s)
vicmac=$(ctr_ip vic s MacAddress); attmac=$(ctr_ip att s MacAddress)
att_ll=$(berth exec att ip -6 addr show dev eth0 scope link | awk '/inet6/ {sub(/\/.*/, "", $2); print $2}')

# recv CONTAINER MATCH -- sender args...: frames seen by CONTAINER's eth0 while att sends.
recv() { bt_spoof_recv att "$@"; }
export -f recv; export SPOOF

say "# IPv4 / IPv6 source addresses"
check "control: att's genuine IPv4 packet reaches vic" bash -c "[ \$(recv vic marker -- ip4 $att4 $vic4 $vicmac) -ge 1 ]"
check "a forged IPv4 source (vic's own address) is dropped" bash -c "[ \$(recv vic marker -- ip4 10.71.0.99 $vic4 $vicmac) = 0 ]"
check "a forged IPv4 source from outside the subnet is dropped" bash -c "[ \$(recv vic marker -- ip4 8.8.8.8 $vic4 $vicmac) = 0 ]"
check "control: att's genuine IPv6 packet reaches vic" bash -c "[ \$(recv vic marker -- ip6 $att6 $vic6 $vicmac) -ge 1 ]"
check "a forged IPv6 source is dropped" bash -c "[ \$(recv vic marker -- ip6 fd00:71::99 $vic6 $vicmac) = 0 ]"
check "a forged IPv6 link-local source is dropped" bash -c "[ \$(recv vic marker -- ip6 fe80::1 $vic6 $vicmac) = 0 ]"

say "# MAC addresses"
check "a forged Ethernet source (with att's own IP) is dropped" bash -c "[ \$(recv vic marker -- mac 02:de:ad:be:ef:01 $att4 $vic4 $vicmac) = 0 ]"
check "even vic's own MAC" bash -c "[ \$(recv third marker -- mac $vicmac $att4 $(ctr_ip third s) $(ctr_ip third s MacAddress)) = 0 ]"

say "# ARP"
check "control: a gratuitous ARP for att's own address arrives" bash -c "[ \$(recv third arp:$att4 -- arp $att4) -ge 1 ]"
check "a gratuitous ARP claiming vic's address is dropped" bash -c "[ \$(recv third arp:$vic4 -- arp $vic4) = 0 ]"
check "vic's neighbour entry at third still has vic's MAC" bash -c "berth exec third ping -c1 -W1 $vic4 >/dev/null; berth exec third ip neigh show $vic4 | grep -qi $vicmac"

say "# IPv6 router advertisements, redirects, neighbour advertisements"
check "a router advertisement from a container is dropped" bash -c "[ \$(recv vic icmp6:134 -- icmp6 134 $att_ll) = 0 ]"
check "an ICMPv6 redirect from a container is dropped" bash -c "[ \$(recv vic icmp6:137 -- icmp6 137 $att_ll $vic6) = 0 ]"
check "control: a neighbour advertisement for att's own address arrives" bash -c "[ \$(recv vic icmp6:136 -- icmp6 136 $att_ll $att6) -ge 1 ]"
check "a neighbour advertisement for vic's address is dropped" bash -c "[ \$(recv third icmp6:136 -- icmp6 136 $att_ll $vic6) = 0 ]"
check "vic has no default route learnt from att" bash -c "! berth exec vic ip -6 route | grep -q 'default via $att_ll'"
bt_summary
