#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input: every invalid request fails with a 4xx whose message names the offending field (or
# object), the reply is valid JSON in valid UTF-8 even when the request was not UTF-8, and nothing
# changes: API views, the store, the host's interfaces, addresses and routes, berth's nftables
# ruleset and the namespace files are identical before and after each row.
#
# The HTTP rows are one table: `row DESC STATUS FIELD METHOD PATH [BODY [CURL-ARGS...]]`
# (BODY "@file" reads a file; bytes that are not UTF-8 are written with $'\xff'). The CLI rows
# (`bad DESC WANT BERTH-ARGS...`) check that the CLI shows the same errors.
. "$(dirname "$0")/lib.sh"
bt_setup

check "create n1" berth network create --subnet 10.90.0.0/24 n1
check "create dual-stack n6" berth network create --ipv6 --subnet 10.91.0.0/24 --subnet fd00:91::/64 n6
check "create nb with bridge name btbad0" \
	berth network create --subnet 10.92.0.0/24 -o com.docker.network.bridge.name=btbad0 nb
check "run a on n1 with 10.90.0.10" berth run -d --name a --network n1 --ip 10.90.0.10 busybox sleep 1d
check "run b on n6" berth run -d --name b --network n6 busybox sleep 1d
check "create s (not running) on n1" berth create --name s --network n1 busybox sleep 1d

# snap FILE: what bt_snapshot takes (API state, store, host links and addresses) plus the
# host's routes, the whole nftables ruleset of the host namespace and berth's namespace and
# container files. The API state is the inspect view of every network and container (the lists
# are projections of it) as berthd prints it (its key order is fixed): no jq, no CLI, so a
# snapshot costs a fraction of bt_snapshot's and every row can take one.
api_get() { curl -sf --unix-socket "$BT_DIR/berth.sock" "http://x$1"; echo; }
snap() {
	local t id
	{
		for t in networks containers; do
			for id in $(sqlite3 "$BT_DIR/root/berth.db" "select id from $t order by 1"); do
				api_get "/$t/$id$([ $t = containers ] && echo /json)"
			done
		done
		bt_db_dump
		echo "## links"; bt_host_links
		echo "## addrs"; inhost ip -br addr
		echo "## routes"; inhost ip route; inhost ip -6 route
		echo "## nft"; inhost nft list ruleset
		echo "## files"; ls "$BT_DIR/run/netns" "$BT_DIR/root/containers"
	} >"$1" 2>&1
}
snap "$BT_DIR/snap0"
check "the snapshot is complete" bash -c "grep -q '^table inet berth' '$BT_DIR/snap0' &&
	grep -q '\"Name\":\"nb\"' '$BT_DIR/snap0' && grep -q '\"Name\":\"/s\"' '$BT_DIR/snap0'"

