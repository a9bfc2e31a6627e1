#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input: every invalid request fails with a clear error that names the problem (and the right
# HTTP status), and changes nothing: API views, the store and the host's interfaces and
# addresses are identical before and after.
. "$(dirname "$0")/lib.sh"
bt_setup

check "create n1" berth network create --subnet 10.90.0.0/24 n1
check "create dual-stack n6" berth network create --ipv6 --subnet 10.91.0.0/24 --subnet fd00:91::/64 n6
check "create nb with bridge name btbad0" \
	berth network create --subnet 10.92.0.0/24 -o com.docker.network.bridge.name=btbad0 nb
check "run a on n1 with 10.90.0.10" berth run -d --name a --network n1 --ip 10.90.0.10 busybox sleep 1d
check "run b on n6" berth run -d --name b --network n6 busybox sleep 1d
check "create s (not running) on n1" berth create --name s --network n1 busybox sleep 1d
bt_snapshot "$BT_DIR/snap0"
check "the snapshot is complete" grep -q '## addrs' "$BT_DIR/snap0"

# unchanged DESC: the world is as in snap0.
unchanged() {
	bt_snapshot "$BT_DIR/snap1"
	if diff "$BT_DIR/snap0" "$BT_DIR/snap1" >"$BT_DIR/snap.diff"; then
		ok "$1: nothing changed"
	else
		ko "$1: the failed request changed the state"; sed 's/^/       | /' "$BT_DIR/snap.diff" | head -20
		cp "$BT_DIR/snap1" "$BT_DIR/snap0"   # report each change once
	fi
}
# bad DESC WANT BERTH-ARGS...: the CLI command fails, its error mentions WANT, nothing changes.
bad() {
	local desc=$1 want=$2; shift 2
	check_err "$desc" "$want" timeout 30 "$BERTH" "$@"
	unchanged "$desc"
}
# bad_http DESC STATUS WANT METHOD PATH [BODY]: the API answers STATUS with a message naming WANT.
bad_http() {
	local desc=$1 status=$2 want=$3 got; shift 3
	got=$(bt_http "$@")
	if [ "$got" = "$status" ] && jq -e --arg w "$want" '.message | ascii_downcase | contains($w | ascii_downcase)' \
		"$BT_DIR/http.out" >/dev/null 2>&1; then
		ok "$desc: $status"
	else
		ko "$desc: want $status mentioning \"$want\", got $got"; sed 's/^/       | /' "$BT_DIR/http.out" | head -3
	fi
	unchanged "$desc"
}
long=$(printf 'x%.0s' $(seq 300))

say "# unknown objects"
bad "connect to an unknown network" "no such network: nosuch" network connect nosuch a
bad "connect an unknown container" "no such container: nosuch" network connect n1 nosuch
bad "disconnect from an unknown network" "no such network: nosuch" network disconnect nosuch a
bad "disconnect an unknown container" "no such container: nosuch" network disconnect n1 nosuch
bad "rm an unknown network" "no such network: nosuch" network rm nosuch
bad "rm an unknown container" "no such container: nosuch" rm nosuch
bad "rm -f an unknown container" "no such container: nosuch" rm -f nosuch
bad "inspect an unknown object" "nosuch" inspect nosuch
bad "inspect an unknown network" "no such network: nosuch" network inspect nosuch
bad "start an unknown container" "no such container: nosuch" start nosuch
bad "run on an unknown network" "no such network: nosuch" run -d --name z --network nosuch busybox true
bad_http "GET unknown network" 404 "no such network" GET /networks/nosuch
bad_http "DELETE unknown network" 404 "no such network" DELETE /networks/nosuch
bad_http "connect unknown container" 404 "no such container" POST /networks/n1/connect '{"Container":"nosuch"}'
bad_http "connect to unknown network" 404 "no such network" POST /networks/nosuch/connect '{"Container":"a"}'
bad_http "disconnect unknown container" 404 "no such container" POST /networks/n1/disconnect '{"Container":"nosuch"}'
bad_http "GET unknown container" 404 "no such container" GET /containers/nosuch/json
bad_http "DELETE unknown container" 404 "no such container" DELETE /containers/nosuch

