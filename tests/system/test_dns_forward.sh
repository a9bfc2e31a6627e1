#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedded DNS forwarding (issue 4): other names go upstream from the host namespace (loopback
# resolvers work), resolv.conf reloads, failover (black hole, SERVFAIL), faithful relay
# (NXDOMAIN, large answers, TC and TCP, EDNS), --dns, loops refused, nothing leaks from
# internal networks; forged answers are ignored (random port and ID per query, question
# checked), and one container's flood does not starve another's lookups. Fake upstreams
# (tests/helpers/fakedns) run in their own namespace.
. "$(dirname "$0")/lib.sh"
mkdir -p "$BT_DIR"
RC=$BT_DIR/resolv.conf
printf 'nameserver 127.0.0.53\n' > "$RC"
export BERTH_RESOLV_CONF=$RC
bt_setup
UP=$BT_ID-up
FAKES=()
bt_dns_cleanup() { for p in "${FAKES[@]}"; do kill "$p" 2>/dev/null; done; }
trap 'bt_dns_cleanup; bt_cleanup' EXIT

# upstream namespace, reached from the host namespace over a veth
bt_netns up || exit 1
inhost ip link add dnsup0 type veth peer name eth0 netns "$UP"
inhost ip addr add 192.0.2.1/24 dev dnsup0
inhost ip -6 addr add 2001:db8:53::1/64 dev dnsup0 nodad
inhost ip link set dnsup0 up
nsenter --net=/run/netns/$UP sh -c 'for a in 53 54 55 56 57 58; do ip addr add 192.0.2.$a/24 dev eth0; done
	ip -6 addr add 2001:db8:53::53/64 dev eth0 nodad; ip link set eth0 up'
fake() { # NS ADDR NAME MODE [ANSWER]
	local ns=$1 addr=$2 name=$3; shift 3
	nsenter --net=/run/netns/$ns "$FAKEDNS" "$addr" "$BT_DIR/count.$name" "$@" 2>>"$BT_DIR/fake.log" &
	FAKES+=($!)
	wait_for 10 test -s "$BT_DIR/count.$name"
}
count() { cat "$BT_DIR/count.$1"; }
total() { cat "$BT_DIR"/count.* | awk '{s+=$1} END {print s}'; }
fake "$BT_NS" 127.0.0.53 lo normal 198.51.100.53
fake "$UP" 192.0.2.53 ok normal 198.51.100.1
fake "$UP" 192.0.2.54 hole silent
fake "$UP" 192.0.2.55 fail servfail
fake "$UP" 192.0.2.56 trunc truncate
fake "$UP" 2001:db8:53::53 six normal 198.51.100.6
fake "$UP" 192.0.2.57 spoof spoof 198.51.100.57
check "fake upstreams answer from the host namespace" bash -c "inhost $DNS_PROBE -s 192.0.2.53 query x.example | grep -qx 'A 198.51.100.1'"
setrc() { printf "$1" > "$RC.tmp" && mv "$RC.tmp" "$RC"; }
export -f setrc; export RC

check "create net" berth network create --ipv6 --subnet 10.43.0.0/24 --subnet fd00:43::/64 net
check "run client" berth run -d --name client --network net busybox sleep 1d
gw=$(berth network inspect net | jq -r '.[0].IPAM.Config[0].Gateway')

say "# forwarding from the host namespace"
check "a loopback resolver (127.0.0.53) of the host answers" bash -c "probe client query host1.example | grep -qx 'A 198.51.100.53'"
check "busybox nslookup through it" bash -c "berth exec client nslookup host2.example | grep -q 198.51.100.53"
check "NXDOMAIN is relayed" bash -c "probe client query nx.example | grep -q 'rcode=NXDOMAIN'"
check "AAAA is relayed" bash -c "probe client query host3.example AAAA | grep -qx 'AAAA 2001:db8::1'"
check "resolv.conf change picked up without restart" bash -c "setrc 'nameserver 192.0.2.53\n'; wait_for 5 bash -c \"probe client query host4.example | grep -qx 'A 198.51.100.1'\""
check "IPv6 upstream" bash -c "setrc 'nameserver 2001:db8:53::53\n'; wait_for 5 bash -c \"probe client query host5.example | grep -qx 'A 198.51.100.6'\""