# unchanged DESC: the world is as in snap0.
unchanged() {
	snap "$BT_DIR/snap1"
	if diff "$BT_DIR/snap0" "$BT_DIR/snap1" >"$BT_DIR/snap.diff"; then
		ok "$1: nothing changed"
	else
		ko "$1: the failed request changed the state"
		diff <(jq -S . "$BT_DIR/snap0" 2>/dev/null || cat "$BT_DIR/snap0") \
			<(jq -S . "$BT_DIR/snap1" 2>/dev/null || cat "$BT_DIR/snap1") | cut -c1-200 | head -20 |
			sed 's/^/       | /'
		sed 's/^/       | /' "$BT_DIR/snap.diff" | cut -c1-200 | grep -v '^       | [<>] {' | head -20
		# Remove what the rows may have created, so that one wrong success does not change
		# the outcome of the rows after it, and report each remaining change once.
		timeout 30 "$BERTH" rm -f q z big >/dev/null 2>&1
		timeout 30 "$BERTH" network rm x bad ov big >/dev/null 2>&1
		snap "$BT_DIR/snap0"
	fi
}
# bad DESC WANT BERTH-ARGS...: the CLI command fails, its error mentions WANT, nothing changes.
bad() {
	local desc=$1 want=$2; shift 2
	check_err "$desc" "$want" timeout 30 "$BERTH" "$@"
	unchanged "$desc"
}
# http METHOD PATH [BODY [CURL-ARGS...]]: the status; the reply goes to $BT_DIR/http.out.
http() {
	local args=(-s -o "$BT_DIR/http.out" -w '%{http_code}' -X "$1" --path-as-is
		    --unix-socket "$BT_DIR/berth.sock")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "${@:4}" "http://x$2"
}
# reply_check FIELD: "ok" when the reply is a JSON object whose message names FIELD
# (case-insensitive), "field" when it does not name it, "json" when it is not such JSON or not
# valid UTF-8 (jq alone would accept bytes that are not UTF-8).
reply_check() {
	iconv -f UTF-8 -t UTF-8 "$BT_DIR/http.out" >/dev/null 2>&1 || { echo json; return; }
	jq -r --arg f "$1" 'if type != "object" or (.message | type) != "string" then "json"
		elif .message | ascii_downcase | contains($f | ascii_downcase) then "ok"
		else "field" end' "$BT_DIR/http.out" 2>/dev/null || echo json
}
# row DESC STATUS FIELD METHOD PATH [BODY [CURL-ARGS...]]: the API answers STATUS with a
# message naming FIELD, in valid JSON, and nothing changes.
row() {
	local desc=$1 status=$2 field=$3 got res=; shift 3
	got=$(http "$@")
	[ "$got" = "$status" ] && res=$(reply_check "$field")
	case $res in
	ok) ok "$desc: $status naming $field";;
	field) ko "$desc: the message does not name \"$field\"";;
	json) ko "$desc: the reply is not valid JSON in UTF-8";;
	*) ko "$desc: want $status naming \"$field\", got $got";;
	esac
	[ "$res" = ok ] || head -c 300 "$BT_DIR/http.out" | cat -v | sed 's/^/       | /'
	unchanged "$desc"
}
long=$(printf 'x%.0s' $(seq 300))
net() { printf '{"Name":"x","IPAM":{"Config":[{"Subnet":"%s"}]}}' "$1"; }
net6() { printf '{"Name":"x","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"%s"}]}}' "$1"; }
ctr() { printf '{"Image":"busybox","HostConfig":%s}' "$1"; }
con() { printf '{"Container":"a","EndpointConfig":%s}' "$1"; }

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
row "GET unknown network"            404 "no such network"   GET /networks/nosuch
row "DELETE unknown network"         404 "no such network"   DELETE /networks/nosuch
row "connect unknown container"      404 "no such container" POST /networks/n1/connect '{"Container":"nosuch"}'
row "connect to unknown network"     404 "no such network"   POST /networks/nosuch/connect '{"Container":"a"}'
row "disconnect unknown container"   404 "no such container" POST /networks/n1/disconnect '{"Container":"nosuch"}'
row "GET unknown container"          404 "no such container" GET /containers/nosuch/json
row "DELETE unknown container"       404 "no such container" DELETE /containers/nosuch
row "unknown path"                   404 "page not found"    GET /nosuch
row "wrong method"                   405 "PUT"               PUT /networks/n1

say "# request bodies"
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' A >"$BT_DIR/pad"
{ printf '{"Name":"big","Labels":{"x":"'; cat "$BT_DIR/pad"; printf '"}}'; } >"$BT_DIR/big.json"
python3 -c 'print("[" * 10000 + "]" * 10000)' >"$BT_DIR/deep.json"
python3 -c 'print("{\"Name\":\"x\",\"Labels\":" + "{\"a\":" * 10000 + "\"v\"" + "}" * 10001)' >"$BT_DIR/deep2.json"
printf '{"Name":"x\0y"}' >"$BT_DIR/nul.json"
row "truncated body"                 400 "body" POST /networks/create '{"Name":'
row "body cut inside a string"       400 "body" POST /networks/create '{"Name":"ab'
row "trailing garbage"               400 "body" POST /networks/create '{"Name":"x"} x'
row "empty body"                     400 "body" POST /networks/create
row "body is an array"               400 "body" POST /networks/create '[1]'
row "body is a string"               400 "body" POST /networks/create '"x"'
row "truncated connect body"         400 "body" POST /networks/nb/connect '{"Container":"a"'
row "truncated container body"       400 "body" POST '/containers/create?name=q' '{"Image":'
row "body of 2 MiB"                  413 "body" POST /networks/create "@$BT_DIR/big.json"
row "body of 2 MiB, chunked"         413 "body" POST /networks/create "@$BT_DIR/big.json" -H 'Transfer-Encoding: chunked'
row "body of 2 MiB on container create" 413 "body" POST '/containers/create?name=big' "@$BT_DIR/big.json"
row "arrays nested 10,000 deep"      400 "body" POST /networks/create "@$BT_DIR/deep.json"
row "Labels nested 10,000 deep"      400 "body" POST /networks/create "@$BT_DIR/deep2.json"
row "a NUL byte in the body"         400 "body" POST /networks/create "@$BT_DIR/nul.json"
row "a \\u0000 escape in Name"       400 "body" POST /networks/create '{"Name":"x\u0000y"}'

