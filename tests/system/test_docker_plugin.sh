#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berthd as Docker's remote network and IPAM driver (berthd --docker-plugin), driven by a real
# dockerd 20.10 (Debian's docker.io) sharing berthd's network namespace: the flow of docs/
# DOCKER.md, Docker's DNS over berth's dataplane, live connect/disconnect, publishing through
# berth's nftables, isolation from a Docker bridge network, anti-spoofing, errors as dockerd's
# CLI shows them, a crash in a join, restarts of both daemons, and nothing left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_docker.sh"
dk_require
SPOOF=${SPOOF:-$TOP/build/tests/helpers/spoof}
PLUG=$BT_DIR/plugins/berth.sock
mkdir -p "$BT_DIR/plugins"
bt_setup --docker-plugin="$PLUG"
trap dk_trap EXIT
fw_lan_setup || { ko "LAN namespaces"; bt_summary; }

check "berthd serves the plugin socket" test -S "$PLUG"
check "Plugin.Activate: a network and an IPAM driver" bash -c "curl -sf --unix-socket $PLUG -X POST -d null http://x/Plugin.Activate | jq -e '.Implements == [\"NetworkDriver\", \"IpamDriver\"]'"
check "an unknown call is a 404 with Err" bash -c "curl -s --unix-socket $PLUG -X POST http://x/NetworkDriver.Nope | jq -e '.Err | test(\"unknown plugin call\")'"
say "# the protocol, straight to the socket (what dockerd would send)"
NID=$(printf 'a%.0s' $(seq 64)); EID=$(printf 'e%.0s' $(seq 64))
pcall() { curl -s --unix-socket "$PLUG" -X POST -H 'Content-Type: application/json' -d "$2" "http://x/$1"; }
pstatus() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$PLUG" -X POST -d "$2" "http://x/$1"; }
export -f pcall pstatus; export PLUG NID EID
check "CreateNetwork (IPv4, Docker's IPAM)" bash -c "pcall NetworkDriver.CreateNetwork '{\"NetworkID\":\"$NID\",\"IPv4Data\":[{\"Pool\":\"10.44.0.0/24\",\"Gateway\":\"10.44.0.1/24\"}],\"Options\":{\"com.docker.network.generic\":{}}}' | jq -e '. == {}'"
check "CreateNetwork again: the same network, nothing new" bash -c "pcall NetworkDriver.CreateNetwork '{\"NetworkID\":\"$NID\",\"IPv4Data\":[{\"Pool\":\"10.44.0.0/24\",\"Gateway\":\"10.44.0.1/24\"}]}' | jq -e '. == {}' && [ \$(berth network ls -q | wc -l) = 4 ]"
check "CreateEndpoint outside the subnet: 400 with Err" bash -c "[ \$(pstatus NetworkDriver.CreateEndpoint '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"Interface\":{\"Address\":\"10.99.0.2/24\"}}') = 400 ] && pcall NetworkDriver.CreateEndpoint '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"Interface\":{\"Address\":\"10.99.0.2/24\"}}' | jq -e '.Err | test(\"outside the subnets\")'"
check "CreateEndpoint: berth gives the MAC dockerd left to it" bash -c "pcall NetworkDriver.CreateEndpoint '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"Interface\":{\"Address\":\"10.44.0.5/24\"}}' | jq -e '.Interface.MacAddress | test(\"^02:\")'"
check "berthd stops with a created (not joined) endpoint" bt_term_berthd
check "berthd starts again" bt_start_berthd --docker-plugin="$PLUG"
check "... which keeps its address (dockerd's to release)" bash -c "[ \$(sqlite3 $BT_DIR/root/berth.db \"select count(*) from allocations where owner = '$EID' and address = '10.44.0.5'\") = 1 ]"
check "Join: the interface to move and the gateway" bash -c "pcall NetworkDriver.Join '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\",\"SandboxKey\":\"/x\"}' | tee $BT_DIR/join.json | jq -e '.InterfaceName.DstPrefix == \"eth\" and .Gateway == \"10.44.0.1\"'"
peer=$(jq -r .InterfaceName.SrcName "$BT_DIR/join.json" 2>/dev/null)
check "... it is in the host namespace, down, its pair a port of the bridge" bash -c "inhost ip -br link show $peer | grep -q DOWN && [ \$(inhost ip -br link show master berth${NID:0:10} | wc -l) = 1 ]"
check "EndpointOperInfo" bash -c "pcall NetworkDriver.EndpointOperInfo '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}' | jq -e '.Value[\"berth.state\"] == \"active\"'"
check "DiscoverNew and DiscoverDelete are accepted" bash -c "pcall NetworkDriver.DiscoverNew '{\"DiscoveryType\":1,\"DiscoveryData\":{}}' | jq -e '. == {}' && pcall NetworkDriver.DiscoverDelete '{\"DiscoveryType\":1}' | jq -e '. == {}'"
check "AllocateNetwork (swarm) is refused: 501" bash -c "[ \$(pstatus NetworkDriver.AllocateNetwork '{\"NetworkID\":\"$NID\"}') = 501 ]"
check "a body that is not JSON: 400" bash -c "[ \$(pstatus NetworkDriver.Join '{nope') = 400 ]"
check "Leave, DeleteEndpoint, DeleteNetwork" bash -c "pcall NetworkDriver.Leave '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}' | jq -e '. == {}' && pcall NetworkDriver.DeleteEndpoint '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}' | jq -e '. == {}' && pcall NetworkDriver.DeleteNetwork '{\"NetworkID\":\"$NID\"}' | jq -e '. == {}'"
check "... and again: deleting what is gone succeeds" bash -c "pcall NetworkDriver.DeleteEndpoint '{\"NetworkID\":\"$NID\",\"EndpointID\":\"$EID\"}' | jq -e '. == {}' && pcall NetworkDriver.DeleteNetwork '{\"NetworkID\":\"$NID\"}' | jq -e '. == {}'"
check "nothing is left (interfaces, records)" bash -c "! inhost ip link show $peer && ! inhost ip link show berth${NID:0:10} && [ \$(sqlite3 $BT_DIR/root/berth.db \"select count(*) from meta where key like 'docker/%'\") = 0 ]"

