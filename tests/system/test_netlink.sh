#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# System test of netlink/: every operation of the module, each run twice (idempotency), checked
# with iproute2, inside private network namespaces. Needs root.
#   NLTEST=/path/to/nltest tests/system/test_netlink.sh
set -u

NLTEST=${NLTEST:-build/tests/helpers/nltest}
NS=bt-$$-nl            # "host" side: bridge, host ends of veths
CNS=bt-$$-nlc          # "container" side: veth peers
NSDIR=/run/bt-$$-nl.d  # netns_create / netns_bind_pid targets
BR=br-t$$
BV=bv$$
MAC=02:42:ac:11:00:02
OUT=$(mktemp)
SLEEPER=
pass=0
fail=0

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: test_netlink.sh needs root"
	exit 77
fi
if [ ! -x "$NLTEST" ]; then
	echo "SKIP: $NLTEST not built (set NLTEST)"
	exit 77
fi

cleanup() {
	[ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null
	for f in "$NSDIR"/*; do
		[ -e "$f" ] && umount -l "$f" 2>/dev/null
	done
	umount -l "$NSDIR" 2>/dev/null
	rm -rf "$NSDIR" "$OUT"
	ip netns del "$NS" 2>/dev/null
	ip netns del "$CNS" 2>/dev/null
}
trap cleanup EXIT

H() { nsenter --net=/run/netns/$NS "$@"; }
C() { nsenter --net=/run/netns/$CNS "$@"; }
ok() { pass=$((pass + 1)); echo "ok   $*"; }
ko() { fail=$((fail + 1)); echo "FAIL $*"; sed 's/^/     | /' "$OUT"; }

# expect DESC CMD...: CMD must succeed.
expect() {
	local desc=$1
	shift
	if "$@" >"$OUT" 2>&1; then ok "$desc"; else ko "$desc"; fi
}
# twice DESC CMD...: CMD must succeed twice in a row.
twice() {
	local desc=$1
	shift
	if "$@" >"$OUT" 2>&1 && "$@" >>"$OUT" 2>&1; then ok "$desc (x2)"; else ko "$desc (x2)"; fi
}
# fails DESC PATTERN CMD...: CMD must fail and its message match PATTERN.
fails() {
	local desc=$1 pat=$2
	shift 2
	if "$@" >"$OUT" 2>&1; then
		ko "$desc (unexpected success)"
	elif grep -q -- "$pat" "$OUT"; then
		ok "$desc: $(head -1 "$OUT")"
	else
		ko "$desc (message does not match '$pat')"
	fi
}
# has DESC PATTERN CMD...: output of CMD must match PATTERN.
has() {
	local desc=$1 pat=$2
	shift 2
	"$@" >"$OUT" 2>&1
	if grep -q -- "$pat" "$OUT"; then ok "$desc"; else ko "$desc (no '$pat')"; fi
}
# hasnt DESC PATTERN CMD...: output of CMD must not match PATTERN.
hasnt() {
	local desc=$1 pat=$2
	shift 2
	"$@" >"$OUT" 2>&1
	if grep -q -- "$pat" "$OUT"; then ko "$desc (found '$pat')"; else ok "$desc"; fi
}

ip netns add "$NS" || exit 1
ip netns add "$CNS" || exit 1
mkdir -p "$NSDIR"
NT=$NLTEST

echo "== bridges"
twice "bridge create" H "$NT" bridge "$BR" 1400
has "bridge is a bridge" "bridge forward_delay" H ip -d link show "$BR"
has "bridge mtu 1400" "mtu 1400" H ip link show "$BR"
has "bridge is up" "[<,]UP[,>]" H ip link show "$BR"
fails "bridge with MTU 10 shows the kernel's reason" "kernel: " H "$NT" bridge brbad$$ 10
fails "invalid link name refused" "Invalid argument" H "$NT" bridge "bad name" 0
hasnt "failed bridge not left behind" "brbad$$" H ip link show

echo "== veth pairs"
twice "veth create (peer in netns, MAC, master)" \
	H "$NT" veth "$BV" "$BR" /run/netns/$CNS eth0 $MAC
has "host end is a veth" "veth" H ip -d link show "$BV"
has "host end is a port of the bridge" "master $BR" H ip link show "$BV"
has "host end is a bridge port (details)" "bridge_slave" H ip -d link show "$BV"
has "host end is up" "[<,]UP[,>]" H ip link show "$BV"
has "peer in target netns with MAC" "link/ether $MAC" C ip link show eth0
hasnt "peer is left down" "[<,]UP[,>]" C ip link show eth0
hasnt "peer not in host netns" "eth0" H ip link show
fails "bridge over an existing veth name refused" "not a bridge" H "$NT" bridge "$BV" 0
fails "peer name collision reported" "File exists" \
	H "$NT" veth bvx$$ "$BR" /run/netns/$CNS eth0 -
hasnt "colliding veth not left behind" "bvx$$" H ip link show
fails "veth onto a missing bridge refused" "does not exist" \
	H "$NT" veth bvy$$ nobr$$ /run/netns/$CNS eth9 -
twice "veth without master in same netns" H "$NT" veth bvz$$ - - bpz$$ - 1450
has "same-netns peer exists with mtu" "mtu 1450" H ip link show bpz$$

echo "== link lookups and changes"
has "index of existing link" "^[1-9][0-9]*$" H "$NT" index "$BV"
has "index of missing link is 0" "^0$" H "$NT" index nolink$$
has "list by prefix" "^$BV$" H "$NT" list bv
hasnt "list by prefix filters" "^$BR$" H "$NT" list bv
twice "set mtu" H "$NT" mtu bvz$$ 1300
has "mtu applied" "mtu 1300" H ip link show bvz$$
twice "set down" H "$NT" up bvz$$ 0
hasnt "link is down" "[<,]UP[,>]" H ip link show bvz$$
twice "set up" H "$NT" up bvz$$ 1
has "link is up" "[<,]UP[,>]" H ip link show bvz$$
fails "set up of a missing link fails" "No such device" H "$NT" up nolink$$ 1
has "ns-index: nlx_open on a netns fd" "^[1-9][0-9]*$" H "$NT" ns-index /run/netns/$CNS eth0

echo "== addresses"
expect "peer up" C "$NT" up eth0 1
twice "IPv4 address add" C "$NT" addr eth0 10.231.7.2/24
has "IPv4 address present" "inet 10.231.7.2/24" C ip addr show eth0
twice "IPv6 address add (nodad)" C "$NT" addr eth0 fd00:bee:7::2/64 nodad
has "IPv6 address present" "inet6 fd00:bee:7::2/64" C ip addr show eth0
hasnt "IPv6 nodad address not tentative" "fd00:bee:7::2" C ip -6 addr show dev eth0 tentative
fails "address on a missing interface" "no such interface" C "$NT" addr nolink$$ 10.1.1.1/24

echo "== routes"
twice "IPv4 default route" C "$NT" route-default 4 10.231.7.1 eth0
has "IPv4 default route present" "default via 10.231.7.1 dev eth0" C ip route show default
twice "IPv6 default route via ULA gateway" C "$NT" route-default 6 fd00:bee:7::1 eth0
has "IPv6 default route present" "default via fd00:bee:7::1 dev eth0" C ip -6 route show default
twice "IPv4 default route replaced" C "$NT" route-default 4 10.231.7.254 eth0
has "IPv4 default route replaced (new gw)" "default via 10.231.7.254" C ip route show default
hasnt "IPv4 default route replaced (old gw gone)" "10.231.7.1 " C ip route show default
twice "IPv6 default route replaced" C "$NT" route-default 6 fd00:bee:7::fe eth0
has "IPv6 default route replaced (new gw)" "default via fd00:bee:7::fe" C ip -6 route show default
hasnt "IPv6 default route replaced (old gw gone)" "fd00:bee:7::1 " C ip -6 route show default
fails "unreachable gateway shows the kernel's reason" "kernel: " \
	C "$NT" route-default 4 192.0.2.1 eth0
has "route list IPv4 has the subnet" "^10.231.7.0/24$" C "$NT" routes 4
hasnt "route list IPv4 skips default" "/0$" C "$NT" routes 4
has "route list IPv6 has the subnet" "^fd00:bee:7::/64$" C "$NT" routes 6
hasnt "route list IPv6 skips default" "::/0$" C "$NT" routes 6
twice "IPv4 default route delete" C "$NT" route-default-del 4
twice "IPv6 default route delete" C "$NT" route-default-del 6
hasnt "no IPv4 default left" "default" C ip route show default
hasnt "no IPv6 default left" "default" C ip -6 route show default
twice "IPv4 address delete" C "$NT" addr-del eth0 10.231.7.2/24
twice "IPv6 address delete" C "$NT" addr-del eth0 fd00:bee:7::2/64
hasnt "addresses gone" "10.231.7.2\|fd00:bee:7::2" C ip addr show eth0
expect "address delete on a missing interface" C "$NT" addr-del nolink$$ 10.1.1.1/24

echo "== sysctl"
twice "sysctl write (dots)" H "$NT" sysctl-write net.ipv4.ip_forward 1
has "sysctl read back" "^1$" H "$NT" sysctl-read net/ipv4/ip_forward
twice "bridge with a dot in its name" H "$NT" bridge br.$$ 0
twice "sysctl write (slashes, dotted ifname)" \
	H "$NT" sysctl-write net/ipv6/conf/br.$$/disable_ipv6 1
has "sysctl read (slashes, dotted ifname)" "^1$" H "$NT" sysctl-read net/ipv6/conf/br.$$/disable_ipv6
fails "missing sysctl" "No such file" H "$NT" sysctl-read net.ipv4.nope$$
has "ns-sysctl: read inside the namespace" "^0$" H "$NT" ns-sysctl /run/netns/$CNS net.ipv4.ip_forward

echo "== netns_run"
# The function runs on a thread of its own inside the target namespace; the caller's thread
# stays where it was, whether the function succeeds, fails, or the namespace cannot be entered.
TI=$(stat -L -c %i /run/netns/$CNS)
HI=$(stat -L -c %i /run/netns/$NS)
has "the caller starts in its own namespace" "^before caller=$HI$" H "$NT" ns-run /run/netns/$CNS
has "the function ran in the target namespace, on another thread; caller unchanged" \
	"^ok rc=0 ran=$TI thread=other caller=$HI msg=$" H "$NT" ns-run /run/netns/$CNS
has "a failing function's error comes back; caller unchanged" \
	"^fail rc=-5 ran=$TI thread=other caller=$HI msg=deliberate failure" H "$NT" ns-run /run/netns/$CNS
has "a file that is not a namespace is refused, nothing runs; caller unchanged" \
	"^bad rc=-22 ran=0 thread=none caller=$HI msg=entering a network namespace" \
	H "$NT" ns-run /run/netns/$CNS
# The function leaves its thread unable to change namespace (CAP_SYS_ADMIN dropped from that
# thread): a thread that had to come back would stay in the container.
has "a thread that cannot come back strands nobody; caller unchanged" \
	"^strand rc=0 ran=$TI thread=other caller=$HI msg=$" H "$NT" ns-run /run/netns/$CNS
has "and the next call still runs in the namespace" \
	"^after rc=0 ran=$TI thread=other caller=$HI msg=$" H "$NT" ns-run /run/netns/$CNS
has "a function may itself call netns_run" \
	"^nested rc=0 ran=$TI thread=other caller=$HI inner_rc=0 inner_ran=$TI msg=$" \
	H "$NT" ns-run /run/netns/$CNS
has "afterwards no thread is left in the namespace (none keeps it alive)" "^threads-left=0$" \
	H "$NT" ns-run /run/netns/$CNS

echo "== namespaces"
twice "netns create" H "$NT" netns-create "$NSDIR/a"
has "netns is an nsfs mount" "nsfs" stat -f -c %T "$NSDIR/a"
has "netns has lo up" "[<,]UP[,>]" nsenter --net="$NSDIR/a" ip link show lo
has "netns has its own links only" "^1$" sh -c "nsenter --net='$NSDIR/a' ip -o link | wc -l"
unshare -n sleep 600 &
SLEEPER=$!
for _ in $(seq 1000); do
	[ "$(readlink /proc/$SLEEPER/ns/net 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
done
twice "netns bind pid" H "$NT" netns-bind "$SLEEPER" "$NSDIR/b"
if [ "$(stat -L -c %i "$NSDIR/b")" = "$(stat -L -c %i /proc/$SLEEPER/ns/net)" ]; then
	ok "bound namespace is the process's"
else
	ko "bound namespace is the process's"
fi
fails "netns bind over another namespace refused" "already holds" \
	H "$NT" netns-bind $$ "$NSDIR/b"
twice "netns delete" H "$NT" netns-delete "$NSDIR/a"
twice "netns delete (bound)" H "$NT" netns-delete "$NSDIR/b"
if [ ! -e "$NSDIR/a" ] && [ ! -e "$NSDIR/b" ]; then ok "netns files removed"; else ko "netns files removed"; fi

echo "== deletes"
twice "veth delete" H "$NT" del "$BV"
twice "bridge delete" H "$NT" del "$BR"
hasnt "links gone" "$BV\|$BR" H ip link show
hasnt "peer gone with its veth" "eth0" C ip link show

echo "== timing"
expect "veth create/delete x200" H "$NT" bridge brb$$ 0
if H "$NT" bench-veth 200 brb$$ /run/netns/$CNS >"$OUT" 2>&1; then
	ok "$(cat "$OUT")"
else
	ko "bench-veth"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