say "# wrong JSON types"
row "Name is a number"               400 "Name"       POST /networks/create '{"Name":5}'
row "Name is an array"               400 "Name"       POST /networks/create '{"Name":["x"]}'
row "Driver is an object"            400 "Driver"     POST /networks/create '{"Name":"x","Driver":{}}'
row "Internal is a number"           400 "Internal"   POST /networks/create '{"Name":"x","Internal":1}'
row "EnableIPv6 is a string"         400 "EnableIPv6" POST /networks/create '{"Name":"x","EnableIPv6":"yes"}'
row "Labels is an array"             400 "Labels"     POST /networks/create '{"Name":"x","Labels":[]}'
row "a label is a number"            400 "Labels"     POST /networks/create '{"Name":"x","Labels":{"a":1}}'
row "Options is a string"            400 "Options"    POST /networks/create '{"Name":"x","Options":"o"}'
row "IPAM is an array"               400 "IPAM"       POST /networks/create '{"Name":"x","IPAM":[]}'
row "IPAM.Config is a string"        400 "IPAM.Config" POST /networks/create '{"Name":"x","IPAM":{"Config":"c"}}'
row "an IPAM.Config entry is a number" 400 "IPAM.Config" POST /networks/create '{"Name":"x","IPAM":{"Config":[5]}}'
row "Subnet is a number"             400 "Subnet"     POST /networks/create '{"Name":"x","IPAM":{"Config":[{"Subnet":5}]}}'
row "Gateway is a boolean"           400 "Gateway"    POST /networks/create '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.93.0.0/24","Gateway":true}]}}'
row "AuxiliaryAddresses holds a number" 400 "AuxiliaryAddresses" POST /networks/create '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.93.0.0/24","AuxiliaryAddresses":{"h":5}}]}}'
row "Container is a number"          400 "Container"  POST /networks/nb/connect '{"Container":5}'
row "Container is missing"           400 "Container"  POST /networks/nb/connect '{}'
row "EndpointConfig is a string"     400 "EndpointConfig" POST /networks/nb/connect "$(con '"e"')"
row "Aliases is a number"            400 "Aliases"    POST /networks/nb/connect "$(con '{"Aliases":5}')"
row "IPAMConfig is an array"         400 "IPAMConfig" POST /networks/nb/connect "$(con '{"IPAMConfig":[]}')"
row "IPv4Address is a number"        400 "IPv4Address" POST /networks/nb/connect "$(con '{"IPAMConfig":{"IPv4Address":5}}')"
row "Image is a number"              400 "Image"      POST '/containers/create?name=q' '{"Image":5}'
row "Cmd is a string"                400 "Cmd"        POST '/containers/create?name=q' '{"Image":"busybox","Cmd":"sh"}'
row "Env holds a number"             400 "Env"        POST '/containers/create?name=q' '{"Image":"busybox","Env":[5]}'
row "Hostname is a number"           400 "Hostname"   POST '/containers/create?name=q' '{"Image":"busybox","Hostname":5}'
row "HostConfig is a number"         400 "HostConfig" POST '/containers/create?name=q' "$(ctr 5)"
row "NetworkMode is a boolean"       400 "NetworkMode" POST '/containers/create?name=q' "$(ctr '{"NetworkMode":true}')"
row "Dns holds a number"             400 "Dns"        POST '/containers/create?name=q' "$(ctr '{"Dns":[5]}')"
row "a PortBindings entry is a number" 400 "PortBindings" POST '/containers/create?name=q' "$(ctr '{"PortBindings":{"80/tcp":5}}')"
row "HostPort is a number"           400 "HostPort"   POST '/containers/create?name=q' "$(ctr '{"PortBindings":{"80/tcp":[{"HostPort":8080}]}}')"