say "# with dockerd"
# Forwarding off when dockerd starts: dockerd turns it on and sets the FORWARD policy to DROP
# (berth's networks must still work: plugins/docker/iptables.c).
inhost sysctl -qw net.ipv4.ip_forward=0
check "dockerd 20.10 starts next to berthd" dk_up
check "dockerd's FORWARD policy is DROP" bash -c "inhost iptables -S FORWARD | grep -qx -- '-P FORWARD DROP'"
check "busybox imported into dockerd" dk_image

say "# the flow"
check "docker network create -d berth --ipam-driver berth (dual stack)" \
	dkd network create -d berth --ipam-driver berth --subnet 10.40.0.0/24 --ipv6 --subnet fd00:40::/64 bnet
nid=$(dkd network inspect -f '{{.Id}}' bnet)
bname=docker-${nid:0:12}
check "berth has the network under dockerd's ID" bash -c "berth network inspect $nid | jq -e '.[0].Name == \"$bname\" and .[0].EnableIPv6 and .[0].Options[\"berth.owner\"] == \"dockerd\"'"
bridge=$(berth network inspect "$nid" | jq -r '.[0].Berth.Bridge')
check "its bridge holds berth IPAM's gateways" bash -c "inhost ip -br addr show $bridge | grep -q '10.40.0.1/24' && inhost ip -br addr show $bridge | grep -q 'fd00:40::1/64'"
check "docker network inspect: driver and IPAM driver berth" bash -c "dkd network inspect bnet | jq -e '.[0].Driver == \"berth\" and .[0].IPAM.Driver == \"berth\"'"
check "docker run -d ca --network bnet" dkd run -d --stop-timeout 1 --name ca --network bnet busybox sleep 1d
check "ca got berth IPAM's first addresses" bash -c "dkd exec ca ip addr show eth0 | grep -q 'inet 10.40.0.2/24' && dkd exec ca ip addr show eth0 | grep -q 'inet6 fd00:40::2/64'"
camac=$(dkd exec ca cat /sys/class/net/eth0/address)
check "ca's MAC is berth's (locally administered)" bash -c "[[ $camac == 02:* ]]"
check "berth's anti-spoofing set holds ca's MAC" bash -c "fw_set_elems bridge mac | grep -q '$camac'"
check "the host end of ca's interface is a port of the bridge" bash -c "inhost ip -br link show master $bridge | grep -q '^bv'"
check "Docker's DNS resolves ca, berth carries (IPv4)" dkd run --rm --network bnet busybox ping -4 -c1 -W2 ca
check "... and IPv6" dkd run --rm --network bnet busybox ping -6 -c1 -W2 ca
check "docker run -d cb (default bridge)" dkd run -d --stop-timeout 1 --name cb busybox sleep 1d
check "docker network connect bnet cb (live)" dkd network connect bnet cb
check "cb has eth1 on bnet and reaches ca" bash -c "dkd exec cb ip addr show eth1 | grep -q 'inet 10.40.0.' && dkd exec cb ping -c1 -W2 10.40.0.2"
check "docker network disconnect bnet cb" dkd network disconnect bnet cb
check "cb's eth1 and its host end are gone" bash -c "! dkd exec cb ip link show eth1 && [ \$(inhost ip -br link show master $bridge | grep -c '^bv') = 1 ]"
check "docker network connect --ip: berth's IPAM gives the address asked" bash -c "dkd network connect --ip 10.40.0.77 --ip6 fd00:40::77 bnet cb && dkd exec cb ip addr | grep -q 'inet 10.40.0.77/24' && dkd exec cb ip addr | grep -q 'inet6 fd00:40::77/64'; r=\$?; dkd network disconnect bnet cb && exit \$r"
check "... released on disconnect: asked again, given again" bash -c "dkd network connect --ip 10.40.0.77 bnet cb && dkd network disconnect bnet cb"
check_err "an address in use is refused" "10.40.0.2" dkd network connect --ip 10.40.0.2 bnet cb