say "# failover"
setrc 'nameserver 192.0.2.54\nnameserver 192.0.2.53\n'
wait_for 5 bash -c "probe -w 3000 client query warm.example | grep -q 198.51.100.1"
h0=$(count hole)
t0=$(date +%s%N)
check "black-holed first upstream: the second answers" bash -c "probe client -w 4000 query host6.example | grep -qx 'A 198.51.100.1'"
t1=$(date +%s%N)
check "within a bounded time (< 2.5 s)" test $(( (t1 - t0) / 1000000 )) -lt 2500
check "the black hole was tried first" test "$(count hole)" -gt "$h0"
setrc 'nameserver 192.0.2.58\nnameserver 192.0.2.53\n'
wait_for 5 bash -c "probe client query warm1.example | grep -q 198.51.100.1"
t0=$(date +%s%N)
check "no server at all on the first (port unreachable): the second answers" bash -c "probe client query host61.example | grep -qx 'A 198.51.100.1'"
check "at once, without waiting for a timeout (< 500 ms)" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 500
setrc 'nameserver 192.0.2.55\nnameserver 192.0.2.53\n'
f0=$(count fail)
check "SERVFAIL from the first: the second answers (and the first was asked)" bash -c "wait_for 5 bash -c \"probe client query host7.example | grep -qx 'A 198.51.100.1' && [ \\\$(cat $BT_DIR/count.fail) -gt $f0 ]\""
setrc 'nameserver 192.0.2.55\n'
check "SERVFAIL from every upstream: relayed as is" bash -c "wait_for 5 bash -c \"probe client query host8.example | grep -q rcode=SERVFAIL\""
setrc 'nameserver 192.0.2.54\n'
check "only a black hole: SERVFAIL (ours, counted as failed), not a hang" bash -c "wait_for 8 bash -c \"probe client -w 3000 query host9.example | grep -q rcode=SERVFAIL && berth dns stats --json | jq -e '.Failed > 0'\""

say "# faithful relay: size, truncation, TCP, EDNS"
setrc 'nameserver 192.0.2.53\n'
wait_for 5 bash -c "probe client query warm2.example | grep -q 198.51.100.1"
check "a large answer over plain UDP comes back truncated (TC)" bash -c "probe client query big.example | grep -q 'rcode=NOERROR tc=1'"
check "with EDNS 4096 it comes whole, OPT echoed" bash -c "probe client -e 4096 query big.example | grep -q 'tc=0 n=32 edns=1'"
check "over TCP it comes whole" bash -c "probe client -t query big.example | grep -q 'tc=0 n=32'"
setrc 'nameserver 192.0.2.56\n'
check "an upstream that truncates: TC relayed over UDP" bash -c "wait_for 5 bash -c \"probe client query t1.example | grep -q 'tc=1'\""
check "and the client's TCP retry is forwarded over TCP" bash -c "probe client -t query t1.example | grep -qx 'A 198.51.100.1'"
t0=$(count trunc)
check "busybox nslookup against a truncating upstream: the TC answer reaches it (no timeout)" bash -c "berth exec client nslookup -type=a t2.example && [ \$(cat $BT_DIR/count.trunc) -gt $t0 ]"

say "# loops, --dns"
setrc "nameserver 127.0.0.11\nnameserver $gw\n"
check "127.0.0.11 and berth gateways are never upstreams: REFUSED at once" bash -c "wait_for 5 bash -c \"probe client -w 1000 query loop.example | grep -q rcode=REFUSED\""
setrc 'nameserver 192.0.2.53\n'
check "--dns: the container's own upstream" bash -c "berth run -d --name own --network net --dns 2001:db8:53::53 busybox sleep 1d >/dev/null && probe own query own1.example | grep -qx 'A 198.51.100.6'"
check "others keep the host's" bash -c "wait_for 5 bash -c \"probe client query own2.example | grep -qx 'A 198.51.100.1'\""
check "dns lookup from the host forwards" bash -c "berth dns lookup host10.example | grep -q 198.51.100.1"