say "# invalid UTF-8 (escaped in the message, never echoed raw)"
row "Name not UTF-8"                 400 "Name"       POST /networks/create $'{"Name":"x\xff"}'
row "Name with an overlong /"        400 "Name"       POST /networks/create $'{"Name":"a\xc0\xafb"}'
row "Name with a surrogate"          400 "Name"       POST /networks/create $'{"Name":"\xed\xa0\x80"}'
row "a label value not UTF-8"        400 "Labels.a"   POST /networks/create $'{"Name":"x","Labels":{"a":"\xff\xfe"}}'
row "a label name not UTF-8"         400 "Labels"     POST /networks/create $'{"Name":"x","Labels":{"\xff":"v"}}'
row "Subnet not UTF-8"               400 "Subnet"     POST /networks/create $'{"Name":"x","IPAM":{"Config":[{"Subnet":"10.93.0.0/2\xc3"}]}}'
row "bridge name not UTF-8"          400 "com.docker.network.bridge.name" POST /networks/create $'{"Name":"x","Options":{"com.docker.network.bridge.name":"br\xff"}}'
row "Container not UTF-8"            400 "Container"  POST /networks/nb/connect $'{"Container":"a\xff"}'
row "an alias not UTF-8"             400 "Aliases"    POST /networks/nb/connect "$(con $'{"Aliases":["al\xff"]}')"
row "Image not UTF-8"                400 "Image"      POST '/containers/create?name=q' $'{"Image":"busy\xffbox"}'
row "network reference not UTF-8"    400 "path parameter" GET /networks/x%FF
row "container reference not UTF-8"  400 "path parameter" POST /containers/a%C3/start
row "container name not UTF-8"       400 "name"       POST '/containers/create?name=q%FF' '{}'
row "DNS lookup name not UTF-8"      400 "name"       GET '/dns/lookup?name=web%FF'
row "signal not UTF-8"               400 "signal"     POST '/containers/a/kill?signal=%FF'
row "filters not UTF-8"              400 "filters"    GET '/networks?filters=%7B%22name%22%3A%5B%22%FF%22%5D%7D'
row "raw bytes in the path of a 405" 405 "PUT"        PUT $'/networks/x\xff'

say "# names"
row "network name with /"            400 "network name" POST /networks/create '{"Name":"a/b"}'
row "network name .."                400 "network name" POST /networks/create '{"Name":".."}'
row "network name with a space"      400 "network name" POST /networks/create '{"Name":"a b"}'
row "network name of 300 characters" 400 "network name" POST /networks/create "{\"Name\":\"$long\"}"
row "network name starting with -"   400 "network name" POST /networks/create '{"Name":"-x"}'
row "network name with a control character" 400 "network name" POST /networks/create '{"Name":"a\u0001b"}'
row "network name missing"           400 "name"       POST /networks/create '{"Driver":"bridge"}'
row "container name with /"          400 "container name" POST '/containers/create?name=a%2Fb' '{}'
row "container name .."              400 "container name" POST '/containers/create?name=..' '{}'
row "container name with a space"    400 "container name" POST '/containers/create?name=a%20b' '{}'
row "container name of 300 characters" 400 "container name" POST "/containers/create?name=$long" '{}'
row "alias with /"                   400 "alias"      POST /networks/nb/connect "$(con '{"Aliases":["a/b"]}')"
row "alias .."                       400 "alias"      POST /networks/nb/connect "$(con '{"Aliases":[".."]}')"
row "alias of 300 characters"        400 "alias"      POST /networks/nb/connect "$(con "{\"Aliases\":[\"$long\"]}")"
row "hostname with /"                400 "hostname"   POST '/containers/create?name=q' '{"Image":"busybox","Hostname":"a/b"}'
row "hostname of 300 characters"     400 "hostname"   POST '/containers/create?name=q' "{\"Image\":\"busybox\",\"Hostname\":\"$long\"}"
row "duplicate network name"         409 "n1"         POST /networks/create '{"Name":"n1"}'
row "duplicate container name"       409 "container name" POST '/containers/create?name=a' '{"Image":"busybox"}'
bad "duplicate network name" "network with name n1 already exists" network create --subnet 10.97.0.0/24 n1
bad "duplicate container name" 'container name "a" is already in use' run -d --name a busybox true
bad "network name with a space" 'invalid network name "a b"' network create "a b"
bad "network name starting with -" 'invalid network name "-x"' network create -- -x
bad "very long network name" "at most 127" network create "$long"
bad "container name with a space" 'invalid container name "a b"' run -d --name "a b" busybox true
bad "very long container name" "at most" run -d --name "$long" busybox true
bad "network name not UTF-8" 'field Name is not valid UTF-8' network create $'x\xff'