say "# duplicates and names"
bad "duplicate network name" "network with name n1 already exists" network create --subnet 10.97.0.0/24 n1
bad "duplicate container name" 'container name "a" is already in use' run -d --name a busybox true
bad "network name with a space" 'invalid network name "a b"' network create "a b"
bad "network name starting with -" 'invalid network name "-x"' network create -- -x
bad "very long network name" "at most 127" network create "$long"
bad "container name with a space" 'invalid container name "a b"' run -d --name "a b" busybox true
bad "very long container name" "at most" run -d --name "$long" busybox true
bad_http "duplicate network name" 409 "already exists" POST /networks/create '{"Name":"n1"}'
bad_http "duplicate container name" 409 "already in use" POST '/containers/create?name=a' '{"Image":"busybox"}'
bad_http "container name starting with -" 400 'invalid container name "-x"' POST '/containers/create?name=-x' '{}'

say "# subnets"
bad "subnet overlapping another network" 'overlaps with network "n1"' network create --subnet 10.90.0.0/16 ov
bad "subnets overlapping within one request" "overlap" \
	network create --subnet 10.93.0.0/24 --subnet 10.93.0.128/25 ov
bad "prefix /33" "10.0.0.0/33" network create --subnet 10.0.0.0/33 bad
bad "octet 300" "300.1.1.0/24" network create --subnet 300.1.1.0/24 bad
bad "IPv6 prefix /129" "fd00::/129" network create --ipv6 --subnet fd00::/129 bad
bad "host bits set" "host bits" network create --subnet 10.94.0.1/24 bad
bad "gateway outside the subnet" "10.95.0.1" network create --subnet 10.94.0.0/24 --gateway 10.95.0.1 bad
bad "ip-range outside the subnet" "10.95.0.0/25" network create --subnet 10.94.0.0/24 --ip-range 10.95.0.0/25 bad
bad "IPv6 subnet without --ipv6" "--ipv6" network create --subnet fd00:94::/64 bad
bad_http "overlapping subnet" 409 "overlaps" POST /networks/create \
	'{"Name":"x","IPAM":{"Config":[{"Subnet":"10.90.0.0/16"}]}}'
bad_http "invalid CIDR" 400 "10.0.0.0/33" POST /networks/create '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.0.0.0/33"}]}}'
bad_http "gateway outside the subnet" 400 "gateway 10.95.0.1 is not inside subnet" POST /networks/create \
	'{"Name":"x","IPAM":{"Config":[{"Subnet":"10.94.0.0/24","Gateway":"10.95.0.1"}]}}'
bad_http "ip-range outside the subnet" 400 "ip-range 10.95.0.0/25 is not inside subnet" POST /networks/create \
	'{"Name":"x","IPAM":{"Config":[{"Subnet":"10.94.0.0/24","IPRange":"10.95.0.0/25"}]}}'

say "# static addresses"
bad "static IP taken by another container" "10.90.0.10 is already in use" \
	run -d --name z --network n1 --ip 10.90.0.10 busybox sleep 1d
bad "static IP taken by the gateway" "10.90.0.1" run -d --name z --network n1 --ip 10.90.0.1 busybox sleep 1d
bad "static IP outside the subnet" "10.99.0.5 is outside" run -d --name z --network n1 --ip 10.99.0.5 busybox sleep 1d
bad "static IPv6 on a non-IPv6 network" "does not have IPv6 enabled" \
	run -d --name z --network n1 --ip6 fd00:91::5 busybox sleep 1d
bad "connect with a static IP taken by the gateway" "10.91.0.1" network connect --ip 10.91.0.1 n6 a
bad "connect with a static IP taken by b" "is already in use" network connect --ip "$(ctr_ip b n6)" n6 a
bad "connect with a static IP outside the subnet" "10.90.0.10 is outside" network connect --ip 10.90.0.10 n6 a
bad "connect with a static IPv6 to a non-IPv6 network" "does not have IPv6 enabled" \
	network connect --ip6 fd00:91::5 nb a
bad_http "static IP taken" 409 "already in use" POST '/containers/create?name=q' \
	'{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"n1":{"IPAMConfig":{"IPv4Address":"10.90.0.1"}}}}}'
