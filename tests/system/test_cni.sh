#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth-cni driven directly as the CNI spec says (CNI_* environment + configuration on stdin),
# for spec 0.4.0, 1.0.0 and 1.1.0 and every command: results checked against the spec's JSON
# shape, the attachment checked in the kernel, in DNS, in `network inspect` and `ps`; chaining
# with the reference portmap and tuning plugins; DEL twice, DEL after the namespace is gone, GC,
# STATUS (berthd stopped: 50; pools exhausted: 51); a berthd restart; the sweep of namespaces
# that vanished; validation of names, type, CNI_IFNAME and the rest.
. "$(dirname "$0")/lib.sh"
CNI=${BERTH_CNI:-$TOP/build/berth-cni}
REF=/usr/lib/cni
[ -x "$REF/portmap" ] || { say "SKIP: containernetworking-plugins is not installed"; exit 77; }
export BERTH_CNI_SWEEP_MS=300
bt_setup

# The namespace a runtime would make: $BT_ID-<name>, path /run/netns/$BT_ID-<name>.
nsp() { echo "/run/netns/$BT_ID-$1"; }
inns() { local n=$1; shift; nsenter --net="$(nsp "$n")" "$@"; }
# conf VERSION [NETWORK] [EXTRA-JSON-MEMBERS]: a berth-cni plugin configuration.
conf() {
	printf '{"cniVersion":"%s","name":"%s","type":"berth-cni","socket":"%s"%s}' \
		"$1" "${2:-cnet}" "$BT_DIR/berth.sock" "${3:+,$3}"
}
# plug CMD NS IFNAME CID [CNI_ARGS] < conf: run the plugin as a runtime would (stdout kept).
plug() {
	local ns=""
	[ -n "$2" ] && ns=$(nsp "$2")
	[ "$2" = - ] && ns=""
	CNI_COMMAND=$1 CNI_NETNS=$ns CNI_IFNAME=$3 CNI_CONTAINERID=$4 CNI_ARGS=${5:-} \
		CNI_PATH=$REF inhost "$CNI"
}
# ref PLUGIN CMD NS IFNAME CID < conf: a reference plugin, same environment.
ref() {
	CNI_COMMAND=$2 CNI_NETNS=$(nsp "$3") CNI_IFNAME=$4 CNI_CONTAINERID=$5 CNI_ARGS="" \
		CNI_PATH=$REF inhost "$REF/$1"
}
# with_prev CONF RESULT-FILE: CONF with prevResult added.
with_prev() { jq -c --slurpfile p "$2" '. + {prevResult: $p[0]}' <<<"$1"; }
# code FILE: the error code of an error object.
code() { jq -r .code "$1"; }
export -f nsp inns conf plug ref with_prev code
export CNI REF

say "# make install"
check "make install DESTDIR=... puts berthd, berth and berth-shim in PREFIX/bin, berth-cni in /opt/cni/bin" bash -c "make -s -C $TOP install DESTDIR=$BT_DIR/inst >/dev/null && test -x $BT_DIR/inst/usr/local/bin/berthd && test -x $BT_DIR/inst/usr/local/bin/berth && test -x $BT_DIR/inst/usr/local/bin/berth-shim && test -x $BT_DIR/inst/opt/cni/bin/berth-cni"
check "CNI_BIN_DIR and PREFIX override them" bash -c "make -s -C $TOP install DESTDIR=$BT_DIR/inst2 PREFIX=/usr CNI_BIN_DIR=/usr/lib/cni >/dev/null && test -x $BT_DIR/inst2/usr/bin/berth && test -x $BT_DIR/inst2/usr/lib/cni/berth-cni"
check "the installed plugin links only libc and cJSON" bash -c "[ \"\$(ldd $BT_DIR/inst/opt/cni/bin/berth-cni | grep -vE 'linux-vdso|ld-linux|libc\\.so|libcjson' | wc -l)\" = 0 ]"

say "# the network and its configuration list"
check "network create --ipv6 cnet" berth network create --ipv6 --subnet 10.77.0.0/24 --subnet fd00:77::/64 cnet
CL=$BT_DIR/cni/cnet.conflist
check "berthd wrote cnet.conflist" test -s "$CL"
check "it hands network cnet to berth-cni with berthd's socket, then tuning" jq -e --arg s "$BT_DIR/berth.sock" \
	'.cniVersion == "1.0.0" and .name == "cnet" and .plugins[0].type == "berth-cni" and .plugins[0].network == "cnet"
	 and .plugins[0].socket == $s and .plugins[0].capabilities == {"portMappings":true,"aliases":true,"ips":true,"mac":true}
	 and .plugins[1].type == "tuning" and (.plugins | length) == 2' "$CL"