say "# Docker's own IPAM, dual stack, under berth's driver"
check "docker network create -d berth --ipv6 (Docker's IPAM)" dkd network create -d berth --ipv6 --subnet 10.47.0.0/24 --subnet fd00:47::/64 d6
check "a container gets Docker IPAM's addresses and the gateways, and reaches them" bash -c "dkd run --rm --network d6 busybox sh -c 'ip addr show eth0 | grep -q \"inet 10.47.0.2/24\" && ip addr show eth0 | grep -q \"inet6 fd00:47::2/64\" && ip -6 route | grep -q \"default via fd00:47::1\" && ping -c1 -W2 10.47.0.1 >/dev/null && ping -6 -c1 -W2 fd00:47::1 >/dev/null'"
check "docker network rm d6" dkd network rm d6

say "# static routes: two subnets on one internal network"
check "docker network create -d berth --internal with two subnets" dkd network create -d berth --internal --subnet 10.45.0.0/24 --subnet 10.46.0.0/24 multi
check "ma in the first subnet, mb in the second" bash -c "dkd run -d --stop-timeout 1 --name ma --network multi busybox sleep 1d && dkd run -d --stop-timeout 1 --name mb --network multi --ip 10.46.0.5 busybox sleep 1d"
check "ma has a connected route to the other subnet (Join's StaticRoutes)" bash -c "dkd exec ma ip route | grep -q '^10.46.0.0/24 dev eth0'"
check "... and reaches mb without a gateway" dkd exec ma ping -c1 -W2 10.46.0.5
check "docker rm -f ma mb; network rm multi" bash -c "dkd rm -f ma mb >/dev/null && dkd network rm multi >/dev/null"

say "# publishing through berth's nftables"
check "docker run -d web -p 8080:80 on bnet" dkd run -d --stop-timeout 1 --name web --network bnet -p 8080:80 busybox httpd -f -p 80 -h /etc
webip=$(dkd inspect -f '{{(index .NetworkSettings.Networks "bnet").IPAddress}}' web)
pub_map() { inhost nft list map inet berth pubany4 | grep elements; }
export -f pub_map
check "berth's map publishes 8080 to web" bash -c "pub_map | grep -q 'tcp . 8080 : $webip . 80'"
check "a client on the LAN reaches web through the host's address" bash -c "wait_for 5 bash -c 'incl curl -sf -m2 http://$FW_HOST4:8080/hostname | grep -q .'"