bad_http "second network of a create fails" 400 "outside the subnets" POST '/containers/create?name=q' \
	'{"Image":"busybox","HostConfig":{"NetworkMode":"n1"},"NetworkingConfig":{"EndpointsConfig":{"n6":{"IPAMConfig":{"IPv4Address":"10.90.0.99"}}}}}'

say "# malformed requests"
bad_http "malformed JSON" 400 "malformed JSON" POST /networks/create '{"Name":'
bad_http "Name is a number" 400 "field Name must be a string" POST /networks/create '{"Name": 5}'
bad_http "body is an array" 400 "JSON object" POST /networks/create '[1]'
bad_http "EnableIPv6 is a string" 400 "EnableIPv6 must be a boolean" POST /networks/create '{"Name":"x","EnableIPv6":"yes"}'
bad_http "Container is a number" 400 "field Container must be a string" POST /networks/n1/connect '{"Container":5}'
bad_http "malformed JSON on container create" 400 "malformed JSON" POST '/containers/create?name=q' '{"Image":'
head -c $((1024 * 1024 + 4096)) /dev/zero | tr '\0' A >"$BT_DIR/pad"
{ printf '{"Name":"big","Labels":{"x":"'; cat "$BT_DIR/pad"; printf '"}}'; } >"$BT_DIR/big.json"
bad_http "body over 1 MiB" 413 "1 MiB" POST /networks/create "@$BT_DIR/big.json"
bad_http "body over 1 MiB on container create" 413 "1 MiB" POST '/containers/create?name=big' "@$BT_DIR/big.json"

say "# state conflicts"
bad "exec into a container that is not running" "container s is not running" exec s true
bad "connect to a network twice" "already connected" network connect n1 a
bad "connect a stopped container twice" "already connected" network connect n1 s
bad "disconnect a container not connected" "not connected" network disconnect nb a
bad "network rm of a network with containers" "connected container" network rm n1
bad "rm of a running container" "is running" rm a
bad_http "connect twice" 409 "already connected" POST /networks/n1/connect '{"Container":"a"}'
bad_http "network rm with containers" 409 "connected container" DELETE /networks/n1
bad_http "kill a container that is not running" 409 "not running" POST /containers/s/kill

say "# driver options"
bad "unknown driver" 'unknown network driver "nosuchdrv"' network create -d nosuchdrv bad
bad "MTU not a number" "mtu" network create -o com.docker.network.driver.mtu=abc bad
bad "MTU negative" "mtu" network create -o com.docker.network.driver.mtu=-5 bad
bad "MTU too large" "mtu" network create -o com.docker.network.driver.mtu=100000 bad
bad "bridge name already used by another network" "btbad0" \
	network create --subnet 10.96.0.0/24 -o com.docker.network.bridge.name=btbad0 bad
bad "bridge name too long" "com.docker.network.bridge.name" \
	network create --subnet 10.96.0.0/24 -o com.docker.network.bridge.name=abcdefghijklmnopq bad
bad_http "unknown driver" 400 "nosuchdrv" POST /networks/create '{"Name":"x","Driver":"nosuchdrv"}'

say "# nothing leaked in memory either"
check "create tmp" berth network create --subnet 10.98.0.0/24 tmp
check_err "a create referencing tmp fails" "outside" "$BERTH" run -d --name z --network tmp --ip 10.99.0.9 busybox true
check_err "a connect to tmp fails" "outside" "$BERTH" network connect --ip 10.99.0.9 tmp a
check "tmp has no endpoint left: it can be removed" berth network rm tmp
check "the failed names are free: a network named bad can be created" berth network create --subnet 10.96.0.0/24 bad
check "a container named z can be run on n1" berth run -d --name z --network n1 busybox sleep 1d
check "z got an address that was not taken" bash -c "[ \$(ctr_ip z n1) != 10.90.0.10 ]"
check_err "an invalid --dns is refused" "invalid --dns" berth run -d --name baddns --dns 1.2.3 busybox true
check "and leaves no container" bash -c "! berth inspect baddns >/dev/null 2>&1"
bt_check_consistent "at the end"
bt_summary