check "no list for the predefined networks" bash -c "! ls $BT_DIR/cni | grep -qE '^(bridge|host|none)\\.'"
check "a berth container web on cnet" berth run -d --name web --network cnet busybox httpd -f -p 80

say "# VERSION"
for v in 0.4.0 1.0.0 1.1.0; do
	check "VERSION ($v) lists 0.4.0, 1.0.0 and 1.1.0" bash -c "echo '{\"cniVersion\":\"$v\"}' | CNI_COMMAND=VERSION $CNI | jq -e '.cniVersion == \"$v\" and .supportedVersions == [\"0.4.0\",\"1.0.0\",\"1.1.0\"]'"
done

for v in 0.4.0 1.0.0 1.1.0; do
	n=v${v//./}
	R=$BT_DIR/add-$n.json
	say "# spec $v: ADD, CHECK, DEL (namespace $n)"
	bt_netns $n
	check "ADD ($v)" bash -c "conf $v cnet '\"runtimeConfig\":{\"aliases\":{\"cnet\":[\"al-$n\"]}}' | plug ADD $n eth0 cid-$n 'IgnoreUnknown=1;K8S_POD_NAME=pod-$n;K8S_POD_NAMESPACE=x' > $R"
	check "the result is $v's shape: interfaces, ips with gateways, routes, dns" jq -e --arg v "$v" --arg ns "$(nsp $n)" '
		.cniVersion == $v and (.interfaces | length) >= 1 and .interfaces[0].name == "eth0"
		and .interfaces[0].sandbox == $ns and (.interfaces[0].mac | test("^([0-9a-f]{2}:){5}[0-9a-f]{2}$"))
		and (.interfaces[1:] | all(has("sandbox") | not))
		and (.ips | length) == 2 and (.ips | all(.interface == 0 and (.gateway | length) > 0))
		and (.ips[0].address | startswith("10.77.0.")) and (.ips[0].address | endswith("/24"))
		and (.ips[1].address | startswith("fd00:77::")) and (.ips[1].address | endswith("/64"))
		and (.routes | any(.dst == "0.0.0.0/0" and .gw == "10.77.0.1"))
		and (.routes | any(.dst == "::/0" and .gw == "fd00:77::1"))
		and .dns.nameservers == ["127.0.0.11"]' "$R"
	if [ $v = 0.4.0 ]; then
		check "0.4.0: every ips entry carries its version" jq -e '[.ips[].version] == ["4","6"]' "$R"
	else
		check "$v: no version in ips" jq -e '.ips | all(has("version") | not)' "$R"
	fi
	IP4=$(jq -r '.ips[0].address | split("/")[0]' "$R")
	check "eth0 in the namespace holds the addresses, up" bash -c "inns $n ip -o addr show eth0 | grep -q 'inet $IP4/24' && inns $n ip -o -6 addr show eth0 | grep -q 'fd00:77::' && inns $n ip link show eth0 | grep -q ',UP'"
	check "the default routes go through eth0" bash -c "inns $n ip route show default | grep -q 'via 10.77.0.1 dev eth0' && inns $n ip -6 route show default | grep -q 'via fd00:77::1 dev eth0'"
	check "the MAC in the result is eth0's" bash -c "inns $n ip -o link show eth0 | grep -q \"link/ether \$(jq -r '.interfaces[0].mac' $R) \""
	check "network inspect lists pod-$n beside web" bash -c "berth network inspect cnet | jq -e '[.[0].Containers[].Name] | index(\"pod-$n\") and index(\"web\")'"
	check "ps --all marks pod-$n as external" bash -c "berth ps -a | grep pod-$n | grep -q 'external: CNI'"
	check "inspect pod-$n shows its CNI container ID and namespace" bash -c "berth inspect pod-$n | jq -e '.[0].External == {\"Kind\":\"cni\",\"ContainerID\":\"cid-$n\",\"Netns\":\"$(nsp $n)\"}'"
	check "web reaches pod-$n by name and by alias" bash -c "berth exec web ping -c1 -W2 pod-$n && berth exec web ping -c1 -W2 al-$n"
	check "the namespace resolves web through 127.0.0.11 (served inside it)" bash -c "inns $n busybox nslookup web 127.0.0.11 | grep -q \"\$(ctr_ip web cnet)\""
	check "and reaches web's httpd" bash -c "inns $n curl -s -m 3 -o /dev/null -w '%{http_code}' http://\$(ctr_ip web cnet)/ | grep -q '^[1-5]'"
	check "CHECK with prevResult succeeds" bash -c "with_prev \"\$(conf $v)\" $R | plug CHECK $n eth0 cid-$n"
	if [ $v = 1.1.0 ]; then
		check "STATUS (1.1.0) succeeds" bash -c "conf $v | plug STATUS '' '' ''"
	else
		check "STATUS needs 1.1.0: code 1 for $v" bash -c "conf $v | plug STATUS '' '' '' > $BT_DIR/st.json; [ \$(code $BT_DIR/st.json) = 1 ]"
	fi
	check "ADD again without DEL fails (the interface exists)" bash -c "! conf $v | plug ADD $n eth0 cid-$n > $BT_DIR/again.json && jq -e '.code == 100 and (.details | contains(\"eth0\"))' $BT_DIR/again.json"
	check "DEL ($v)" bash -c "with_prev \"\$(conf $v)\" $R | plug DEL $n eth0 cid-$n"
	check "eth0 is gone, the namespace stays" bash -c "! inns $n ip link show eth0 2>/dev/null && [ -e $(nsp $n) ]"
	check "pod-$n left network inspect and ps" bash -c "! berth network inspect cnet | grep -q pod-$n && ! berth ps -a | grep -q pod-$n"
	check "DEL twice succeeds" bash -c "with_prev \"\$(conf $v)\" $R | plug DEL $n eth0 cid-$n"
	check "CHECK after DEL: code 3 (unknown)" bash -c "! with_prev \"\$(conf $v)\" $R | plug CHECK $n eth0 cid-$n > $BT_DIR/ck.json && [ \$(code $BT_DIR/ck.json) = 3 ]"
	check "DNS no longer answers pod-$n" bash -c "! berth exec web nslookup pod-$n 127.0.0.11 >/dev/null 2>&1"
done

say "# capabilities: ips, mac, aliases, portMappings; CNI_ARGS IP= and MAC="
bt_netns cap
R=$BT_DIR/add-cap.json
check "ADD with runtimeConfig ips, mac and a port mapping" bash -c "conf 1.0.0 cnet '\"runtimeConfig\":{\"ips\":[\"10.77.0.50/24\",\"fd00:77::50\"],\"mac\":\"02:42:ac:11:00:50\",\"portMappings\":[{\"hostPort\":18080,\"containerPort\":80,\"protocol\":\"tcp\"}]}' | plug ADD cap eth0 cid-cap 'K8S_POD_NAME=capod' > $R"
check "the requested addresses and MAC are eth0's" jq -e '[.ips[].address] == ["10.77.0.50/24","fd00:77::50/64"] and .interfaces[0].mac == "02:42:ac:11:00:50"' "$R"
check "the kernel agrees" bash -c "inns cap ip -o addr show eth0 | grep -q 'inet 10.77.0.50/24' && inns cap ip -o link show eth0 | grep -q 'link/ether 02:42:ac:11:00:50'"
inns cap busybox httpd -p 80 -h "$BT_DIR"
check "port 18080 on the host reaches port 80 in the namespace (berth's nftables)" bash -c "inhost curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:18080/ | grep -q '^[1-5]'"
check "published in berth's table, no iptables rule" bash -c "inhost nft list table inet berth | grep -q 18080 && ! inhost iptables-save 2>/dev/null | grep -q 18080"
bt_netns cap2
check "the same static address is refused for another container (conflict)" bash -c "! conf 1.0.0 cnet '\"runtimeConfig\":{\"ips\":[\"10.77.0.50\"]}' | plug ADD cap2 eth0 cid-cap2 > $BT_DIR/e.json && [ \$(code $BT_DIR/e.json) = 100 ]"
check "a prefix that is not the subnet's is refused" bash -c "! conf 1.0.0 cnet '\"runtimeConfig\":{\"ips\":[\"10.77.0.51/16\"]}' | plug ADD cap2 eth0 cid-cap2 > $BT_DIR/e.json && jq -e '.code == 7 and (.details | contains(\"/24\"))' $BT_DIR/e.json"
check "CNI_ARGS IP= and MAC= are honoured" bash -c "conf 1.0.0 | plug ADD cap2 eth0 cid-cap2 'IP=10.77.0.60;MAC=02:42:ac:11:00:60' | jq -e '.ips[0].address == \"10.77.0.60/24\" and .interfaces[0].mac == \"02:42:ac:11:00:60\"'"
# A runtime holds the host ports it publishes (podman's conmon listens on them): berth publishes
# over such a socket, as the reference portmap plugin does, where berth's own -p refuses.
mkdir -p "$BT_DIR/holder" && echo held > "$BT_DIR/holder/index.html"
inhost busybox httpd -p 18082 -h "$BT_DIR/holder"
bt_netns cap3
check "ADD publishing 18082 while a host process listens there" bash -c "conf 1.0.0 cnet '\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":18082,\"containerPort\":80}]}' | plug ADD cap3 eth0 cid-cap3 >/dev/null"
check "18082 reaches the namespace, not the listener" bash -c "inns cap3 busybox httpd -p 80 -h $BT_DIR && [ \"\$(inhost curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:18082/)\" = 404 ]"
check "DEL cap3" bash -c "conf 1.0.0 | plug DEL cap3 eth0 cid-cap3"
pkill -f "httpd -p 18082 -h $BT_DIR/holder"
check "DEL cap: port 18080 is released" bash -c "conf 1.0.0 | plug DEL cap eth0 cid-cap && ! inhost nft list table inet berth | grep -q 18080"
pkill -f "httpd -p 80 -h $BT_DIR"
check "DEL cap2" bash -c "conf 1.0.0 | plug DEL cap2 eth0 cid-cap2"

say "# chaining: berth-cni, then the reference tuning and portmap plugins"
# (an IPv4 network: portmap 1.1.1's CHECK looks for IPv6 rules it did not make for a dual-stack result)
check "network chain (IPv4)" berth network create --subnet 10.76.0.0/24 chain
bt_netns ch
C0=$(conf 1.0.0 chain)
CT='{"cniVersion":"1.0.0","name":"chain","type":"tuning","sysctl":{"net.ipv4.conf.eth0.accept_local":"1"}}'
CP='{"cniVersion":"1.0.0","name":"chain","type":"portmap","capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[{"hostPort":18081,"containerPort":80,"protocol":"tcp"}]}}'
check "berth-cni ADD" bash -c "echo '$C0' | plug ADD ch eth0 cid-ch > $BT_DIR/r1.json"
check "tuning ADD takes berth-cni's result as prevResult" bash -c "with_prev '$CT' $BT_DIR/r1.json | ref tuning ADD ch eth0 cid-ch > $BT_DIR/r2.json && jq -e '.interfaces[0].name == \"eth0\"' $BT_DIR/r2.json"
check "tuning applied its sysctl in the namespace" bash -c "[ \"\$(inns ch sysctl -n net.ipv4.conf.eth0.accept_local)\" = 1 ]"
check "portmap ADD takes the chain's result" bash -c "with_prev '$CP' $BT_DIR/r2.json | ref portmap ADD ch eth0 cid-ch > $BT_DIR/r3.json && jq -e '.ips[0].address | startswith(\"10.76.0.\")' $BT_DIR/r3.json"
check "portmap's DNAT reaches the namespace" bash -c "inns ch busybox httpd -p 80 -h $BT_DIR && inhost curl -s -m 3 -o /dev/null -w '%{http_code}' http://10.76.0.1:18081/ | grep -q 404"
pkill -f "httpd -p 80 -h $BT_DIR"
check "CHECK of the chain: berth-cni, tuning" bash -c "with_prev '$C0' $BT_DIR/r3.json | plug CHECK ch eth0 cid-ch && with_prev '$CT' $BT_DIR/r3.json | ref tuning CHECK ch eth0 cid-ch"
# portmap 1.1.1's CHECK also looks for the ip6tables chain of an IPv4 mapping it never made:
# it answers the same after the reference bridge plugin as after berth-cni.
bt_netns rb
RB='{"cniVersion":"1.0.0","name":"rb","type":"bridge","bridge":"rbr0","isGateway":true,"ipam":{"type":"host-local","dataDir":"'$BT_DIR'/ipam","ranges":[[{"subnet":"10.75.0.0/24"}]]}}'
RP=${CP//chain/rb}
check "portmap CHECK answers as it does after the reference bridge plugin" bash -c "echo '$RB' | ref bridge ADD rb eth0 cid-rb > $BT_DIR/rb1.json && with_prev '$RP' $BT_DIR/rb1.json | ref portmap ADD rb eth0 cid-rb > $BT_DIR/rb2.json
	with_prev '$RP' $BT_DIR/rb2.json | ref portmap CHECK rb eth0 cid-rb >/dev/null; a=\$?
	with_prev '$CP' $BT_DIR/r3.json | ref portmap CHECK ch eth0 cid-ch >/dev/null; b=\$?
	with_prev '$RP' $BT_DIR/rb2.json | ref portmap DEL rb eth0 cid-rb && echo '$RB' | ref bridge DEL rb eth0 cid-rb; [ \$a = \$b ]"
check "DEL in reverse order: portmap, tuning, berth-cni" bash -c "with_prev '$CP' $BT_DIR/r3.json | ref portmap DEL ch eth0 cid-ch && with_prev '$CT' $BT_DIR/r3.json | ref tuning DEL ch eth0 cid-ch && with_prev '$C0' $BT_DIR/r3.json | plug DEL ch eth0 cid-ch"
check "eth0 is gone" bash -c "! inns ch ip link show eth0 2>/dev/null"
check "berth-cni as a later plugin appends to a prevResult" bash -c "jq -c '{cniVersion:\"1.0.0\", interfaces:[{name:\"lo0\",mac:\"02:00:00:00:00:01\",sandbox:\"/x\"}], ips:[{address:\"192.0.2.5/24\",interface:0}]}' <<<'{}' > $BT_DIR/pre.json && with_prev '$C0' $BT_DIR/pre.json | plug ADD ch eth1 cid-ch | jq -e '(.interfaces | length) >= 2 and .interfaces[0].name == \"lo0\" and .interfaces[1].name == \"eth1\" and .ips[0].address == \"192.0.2.5/24\" and .ips[1].interface == 1'"
check "DEL eth1" bash -c "echo '$C0' | plug DEL ch eth1 cid-ch"

C0=$(conf 1.0.0 cnet)
say "# CHECK finds what changed"
check "ADD" bash -c "echo '$C0' | plug ADD ch eth0 cid-ch > $BT_DIR/r4.json"
A4=$(jq -r '.ips[0].address' "$BT_DIR/r4.json")
check "the address removed behind berth's back" inns ch ip addr del "$A4" dev eth0
check "CHECK fails with code 110 naming the address" bash -c "! with_prev '$C0' $BT_DIR/r4.json | plug CHECK ch eth0 cid-ch > $BT_DIR/ck.json && jq -e --arg a '$A4' '.code == 110 and (.details | contains(\$a))' $BT_DIR/ck.json"
check "eth0 set down: CHECK says so" bash -c "inns ch ip link set eth0 down && ! with_prev '$C0' $BT_DIR/r4.json | plug CHECK ch eth0 cid-ch > $BT_DIR/ck.json && jq -e '.details | contains(\"down\")' $BT_DIR/ck.json"
check "DEL" bash -c "echo '$C0' | plug DEL ch eth0 cid-ch"

say "# DEL after the namespace is gone"
bt_netns gone
check "ADD" bash -c "echo '$C0' | plug ADD gone eth0 cid-gone > $BT_DIR/g.json"
GIP=$(jq -r '.ips[0].address | split("/")[0]' "$BT_DIR/g.json")
HOSTIF=$(jq -r '.interfaces[1].name' "$BT_DIR/g.json")
check "the host end $HOSTIF exists" inhost ip link show "$HOSTIF"
ip netns del "$BT_ID-gone"
check "DEL with the namespace gone succeeds" bash -c "echo '$C0' | plug DEL gone eth0 cid-gone"
check "no host end, no record, the address is free" bash -c "! inhost ip link show $HOSTIF 2>/dev/null && ! berth ps -a | grep -q cni- && ! berth network inspect cnet | grep -q '\"$GIP/'"
check "DEL without CNI_NETNS succeeds too" bash -c "echo '$C0' | plug DEL - eth0 cid-gone"

say "# a namespace that vanishes without DEL is swept"
bt_netns sw
check "ADD" bash -c "echo '$C0' | plug ADD sw eth0 cid-sw 'K8S_POD_NAME=swept' > $BT_DIR/s.json"
SWIF=$(jq -r '.interfaces[1].name' "$BT_DIR/s.json")
ip netns del "$BT_ID-sw"
check "berthd releases it within seconds (sweep)" wait_for 10 bash -c "! berth ps -a | grep -q swept && ! inhost ip link show $SWIF"
check "the log says why" grep -q "released external sandbox swept: its network namespace is gone" "$BT_DIR/berthd.log"

say "# a berthd restart"
bt_netns rs
bt_netns rs2
check "ADD rs and rs2" bash -c "echo '$C0' | plug ADD rs eth0 cid-rs 'K8S_POD_NAME=keep' >/dev/null && echo '$C0' | plug ADD rs2 eth0 cid-rs2 'K8S_POD_NAME=lose' > $BT_DIR/rs2.json"
RS2IF=$(jq -r '.interfaces[1].name' "$BT_DIR/rs2.json")
bt_stop_berthd
ip netns del "$BT_ID-rs2"
bt_start_berthd
check "keep survives: inspect, ps, its interface" bash -c "berth network inspect cnet | grep -q '\"keep\"' && berth ps -a | grep keep | grep -q external && inns rs ip link show eth0"
check "DNS in keep's namespace is served again" bash -c "inns rs busybox nslookup web 127.0.0.11 | grep -q \"\$(ctr_ip web cnet)\""
check "web resolves keep" bash -c "berth exec web nslookup keep 127.0.0.11 | grep -q 10.77.0."
check "network probe covers keep (a CNI sandbox): web <-> keep by ICMP, both families" bash -c "berth network probe --network cnet --container web --container keep --proto icmp --no-host --format json > $BT_DIR/pr.json && jq -e '[.Cells[] | select(.Verdict == \"reach\") | [.Source, .Target, .Family]] | sort == [[\"keep\",\"web\",4],[\"keep\",\"web\",6],[\"web\",\"keep\",4],[\"web\",\"keep\",6]]' $BT_DIR/pr.json"
check "lose (namespace gone while berthd was down) was released at start-up" bash -c "! berth ps -a | grep -q lose && ! inhost ip link show $RS2IF 2>/dev/null"
check "DEL keep" bash -c "echo '$C0' | plug DEL rs eth0 cid-rs"

say "# GC (1.1.0)"
C11=$(conf 1.1.0 cnet)
bt_netns g1; bt_netns g2
check "ADD g1 and g2" bash -c "echo '$C11' | plug ADD g1 eth0 cid-g1 >/dev/null && echo '$C11' | plug ADD g2 eth0 cid-g2 >/dev/null"
check "GC with only g1 valid" bash -c "jq -c '. + {\"cni.dev/valid-attachments\": [{containerID: \"cid-g1\", ifname: \"eth0\"}]}' <<<'$C11' | CNI_COMMAND=GC CNI_PATH=$REF inhost $CNI"
check "g2 is released, g1 kept" bash -c "inns g1 ip link show eth0 && ! inns g2 ip link show eth0 2>/dev/null && [ \$(berth ps -a | grep -c 'external: CNI') = 1 ]"
check "GC with nothing valid releases g1" bash -c "jq -c '. + {\"cni.dev/valid-attachments\": []}' <<<'$C11' | CNI_COMMAND=GC inhost $CNI && ! inns g1 ip link show eth0 2>/dev/null"
check "GC (0.4.0) is refused: code 1" bash -c "! conf 0.4.0 | CNI_COMMAND=GC inhost $CNI > $BT_DIR/gc.json && [ \$(code $BT_DIR/gc.json) = 1 ]"

say "# STATUS"
check "STATUS of an unknown network: 50" bash -c "! conf 1.1.0 nosuch | plug STATUS '' '' '' > $BT_DIR/st.json && [ \$(code $BT_DIR/st.json) = 50 ]"
check "a tiny network (/29: 5 addresses)" berth network create --subnet 10.78.0.0/29 tiny
for i in 1 2 3 4 5; do bt_netns t$i; done
check "5 ADDs fill it" bash -c "for i in 1 2 3 4 5; do conf 1.1.0 tiny | plug ADD t\$i eth0 cid-t\$i >/dev/null || exit 1; done"
check "STATUS with the pools exhausted: 51" bash -c "! conf 1.1.0 tiny | plug STATUS '' '' '' > $BT_DIR/st.json && [ \$(code $BT_DIR/st.json) = 51 ]"
check "one DEL: STATUS is ready again" bash -c "conf 1.1.0 tiny | plug DEL t5 eth0 cid-t5 && conf 1.1.0 tiny | plug STATUS '' '' ''"
bt_stop_berthd
check "berthd stopped: STATUS fails with 50" bash -c "! conf 1.1.0 | plug STATUS '' '' '' > $BT_DIR/st.json && [ \$(code $BT_DIR/st.json) = 50 ]"
check "berthd stopped: ADD fails with 11 (try again later)" bash -c "bt_netns off; ! conf 1.1.0 | plug ADD off eth0 cid-off > $BT_DIR/st.json && jq -e '.code == 11 and (.msg | contains(\"not reachable\"))' $BT_DIR/st.json"
bt_start_berthd
check "the tiny network's attachments survived" bash -c "[ \$(berth network inspect tiny | jq '.[0].Containers | length') = 4 ]"
check "rm -f of an external sandbox releases it; without -f it is refused" bash -c "! berth rm cni-\$(berth ps -a --format json 2>/dev/null | true; echo x) 2>/dev/null; n=\$(berth ps -a | awk '/external/ {print \$NF; exit}'); ! berth rm \$n 2>/dev/null && berth rm -f \$n && ! berth ps -a | grep -q \"\$n\""
check "stop and connect are refused for an external sandbox" bash -c "n=\$(berth ps -a | awk '/external/ {print \$NF; exit}'); berth stop \$n 2>&1 | grep -q 'external sandbox' && berth network connect cnet \$n 2>&1 | grep -q 'external sandbox'"
for i in 1 2 3 4; do conf 1.1.0 tiny | plug DEL t$i eth0 cid-t$i >/dev/null; done
check "network rm tiny removes its configuration list" bash -c "test -e $BT_DIR/cni/tiny.conflist && berth network rm tiny && ! test -e $BT_DIR/cni/tiny.conflist"

say "# a macvlan network"
check "a parent interface and a macvlan network on it" bash -c "inhost ip link add bcnimv0 type veth peer name bcnimv1 && inhost ip link set bcnimv1 up && inhost ip link set bcnimv0 up && berth network create -d macvlan --subnet 10.74.0.0/24 -o parent=bcnimv0 mvnet"
check "a berth container m1 on mvnet" berth run -d --name m1 --network mvnet busybox sleep 1d
check "mvnet has its configuration list" test -s "$BT_DIR/cni/mvnet.conflist"
bt_netns mv
check "ADD to mvnet" bash -c "conf 1.1.0 mvnet | plug ADD mv eth0 cid-mv 'K8S_POD_NAME=mvpod' > $BT_DIR/mv.json && jq -e '(.interfaces | length) == 1 and (.ips[0].address | startswith(\"10.74.0.\"))' $BT_DIR/mv.json"
check "eth0 is a macvlan in the namespace" bash -c "inns mv ip -d link show eth0 | grep -q macvlan"
check "m1 reaches mvpod by name" berth exec m1 ping -c1 -W2 mvpod
check "mvpod reaches m1" bash -c "inns mv busybox ping -c1 -W2 \$(ctr_ip m1 mvnet)"
check "CHECK" bash -c "with_prev \"\$(conf 1.1.0 mvnet)\" $BT_DIR/mv.json | plug CHECK mv eth0 cid-mv"
ip netns del "$BT_ID-mv"
check "DEL after the namespace is gone (the macvlan lived only there)" bash -c "conf 1.1.0 mvnet | plug DEL mv eth0 cid-mv && ! berth network inspect mvnet | grep -q mvpod"
check "no macvlan is left on the parent" bash -c "[ \$(ls $BT_DIR/run/netns | wc -l) = \$(berth ps -q | wc -l) ]"

say "# validation: every input from the runtime"
bt_netns val
bad() {   # bad DESC CODE VAR=VALUE...: the plugin fails with the spec's error object, that code
	local desc=$1 want=$2; shift 2
	if env CNI_PATH=$REF "$@" "$CNI" < "$BT_DIR/v.conf" > "$BT_DIR/v.json" 2>&1; then
		ko "$desc (unexpectedly succeeded)"
	elif jq -e ".code == $want and (.msg | length) > 0 and (.details | length) > 0" "$BT_DIR/v.json" >/dev/null; then
		ok "$desc: code $want ($(jq -r .details "$BT_DIR/v.json" | cut -c1-70))"
	else
		ko "$desc: code $want"; sed 's/^/       | /' "$BT_DIR/v.json"
	fi
}
E=(CNI_COMMAND=ADD CNI_NETNS=$(nsp val) CNI_IFNAME=eth0 CNI_CONTAINERID=cid-val)
conf 1.0.0 > $BT_DIR/v.conf
bad "CNI_COMMAND unknown" 4 "${E[@]}" CNI_COMMAND=FOO
bad "CNI_IFNAME with a slash" 4 "${E[@]}" CNI_IFNAME=../x
bad "CNI_IFNAME of 16 bytes" 4 "${E[@]}" CNI_IFNAME=abcdefghijklmnop
bad "CNI_IFNAME with a colon" 4 "${E[@]}" CNI_IFNAME=eth0:1
bad "CNI_IFNAME missing" 4 "${E[@]}" CNI_IFNAME=
bad "CNI_CONTAINERID starting with a dot" 4 "${E[@]}" CNI_CONTAINERID=.cid
bad "CNI_CONTAINERID of 300 characters" 4 "${E[@]}" CNI_CONTAINERID=$(printf 'a%.0s' $(seq 300))
bad "CNI_NETNS relative" 4 "${E[@]}" CNI_NETNS=netns
bad "CNI_NETNS with .." 4 "${E[@]}" CNI_NETNS=/run/netns/../../etc
bad "CNI_ARGS unknown key without IgnoreUnknown" 4 "${E[@]}" CNI_ARGS=FOO=1
bad "CNI_ARGS K8S_POD_NAME not a name" 4 "${E[@]}" "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=a/b"
bad "CNI_NETNS not a network namespace" 7 "${E[@]}" CNI_NETNS=/etc/passwd
bad "CNI_NETNS is berthd's own namespace" 7 "${E[@]}" CNI_NETNS=/run/netns/$BT_NS
echo '{"cniVersion":"1.0.0","name":"../cnet","type":"berth-cni"}' > $BT_DIR/v.conf
bad "name with a path" 7 "${E[@]}"
echo "{\"cniVersion\":\"1.0.0\",\"name\":\"$(printf 'n%.0s' $(seq 200))\",\"type\":\"berth-cni\"}" > $BT_DIR/v.conf
bad "name of 200 characters" 7 "${E[@]}"
echo '{"cniVersion":"1.0.0","name":"cnet","type":"../../bin/sh"}' > $BT_DIR/v.conf
bad "type with a path" 7 "${E[@]}"
conf 1.0.0 nosuchnet > $BT_DIR/v.conf
bad "an unknown berth network" 7 "${E[@]}"
conf 0.3.1 > $BT_DIR/v.conf
bad "cniVersion 0.3.1" 1 "${E[@]}"
conf 1.0.0 cnet '"ipam":{"type":"host-local"}' > $BT_DIR/v.conf
bad "an ipam section" 2 "${E[@]}"
echo '{"cniVersion":"1.0.0",' > $BT_DIR/v.conf
bad "truncated JSON" 6 "${E[@]}"
conf 1.0.0 cnet '"type":"other"' > $BT_DIR/v.conf
bad "a key given twice" 6 "${E[@]}"
conf 1.0.0 cnet '"runtimeConfig":{"portMappings":[{"hostPort":99999,"containerPort":80}]}' > $BT_DIR/v.conf
bad "a host port out of range" 7 "${E[@]}"
conf 1.0.0 cnet '"runtimeConfig":{"mac":"01:00:5e:00:00:01"}' > $BT_DIR/v.conf
bad "a multicast MAC" 7 "${E[@]}"
conf 1.0.0 bridge > $BT_DIR/v.conf
check "the predefined bridge network takes attachments" bash -c "env ${E[*]} $CNI < $BT_DIR/v.conf > /dev/null && env ${E[*]/ADD/DEL} $CNI < $BT_DIR/v.conf"
conf 1.0.0 host > $BT_DIR/v.conf
bad "the host network cannot take attachments" 7 "${E[@]}"
check "none of these left anything behind" bash -c "! berth ps -a | grep -q external && ! inns val ip link show eth0 2>/dev/null"

bt_summary