say "# isolation from a Docker bridge network"
check "docker network create dnet (Docker's bridge driver)" dkd network create --subnet 10.41.0.0/24 dnet
check "docker run -d dd --network dnet" dkd run -d --stop-timeout 1 --name dd --network dnet busybox sleep 1d
ddip=$(dkd inspect -f '{{(index .NetworkSettings.Networks "dnet").IPAddress}}' dd)
check "ca (berth) does not reach dd (docker bridge)" bash -c "! dkd exec ca ping -c1 -W1 $ddip"
check "dd does not reach ca" bash -c "! dkd exec dd ping -c1 -W1 10.40.0.2"
# with forwarding on before dockerd started, its policy stays ACCEPT: berth must isolate itself
inhost iptables -P FORWARD ACCEPT
check "... also when Docker's FORWARD policy is ACCEPT (ca -> dd)" bash -c "! dkd exec ca ping -c1 -W1 $ddip"
check "... (dd -> ca)" bash -c "! dkd exec dd ping -c1 -W1 10.40.0.2"
inhost iptables -P FORWARD DROP
check "dd reaches web's published port through the host" bash -c "dkd exec dd sh -c 'printf \"GET /hostname HTTP/1.0\\r\\n\\r\\n\" | nc -w2 $FW_HOST4 8080' | grep -q 200"
check "ca still reaches the host (egress)" dkd exec ca ping -c1 -W2 "$FW_HOST4"

say "# anti-spoofing"
if [ -x "$SPOOF" ]; then
	check "docker run -d att and vic on bnet (the helper mounted)" bash -c "dkd run -d --stop-timeout 1 --name att --network bnet -v $SPOOF:/spoof:ro busybox sleep 1d && dkd run -d --stop-timeout 1 --name vic --network bnet busybox sleep 1d"
	att4=$(dkd inspect -f '{{(index .NetworkSettings.Networks "bnet").IPAddress}}' att)
	vic4=$(dkd inspect -f '{{(index .NetworkSettings.Networks "bnet").IPAddress}}' vic)
	vicmac=$(dkd exec vic cat /sys/class/net/eth0/address)
	vicpid=$(dkd inspect -f '{{.State.Pid}}' vic)
	recv() {
		local out=$BT_DIR/recv.$RANDOM
		nsenter --net=/proc/$vicpid/ns/net "$SPOOF" recv eth0 2 marker >"$out" &
		local pid=$!
		wait_for 5 grep -q ready "$out"
		dkd exec att /spoof send eth0 "$@" >/dev/null 2>&1
		wait $pid
		tail -1 "$out"
	}
	export -f recv; export SPOOF vicpid
	check "control: att's genuine packet reaches vic" bash -c "[ \$(recv ip4 $att4 $vic4 $vicmac) -ge 1 ]"
	check "a forged IPv4 source is dropped" bash -c "[ \$(recv ip4 10.40.0.99 $vic4 $vicmac) = 0 ]"
	check "a forged MAC is dropped" bash -c "[ \$(recv mac 02:de:ad:be:ef:01 $att4 $vic4 $vicmac) = 0 ]"
	dkd rm -f att vic >/dev/null
else
	ko "anti-spoofing: $SPOOF is not built (make helpers)"
fi

say "# errors reach the docker CLI"
check_err "a pool overlapping bnet's (berth IPAM)" "overlaps" dkd network create -d berth --ipam-driver berth --subnet 10.40.0.0/25 bad1
check_err "a subnet overlapping bnet's (Docker's IPAM, berth's driver)" "overlaps with network" dkd network create -d berth --subnet 10.40.0.128/25 bad2
check_err "berth refuses to remove dockerd's network" "belongs to dockerd" berth network rm "$bname"
check "berth network prune leaves it" bash -c "berth network prune >/dev/null && berth network inspect $nid >/dev/null"
check_err "berth's containers do not join dockerd's network" "belongs to dockerd" berth run -d --name bx --network "$bname" busybox sleep 1d

say "# berth's probe next to dockerd's networks (it probes berth's own containers)"
check "berth run -d pa and pb on the predefined bridge" bash -c "berth run -d --name pa busybox sleep 1d >/dev/null && berth run -d --name pb busybox sleep 1d >/dev/null"
check "berth network probe: pa and pb reach each other; dockerd's endpoints are not nodes" bash -c "berth network probe --proto icmp --format json >$BT_DIR/probe.json && jq -e '([.Nodes[] | select(.Host | not) | .Name] | sort) == [\"pa\", \"pb\"] and ([.Cells[] | select(.Source == \"pa\" and .Target == \"pb\" and .Verdict == \"reach\")] | length > 0)' $BT_DIR/probe.json"
check "berth network probe --print-policy works next to dockerd's network" bash -c "berth network probe --print-policy >$BT_DIR/policy.yaml && berth network probe --proto icmp --expect $BT_DIR/policy.yaml >/dev/null"
check "berth rm -f pa pb" berth rm -f pa pb