say "# interface names"
bn() { printf '{"Name":"x","Options":{"com.docker.network.bridge.name":"%s"}}' "$1"; }
mv() { printf '{"Name":"x","Driver":"macvlan","Options":{"parent":"%s"}}' "$1"; }
row "bridge name of 16 characters"   400 "com.docker.network.bridge.name" POST /networks/create "$(bn abcdefghijklmnop)"
row "bridge name of 300 characters"  400 "com.docker.network.bridge.name" POST /networks/create "$(bn "$long")"
row "bridge name with /"             400 "com.docker.network.bridge.name" POST /networks/create "$(bn a/b)"
row "bridge name .."                 400 "com.docker.network.bridge.name" POST /networks/create "$(bn ..)"
row "bridge name with a space"       400 "com.docker.network.bridge.name" POST /networks/create "$(bn 'a b')"
row "bridge name with a colon"       400 "com.docker.network.bridge.name" POST /networks/create "$(bn a:b)"
row "bridge name of another network" 409 "btbad0"     POST /networks/create "$(bn btbad0)"
row "bridge name of a non-bridge (lo)" 409 "bridge lo" POST /networks/create "$(bn lo)"
row "macvlan parent of 16 characters" 400 "parent"    POST /networks/create "$(mv abcdefghijklmnop)"
row "macvlan parent with /"          400 "parent"     POST /networks/create "$(mv a/b)"
row "macvlan parent that does not exist" 400 "parent" POST /networks/create "$(mv nosuch0)"
row "macvlan VLAN parent over 15 characters" 400 "parent" POST /networks/create "$(mv nosuch0123456.7)"
bad "bridge name too long" "com.docker.network.bridge.name" \
	network create --subnet 10.96.0.0/24 -o com.docker.network.bridge.name=abcdefghijklmnopq bad
bad "bridge name already used by another network" "btbad0" \
	network create --subnet 10.96.0.0/24 -o com.docker.network.bridge.name=btbad0 bad

