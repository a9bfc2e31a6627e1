# SPDX-License-Identifier: Apache-2.0
# Shared helpers for system tests. Each test builds its own world: a network namespace that plays
# the host (berthd runs inside it), private --root/--run/--socket directories, and cleans up on
# exit even when it fails. Source it, call bt_setup, write checks with ok/ko/check, end with
# bt_summary.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTH=${BERTH:-$TOP/build/berth}
BT_ID=bt-$$-${RANDOM}
BT_NS=$BT_ID-h
BT_DIR=/tmp/$BT_ID
BT_PASS=0
BT_FAIL=0
BT_SKIP=0
BT_BERTHD_PID=
BT_EXTRA_NS=()
# berthd writes CNI configuration lists here, never into the machine's /etc/cni/net.d
export BERTH_CNI_CONFIG_DIR=$BT_DIR/cni

say() { printf '%s\n' "$*"; }
ok() { BT_PASS=$((BT_PASS + 1)); say "  ok   $*"; }
ko() { BT_FAIL=$((BT_FAIL + 1)); say "  FAIL $*"; }
# skip "what: why": a check that cannot run here; counted, and listed by run.sh.
skip() { BT_SKIP=$((BT_SKIP + 1)); say "  SKIP $*"; }

# check "description" command... : passes when the command succeeds.
check() {
	local desc=$1; shift
	if "$@" >"$BT_DIR/last.out" 2>&1; then ok "$desc"; else ko "$desc"; sed 's/^/       | /' "$BT_DIR/last.out" | head -20; fi
}
# check_fail "description" command... : passes when the command fails.
check_fail() {
	local desc=$1; shift
	if "$@" >"$BT_DIR/last.out" 2>&1; then ko "$desc (unexpectedly succeeded)"; sed 's/^/       | /' "$BT_DIR/last.out" | head -20; else ok "$desc"; fi
}
# check_err "description" "expected stderr substring" command... : must fail, and say why.
check_err() {
	local desc=$1 want=$2; shift 2
	if "$@" >"$BT_DIR/last.out" 2>&1; then
		ko "$desc (unexpectedly succeeded)"
	elif grep -qiF -- "$want" "$BT_DIR/last.out"; then
		ok "$desc"
	else
		ko "$desc (error does not mention \"$want\")"; sed 's/^/       | /' "$BT_DIR/last.out" | head -5
	fi
}
# wait_for TIMEOUT_S command... : poll until the command succeeds (bounded; no fixed sleeps).
# TIMEOUT_S may be fractional ("0.5"); the deadline is exact to the millisecond.
bt_now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
wait_for() {
	local deadline=$(( $(bt_now_ms) + $(awk -v s="$1" 'BEGIN{printf "%d", s * 1000}') )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(bt_now_ms)" -ge $deadline ] && return 1
		sleep 0.05
	done
}

# Run a command in the host namespace (where berthd runs).
inhost() { nsenter --net=/run/netns/$BT_NS "$@"; }
berth() { "$BERTH" "$@"; }

bt_start_berthd() {
	rm -f "$BT_DIR/berth.sock"
	# nsenter execs berthd, so $! is berthd's own pid.
	nsenter --net=/run/netns/$BT_NS "$BERTHD" --root "$BT_DIR/root" --run "$BT_DIR/run" \
		--socket "$BT_DIR/berth.sock" --log-level debug "$@" >>"$BT_DIR/berthd.log" 2>&1 &
	BT_BERTHD_PID=$!
	if ! wait_for 20 curl -sf --unix-socket "$BT_DIR/berth.sock" http://x/_ping; then
		say "berthd did not come up:"; tail -20 "$BT_DIR/berthd.log"; return 1
	fi
}

# SIGTERM, and berthd must be gone within 20 s (a shutdown that hangs is a failure: its threads'
# stacks go to berthd.log, then SIGKILL). Returns 1 when it had to be killed.
bt_stop_berthd() {
	local rc=0
	[ -n "$BT_BERTHD_PID" ] || return 0
	kill -TERM "$BT_BERTHD_PID" 2>/dev/null
	if ! wait_for 20 bt_berthd_gone; then
		ko "berthd (pid $BT_BERTHD_PID) stops within 20 s of SIGTERM (its threads: berthd.log)"
		{ echo "=== berthd did not stop on SIGTERM; its threads:"
		  gdb -batch -p "$BT_BERTHD_PID" -ex "thread apply all bt" 2>&1 | grep -E '^(Thread|#)'
		} >>"$BT_DIR/berthd.log"
		grep -A40 "^=== berthd did not stop" "$BT_DIR/berthd.log" | head -60 | sed 's/^/       | /'
		kill -KILL "$BT_BERTHD_PID" 2>/dev/null
		rc=1
	fi
	wait "$BT_BERTHD_PID" 2>/dev/null
	BT_BERTHD_PID=
	return $rc
}

bt_kill9_berthd() {
	[ -n "$BT_BERTHD_PID" ] || return 0
	kill -KILL "$BT_BERTHD_PID" 2>/dev/null
	wait "$BT_BERTHD_PID" 2>/dev/null
	BT_BERTHD_PID=
}

# Kill every process whose network namespace is one of ours (containers, shims), or is one of
# the namespace files given.
bt_kill_ns_procs() {
	local ns inode pid
	[ $# -gt 0 ] || set -- "$BT_DIR"/run/netns/* /run/netns/$BT_ID-*
	for ns in "$@"; do
		[ -e "$ns" ] || continue
		inode=$(stat -L -c %i "$ns" 2>/dev/null) || continue
		# one find for every process (a stat per process costs seconds on a busy machine)
		for pid in $(find -L /proc/[0-9]*/ns/net -maxdepth 0 -inum "$inode" 2>/dev/null | cut -d/ -f3); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	pkill -KILL -f "__berth-shim.*$BT_ID" 2>/dev/null
	return 0
}

bt_cleanup() {
	local rc=$?
	# first, what the test started in the background (servers in container namespaces, even of
	# containers removed meanwhile) and what runs in the containers' namespaces: it would
	# otherwise outlive the test, holding the namespaces
	local j
	for j in $(jobs -p); do
		[ "$j" = "$BT_BERTHD_PID" ] && continue
		pkill -KILL -P "$j"; kill -KILL "$j"
	done 2>/dev/null
	bt_kill_ns_procs "$BT_DIR"/run/netns/*
	if [ -n "$BT_BERTHD_PID" ] && [ -S "$BT_DIR/berth.sock" ]; then
		for c in $(timeout 10 "$BERTH" ps -aq 2>/dev/null); do timeout 20 "$BERTH" rm -f "$c" >/dev/null 2>&1; done
	fi
	bt_stop_berthd || rc=1
	bt_kill_ns_procs
	for ns in "$BT_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$BT_ID-"); do ip netns del "$ns" 2>/dev/null; done
	umount -l "$BT_DIR/run/netns" 2>/dev/null
	if [ "${BT_KEEP:-0}" != 1 ]; then rm -rf "$BT_DIR"; fi
	exit $rc
}

# Create a namespace named $BT_ID-$1 with lo up.
bt_netns() { ip netns add "$BT_ID-$1" && nsenter --net=/run/netns/$BT_ID-$1 ip link set lo up; }

bt_setup() {
	mkdir -p "$BT_DIR"
	trap bt_cleanup EXIT
	trap 'exit 130' INT TERM
	bt_netns h || exit 1
	export BERTH_HOST=unix://$BT_DIR/berth.sock
	bt_start_berthd "$@" || { ko "berthd starts"; bt_summary; }
}

# Print the summary line the suite runner adds up, and exit accordingly.
bt_summary() {
	say "$BT_PASS passed, $BT_FAIL failed, $BT_SKIP skipped"
	[ "$BT_FAIL" -eq 0 ] && [ "$BT_PASS" -gt 0 ]
	exit $?
}

# Helpers over the API (jq).
# ctr_ip CONTAINER NETWORK [FIELD]: FIELD of the container's endpoint (default IPAddress).
ctr_ip() { berth inspect "$1" | jq -r --arg n "$2" --arg f "${3:-IPAddress}" '.[0].NetworkSettings.Networks[$n][$f]'; }
ctr_ip6() { ctr_ip "$1" "$2" GlobalIPv6Address; }
ctr_pid() { berth inspect "$1" | jq -r '.[0].State.Pid'; }
in_ctr() { berth exec "$@"; }

# Checks often run `bash -c "..."`: make the helpers and paths visible there too.
export TOP BERTH BERTHD BT_NS BT_DIR BT_ID
export -f berth inhost wait_for bt_now_ms ctr_ip ctr_ip6 ctr_pid in_ctr say

# ---- daemon lifecycle and consistency helpers (restart, crash, parallel, bad-input tests) ----

# The daemon's own pid: BT_BERTHD_PID, or its child should bash have forked a subshell for it.
bt_berthd_pid() {
	if [ "$(cat "/proc/$BT_BERTHD_PID/comm" 2>/dev/null)" = berthd ]; then
		echo "$BT_BERTHD_PID"
	else
		pgrep -P "$BT_BERTHD_PID" -x berthd
	fi
}

# True once berthd (and so its subshell) has exited (gone or a zombie waiting to be reaped).
bt_berthd_gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$BT_BERTHD_PID/stat" 2>/dev/null | cut -d' ' -f1) || return 0
	[ -z "$st" ] || [ "$st" = Z ]
}

# bt_wait_berthd_exit TIMEOUT: wait (bounded) for berthd to exit on its own, reap it and keep its
# exit status in BT_BERTHD_RC.
bt_wait_berthd_exit() {
	[ -n "$BT_BERTHD_PID" ] || return 0
	wait_for "$1" bt_berthd_gone || return 1
	wait "$BT_BERTHD_PID"
	BT_BERTHD_RC=$?
	BT_BERTHD_PID=
}

# bt_signal_berthd SIG: signal the daemon itself, wait for it to exit; BT_BERTHD_RC holds its
# exit status (128 + signal when killed).
bt_signal_berthd() {
	local pid
	[ -n "$BT_BERTHD_PID" ] || return 0
	pid=$(bt_berthd_pid) || return 1
	kill "-$1" "$pid" && bt_wait_berthd_exit 30
}
bt_term_berthd() { bt_signal_berthd TERM; }
bt_kill_berthd() { bt_signal_berthd KILL; }

# State as clients see it, normalised for comparison (no clocks, stable order).
bt_api_state() {
	berth network ls --format json | jq -S 'sort_by(.Name)' || return 1
	berth ps -a --format json | jq -S 'map(del(.Status)) | sort_by(.Names[0])' || return 1
	local ids nets
	ids=$(berth ps -aq --no-trunc | sort) || return 1
	if [ -n "$ids" ]; then berth inspect $ids | jq -S . || return 1; fi
	nets=$(berth network ls --format json | jq -r '.[].Name' | sort) || return 1
	berth network inspect $nets | jq -S .
}

# Every table of the store, in a stable order.
bt_db_dump() {
	local t
	for t in meta networks containers endpoints allocations; do
		echo "## $t"
		sqlite3 "$BT_DIR/root/berth.db" "select * from $t order by 1, 2" || return 1
	done
}

# bt_snapshot FILE: API state, store and the host namespace's interfaces and addresses.
bt_snapshot() {
	{
		bt_api_state && bt_db_dump && echo "## links" && inhost ip -br link &&
			echo "## addrs" && inhost ip -br addr
	} >"$1" 2>&1
}

bt_ps_json() { berth ps -a --format json; }
# Containers with their endpoints, each endpoint tagged with its network's driver (.Driver), and
# each container with .HostMode (attached to a host-driver network: no namespace of its own).
bt_ctrs_json() {
	local drivers
	drivers=$(berth network ls --format json | jq -c 'map({(.Id): .Driver}) | add // {}') || return 1
	bt_ps_json | jq --argjson d "$drivers" 'map(.NetworkSettings.Networks |= map_values(
			. + {Driver: ($d[.NetworkID // ""] // "")})
		| .HostMode = ([.NetworkSettings.Networks[] | select(.Driver == "host")] | length > 0))'
}

# bt_same WANT GOT MESSAGE: equal, or say MESSAGE and show the difference (< WANT, > GOT).
bt_same() {
	[ "$1" = "$2" ] && return 0
	say "$3"
	diff <(echo "$1") <(echo "$2")
	return 1
}

# A stopped container's host interfaces are retired (off the bridge, down, in this link group)
# and berthd's reaper deletes them in the background, in batches.
BT_DOOMED_GROUP=0x62657274
# True once every retired link of the host namespace has been reaped.
bt_reaped() { [ -z "$(inhost ip -br link show group $BT_DOOMED_GROUP)" ]; }
# Every link of the host namespace, once the retired ones are reaped (bounded wait).
bt_host_links() { wait_for 10 bt_reaped; inhost ip -br link; }
# True when link $1 is gone from the host namespace once retired links are reaped (a removed
# network's bridge is retired, then deleted by berthd's reaper).
bt_link_gone() { wait_for 10 bt_reaped; ! inhost ip link show "$1" >/dev/null 2>&1; }
export -f bt_reaped bt_host_links bt_link_gone
export BT_DOOMED_GROUP

# Host veths (bv*) are exactly the host ends of the active endpoints on bridge networks.
bt_veths_consistent() {
	local want got
	want=$(bt_ctrs_json | jq -r '.[].NetworkSettings.Networks[]
		| select(.Berth.State == "active" and .Driver == "bridge") | .Berth.HostInterface' | sort) ||
		return 1
	got=$(bt_host_links | awk '{sub(/@.*/, "", $1); print $1}' | grep '^bv' | sort)
	bt_same "$want" "$got" "host veths differ from active endpoints (< endpoints, > kernel):"
}

