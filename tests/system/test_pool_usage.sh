#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pool usage: network inspect shows, per subnet, the usable addresses, those in use (gateway,
# auxiliary, containers') and those still free (inside --ip-range when set), following
# connects, starts, stops and removals; network ls --format prints them.
. "$(dirname "$0")/lib.sh"
bt_setup

# usage NET I: "Size InUse Free" of the network's subnet number I, exact (python reads JSON
# integers of any size; jq and the CLI's inspect go through doubles).
usage() {
	curl -s --unix-socket "$BT_DIR/berth.sock" "http://x/networks/$1" |
		python3 -c 'import json, sys; s = json.load(sys.stdin)["Berth"]["Subnets"][int(sys.argv[1])]
print(s["Size"], s["InUse"], s["Free"])' "$2"
}
export -f usage

check "a /24 with a gateway" berth network create --subnet 10.91.0.0/24 pool
check "empty: 254 usable, the gateway in use, 253 free" test "$(usage pool 0)" = "254 1 253"
check "two running containers take two" bash -c '
	berth run -d --name p1 --network pool busybox sleep 1d >/dev/null && berth run -d --name p2 --network pool busybox sleep 1d >/dev/null &&
	[ "$(usage pool 0)" = "254 3 251" ]'
check "a stopped container holds no address" bash -c 'berth stop -t 0 p2 >/dev/null && [ "$(usage pool 0)" = "254 2 252" ]'
check "a live connect takes one" bash -c '
	berth run -d --name p3 busybox sleep 1d >/dev/null && berth network connect pool p3 && [ "$(usage pool 0)" = "254 3 251" ]'
check "a disconnect gives it back" bash -c 'berth network disconnect pool p3 && [ "$(usage pool 0)" = "254 2 252" ]'
check "rm gives it back" bash -c 'berth rm -f p1 >/dev/null && [ "$(usage pool 0)" = "254 1 253" ]'

check "an --ip-range, an aux address and IPv6" berth network create --ipv6 --subnet 10.92.0.0/24 \
	--ip-range 10.92.0.128/25 --aux-address res=10.92.0.130 --subnet fd00:92::/64 ranged
check "IPv4: free counts the range only (127 usable, the aux address taken)" test "$(usage ranged 0)" = "254 2 126"
check "IPv6 /64: exact 2^64 counts" test "$(usage ranged 1)" = "18446744073709551615 1 18446744073709551614"
check "IPRange shown with the subnet" bash -c '
	berth network inspect ranged | jq -e ".[0].Berth.Subnets[0] | .Subnet == \"10.92.0.0/24\" and .IPRange == \"10.92.0.128/25\""'
check "a container outside the range by --ip counts as in use, not against the range" bash -c '
	berth run -d --name s1 --network ranged --ip 10.92.0.5 busybox sleep 1d >/dev/null &&
	[ "$(usage ranged 0)" = "254 3 126" ] && [ "$(usage ranged 1)" = "18446744073709551615 2 18446744073709551613" ]'
check "a full range: 0 free" bash -c '
	berth network create --subnet 10.93.0.0/29 tiny >/dev/null &&
	for i in 1 2 3 4 5; do berth run -d --name t$i --network tiny busybox sleep 1d >/dev/null || exit 1; done;
	[ "$(usage tiny 0)" = "6 6 0" ] && ! berth run -d --name t6 --network tiny busybox sleep 1d 2>/dev/null'
check "host and none: no subnets" bash -c '[ "$(berth network inspect host none | jq -c "[.[].Berth.Subnets]")" = "[[],[]]" ]'
check "network ls --format prints the usage" bash -c '
	out=$(berth network ls --format "{{.Name}}|{{.Subnets}}|{{.InUse}}|{{.Free}}" -f name=ranged); echo "$out";
	[ "$out" = "ranged|10.92.0.0/24,fd00:92::/64|3,2|126,1.84e+19" ]'
check "network ls --format {{.Usage}} reads as a sentence" bash -c '
	[ "$(berth network ls --format "{{.Usage}}" -f name=tiny)" = "10.93.0.0/29: 6 in use, 0 free" ]'
check "network ls --format table with the usage" bash -c '
	out=$(berth network ls --format "table {{.Name}}\t{{.Subnets}}\t{{.InUse}}\t{{.Free}}"); echo "$out";
	echo "$out" | head -1 | grep -qx "NAME *SUBNETS *IN USE *FREE" && echo "$out" | grep -qE "^pool +10.91.0.0/24 +1 +253$"'
bt_stop_berthd; bt_start_berthd
check "the usage survives a berthd restart" bash -c '[ "$(usage ranged 0)" = "254 3 126" ] && [ "$(usage pool 0)" = "254 1 253" ]'
bt_summary