say "# subnets and addresses"
row "subnet 0.0.0.0/0"               400 "subnet"  POST /networks/create "$(net 0.0.0.0/0)"
row "subnet ::/0"                    400 "subnet"  POST /networks/create "$(net6 ::/0)"
row "subnet ::/0 without EnableIPv6" 400 "subnet"  POST /networks/create "$(net ::/0)"
row "subnet /32"                     400 "subnet"  POST /networks/create "$(net 10.93.0.0/32)"
row "subnet /31"                     400 "subnet"  POST /networks/create "$(net 10.93.0.0/31)"
row "subnet /128"                    400 "subnet"  POST /networks/create "$(net6 fd00:93::/128)"
row "subnet /127"                    400 "subnet"  POST /networks/create "$(net6 fd00:93::/127)"
row "subnet ::ffff:10.72.0.0/120 (v4-mapped)" 400 "subnet" POST /networks/create "$(net6 ::ffff:10.72.0.0/120)"
row "subnet ::ffff:0:0/96 (v4-mapped)" 400 "subnet" POST /networks/create "$(net6 ::ffff:0:0/96)"
row "subnet ::/64 (holds ::1)"       400 "subnet"  POST /networks/create "$(net6 ::/64)"
row "subnet ff00::/64 (multicast)"   400 "subnet"  POST /networks/create "$(net6 ff00::/64)"
row "subnet fe80::/64 (link-local)"  400 "subnet"  POST /networks/create "$(net6 fe80::/64)"
row "subnet 127.0.0.0/8 (loopback)"  400 "subnet"  POST /networks/create "$(net 127.0.0.0/8)"
row "subnet 224.0.0.0/24 (multicast)" 400 "subnet" POST /networks/create "$(net 224.0.0.0/24)"
row "subnet 0.0.0.0/8"               400 "subnet"  POST /networks/create "$(net 0.0.0.0/8)"
row "subnet /33"                     400 "subnet"  POST /networks/create "$(net 10.0.0.0/33)"
row "subnet /129"                    400 "subnet"  POST /networks/create "$(net6 fd00::/129)"
row "subnet with a prefix 024"       400 "subnet"  POST /networks/create "$(net 10.93.0.0/024)"
row "subnet without a prefix"        400 "subnet"  POST /networks/create "$(net 10.93.0.0)"
row "subnet with an empty prefix"    400 "subnet"  POST /networks/create "$(net 10.93.0.0/)"
row "subnet with octet 300"          400 "subnet"  POST /networks/create "$(net 300.1.1.0/24)"
row "subnet with host bits"          400 "subnet"  POST /networks/create "$(net 10.93.0.1/24)"
row "empty subnet"                   400 "subnet"  POST /networks/create "$(net '')"
row "IPv6 subnet without EnableIPv6" 400 "subnet"  POST /networks/create "$(net fd00:93::/64)"
row "subnet overlapping n1"          409 "subnet"  POST /networks/create "$(net 10.90.0.0/16)"
row "subnets overlapping each other" 400 "subnets" POST /networks/create '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.93.0.0/24"},{"Subnet":"10.93.0.128/25"}]}}'
sub() { printf '{"Name":"x","IPAM":{"Config":[{"Subnet":"10.94.0.0/24",%s}]}}' "$1"; }
row "ip-range 0.0.0.0/0"             400 "ip-range" POST /networks/create "$(sub '"IPRange":"0.0.0.0/0"')"
row "ip-range outside the subnet"    400 "ip-range" POST /networks/create "$(sub '"IPRange":"10.95.0.0/25"')"
row "ip-range v4-mapped"             400 "ip-range" POST /networks/create "$(sub '"IPRange":"::ffff:10.94.0.0/120"')"
row "gateway outside the subnet"     400 "gateway"  POST /networks/create "$(sub '"Gateway":"10.95.0.1"')"
row "gateway v4-mapped"              400 "gateway"  POST /networks/create "$(sub '"Gateway":"::ffff:10.94.0.1"')"
row "gateway with a prefix"          400 "gateway"  POST /networks/create "$(sub '"Gateway":"10.94.0.1/24"')"
row "gateway = network address"      400 "gateway"  POST /networks/create "$(sub '"Gateway":"10.94.0.0"')"
row "gateway = broadcast address"    400 "gateway"  POST /networks/create "$(sub '"Gateway":"10.94.0.255"')"
row "auxiliary address v4-mapped"    400 "auxiliary address" POST /networks/create "$(sub '"AuxiliaryAddresses":{"h":"::ffff:10.94.0.5"}')"
row "IPv4Address v4-mapped"          400 "IPv4Address" POST /networks/nb/connect "$(con '{"IPAMConfig":{"IPv4Address":"::ffff:10.92.0.7"}}')"
row "IPv4Address = network address" 400 "IPv4Address" POST /networks/nb/connect "$(con '{"IPAMConfig":{"IPv4Address":"10.92.0.0"}}')"
row "IPv4Address = gateway"          409 "IPv4Address" POST /networks/nb/connect "$(con '{"IPAMConfig":{"IPv4Address":"10.92.0.1"}}')"
row "IPv4Address outside"            400 "IPv4Address" POST /networks/nb/connect "$(con '{"IPAMConfig":{"IPv4Address":"10.99.0.5"}}')"
row "IPv6Address on an IPv4 network" 400 "IPv6Address" POST /networks/nb/connect "$(con '{"IPAMConfig":{"IPv6Address":"fd00:92::5"}}')"
row "IPv6Address v4-mapped"          400 "IPv6Address" POST /networks/n6/connect '{"Container":"a","EndpointConfig":{"IPAMConfig":{"IPv6Address":"::ffff:10.91.0.7"}}}'
row "IPv4Address taken"              409 "IPv4Address" POST '/containers/create?name=q' \
	'{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"n1":{"IPAMConfig":{"IPv4Address":"10.90.0.10"}}}}}'