say "# berthd restarts (containers keep their network)"
check "berthd stops" bt_term_berthd
check "ca still reaches web while berthd is down" dkd exec ca ping -c1 -W2 "$webip"
check "berthd starts again" bt_start_berthd --docker-plugin="$PLUG"
check "anti-spoofing elements were rebuilt" bash -c "fw_set_elems bridge mac | grep -q '$camac'"
check "the published port was rebuilt" bash -c "pub_map | grep -q 'tcp . 8080 : $webip . 80'"
check "connect and disconnect work after the restart" bash -c "dkd network connect bnet cb && dkd exec cb ping -c1 -W2 10.40.0.2 && dkd network disconnect bnet cb"

say "# a crash in the middle of a join"
check "berthd stops" bt_term_berthd
BERTH_CRASH_AT=docker-join:after-store bt_start_berthd --docker-plugin="$PLUG"
dkd run -d --stop-timeout 1 --name cc --network bnet busybox sleep 1d >"$BT_DIR/cc.out" 2>&1 &
runpid=$!
check "berthd dies in the join (its intent recorded)" bt_wait_berthd_exit 30
check "berthd starts again" bt_start_berthd --docker-plugin="$PLUG"
check "the interrupted join was rolled back" grep -q "rolling back interrupted docker endpoint" "$BT_DIR/berthd.log"
check_fail "docker run cc failed" wait $runpid
check "dockerd's retry of the cut call came without its body: refused clearly" grep -q "a JSON object is expected" "$BT_DIR/cc.out"
check "docker start cc works now" dkd start cc
check "cc reaches ca by name" dkd exec cc ping -c1 -W2 ca

say "# dockerd restarts (dockerd does not replay CreateNetwork)"
check "dockerd stops (its containers stop)" dk_down
check "dockerd starts again" dk_up
check "docker start ca cc web" dkd start ca cc web
check "ca reaches cc by name again" dkd exec ca ping -c1 -W2 cc
check "web is published again" bash -c "wait_for 5 bash -c 'incl curl -sf -m2 http://$FW_HOST4:8080/hostname | grep -q .'"

say "# nothing left behind"
check "docker rm -f every container" bash -c "dkd rm -f \$(dkd ps -aq) >/dev/null"
check "no veth of dockerd's endpoints is left" bash -c "! bt_host_links | grep -qE '^b[vd][0-9a-f]'"
check "no endpoint records, allocations only the gateways" bash -c "[ \$(sqlite3 $BT_DIR/root/berth.db \"select count(*) from meta where key like 'docker/ep/%'\") = 0 ] && [ \$(sqlite3 $BT_DIR/root/berth.db \"select count(*) from allocations where owner != 'gateway'\") = 0 ]"
check "berth's published map is empty" bash -c "! pub_map"
check "berth's anti-spoofing sets are empty" bash -c "[ -z \"\$(fw_set_elems bridge mac)\$(fw_set_elems bridge ports)\" ]"
check "docker network rm bnet dnet" dkd network rm bnet dnet
check "berth's network and its bridge are gone" bash -c "! berth network inspect $nid && bt_link_gone $bridge"
check "berth IPAM's pools and addresses are released" bash -c "[ \$(sqlite3 $BT_DIR/root/berth.db \"select count(*) from meta where key like 'docker/%'\") = 0 ]"
check "Docker's FORWARD rules no longer name the bridge" bash -c "inhost iptables -S BERTH-DOCKER | grep -q berth0 && ! inhost iptables -S BERTH-DOCKER | grep -q $bridge"
check "berthd stops" bt_term_berthd
check "berthd --cleanup removes its chain and the jump to it, not Docker's" bash -c "inhost $BERTHD --cleanup && ! inhost iptables -S BERTH-DOCKER 2>/dev/null && ! inhost iptables -S DOCKER-USER | grep -q BERTH && inhost iptables -S DOCKER-USER >/dev/null && ! inhost ip6tables -S BERTH-DOCKER 2>/dev/null"
check "--cleanup again (nothing there) succeeds" inhost "$BERTHD" --cleanup
bt_summary