# Every running container's interfaces (but lo) are exactly its endpoints (on networks that give
# it an interface), all active; stopped containers have no active endpoint and no address.
bt_ifaces_consistent() {
	local js id want got bad=0
	js=$(bt_ctrs_json) || return 1
	for id in $(echo "$js" | jq -r '.[] | select(.State == "running" and (.HostMode | not)) | .Id'); do
		want=$(echo "$js" | jq -r --arg id "$id" '.[] | select(.Id == $id)
			| .NetworkSettings.Networks[] | select(.Driver != "none") | .Berth.Interface // empty' | sort)
		got=$(nsenter --net="$BT_DIR/run/netns/$id" ip -br link |
			awk '{sub(/@.*/, "", $1); print $1}' | grep -v '^lo$' | sort)
		if [ "$want" != "$got" ]; then
			say "container ${id:0:12}: interfaces [$got] but endpoints [$want]"; bad=1
		fi
	done
	if echo "$js" | jq -e '.[] | select(.State == "running") | .NetworkSettings.Networks[]
		| select(.Berth != null and .Berth.State != "active")' >/dev/null; then
		say "a running container has a non-active endpoint:"
		echo "$js" | jq -c '.[] | select(.State == "running") | {Names, n: .NetworkSettings.Networks}'
		bad=1
	fi
	if echo "$js" | jq -e '.[] | select(.State != "running") | .NetworkSettings.Networks[]
		| select(.Berth != null and (.Berth.State != "inactive" or .IPAddress != ""
		  or .GlobalIPv6Address != ""))' >/dev/null; then
		say "a stopped container holds an active endpoint or addresses:"
		echo "$js" | jq -c '.[] | select(.State != "running") | {Names, n: .NetworkSettings.Networks}'
		bad=1
	fi
	return $bad
}

# The allocations table holds exactly the gateways, auxiliary addresses and the addresses of
# active endpoints, each once.
bt_ipam_consistent() {
	local want got dups
	want=$( {
		berth network ls --format json | jq -r '.[] | .Id as $n | .IPAM.Config[] |
			(select(.Gateway) | "\($n)|\(.Gateway)|gateway"),
			((.AuxiliaryAddresses // {}) | to_entries[] | "\($n)|\(.value)|aux:\(.key)")'
		bt_ps_json | jq -r '.[].NetworkSettings.Networks[] | select(.Berth.State == "active") |
			(select(.IPAddress != "") | "\(.NetworkID)|\(.IPAddress)|\(.EndpointID)"),
			(select(.GlobalIPv6Address != "") | "\(.NetworkID)|\(.GlobalIPv6Address)|\(.EndpointID)")'
	} | sort) || return 1
	got=$(sqlite3 "$BT_DIR/root/berth.db" \
		"select network_id || '|' || address || '|' || owner from allocations" | sort) || return 1
	dups=$(echo "$want" | cut -d'|' -f1,2 | sort | uniq -d)
	if [ -n "$dups" ]; then say "addresses held twice: $dups"; return 1; fi
	bt_same "$want" "$got" "allocations differ (< expected, > table):"
}

# Namespace files under <run>/netns are exactly those of the running containers (but host-mode).
bt_netns_consistent() {
	local want got
	want=$(bt_ctrs_json | jq -r '.[] | select(.State == "running" and (.HostMode | not)) | .Id' |
		sort) || return 1
	got=$(ls "$BT_DIR/run/netns" 2>/dev/null | sort)
	bt_same "$want" "$got" "netns files differ from running containers (< running, > files):"
}

# Namespace mounts under <run>/netns are exactly the namespace files (no stale bind mount).
bt_netns_mounts_consistent() {
	local want got
	want=$(ls "$BT_DIR/run/netns" 2>/dev/null | sort)
	got=$(awk -v d="$BT_DIR/run/netns/" 'index($5, d) == 1 { print substr($5, length(d) + 1) }' \
		/proc/self/mountinfo | sort)
	bt_same "$want" "$got" "netns mounts differ from netns files (< files, > mounts):"
}

# Bridges in the host namespace are exactly those of the bridge networks.
bt_bridges_consistent() {
	local want got
	want=$(berth network ls --format json | jq -r '.[] | select(.Driver == "bridge") |
		.Berth.Bridges // [.Berth.Bridge // empty] | .[]' | sort) || return 1
	wait_for 10 bt_reaped
	got=$(inhost ip -j link show type bridge | jq -r '.[].ifname' | sort)
	bt_same "$want" "$got" "bridges differ from bridge networks (< networks, > kernel):"
}

# The structured comparisons (tests/system/state_check.py): store = API, the addresses inside
# every container = its endpoints', nftables elements = what the store implies, DNS answers =
# live endpoints. BT_DNS_NAMES: more names to ask (e.g. of removed containers: no answer).
BT_STATE_CHECK=$TOP/tests/system/state_check.py
bt_store_consistent() { bt_ctrs_json | python3 "$BT_STATE_CHECK" store "$BT_DIR/root/berth.db"; }
bt_addrs_consistent() { bt_ctrs_json | python3 "$BT_STATE_CHECK" addrs "$BT_DIR/run"; }
bt_nft_consistent() {
	local spill
	spill=$(bt_spill_json) || return 1
	{ inhost nft -j list table inet "${BERTH_NFT_TABLE:-berth}" &&
		inhost nft -j list table bridge "${BERTH_NFT_BRIDGE_TABLE:-berth}"; } |
		BT_SPILL="$spill" python3 "$BT_STATE_CHECK" nft "$BT_DIR/root/berth.db"
}
# Networks over several bridges (daemon/mgr_spill.c), as the API lists them, with their own
# bridge's MAC: [{"bridge": NAME, "mac": MAC, "extra": [NAME...]}].
bt_spill_json() {
	local nets br mac out='[]'
	nets=$(berth network ls --format json |
		jq -c '.[] | select((.Berth.Bridges // []) | length > 1) | .Berth') || return 1
	while read -r br; do
		[ -n "$br" ] || continue
		mac=$(inhost ip -j link show dev "$(echo "$br" | jq -r .Bridge)" | jq -r '.[0].address')
		out=$(echo "$out" | jq -c --argjson b "$br" --arg mac "$mac" \
			'. + [{bridge: $b.Bridge, mac: $mac, extra: $b.Bridges[1:]}]')
	done <<<"$nets"
	echo "$out"
}
bt_dns_consistent() {
	# shellcheck disable=SC2086
	bt_ctrs_json | python3 "$BT_STATE_CHECK" dns "$BT_DIR/run" ${BT_DNS_NAMES:-}
}

# bt_check_consistent LABEL: no leaked or duplicated interface, address, namespace, bridge,
# firewall element or DNS record; API, store and kernel agree.
bt_check_consistent() {
	check "$1: host veths = active endpoints" bt_veths_consistent
	check "$1: container interfaces = their endpoints" bt_ifaces_consistent
	check "$1: container addresses = their endpoints' (no address twice)" bt_addrs_consistent
	check "$1: allocations = gateways + endpoint addresses" bt_ipam_consistent
	check "$1: netns files = running containers" bt_netns_consistent
	check "$1: netns mounts = netns files" bt_netns_mounts_consistent
	check "$1: bridges = bridge networks" bt_bridges_consistent
	check "$1: store = API" bt_store_consistent
	check "$1: nft elements = store" bt_nft_consistent
	check "$1: DNS answers = live endpoints" bt_dns_consistent
}

# HTTP status of a raw API request: bt_http METHOD PATH [BODY]; the reply body goes to
# $BT_DIR/http.out.
bt_http() {
	local args=(-s -o "$BT_DIR/http.out" -w '%{http_code}' -X "$1" --unix-socket "$BT_DIR/berth.sock")
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "http://x$2"
}
export -f bt_ps_json bt_ctrs_json

# ---- embedded DNS helpers (test_dns*.sh) ----
DNS_PROBE=${DNS_PROBE:-$TOP/build/tests/helpers/dns_probe}
FAKEDNS=${FAKEDNS:-$TOP/build/tests/helpers/fakedns}
# ctr_netns CONTAINER: the path of its network namespace.
ctr_netns() { echo "$BT_DIR/run/netns/$(berth inspect "$1" | jq -r '.[0].Id')"; }
# probe CONTAINER ARGS...: tests/helpers/dns_probe inside the container's netns (to 127.0.0.11).
probe() { local c=$1; shift; nsenter --net="$(ctr_netns "$c")" "$DNS_PROBE" "$@"; }
# ptr_name IP: its reverse name (in-addr.arpa / ip6.arpa).
ptr_name() { python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]).reverse_pointer)' "$1"; }
export DNS_PROBE FAKEDNS
export -f ctr_netns probe ptr_name

# ---- firewall tests (issue 3): a LAN segment next to the host namespace ----
# fw_lan_setup: namespace $BT_ID-lan holds bridge lan0; the host ($BT_NS, eth0: 192.0.2.1/24,
# 2001:db8::1/64), a remote client ($BT_ID-cl, .10 / ::10) and an attacker ($BT_ID-at, .66 /
# ::66) are plugged into it with veths.
FW_HOST4=192.0.2.1 FW_HOST6=2001:db8::1 FW_CL4=192.0.2.10 FW_CL6=2001:db8::10
FW_AT4=192.0.2.66 FW_AT6=2001:db8::66
fw_lan_plug() {   # NS IP4 IP6 PORTNAME
	ip link add "$4" netns "$BT_ID-lan" type veth peer name eth0 netns "$1" || return 1
	nsenter --net=/run/netns/$BT_ID-lan ip link set "$4" master lan0 up &&
	nsenter --net=/run/netns/$1 sh -c "ip addr add $2/24 dev eth0 && ip addr add $3/64 dev eth0 nodad && ip link set eth0 up"
}
fw_lan_setup() {
	bt_netns lan && bt_netns cl && bt_netns at || return 1
	nsenter --net=/run/netns/$BT_ID-lan sh -c "ip link add lan0 type bridge && ip link set lan0 up" &&
	fw_lan_plug "$BT_NS" $FW_HOST4 $FW_HOST6 l-h && fw_lan_plug "$BT_ID-cl" $FW_CL4 $FW_CL6 l-c &&
	fw_lan_plug "$BT_ID-at" $FW_AT4 $FW_AT6 l-a
}
incl() { nsenter --net=/run/netns/$BT_ID-cl "$@"; }
inat() { nsenter --net=/run/netns/$BT_ID-at "$@"; }
# in_ctr_ns CONTAINER command...: run a host binary inside the container's network namespace.
in_ctr_ns() { local id; id=$(berth inspect "$1" | jq -r '.[0].Id'); shift; nsenter --net="$BT_DIR/run/netns/$id" "$@"; }
# fw_serve CONTAINER tcp|udp|sctp PORT: servers (IPv4 and IPv6) in the container's netns that
# answer "CONTAINER peer=<client address>". TCP and UDP: tests/helpers/peer_echo.py, one process
# without a fork per client (socat's fork and exec per datagram answered too late for the client
# on a loaded machine). SCTP (Python has no portable SCTP): socat, -t5 so that it does not close
# before a slow fork of the echo has written its answer.
fw_serve() {
	local c=$1 port=$3 f opt
	for f in 4 6; do
		if [ "$2" = sctp ]; then
			opt=; [ $f = 6 ] && opt=,ipv6only=1
			in_ctr_ns "$c" socat -t5 SCTP$f-LISTEN:$port,fork,reuseaddr$opt SYSTEM:"echo $c peer=\$SOCAT_PEERADDR" >/dev/null 2>&1 &
		else
			in_ctr_ns "$c" python3 "$TOP/tests/helpers/peer_echo.py" "$c" "$2" $f "$port" >/dev/null 2>&1 &
		fi
	done
	wait_for 10 bash -c "in_ctr_ns $c cat /proc/net/${2}6 2>/dev/null | grep -qi ':$(printf %04X "$port") ' && in_ctr_ns $c cat /proc/net/${2} 2>/dev/null | grep -qi ':$(printf %04X "$port") '"
}
# fw_get RUNNER... -- tcp|udp|sctp ADDR PORT: what the server answers (2 s timeout). ADDR may be
# [v6]. Example: fw_get incl -- tcp 192.0.2.1 8080
fw_get() {
	local run=() p a port
	while [ "$1" != -- ]; do run+=("$1"); shift; done
	shift; p=${1^^}; a=$2; port=$3
	case $a in \[*) a=${a#[}; a=${a%]}; p=${p}6; a="[$a]";; *) p=${p}4;; esac
	local out i opt=
	case $p in TCP*|SCTP*) opt=,connect-timeout=2;; esac
	for i in 1 2; do   # a busy machine may be slow to fork the server: one retry
		out=$(echo probe | "${run[@]}" timeout 5 socat -t3 -T3 - "$p:$a:$port$opt" 2>/dev/null)
		[ -n "$out" ] && break
	done
	echo "$out"
}
# fw_tables: normalized listing of berth's two tables (element order, handles and counters away).
fw_tables() {
	{ inhost nft list table inet "${BERTH_NFT_TABLE:-berth}"; inhost nft list table bridge "${BERTH_NFT_BRIDGE_TABLE:-berth}"; } 2>&1 |
		sed -e 's/[[:space:]]\+/ /g' -e 's/^ //'
}
# fw_set_elems FAMILY SET: sorted elements of one set or map, one per line.
fw_set_elems() {
	inhost nft -j list set "$1" berth "$2" 2>/dev/null | jq -c '.nftables[] | select(.set or .map) | (.set // .map).elem // [] | .[]' | sort
}
# fw_ip6_full ADDR: the fully expanded form (what socat reports as a peer).
fw_ip6_full() { python3 -c 'import ipaddress, sys; print(ipaddress.ip_address(sys.argv[1]).exploded)' "$1"; }
export -f incl inat in_ctr_ns fw_tables fw_set_elems fw_serve fw_get fw_ip6_full

# bt_spoof_recv SENDER CONTAINER MATCH -- sender args...: how many frames matching MATCH
# CONTAINER's eth0 sees while SENDER (the spoof helper copied to its /spoof) sends one.
bt_spoof_recv() {
	local s=$1 c=$2 match=$3 out=$BT_DIR/recv.$RANDOM; shift 4
	in_ctr_ns "$c" "$SPOOF" recv eth0 2 "$match" > "$out" &
	local pid=$!
	wait_for 5 grep -q ready "$out"
	berth exec "$s" /spoof send eth0 "$@" >/dev/null 2>&1
	wait $pid
	tail -1 "$out"
}
export -f bt_spoof_recv

# bt_tls_certs DIR SERVER_IP: a test CA (DIR/ca.pem, ca.key), a server certificate for an etcd at
# SERVER_IP (DIR/srv.pem, srv.key; clientAuth too: etcd's JSON gateway dials its own gRPC server
# with it) and a client certificate (DIR/cli.pem, cli.key), EC P-256, valid 2 days.
bt_tls_certs() {
	local dir=$1 ip=$2
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/ca.key" \
		-out "$dir/ca.pem" -days 2 -subj /CN=bt-ca 2>/dev/null &&
	bt_tls_cert "$dir" srv etcd "subjectAltName=IP:$ip\nextendedKeyUsage=serverAuth,clientAuth\n" &&
	bt_tls_cert "$dir" cli berth 'extendedKeyUsage=clientAuth\n'
}
bt_tls_cert() { # DIR NAME SUBJECT EXTENSIONS
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1/$2.key" \
		-out "$1/$2.csr" -subj "/CN=$3" 2>/dev/null &&
	printf '%b' "$4" >"$1/$2.ext" &&
	openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial \
		-out "$1/$2.pem" -days 2 -extfile "$1/$2.ext" 2>/dev/null
}
