#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedded DNS: berthd's 127.0.0.11 (inside a container's netns) against aardvark-dns 1.4 (started
# by netavark 1.4, on the bridge gateway), side by side in one run, both in a private "host"
# namespace whose loopback upstream (tests/helpers/fakedns on 127.0.0.1:53) serves the forwarded
# names. dnsperf runs inside a container of each: (a) container names, (b) a forwarded name.
#   throughput: dnsperf -c 1 -T 1 -q 100 for DUR s (QPS)
#   latency:    dnsperf -Q LAT_QPS -v for LAT_DUR s, LAT_REPS times alternating the servers
#               (p50/p99 of every answer, pooled)
# Also berthd's RSS before and after. Usage (root): bench/dns/run.sh   env: DUR=15 LAT_DUR=5
# LAT_QPS=2000 LAT_REPS=3 NCTR=10
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || bb_die "run as root"
DUR=${DUR:-15}; LAT_DUR=${LAT_DUR:-5}; LAT_QPS=${LAT_QPS:-2000}; LAT_REPS=${LAT_REPS:-3}; NCTR=${NCTR:-10}
NV=/usr/lib/podman/netavark; AV=/usr/lib/podman/aardvark-dns
BERTHD=$BB_TOP/build/berthd BERTH=$BB_TOP/build/berth FAKEDNS=$BB_TOP/build/tests/helpers/fakedns
[ -x "$BERTHD" ] && [ -x "$FAKEDNS" ] || bb_die "build first: make all helpers"
missing=()
command -v dnsperf >/dev/null || missing+=(dnsperf)
[ -x "$AV" ] || missing+=(aardvark-dns)
[ -x "$NV" ] || missing+=(netavark)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || bb_die "cannot install ${missing[*]}"
fi

H=$BB_ID-h
CFG=$BB_DIR/netavark
export BERTH_HOST=unix://$BB_DIR/berth.sock
BERTHD_PID= FAKE_PID=
berth() { "$BERTH" "$@"; }
cleanup() {
	if [ -n "$BERTHD_PID" ]; then
		for c in $(berth ps -aq 2>/dev/null); do berth rm -f "$c" >/dev/null 2>&1; done
		kill "$BERTHD_PID" 2>/dev/null; wait "$BERTHD_PID" 2>/dev/null
	fi
	for i in $(seq "$NCTR" -1 1); do
		[ -f "$BB_DIR/a$i.json" ] && bb_in h "$NV" --config "$CFG" --aardvark-binary "$AV" \
			teardown "/run/netns/$BB_ID-a$i" < "$BB_DIR/a$i.json" >/dev/null 2>&1
	done
	if [ -f "$CFG/aardvark-dns/aardvark.pid" ]; then
		p=$(cat "$CFG/aardvark-dns/aardvark.pid"); grep -q "$CFG" "/proc/$p/cmdline" 2>/dev/null && kill "$p"
	fi
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	rm -rf "$BB_DIR"
}
trap cleanup EXIT
mkdir -p "$BB_DIR" "$CFG"
bb_netns h || bb_die "cannot create namespace"

# the upstream: a loopback resolver of the "host"
nsenter --net=/run/netns/$H "$FAKEDNS" 127.0.0.1 - normal 192.0.2.10 &    # nsenter execs: $! is fakedns
FAKE_PID=$!
printf 'nameserver 127.0.0.1\n' > "$BB_DIR/resolv.conf"

# berth: NCTR containers on one network
BERTH_RESOLV_CONF=$BB_DIR/resolv.conf nsenter --net=/run/netns/$H "$BERTHD" --root "$BB_DIR/root" \
	--run "$BB_DIR/run" --socket "$BB_DIR/berth.sock" --log-level warn >"$BB_DIR/berthd.log" 2>&1 &
BERTHD_PID=$!
for _ in $(seq 200); do curl -sf --unix-socket "$BB_DIR/berth.sock" http://x/_ping >/dev/null && break; sleep 0.05; done
berth network create --subnet 10.88.0.0/24 bnet >/dev/null || bb_die "berth network create failed"
for i in $(seq 1 "$NCTR"); do
	berth run -d --name "ctr$i" --network bnet busybox sleep 1d >/dev/null || bb_die "berth run failed"
done
BNS=$BB_DIR/run/netns/$(berth inspect ctr1 | jq -r '.[0].Id')

# aardvark: the same containers through netavark
gen_json() { # idx
	local i=$1 cid; cid=$(printf 'd%063x' "$i")
	cat <<JSON
{"container_id": "$cid", "container_name": "ctr$i",
 "networks": {"plnet": {"interface_name": "eth0", "static_ips": ["10.89.0.$((i + 1))"], "aliases": ["${cid:0:12}"]}},
 "network_info": {"plnet": {"name": "plnet", "id": "b000000000000000000000000000000000000000000000000000000000000001",
   "driver": "bridge", "network_interface": "bbdns0", "subnets": [{"subnet": "10.89.0.0/24", "gateway": "10.89.0.1"}],
   "ipv6_enabled": false, "internal": false, "dns_enabled": true, "network_dns_servers": ["127.0.0.1"],
   "ipam_options": {"driver": "host-local"}}}}
JSON
}
for i in $(seq 1 "$NCTR"); do
	bb_netns "a$i"
	gen_json "$i" > "$BB_DIR/a$i.json"
	bb_in h "$NV" --config "$CFG" --aardvark-binary "$AV" setup "/run/netns/$BB_ID-a$i" \
		< "$BB_DIR/a$i.json" >/dev/null 2>"$BB_DIR/nv.err" || { cat "$BB_DIR/nv.err"; bb_die "netavark setup failed"; }
