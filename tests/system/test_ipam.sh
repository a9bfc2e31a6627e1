#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# IPAM and bridge options end to end: default pools (Docker's and overridden), pools skipped when
# the host routes them or another network holds them, the ULA /64 for --ipv6, static addresses,
# --ip-range, aux addresses, bridge name and MTU options.
. "$(dirname "$0")/lib.sh"
bt_setup

subnet_of() { berth network inspect "$1" | jq -r --arg f "$2" '.[0].IPAM.Config[] | select(.Subnet | contains($f)) | .Subnet'; }

say "# Docker's default pools"
check "the predefined bridge network has 172.17.0.0/16" bash -c "[ \$(berth network inspect bridge | jq -r '.[0].IPAM.Config[0].Subnet') = 172.17.0.0/16 ]"
check "its gateway is the first address, on berth0" bash -c "[ \$(berth network inspect bridge | jq -r '.[0].IPAM.Config[0].Gateway') = 172.17.0.1 ] && inhost ip addr show berth0 | grep -q 172.17.0.1/16"
check "the first user network gets 172.18.0.0/16" bash -c "berth network create n1 >/dev/null && [ \$(berth network inspect n1 | jq -r '.[0].IPAM.Config[0].Subnet') = 172.18.0.0/16 ]"
inhost ip link add bt-rt type bridge 2>/dev/null; inhost ip link set bt-rt up
inhost ip addr add 172.19.5.1/24 dev bt-rt
check "a pool the host routes is skipped (172.19/16 has a host route)" bash -c "berth network create n2 >/dev/null && [ \$(berth network inspect n2 | jq -r '.[0].IPAM.Config[0].Subnet') = 172.20.0.0/16 ]"
check "--ipv6 without subnet gets a ULA /64" bash -c "berth network create --ipv6 n6 >/dev/null && berth network inspect n6 | jq -r '.[0].IPAM.Config[].Subnet' | grep -Eq '^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::/64$'"
ula1=$(subnet_of n6 :)
p48() { printf '%s\n' "$1" | cut -d: -f1-3; }
export -f p48 subnet_of
check "a second --ipv6 network gets another /64 of the same /48" bash -c "berth network create --ipv6 n7 >/dev/null && s=\$(subnet_of n7 :) && [ \"\$s\" != \"$ula1\" ] && [ \$(p48 \$s) = \$(p48 $ula1) ]"
bt_stop_berthd; bt_start_berthd
check "after a restart the ULA /48 is the same" bash -c "berth network create --ipv6 n8 >/dev/null && s=\$(subnet_of n8 :) && [ \$(p48 \$s) = \$(p48 $ula1) ]"
for n in n1 n2 n6 n7 n8; do berth network rm $n >/dev/null; done

say "# overridden pools"
bt_stop_berthd
bt_start_berthd --default-address-pool base=10.10.0.0/16,size=24 --default-address-pool base=fd77::/48,size=64
check "override: the existing bridge network keeps its subnet" bash -c "[ \$(subnet_of bridge 172.) = 172.17.0.0/16 ]"
check "override: first subnet 10.10.0.0/24" bash -c "berth network create --ipv6 p1 >/dev/null && [ \$(subnet_of p1 10.) = 10.10.0.0/24 ]"
check "override: IPv6 pool used for --ipv6" bash -c "[ \$(subnet_of p1 :) = fd77::/64 ]"
check "override: next subnet 10.10.1.0/24" bash -c "berth network create p2 >/dev/null && [ \$(subnet_of p2 10.) = 10.10.1.0/24 ]"
check "explicit subnet inside the pool is honoured and then skipped" bash -c "berth network create --subnet 10.10.2.0/24 p3 >/dev/null && berth network create p4 >/dev/null && [ \$(subnet_of p4 10.) = 10.10.3.0/24 ]"
check_err "invalid pool is refused at start" "default-address-pool" inhost "$BERTHD" --root "$BT_DIR/r2" --run "$BT_DIR/u2" --socket "$BT_DIR/s2" --default-address-pool base=10.0.0.1/8,size=24

say "# addresses"
check "network with range and aux address" berth network create --subnet 192.168.50.0/24 --gateway 192.168.50.254 --ip-range 192.168.50.128/28 --aux-address r=192.168.50.129 rng
check "gateway is on the bridge" bash -c "inhost ip addr show dev \$(berth network inspect rng | jq -r .[0].Berth.Bridge) | grep -q 192.168.50.254/24"
check "container gets the first address of the range" bash -c "berth run -d --name a0 --network rng busybox sleep 1d >/dev/null && [ \$(ctr_ip a0 rng) = 192.168.50.128 ]"
check "the next one skips the aux address" bash -c "berth run -d --name a1 --network rng busybox sleep 1d >/dev/null && [ \$(ctr_ip a1 rng) = 192.168.50.130 ]"
check "static --ip outside the range but inside the subnet is honoured" bash -c "berth run -d --name a2 --network rng --ip 192.168.50.10 busybox sleep 1d >/dev/null && [ \$(ctr_ip a2 rng) = 192.168.50.10 ]"
check_err "static --ip taken is refused" "in use" berth run -d --name a3 --network rng --ip 192.168.50.10 busybox sleep 1d
check_err "the gateway cannot be requested" "in use" berth run -d --name a4 --network rng --ip 192.168.50.254 busybox sleep 1d
check_err "broadcast cannot be requested" "192.168.50.255" berth run -d --name a5 --network rng --ip 192.168.50.255 busybox sleep 1d
check "a failed run leaves no container behind" bash -c "! berth ps -a --format json | jq -r '.[].Names[]' | grep -Eq '^/a[345]$'"
check "dual network with static IPv6" berth network create --ipv6 --subnet 10.44.0.0/24 --subnet fd44::/64 d44
check "--ip6 is honoured" bash -c "berth run -d --name s6 --network d44 --ip6 fd44::44 busybox sleep 1d >/dev/null && [ \$(ctr_ip6 s6 d44) = fd44::44 ]"
check "s6 address works" bash -c "berth run -d --name s7 --network d44 busybox sleep 1d >/dev/null && berth exec s7 ping -c1 -W2 fd44::44"
check "addresses are freed on rm and reused" bash -c "berth rm -f a1 >/dev/null && berth run -d --name a6 --network rng --ip 192.168.50.130 busybox sleep 1d >/dev/null"

say "# bridge options"
check "custom bridge name and MTU" berth network create -o com.docker.network.bridge.name=br-custom -o com.docker.network.driver.mtu=1400 --subnet 10.55.0.0/24 opt
check "bridge br-custom has MTU 1400" bash -c "inhost ip link show br-custom | grep -q 'mtu 1400'"
check "container interface has MTU 1400" bash -c "berth run -d --name m1 --network opt busybox sleep 1d >/dev/null && berth exec m1 ip link show eth0 | grep -q 'mtu 1400'"
check "host veth is a port of br-custom" bash -c "inhost ip link show \$(berth inspect m1 | jq -r '.[0].NetworkSettings.Networks.opt.Berth.HostInterface') | grep -q 'master br-custom'"
check "inspect shows the options" bash -c "berth network inspect opt | jq -e '.[0].Options[\"com.docker.network.driver.mtu\"] == \"1400\"'"
inhost ip link del bt-rt
bt_summary