row "second network of a create fails" 400 "IPv4Address" POST '/containers/create?name=q' \
	'{"Image":"busybox","HostConfig":{"NetworkMode":"n1"},"NetworkingConfig":{"EndpointsConfig":{"n6":{"IPAMConfig":{"IPv4Address":"10.90.0.99"}}}}}'
bad "subnet overlapping another network" 'overlaps with network "n1"' network create --subnet 10.90.0.0/16 ov
bad "subnets overlapping within one request" "overlap" \
	network create --subnet 10.93.0.0/24 --subnet 10.93.0.128/25 ov
bad "prefix /33" "10.0.0.0/33" network create --subnet 10.0.0.0/33 bad
bad "subnet ::/0" "whole address space" network create --ipv6 --subnet ::/0 bad
bad "v4-mapped subnet" "the IPv4 subnet is 10.72.0.0/24" network create --ipv6 --subnet ::ffff:10.72.0.0/120 bad
bad "host bits set" "host bits" network create --subnet 10.94.0.1/24 bad
bad "gateway outside the subnet" "10.95.0.1" network create --subnet 10.94.0.0/24 --gateway 10.95.0.1 bad
bad "ip-range outside the subnet" "10.95.0.0/25" network create --subnet 10.94.0.0/24 --ip-range 10.95.0.0/25 bad
bad "IPv6 subnet without --ipv6" "--ipv6" network create --subnet fd00:94::/64 bad
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

say "# published ports"
pb() { ctr "{\"PortBindings\":{\"$1\":[$2]}}"; }
row "HostIp v4-mapped"               400 "HostIp"     POST '/containers/create?name=q' "$(pb 80/tcp '{"HostIp":"::ffff:127.0.0.1","HostPort":"8080"}')"
row "HostIp not an address"          400 "HostIp"     POST '/containers/create?name=q' "$(pb 80/tcp '{"HostIp":"1.2.3","HostPort":"8080"}')"
row "HostIp not of this host"        400 "host address" POST '/containers/create?name=q' "$(pb 80/tcp '{"HostIp":"192.0.2.99","HostPort":"8080"}')"
row "HostPort 99999"                 400 "HostPort"   POST '/containers/create?name=q' "$(pb 80/tcp '{"HostPort":"99999"}')"
row "HostPort range reversed"        400 "HostPort"   POST '/containers/create?name=q' "$(pb 80/tcp '{"HostPort":"8010-8000"}')"
row "container port 0"               400 "container port" POST '/containers/create?name=q' "$(pb 0/tcp '{"HostPort":"8080"}')"
row "unknown protocol"               400 "protocol"   POST '/containers/create?name=q' "$(pb 80/icmp '{"HostPort":"8080"}')"