say "# internal networks: names yes, forwarding never"
check "create internal network" berth network create --internal --subnet 10.44.0.0/24 inet
check "run ic and ic2 on it" bash -c "berth run -d --name ic --network inet busybox sleep 1d >/dev/null && berth run -d --name ic2 --network inet busybox sleep 1d >/dev/null"
check "ic resolves ic2" bash -c "probe ic query ic2 | grep -qx \"A \$(ctr_ip ic2 inet)\""
before=$(total)
# the probe's own clock: an answer within 500 ms, sooner than any upstream failover (800 ms)
check "an outside name: REFUSED at once (answered within 500 ms)" bash -c "probe ic -w 500 query leak1.example | grep -q rcode=REFUSED"
check "busybox nslookup fails too" bash -c "! berth exec ic nslookup leak2.example"
check "over TCP as well" bash -c "probe ic -t query leak3.example | grep -q rcode=REFUSED"
check "PTR of an outside address: REFUSED" bash -c "probe ic query 8.8.8.8.in-addr.arpa PTR | grep -q rcode=REFUSED"
check "zero packets reached any upstream" test "$(total)" = "$before"
check_fail "dns lookup on the internal network does not forward" berth dns lookup leak4.example --network inet
check "still zero packets" test "$(total)" = "$before"
check "connected to a non-internal network too, it forwards" bash -c "berth network connect net ic && probe ic query out1.example | grep -qx 'A 198.51.100.1'"

say "# forged answers (the fake upstream sends one, A 6.6.6.N, before the real one)"
setrc 'nameserver 192.0.2.57\n'
wait_for 5 bash -c "probe client query learn0.example | grep -qx 'A 198.51.100.57'"
real() { probe client query "$1" | grep -qx 'A 198.51.100.57'; }
export -f real
check "with another ID: ignored, the real answer is used" real badid1.example
check "from another port of the upstream: ignored" real badport1.example
check "for another question: ignored" real badq1.example
check "with the right ID and question, to the port the previous query left from: ignored" bash -c "real learn1.example && real blind1.example"
LOG=$BT_DIR/count.spoof.log
for i in $(seq 20); do probe client query seq$i.example >/dev/null; done
check "20 forwarded queries: the upstream saw them all" test "$(grep -c ' seq[0-9]*\.example$' "$LOG")" = 20
check "they left from (at least 18) different source ports" test "$(awk '/ seq[0-9]+\.example$/ {print $1}' "$LOG" | sort -u | wc -l)" -ge 18
check "with random IDs: (at least 19) distinct, no constant step" bash -c "awk '/ seq[0-9]+\.example\$/ {id[n++] = \$2} END {
	for (i = 0; i < n; i++) u[id[i]]; for (k in u) d++
	for (i = 2; i < n; i++) if ((id[i] - id[i-1] + 65536) % 65536 == (id[i-1] - id[i-2] + 65536) % 65536) steps++
	exit !(n == 20 && d >= 19 && !steps)}' $LOG"

say "# one container's flood does not starve another's lookups"
setrc 'nameserver 192.0.2.53\n'
wait_for 5 bash -c "probe client query warm3.example | grep -q 198.51.100.1"
check "run flooder (its own upstream is a black hole)" berth run -d --name flooder --network net --dns 192.0.2.54 busybox sleep 1d
probe flooder flood 8000 > "$BT_DIR/flood.out" &
flood=$!
check "its UDP queries fill its share of slots" wait_for 5 bash -c "berth dns stats --json | jq -e '.Pending >= 60'"
check "another container's lookups are answered meanwhile (10 in a row)" bash -c "for i in \$(seq 10); do probe client -w 2000 query during\$i.example | grep -qx 'A 198.51.100.1' || exit 1; done"
check "the flooder holds at most 64 queries in flight" bash -c "berth dns stats --json | jq -e '.Pending <= 65'"
wait $flood
check "its excess got SERVFAIL at once" bash -c "awk '{exit !(\$2 > 5000 && \$4 > 5000)}' $BT_DIR/flood.out"
check "its last queries expire" wait_for 3 bash -c "berth dns stats --json | jq -e '.Pending == 0'"
probe flooder tcp-hold 24 6000 > "$BT_DIR/hold.out" &
flood=$!
check "its TCP queries (24 connections) take its share of workers" wait_for 5 bash -c "berth dns stats --json | jq -e '.Pending >= 4 and .TCPConnections >= 24'"
check "another container's TCP lookup is answered meanwhile" bash -c "probe client -t -w 3000 query tcpduring.example | grep -qx 'A 198.51.100.1'"
wait $flood
bt_summary
