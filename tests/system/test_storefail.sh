#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A failing store (BERTH_STORE_FAIL injects failures per statement) and kernel objects that
# cannot be removed. Memory and store never diverge: an operation the store cannot finish
# leaves the state as the store describes it; start-up reconciliation that cannot record its
# repairs refuses to start (clear message, nothing changed in the store), and the next normal
# start repairs. A leftover the kernel refuses to remove is logged with what was left.
. "$(dirname "$0")/lib.sh"
bt_setup

DB=$BT_DIR/root/berth.db
sql() { sqlite3 "$DB" "$@"; }
# berthd_refuses FAILSPEC: berthd, started with BERTH_STORE_FAIL=FAILSPEC, exits by itself with
# status 1 and says why (its output goes to $BT_DIR/refused.out).
berthd_refuses() {
	rm -f "$BT_DIR/berth.sock"
	BERTH_STORE_FAIL=$1 timeout 60 nsenter --net=/run/netns/$BT_NS "$BERTHD" --root "$BT_DIR/root" \
		--run "$BT_DIR/run" --socket "$BT_DIR/berth.sock" >"$BT_DIR/refused.out" 2>&1
	local rc=$?
	cat "$BT_DIR/refused.out" >>"$BT_DIR/berthd.log"
	[ $rc = 1 ] && grep -q "refusing to start" "$BT_DIR/refused.out"
}
# What memory says (the API) about CONTAINER's endpoint on NETWORK: "state address".
api_ep() {
	berth inspect "$1" | jq -r --arg n "$2" '.[0].NetworkSettings.Networks[$n] // empty |
		"\(.Berth.State) \(.IPAddress)"'
}
# What the store says: "state address" plus the allocation rows of that address.
db_ep() {
	local st
	st=$(sql "select case e.state when 0 then 'inactive' when 1 then 'pending' else 'active' end
		|| ' ' || coalesce(e.ip4, '') from endpoints e join networks n on n.id = e.network_id
		join containers c on c.id = e.container_id where n.name = '$2' and c.name = '$1'")
	echo "$st"
	[ -n "$st" ] && sql "select count(*) from allocations where address = '${st#* }'"
}
# memory_is_store CONTAINER NETWORK WANT_STATE: the API and the store agree on the endpoint (its
# state is WANT_STATE) and its address is allocated in the store exactly when it has one.
memory_is_store() {
	local api db
	api=$(api_ep "$1" "$2"); db=$(db_ep "$1" "$2" | head -1)
	say "memory: [$api] store: [$db]"
	[ "$api" = "$db" ] && [ "${api%% *}" = "$3" ] || return 1
	[ "${api#* }" = "" ] || [ "$(db_ep "$1" "$2" | tail -1)" = 1 ]
}
export -f sql api_ep db_ep memory_is_store
export DB

check "create base" berth network create --subnet 10.90.0.0/24 base
check "create m" berth network create --subnet 10.91.0.0/24 m
check "run a on base" berth run -d --name a --network base busybox sleep 1d
check "connect a to m" berth network connect m a
bt_check_consistent "start"
a_ns=$(ctr_netns a)

say "# disconnect while the store fails to delete the endpoint row"
check "berthd stops" bt_term_berthd
BERTH_STORE_FAIL=endpoint-delete bt_start_berthd || ko "berthd starts with a failing store"
check_err "disconnect fails, naming the store" "injected failure" berth network disconnect m a
check "memory and store both say pending, address kept and allocated" memory_is_store a m pending
check "a has no eth1 any more (the kernel part was done)" bash -c "! berth exec a ip link show eth1"
check_err "disconnect again fails the same way" "injected failure" berth network disconnect m a
check "memory and store still agree" memory_is_store a m pending
check "berthd stops" bt_term_berthd
check "berthd starts normally" bt_start_berthd
check "the next start finished the disconnect" bash -c "[ -z \"\$(api_ep a m)\" ] && [ -z \"\$(db_ep a m)\" ]"
bt_check_consistent "after the retried disconnect"
check "reconnect a to m" berth network connect m a
check "a reaches m's gateway" berth exec a ping -c1 -W2 10.91.0.1

say "# a connect whose rollback the store cannot record"
check "create k" berth network create --subnet 10.92.0.0/24 k
check "an eth2 made by hand in a's namespace makes the next connect fail in the kernel" \
	nsenter --net="$a_ns" ip link add eth2 type veth peer name eth2p
check "berthd stops" bt_term_berthd
BERTH_STORE_FAIL=endpoint-delete bt_start_berthd || ko "berthd starts with a failing store"
check_fail "connect a to k fails" berth network connect k a
check "memory and store both keep the endpoint pending with its address" memory_is_store a k pending
check "no veth of it is left in the host" bt_veths_consistent
check "berthd stops" bt_term_berthd
check "eth2 is removed by hand" nsenter --net="$a_ns" ip link del eth2
check "berthd starts normally" bt_start_berthd
check "the next start finished the rollback" bash -c "[ -z \"\$(api_ep a k)\" ] && [ -z \"\$(db_ep a k)\" ]"
bt_check_consistent "after the retried rollback of the connect"

say "# reconciliation while the store fails: berthd refuses to start"
check "connect a to k" berth network connect k a
check "a reaches k's gateway" berth exec a ping -c1 -W2 10.92.0.1
crash_point=disconnect:after-intent
check "berthd stops" bt_term_berthd
BERTH_CRASH_AT=$crash_point bt_start_berthd || ko "armed berthd starts"
check_fail "disconnect k a dies with berthd" timeout 30 "$BERTH" network disconnect k a
check "berthd died" bt_wait_berthd_exit 20
check "the store holds a pending endpoint of a on k" bash -c "[ \"\$(db_ep a k | head -1 | cut -d' ' -f1)\" = pending ]"
sql .dump >"$BT_DIR/db.before"
check "berthd refuses to start while it cannot record the rollback" berthd_refuses endpoint-delete
check "... saying which phase failed" grep -q "reconciling containers" "$BT_DIR/refused.out"
check "... and the store failure" grep -q "injected failure" "$BT_DIR/berthd.log"
check "the store is unchanged" bash -c "sql .dump | diff '$BT_DIR/db.before' -"
check "berthd starts normally" bt_start_berthd
check "the rollback was retried and finished" bash -c "[ -z \"\$(db_ep a k)\" ] && [ -z \"\$(api_ep a k)\" ]"
bt_check_consistent "after the retried rollback"

say "# leaked addresses while the store fails"
check "berthd stops" bt_term_berthd
check "a leaked allocation 10.90.0.77 is planted in the store" \
	sql "insert into allocations(network_id, address, owner) select id, '10.90.0.77', 'nobody' from networks where name = 'base'"
check "berthd refuses to start while it cannot free it" berthd_refuses alloc-delete
check "... saying which phase failed" grep -q "freeing leaked addresses" "$BT_DIR/refused.out"
check "the allocation is still in the store" bash -c "[ \"\$(sql \"select count(*) from allocations where address = '10.90.0.77'\")\" = 1 ]"
check "berthd starts normally" bt_start_berthd
check "the leaked allocation is freed" bash -c "[ \"\$(sql \"select count(*) from allocations where address = '10.90.0.77'\")\" = 0 ]"
check "10.90.0.77 can be given to a container" berth run -d --name b --network base --ip 10.90.0.77 busybox sleep 1d
bt_check_consistent "after the freed address"

say "# an orphan interface the kernel refuses to delete"
check "berthd stops" bt_term_berthd
# the loopback device cannot be deleted (EOPNOTSUPP): renamed to a veth host-end name of
# berth's shape, it is an orphan the sweep tries and fails to remove
orphan=bv0000000000001
check "lo of the host namespace is renamed $orphan" inhost sh -c "ip link set lo down && ip link set lo name $orphan"
check "berthd starts (a kernel leftover does not stop it)" bt_start_berthd
check "the log names the orphan and says it is left" \
	grep -q "orphan interface $orphan is left in place: .*retried at the next start" "$BT_DIR/berthd.log"
check "berthd stops" bt_term_berthd
check "lo gets its name back" inhost sh -c "ip link set $orphan name lo && ip link set lo up"
check "berthd starts" bt_start_berthd
say "# a start whose process runs but cannot be recorded"
check "create s (not started)" berth create --name s --network base busybox sleep 1d
check "berthd stops" bt_term_berthd
BERTH_STORE_FAIL=container-put bt_start_berthd || ko "berthd starts with a failing store"
check_err "start fails, saying the container was stopped again" "stopped it again" berth start s
# memory said "running" while the store did not; the process is killed and its exit seen
check "s is not running (memory)" wait_for 10 bash -c "[ \"\$(berth inspect s | jq -r '.[0].State.Running')\" = false ]"
# the shim's command line names the container and it ends with its container (the bracket keeps
# the pattern from matching the checking shell's own command line)
s_id=$(sql "select id from containers where name = 's'")
check "no shim of s is left" wait_for 10 bash -c "! pgrep -f -- '[${s_id:0:1}]${s_id:1}' >/dev/null"
check "berthd stops" bt_term_berthd
check "berthd starts normally" bt_start_berthd
check "the store never said s runs" bash -c "[ \"\$(berth inspect s | jq -r '.[0].State.Running')\" = false ]"
check "s starts now" berth start s
check "s runs" bash -c "[ \"\$(berth inspect s | jq -r '.[0].State.Running')\" = true ]"
bt_check_consistent "the end"
bt_summary