say "# query parameters"
row "stop ?t=abc"                    400 "query parameter t" POST '/containers/a/stop?t=abc'
row "stop ?t over a day"             400 "query parameter t" POST '/containers/a/stop?t=86401'
row "kill ?signal=BOGUS"             400 "signal"     POST '/containers/a/kill?signal=BOGUS'
row "kill ?signal=0"                 400 "signal"     POST '/containers/a/kill?signal=0'
row "ps ?all=maybe"                  400 "all"        GET '/containers/json?all=maybe'
row "rm ?force=maybe"                400 "force"      DELETE '/containers/s?force=maybe'
row "logs ?follow=maybe"             400 "follow"     GET '/containers/a/logs?follow=maybe'
row "filters not JSON"               400 "filters"    GET '/networks?filters=%5B1'
row "a bad URL escape"               400 "name"       POST '/containers/create?name=a%zz' '{}'
row "an encoded / in a reference"    400 "path parameter" DELETE /networks/a%2Fb
row "resize ?h=abc"                  400 "h and w"    POST '/containers/a/resize?h=abc&w=80'
row "resize ?w over 65535"           400 "h and w"    POST '/containers/a/resize?h=24&w=70000'
row "attach ?stdin=maybe"            400 "stdin"      POST '/containers/a/attach?stream=1&stdin=maybe'
row "attach ?detachKeys=ctrl-1"      400 "detach keys" POST '/containers/a/attach?stream=1&detachKeys=ctrl-1'
row "exec without Cmd"               400 "exec command" POST /containers/a/exec '{}'
row "exec Cmd not an array"          400 "Cmd"        POST /containers/a/exec '{"Cmd":"ls"}'
row "exec DetachKeys bad"            400 "detach keys" POST /containers/a/exec '{"Cmd":["true"],"DetachKeys":"ctrl-1"}'
row "start of an unknown exec"       404 "no such exec" POST /exec/nosuch000000/start '{}'
bad "exec -it --detach-keys bad"     "detach keys" exec -it --detach-keys ctrl-1 a true

say "# state conflicts"
bad "exec into a container that is not running" "container s is not running" exec s true
bad "connect to a network twice" "already connected" network connect n1 a
bad "connect a stopped container twice" "already connected" network connect n1 s
bad "disconnect a container not connected" "not connected" network disconnect nb a
bad "network rm of a network with containers" "connected container" network rm n1
bad "rm of a running container" "is running" rm a
row "connect twice"                  409 "already connected" POST /networks/n1/connect '{"Container":"a"}'
row "network rm with containers"     409 "connected container" DELETE /networks/n1
row "kill a container that is not running" 409 "not running" POST /containers/s/kill
row "exec in a container that is not running" 409 "not running" POST /containers/s/exec '{"Cmd":["true"]}'
row "resize a container that is not running" 409 "not running" POST '/containers/s/resize?h=24&w=80'
bad "attach to a container that is not running" "start it first" attach s

say "# driver options"
bad "unknown driver" 'unknown network driver "nosuchdrv"' network create -d nosuchdrv bad
bad "MTU not a number" "mtu" network create -o com.docker.network.driver.mtu=abc bad
bad "MTU negative" "mtu" network create -o com.docker.network.driver.mtu=-5 bad
bad "MTU too large" "mtu" network create -o com.docker.network.driver.mtu=100000 bad
row "unknown driver"                 400 "driver"     POST /networks/create '{"Name":"x","Driver":"nosuchdrv"}'
row "MTU not a number"               400 "mtu"        POST /networks/create '{"Name":"x","Options":{"com.docker.network.driver.mtu":"abc"}}'

say "# nothing leaked in memory either"
check "create tmp" berth network create --subnet 10.98.0.0/24 tmp
check_err "a create referencing tmp fails" "outside" "$BERTH" run -d --name z --network tmp --ip 10.99.0.9 busybox true
check_err "a connect to tmp fails" "outside" "$BERTH" network connect --ip 10.99.0.9 tmp a
check "tmp has no endpoint left: it can be removed" berth network rm tmp
check "the failed names are free: a network named bad can be created" berth network create --subnet 10.96.0.0/24 bad
check "a network named x can be created" berth network create --subnet 10.93.0.0/24 x
check "a container named z can be run on n1" berth run -d --name z --network n1 busybox sleep 1d
check "z got an address that was not taken" bash -c "[ \$(ctr_ip z n1) != 10.90.0.10 ]"
check "a container named q can be created" berth create --name q busybox true
check_err "an invalid --dns is refused" "invalid --dns" berth run -d --name baddns --dns 1.2.3 busybox true
check "and leaves no container" bash -c "! berth inspect baddns >/dev/null 2>&1"
check "berthd logged no internal error (5xx)" bash -c "! grep -E 'warn.* (5[0-9][0-9]) ' '$BT_DIR/berthd.log'"
bt_check_consistent "at the end"
bt_summary
