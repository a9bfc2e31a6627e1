#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# System test of the cluster store client (store/etcd.c) against real etcd 3.4 (Debian
# etcd-server), driven through build/tests/helpers/etcdtest. etcd runs in a namespace of its own
# ("srv", 10.77.0.1-4 on a veth), the client in another ("cli", 10.77.0.100); 10.77.0.50-52 are
# silent hosts (their frames go to a MAC nobody has: connections time out). First one member,
# then a 3-member cluster.
set -u
. "$(dirname "$0")/lib.sh"

ETCDTEST=${ETCDTEST:-$TOP/build/tests/helpers/etcdtest}
SRV=$BT_ID-srv
CLI=$BT_ID-cli
DEAD=10.77.0.50
declare -A EPID=()

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if ! command -v etcd >/dev/null; then echo "SKIP: etcd not installed (scripts/install-deps.sh)"; exit 77; fi
if [ ! -x "$ETCDTEST" ]; then echo "SKIP: $ETCDTEST not built (make helpers)"; exit 77; fi

mkdir -p "$BT_DIR"
cleanup() {
	local rc=$? n
	for n in "${!EPID[@]}"; do etcd_kill "$n"; done
	(exit $rc)
	bt_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT TERM

incli() { nsenter --net=/run/netns/$CLI "$@"; }
# et ENDPOINTS ARGS...: the helper in the client namespace
et() { local e=$1; shift; incli "$ETCDTEST" --endpoints "$e" "$@"; }
b64() { printf '%s' "$1" | base64 -w0; }
strip_time() { awk '{ $1 = ""; sub(/^ /, ""); print }' "$@"; }
# wsum FILE: a watch's output in short: "put KEY=VALUE", "delete KEY", "reset N", "kv KEY=VALUE",
# "up ENDPOINT", "down" (times, revisions and reasons dropped)
wsum() {
	strip_time "$@" | awk '$1 == "put" || $1 == "delete" || $1 == "reset" { print $1, $3; next }
		$1 == "down" { print $1; next } { print $1, $2 }'
}

# etcd_start NAME IP CLUSTER STATE [extra flags]: one member, client port 2379, peer 2380.
etcd_start() {
	local name=$1 ip=$2 cluster=$3 state=$4 scheme=http; shift 4
	[ "${1:-}" = --tls ] && { scheme=https; shift; }
	nsenter --net=/run/netns/$SRV etcd --name "$name" --data-dir "$BT_DIR/$name" \
		--listen-client-urls "$scheme://$ip:2379" --advertise-client-urls "$scheme://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$cluster" --initial-cluster-state "$state" \
		--initial-cluster-token "$BT_ID" --logger zap --log-outputs stderr "$@" \
		>>"$BT_DIR/$name.log" 2>&1 &
	EPID[$name]=$!
}
etcd_kill() { kill -KILL "${EPID[$1]}" 2>/dev/null; wait "${EPID[$1]}" 2>/dev/null; }
etcd_healthy() { incli curl -sf -m 1 "http://$1:2379/health" | grep -q '"health":"true"'; }
# etcd_leader: the address of the member that leads (10.77.0.1-3)
etcd_leader() {
	local i st
	for i in 1 2 3; do
		st=$(incli curl -sf -m 1 -X POST "http://10.77.0.$i:2379/v3/maintenance/status" -d '{}') || continue
		[ "$(echo "$st" | jq -r '.leader == .header.member_id')" = true ] && { echo "10.77.0.$i"; return 0; }
	done
	return 1
}

# elapsed_ms CMD...: run, keep output in $BT_DIR/out, print the time taken; status is CMD's.
elapsed_ms() {
	local t0 rc
	t0=$(bt_now_ms)
	"$@" >"$BT_DIR/out" 2>&1
	rc=$?
	echo $(( $(bt_now_ms) - t0 ))
	return $rc
}

export ETCDTEST CLI BT_DIR
export -f incli et strip_time wsum etcd_healthy etcd_leader

bt_netns srv || exit 1
bt_netns cli || exit 1
ip link add "bt$$s" netns "$SRV" type veth peer name "bt$$c" netns "$CLI" || exit 1
nsenter --net=/run/netns/$SRV sh -c "ip link set bt$$s name eth0 && ip link set eth0 up &&
	for i in 1 2 3 4; do ip addr add 10.77.0.\$i/24 dev eth0; done" || exit 1
nsenter --net=/run/netns/$CLI sh -c "ip link set bt$$c name eth0 && ip link set eth0 up &&
	ip addr add 10.77.0.100/24 dev eth0 &&
	for i in 50 51 52; do ip neigh replace 10.77.0.\$i lladdr 02:00:00:00:00:\$i nud permanent dev eth0; done" ||
	exit 1

say "## one member"
E1=etcd://10.77.0.1:2379
etcd_start s1 10.77.0.1 s1=http://10.77.0.1:2380 new
check "etcd s1 is healthy" wait_for 20 etcd_healthy 10.77.0.1

check "put" et $E1 put bt/nets/n1 '{"vni":4097}'
check "get returns the value" bash -c "et $E1 get bt/nets/n1 | head -1 | grep -qx '{\"vni\":4097}'"
et $E1 put bt/nets/n2 v2 >/dev/null
et $E1 put bt/nets0 outside >/dev/null
check "range by prefix: exactly the keys under it, sorted" bash -c "
	[ \"\$(et $E1 range bt/nets/ | sed 1d)\" = \"\$(printf 'bt/nets/n1={\"vni\":4097}\nbt/nets/n2=v2')\" ]"
check_err "get of a missing key: exit 4, says so" "no key bt/nope" et $E1 get bt/nope
incli "$ETCDTEST" --endpoints $E1 get bt/nope >/dev/null 2>&1
check "  (exit status 4)" test $? = 4
check "delete" bash -c "[ \"\$(et $E1 del bt/nets/n2)\" = 1 ]"
check "delete of what is gone succeeds (0 deleted)" bash -c "[ \"\$(et $E1 del bt/nets/n2)\" = 0 ]"
check "delete by prefix" bash -c "[ \"\$(et $E1 delprefix bt/nets/)\" = 1 ] &&
	[ \"\$(et $E1 range bt/nets/ | wc -l)\" = 1 ] && et $E1 get bt/nets0"
check "a value with bytes JSON and base64 care about" bash -c "
	v=\$(printf 'a\"b\\\\c\\tü/+=')
	et $E1 put 'bt/odd key/ü' \"\$v\" >/dev/null && [ \"\$(et $E1 get 'bt/odd key/ü' | head -1)\" = \"\$v\" ]"

say "## transactions"
check "create-if-absent creates" et $E1 create bt/ipam/10.0.0.5 ep1
check_err "create-if-absent again: exists" "exists" et $E1 create bt/ipam/10.0.0.5 ep2
check "  and the key keeps the first value (shown to the loser)" bash -c "
	[ \"\$(et $E1 create bt/ipam/10.0.0.5 ep2 2>/dev/null)\" = ep1 ] && [ \"\$(et $E1 get bt/ipam/10.0.0.5 | head -1)\" = ep1 ]"
MOD=$(et $E1 get bt/ipam/10.0.0.5 | sed -n 's/.*mod=\([0-9]*\).*/\1/p')
check "compare-and-swap with the current mod_revision succeeds" et $E1 cas bt/ipam/10.0.0.5 "$MOD" ep3
check_err "compare-and-swap with a stale mod_revision: changed" "changed since revision $MOD" \
	et $E1 cas bt/ipam/10.0.0.5 "$MOD" ep4
check "compare on the value" bash -c "et $E1 txn-value bt/ipam/10.0.0.5 ep3 ep5 &&
	! et $E1 txn-value bt/ipam/10.0.0.5 ep3 ep6 && [ \"\$(et $E1 get bt/ipam/10.0.0.5 | head -1)\" = ep5 ]"

# Two allocators at once, racing for the lowest free slots of one pool.
et $E1 alloc bt/pool/ 60 30 A >"$BT_DIR/alloc.A" 2>&1 &
pa=$!
et $E1 alloc bt/pool/ 60 30 B >"$BT_DIR/alloc.B" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
check "two concurrent allocators both finish" test "$ra$rb" = 00
check "  they never got the same slot (60 distinct slots)" bash -c "
	[ \"\$(cat $BT_DIR/alloc.A $BT_DIR/alloc.B | sort -n | uniq | wc -l)\" = 60 ]"
check "  every slot in etcd names the allocator that printed it" bash -c "
	et $E1 range bt/pool/ | sed 1d | sed 's|bt/pool/||' | sort >$BT_DIR/alloc.etcd
	{ sed 's/\$/=A/' $BT_DIR/alloc.A; sed 's/\$/=B/' $BT_DIR/alloc.B; } | sort | diff - $BT_DIR/alloc.etcd"
check_err "  the pool is full: a third allocator is refused" "pool exhausted" et $E1 alloc bt/pool/ 60 1 C
# Two increments of one counter at once (compare-and-swap on mod_revision).
et $E1 incr bt/vni 40 >"$BT_DIR/incr.A" 2>&1 &
pa=$!
et $E1 incr bt/vni 40 >"$BT_DIR/incr.B" 2>&1 &
pb=$!
wait $pa; ra=$?
wait $pb; rb=$?
check "two concurrent CAS counters: 80 distinct values, 1..80, none lost" bash -c "
	[ '$ra$rb' = 00 ] && [ \"\$(cat $BT_DIR/incr.A $BT_DIR/incr.B | sort -n | uniq | tr '\n' ' ')\" = \"\$(seq 80 | tr '\n' ' ')\" ]"

say "## leases"
read -r LEASE TTL < <(et $E1 lease-grant 2)
check "lease granted (TTL 2)" test "${TTL:-0}" = 2
check "a key attached to the lease" et $E1 put bt/hosts/h1 10.77.0.100 "$LEASE"
check "  shows the lease" bash -c "et $E1 get bt/hosts/h1 | grep -q 'lease=$LEASE'"
check "keepalive refreshes it" bash -c "[ \"\$(et $E1 lease-keepalive $LEASE)\" = 2 ]"
et $E1 keep "$LEASE" 2 4 >"$BT_DIR/keep.out" 2>&1 &
kp=$!
# Twice the TTL with the keeper running: the key must still be there.
check "with the keeper running, the key outlives twice the TTL" bash -c "
	t0=\${EPOCHREALTIME/./}; while [ \$(( \${EPOCHREALTIME/./} - t0 )) -lt 3800000 ]; do
		et $E1 get bt/hosts/h1 >/dev/null || exit 1; sleep 0.2; done"
wait $kp
check "  the keeper reported no state change" bash -c "[ \"\$(strip_time $BT_DIR/keep.out)\" = alive ]"
check "keeper stopped: the key disappears when the lease expires" wait_for 5 bash -c "
	et $E1 get bt/hosts/h1; [ \$? = 4 ]"
check_err "keepalive of the expired lease: expired" "expired" et $E1 lease-keepalive "$LEASE"
read -r LEASE2 _ < <(et $E1 lease-grant 30)
et $E1 keep "$LEASE2" 30 20 >"$BT_DIR/keep2.out" 2>&1 &
kp=$!
et $E1 lease-revoke "$LEASE2" >/dev/null
check "revoking a lease under a keeper: the keeper reports it lost" wait_for 15 grep -q 'lost: .*expired' "$BT_DIR/keep2.out"
wait $kp
check "revoking an unknown lease succeeds" et $E1 lease-revoke "$LEASE2"

say "## watch"
REV0=$(et $E1 range bt/w/ | head -1 | awk '{print $2}')
et $E1 put bt/w/a 1 >/dev/null
et $E1 put bt/w/b 2 >/dev/null
et $E1 watch bt/w/ $((REV0 + 1)) 10 10 >"$BT_DIR/watch1" 2>&1 &
wp=$!
wait_for 5 grep -q '^[0-9.]* up ' "$BT_DIR/watch1"
et $E1 put bt/w/a 3 >/dev/null
et $E1 del bt/w/b >/dev/null
et $E1 put bt/x/outside 0 >/dev/null
et $E1 put bt/w/c 4 >/dev/null
et $E1 del bt/w/a >/dev/null
et $E1 put bt/w/p1 x >/dev/null
et $E1 put bt/w/p2 y >/dev/null
et $E1 delprefix bt/w/p >/dev/null   # two events in one revision
wait $wp
check "watch from a past revision: history then live puts and deletes, in order" bash -c "
	printf '%s\n' 'up 10.77.0.1:2379' 'put bt/w/a=1' 'put bt/w/b=2' 'put bt/w/a=3' 'delete bt/w/b' \
		'put bt/w/c=4' 'delete bt/w/a' 'put bt/w/p1=x' 'put bt/w/p2=y' 'delete bt/w/p1' 'delete bt/w/p2' |
		diff - <(wsum $BT_DIR/watch1)"
check "  revisions increase; the two deletes of one transaction share one" bash -c "
	strip_time $BT_DIR/watch1 | grep -v '^up' | awk '{print \$2}' >$BT_DIR/revs
	sort -n -c $BT_DIR/revs && [ \$(sort -u $BT_DIR/revs | wc -l) = 9 ]"
check "watch from 0: a snapshot (reset) first" bash -c "
	[ \"\$(et $E1 watch bt/w/ 0 1 5 | wsum | tr '\n' ' ')\" = 'reset 1 kv bt/w/c=4 ' ]"

# Compaction: the revision to resume from is gone; the watch resyncs with a reset.
REVOLD=$(et $E1 range bt/w/ | head -1 | awk '{print $2}')
for i in 1 2 3; do et $E1 put bt/w/c $((10 + i)) >/dev/null; done
REVNOW=$(et $E1 range bt/w/ | head -1 | awk '{print $2}')
incli curl -sf -X POST http://10.77.0.1:2379/v3/kv/compaction -d "{\"revision\":\"$REVNOW\"}" >/dev/null
et $E1 watch bt/w/ "$REVOLD" 2 10 >"$BT_DIR/watch2" 2>&1 &
wp=$!
wait_for 5 grep -q '^[0-9.]* reset ' "$BT_DIR/watch2"
et $E1 put bt/w/d 5 >/dev/null
wait $wp
check "watch from a compacted revision: a reset with the current state, then live events" bash -c "
	printf '%s\n' 'up 10.77.0.1:2379' 'reset 1' 'kv bt/w/c=13' 'put bt/w/d=5' | diff - <(wsum $BT_DIR/watch2)"

# A consumer that does not read: the watch's queue (4,096 items) fills, its thread stops reading
# from etcd, and resumes when the consumer catches up; nothing lost, nothing reordered.
REVQ=$(et $E1 range bt/q/ | head -1 | awk '{print $2}')
check "5,000 events in 40 transactions" et $E1 fill bt/q/ 5000
check "a watch whose reader starts late still gets all 5,000, in order" bash -c "
	et $E1 watch bt/q/ $((REVQ + 1)) 5000 30 1500 | strip_time | grep '^put' >$BT_DIR/watchq &&
	seq 0 4999 | awk '{ print \"bt/q/\" \$1 \"=\" \$1 }' | diff -q - <(awk '{ print \$3 }' $BT_DIR/watchq)"

# Reconnect: the member restarts under a running watch; nothing lost, nothing repeated.
et $E1 watch bt/w/ 0 3 30 >"$BT_DIR/watch3" 2>&1 &
wp=$!
wait_for 5 grep -q '^[0-9.]* up ' "$BT_DIR/watch3"
et $E1 put bt/w/e 6 >/dev/null
wait_for 5 grep -q 'bt/w/e=6' "$BT_DIR/watch3"
etcd_kill s1
check "watch reports the stream down when etcd dies" wait_for 5 grep -q '^[0-9.]* down ' "$BT_DIR/watch3"
etcd_start s1 10.77.0.1 s1=http://10.77.0.1:2380 new
wait_for 20 etcd_healthy 10.77.0.1
et $E1 put bt/w/f 7 >/dev/null
wait $wp
check "  and resumes after the restart: up again, the new put once, the old one not again" bash -c "
	printf '%s\n' 'reset 2' 'kv bt/w/c=13' 'kv bt/w/d=5' 'up 10.77.0.1:2379' 'put bt/w/e=6' 'down' \
		'up 10.77.0.1:2379' 'put bt/w/f=7' | diff - <(wsum $BT_DIR/watch3)"

say "## failing fast"
ms=$(elapsed_ms et "etcd://$DEAD:2379,10.77.0.1:2379" --repeat 3 get bt/w/f)
check "a dead first endpoint: the call goes to the next after the connect timeout (${ms} ms)" \
	bash -c "grep -qx 7 $BT_DIR/out && [ $ms -lt 3000 ]"
check "  and later calls on that client stay on the endpoint that answered" bash -c "
	sed -n 's/^run \([0-9]\): \([0-9]*\) ms/\1 \2/p' $BT_DIR/out >$BT_DIR/runs
	awk '\$1 == 1 && \$2 >= 900 { a = 1 } \$1 > 1 && \$2 < 300 { b++ } END { exit !(a && b == 2) }' $BT_DIR/runs"
etcd_kill s1
ms=$(elapsed_ms et $E1 get bt/w/f)
check "etcd down (refused): fails at once (${ms} ms) with a clear error" bash -c "[ $ms -lt 1000 ] &&
	grep -q 'etcd unreachable: tried 10.77.0.1:2379 (connection refused)' $BT_DIR/out"
ms=$(elapsed_ms et "etcd://$DEAD:2379,10.77.0.1:2379,10.77.0.3:2379" put bt/x 1)
check "every endpoint down or silent: a write fails within the bounds (${ms} ms)" bash -c "[ $ms -lt 2500 ] &&
	grep -q 'etcd unreachable: tried $DEAD:2379 (no connection within 1000 ms), 10.77.0.1:2379 (connection refused), 10.77.0.3:2379 (connection refused)' $BT_DIR/out"
ms=$(elapsed_ms et "etcd://$DEAD:2379,10.77.0.51:2379,10.77.0.52:2379" --timeout 1500 get bt/x)
check "the whole call is bounded by the request timeout (1500 ms; took ${ms} ms)" bash -c "[ $ms -lt 2200 ] &&
	grep -Eq 'no connection within 1000 ms\), 10.77.0.51:2379 \(no connection within (4[0-9][0-9]|500) ms\); gave up after 1500 ms' $BT_DIR/out"

say "## TLS"
TLS=$BT_DIR/tls
bt_tls_certs "$TLS" 10.77.0.4
etcd_start t1 10.77.0.4 t1=http://10.77.0.4:2380 new --tls --cert-file "$TLS/srv.pem" \
	--key-file "$TLS/srv.key" --trusted-ca-file "$TLS/ca.pem" --client-cert-auth
T4=etcd://10.77.0.4:2379
check "etcd with TLS and client certificates is up" wait_for 20 bash -c "
	et $T4 --cafile $TLS/ca.pem --certfile $TLS/cli.pem --keyfile $TLS/cli.key put bt/tls 1"
check "CA, certificate and key reach libcurl: get over TLS" bash -c "
	[ \"\$(et $T4 --cafile $TLS/ca.pem --certfile $TLS/cli.pem --keyfile $TLS/cli.key get bt/tls | head -1)\" = 1 ]"
check "  a watch over TLS too" bash -c "
	et $T4 --cafile $TLS/ca.pem --certfile $TLS/cli.pem --keyfile $TLS/cli.key watch bt/ 0 1 5 | grep -q ' kv bt/tls=1'"
check_err "without the client certificate: refused, and says why" "certificate" \
	et $T4 --cafile $TLS/ca.pem get bt/tls
check_err "without the CA: the server is not trusted" "certificate" \
	et $T4 --certfile $TLS/cli.pem --keyfile $TLS/cli.key get bt/tls
check_err "TLS files with an http:// URL: refused before any request" "TLS files given for an http:// URL" \
	et http://10.77.0.4:2379 --cafile $TLS/ca.pem get bt/tls
check_err "a missing key file: named in the error" "key file $TLS/nope" \
	et $T4 --cafile $TLS/ca.pem --certfile $TLS/cli.pem --keyfile $TLS/nope get bt/tls
etcd_kill t1

say "## three members"
CL=c1=http://10.77.0.1:2380,c2=http://10.77.0.2:2380,c3=http://10.77.0.3:2380
E3=etcd://10.77.0.1:2379,10.77.0.2:2379,10.77.0.3:2379
for i in 1 2 3; do etcd_start c$i 10.77.0.$i "$CL" new; done
check "the 3-member cluster is healthy" wait_for 30 bash -c "
	etcd_healthy 10.77.0.1 && etcd_healthy 10.77.0.2 && etcd_healthy 10.77.0.3 &&
	et etcd://10.77.0.1:2379 put bt/c/x 1 >/dev/null"
check "written through one member, read through another" bash -c "
	et etcd://10.77.0.1:2379 put bt/c/x 2 >/dev/null && [ \"\$(et etcd://10.77.0.3:2379 get bt/c/x | head -1)\" = 2 ]"
# The member the keeper and the watch use first is a follower: killing it must not disturb
# writes (killing the leader is the last scenario).
LEAD=$(etcd_leader)
check "the cluster has a leader ($LEAD)" test -n "$LEAD"
for i in 1 2 3; do [ "10.77.0.$i" != "$LEAD" ] && { F=10.77.0.$i; FN=c$i; break; }; done
for i in 1 2 3; do [ "10.77.0.$i" != "$LEAD" ] && [ "10.77.0.$i" != "$F" ] && { F2N=c$i; break; }; done
EF=etcd://$F:2379,10.77.0.1:2379,10.77.0.2:2379,10.77.0.3:2379
EF=${EF/,$F:2379/}
read -r LEASE3 _ < <(et $EF lease-grant 3)
et $EF put bt/c/hosts/h1 10.77.0.100 "$LEASE3" >/dev/null
et $EF keep "$LEASE3" 3 60 >"$BT_DIR/keep3.out" 2>&1 &
kp=$!
et $EF watch bt/c/ 0 0 60 >"$BT_DIR/watch4" 2>&1 &
wp=$!
wait_for 10 grep -q "^[0-9.]* up $F:2379" "$BT_DIR/watch4"
etcd_kill $FN
ms=$(elapsed_ms et $EF put bt/c/a 1)
check "a follower killed: a write through the list still succeeds at once (${ms} ms)" bash -c "[ $ms -lt 1000 ]"
for v in 2 3; do et $EF put bt/c/a $v >/dev/null; done
et $EF del bt/c/a >/dev/null
check "  the watch moved to another member" wait_for 10 bash -c "
	wsum $BT_DIR/watch4 | grep '^up' | tail -1 | grep -v -q '$F:2379'"
check "  and saw every event once, in order" wait_for 10 bash -c "
	[ \"\$(wsum $BT_DIR/watch4 | grep -E '^(put|delete)' | tr '\n' ' ')\" = 'put bt/c/a=1 put bt/c/a=2 put bt/c/a=3 delete bt/c/a ' ]"
check "  the lease keeper kept the host key alive through it (> 2 TTLs)" bash -c "
	t0=\${EPOCHREALTIME/./}; while [ \$(( \${EPOCHREALTIME/./} - t0 )) -lt 6500000 ]; do
		et $EF get bt/c/hosts/h1 >/dev/null || exit 1; sleep 0.3; done"
etcd_kill $F2N
# One member left: it loses its leader within an election timeout (a read sent before that may
# wait for the request timeout); from then on it refuses at once.
check "quorum lost: calls fail fast with a clear error" wait_for 20 bash -c "
	et $E3 get bt/c/x 2>&1 | grep -q 'etcd unreachable: tried .*(etcdserver: no leader)'"
ms=$(elapsed_ms et $E3 put bt/c/b 1)
check "  a write too, at once (${ms} ms)" bash -c "[ $ms -lt 1000 ] && grep -q 'etcdserver: no leader' $BT_DIR/out"
check "  the watch says it is down" wait_for 10 bash -c "strip_time $BT_DIR/watch4 | tail -1 | grep -q '^down'"
check "  the keeper says the lease cannot be refreshed" wait_for 10 grep -q 'unreachable: ' "$BT_DIR/keep3.out"
etcd_start $FN $F "$CL" existing
etcd_start $F2N "${F2N/c/10.77.0.}" "$CL" existing
check "quorum back: writes succeed again" wait_for 30 bash -c "et $E3 put bt/c/b 2"
check "  the watch is up again and delivers it" wait_for 15 grep -q 'put [0-9]* bt/c/b=2' "$BT_DIR/watch4"
check "  the keeper refreshes the lease again" wait_for 15 bash -c "tail -1 $BT_DIR/keep3.out | grep -q ' alive'"
check "  the host key survived the outage" et $E3 get bt/c/hosts/h1

# The leader dies: a write in flight may wait for etcd to give up on it (the client's request
# timeout bounds that, and says the write may have been applied); once a new leader is elected
# writes go through again.
wait_for 20 bash -c "etcd_healthy 10.77.0.1 && etcd_healthy 10.77.0.2 && etcd_healthy 10.77.0.3"
LEAD=$(etcd_leader)
etcd_kill "c${LEAD##*.}"
ms=$(elapsed_ms et $E3 put bt/c/d 1)
check "leader killed: a write right after ends within the request timeout (${ms} ms)" bash -c "
	[ $ms -lt 6000 ] && { [ ! -s $BT_DIR/out ] || grep -Eq 'may have been applied|did not answer|no leader' $BT_DIR/out; }"
check "  writes go through again once a new leader is elected" wait_for 15 bash -c "et $E3 put bt/c/d 2"
check "  the watch delivers it" wait_for 15 grep -q 'put [0-9]* bt/c/d=2' "$BT_DIR/watch4"
check "  nothing was delivered twice" bash -c "
	[ -z \"\$(strip_time $BT_DIR/watch4 | grep -E '^(put|delete)' | awk '{print \$2}' | uniq -d)\" ]"
kill $kp $wp 2>/dev/null
wait $kp $wp 2>/dev/null

bt_summary