done
ANS=/run/netns/$BB_ID-a1
AP=$(cat "$CFG/aardvark-dns/aardvark.pid")

for i in $(seq 2 "$NCTR"); do echo "ctr$i A"; done > "$BB_DIR/q_names"
for i in $(seq 1 200); do echo "host$i.example.test A"; done > "$BB_DIR/q_fwd"
nsenter --net="$BNS" "$BB_TOP/build/tests/helpers/dns_probe" query ctr2 | grep -q '^A 10.88' || bb_die "berth: ctr2 not resolved"
nsenter --net="$BNS" "$BB_TOP/build/tests/helpers/dns_probe" query host1.example.test | grep -q 192.0.2.10 || bb_die "berth: forwarding failed"
nsenter --net="$ANS" "$BB_TOP/build/tests/helpers/dns_probe" -s 10.89.0.1 query ctr2 | grep -q '^A 10.89' || bb_die "aardvark: ctr2 not resolved"
nsenter --net="$ANS" "$BB_TOP/build/tests/helpers/dns_probe" -s 10.89.0.1 query host1.example.test | grep -q 192.0.2.10 || bb_die "aardvark: forwarding failed"

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
RSS0=$(rss "$BERTHD_PID")
ARSS0=$(rss "$AP")

# thr TAG NETNS SERVER QUERYFILE: a throughput run (QPS in $BB_DIR/TAG.qps).
thr() {
	local tag=$1 ns=$2 srv=$3 qf=$4
	nsenter --net="$ns" dnsperf -s "$srv" -d "$qf" -l "$DUR" -c 1 -T 1 -q 100 > "$BB_DIR/$tag.thr" 2>&1
	awk '/Queries per second/ {printf "%.0f", $4}' "$BB_DIR/$tag.thr" > "$BB_DIR/$tag.qps"
}
# lat TAG NETNS SERVER QUERYFILE: a paced run; every answer's latency (us) appended to TAG.us.
lat() {
	local tag=$1 ns=$2 srv=$3 qf=$4
	nsenter --net="$ns" dnsperf -s "$srv" -d "$qf" -l "$LAT_DUR" -Q "$LAT_QPS" -v > "$BB_DIR/$tag.lat" 2>&1
	awk '/^> NOERROR/ {printf "%d\n", $NF * 1e6}' "$BB_DIR/$tag.lat" >> "$BB_DIR/$tag.us"
}
report() {
	local tag=$1 l
	l=$(bb_pct "$BB_DIR/$tag.us")
	printf '%-26s QPS %7s (lost %s) | paced at %s QPS: p50 %s ms p99 %s ms (n=%s)\n' "$tag" \
		"$(cat "$BB_DIR/$tag.qps")" "$(awk '/Queries lost/ {print $3}' "$BB_DIR/$tag.thr")" \
		"$LAT_QPS" $l
	echo "$tag $(cat "$BB_DIR/$tag.qps") $l" >> "$BB_DIR/results"
}

bb_say "# embedded DNS: berthd vs aardvark-dns $("$AV" --version | awk '{print $2}'); $(bb_machine)"
bb_say "# $NCTR containers each; dnsperf in a container; throughput -c1 -T1 -q100 ${DUR}s;"
bb_say "# latency: -Q$LAT_QPS ${LAT_DUR}s x $LAT_REPS runs alternating berth/aardvark, samples pooled"
set -- berth_container_names "$BNS" 127.0.0.11 "$BB_DIR/q_names" \
	aardvark_container_names "$ANS" 10.89.0.1 "$BB_DIR/q_names" \
	berth_forwarded "$BNS" 127.0.0.11 "$BB_DIR/q_fwd" \
	aardvark_forwarded "$ANS" 10.89.0.1 "$BB_DIR/q_fwd"
args=("$@")
for ((k = 0; k < 16; k += 4)); do thr "${args[@]:k:4}"; done
for _ in $(seq "$LAT_REPS"); do
	for ((k = 0; k < 16; k += 4)); do lat "${args[@]:k:4}"; done
done
for ((k = 0; k < 16; k += 4)); do report "${args[k]}"; done
for _ in $(seq 20); do [ "$(berth dns stats --json | jq .Pending)" = 0 ] && break; sleep 0.1; done
RSS1=$(rss "$BERTHD_PID")
bb_say "berthd RSS: before ${RSS0} KiB, after ${RSS1} KiB (growth $((RSS1 - RSS0)) KiB); aardvark-dns RSS: before ${ARSS0} KiB, after $(rss "$AP") KiB"
berth dns stats | tr '\n' ' ' | sed 's/  */ /g; s/^/berth dns stats: /'; echo
awk '{q[$1] = $2; p99[$1] = $4}
	END {
		printf "container names: berth/aardvark QPS = %.2fx (target >= 2x); p99 berth %s ms vs aardvark %s ms\n",
			q["berth_container_names"] / q["aardvark_container_names"], p99["berth_container_names"], p99["aardvark_container_names"]
		printf "forwarded:       berth/aardvark QPS = %.2fx; p99 berth %s ms vs aardvark %s ms\n",
			q["berth_forwarded"] / q["aardvark_forwarded"], p99["berth_forwarded"], p99["aardvark_forwarded"]
	}' "$BB_DIR/results"
