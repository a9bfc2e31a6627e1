#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedded DNS: berthd's 127.0.0.11 (inside a container's netns) against dnsmasq (Debian
# dnsmasq-base, the C reference: the same container names from a hosts file, listening on
# 127.0.0.12 in the same container netns) and aardvark-dns 1.4 (started by netavark 1.4, on its
# bridge gateway), all in one run, in a private "host" namespace whose loopback upstream
# (tests/helpers/fakedns on 127.0.0.1:53) serves the forwarded names. dnsperf runs inside a
# container: (a) container names (all three servers), (b) a forwarded name (berth, aardvark).
#   throughput: dnsperf -c 1 -T 1 for DUR s, 100 queries in flight (50 for forwarded names:
#               berth answers SERVFAIL at once over 64 in flight per container), ROUNDS rounds;
#               in each round every case runs once, in an order that rotates between rounds (so
#               that a change of the machine's load falls on each alike); QPS (NOERROR answers
#               per second) is the median of the rounds and the ratio berth/peer the median of
#               the per-round ratios. Also the server's CPU time per answered query (its
#               threads' schedstat run time / queries), which depends much less on the load of
#               the machine than QPS does.
#   latency:    dnsperf -Q LAT_QPS -v for LAT_DUR s, LAT_REPS times taking turns between the
#               cases (p50/p99 of every answer, pooled)
# Also berthd's RSS before and after. Usage (root): bench/dns/run.sh
#   env: DUR=10 ROUNDS=5 LAT_DUR=1 LAT_QPS=2000 LAT_REPS=16 NCTR=10; QUICK=1 (DUR=5 ROUNDS=3
#        LAT_REPS=6); RESULTS=/tmp/berth-bench-dns (raw dnsperf outputs, kept); BERTHD, BERTH
#        (binaries, default build/); BENCH_OUT=dir: machine-readable results for
#        bench/report.sh (bench/README.md); HOLD=1: set up, then wait (for profiling)
. "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || bb_die "run as root"
if [ "${QUICK:-0}" = 1 ]; then
	DUR=${DUR:-5}; ROUNDS=${ROUNDS:-3}; LAT_REPS=${LAT_REPS:-6}
else
	DUR=${DUR:-10}; ROUNDS=${ROUNDS:-5}; LAT_REPS=${LAT_REPS:-16}
fi
LAT_DUR=${LAT_DUR:-1}; LAT_QPS=${LAT_QPS:-2000}; NCTR=${NCTR:-10}
RESULTS=${RESULTS:-/tmp/berth-bench-dns}
NV=/usr/lib/podman/netavark; AV=/usr/lib/podman/aardvark-dns; DM=/usr/sbin/dnsmasq
BERTHD=${BERTHD:-$BB_TOP/build/berthd} BERTH=${BERTH:-$BB_TOP/build/berth}
FAKEDNS=$BB_TOP/build/tests/helpers/fakedns
PROBE=$BB_TOP/build/tests/helpers/dns_probe
[ -x "$BERTHD" ] && [ -x "$FAKEDNS" ] && [ -x "$PROBE" ] || bb_die "build first: make all helpers"
missing=()
command -v dnsperf >/dev/null || missing+=(dnsperf)
[ -x "$AV" ] || missing+=(aardvark-dns)
[ -x "$NV" ] || missing+=(netavark)
[ -x "$DM" ] || missing+=(dnsmasq-base)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || bb_die "cannot install ${missing[*]}"
fi

H=$BB_ID-h
CFG=$BB_DIR/netavark
export BERTH_HOST=unix://$BB_DIR/berth.sock
BERTHD_PID= FAKE_PID= DM_PID=
T_START=$SECONDS
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
	[ -n "$DM_PID" ] && kill "$DM_PID" 2>/dev/null
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	rm -rf "$BB_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$BB_DIR" "$CFG"
bb_results_dir "$RESULTS"
rm -f "$RESULTS"/*.thr "$RESULTS"/*.lat "$RESULTS"/*.us "$RESULTS"/*.qps "$RESULTS"/*.p99
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
: > "$BB_DIR/hosts"
for i in $(seq 1 "$NCTR"); do
	berth run -d --name "ctr$i" --network bnet busybox sleep 1d >/dev/null || bb_die "berth run failed"
	printf '%s ctr%s\n' "$(berth inspect "ctr$i" | jq -r '.[0].NetworkSettings.Networks.bnet.IPAddress')" "$i" >> "$BB_DIR/hosts"
done
BNS=$BB_DIR/run/netns/$(berth inspect ctr1 | jq -r '.[0].Id')

# dnsmasq: the same names from a hosts file, on 127.0.0.12 inside the same container netns as
# berth's listener (so that both are reached the same way); no upstream, no cache misses.
nsenter --net="$BNS" "$DM" --keep-in-foreground --conf-file=/dev/null --pid-file= --user=root \
	--no-resolv --no-hosts --addn-hosts="$BB_DIR/hosts" --listen-address=127.0.0.12 \
	--bind-interfaces --port=53 --log-facility=- >"$BB_DIR/dnsmasq.log" 2>&1 &
DM_PID=$!

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
probe_ok() { # netns server name pattern
	local k
	for k in $(seq 50); do
		nsenter --net="$1" "$PROBE" -s "$2" query "$3" 2>/dev/null | grep -q "$4" && return 0
		sleep 0.1
	done
	return 1
}
probe_ok "$BNS" 127.0.0.11 ctr2 '^A 10.88' || bb_die "berth: ctr2 not resolved"
probe_ok "$BNS" 127.0.0.11 host1.example.test 192.0.2.10 || bb_die "berth: forwarding failed"
probe_ok "$BNS" 127.0.0.12 ctr2 '^A 10.88' || { cat "$BB_DIR/dnsmasq.log"; bb_die "dnsmasq: ctr2 not resolved"; }
probe_ok "$ANS" 10.89.0.1 ctr2 '^A 10.89' || bb_die "aardvark: ctr2 not resolved"
probe_ok "$ANS" 10.89.0.1 host1.example.test 192.0.2.10 || bb_die "aardvark: forwarding failed"

RSS0=$(bb_rss_kib "$BERTHD_PID")
ARSS0=$(bb_rss_kib "$AP")

# The cases: tag, netns of the client, server address, query file, server pid.
CASES=(berth_names dnsmasq_names aardvark_names berth_forwarded aardvark_forwarded)
declare -A C_NS=([berth_names]=$BNS [dnsmasq_names]=$BNS [aardvark_names]=$ANS
	[berth_forwarded]=$BNS [aardvark_forwarded]=$ANS)
declare -A C_SRV=([berth_names]=127.0.0.11 [dnsmasq_names]=127.0.0.12 [aardvark_names]=10.89.0.1
	[berth_forwarded]=127.0.0.11 [aardvark_forwarded]=10.89.0.1)
declare -A C_Q=([berth_names]=$BB_DIR/q_names [dnsmasq_names]=$BB_DIR/q_names
	[aardvark_names]=$BB_DIR/q_names [berth_forwarded]=$BB_DIR/q_fwd [aardvark_forwarded]=$BB_DIR/q_fwd)
declare -A C_PID=([berth_names]=$BERTHD_PID [dnsmasq_names]=$DM_PID [aardvark_names]=$AP
	[berth_forwarded]=$BERTHD_PID [aardvark_forwarded]=$AP)
# in flight: 100 for names; 50 for forwarded names, under berth's cap of 64 forwards in flight per
# container (over it, a container gets SERVFAIL at once: the limiter, not forwarding, would be timed)
declare -A C_INFLIGHT=([berth_names]=100 [dnsmasq_names]=100 [aardvark_names]=100
	[berth_forwarded]=50 [aardvark_forwarded]=50)
declare -A C_LABEL=([berth_names]="berth, container names" [dnsmasq_names]="dnsmasq, the same names"
	[aardvark_names]="aardvark-dns, container names" [berth_forwarded]="berth, forwarded"
	[aardvark_forwarded]="aardvark-dns, forwarded")

# cpu_ns PID: run time of all its threads so far (ns, schedstat)
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'; }

# thr TAG ROUND: a throughput run; appends "QPS CPU-us-per-query NOERROR-share" to
# $RESULTS/TAG.qps (QPS counts NOERROR answers only: a server that fails queries fast is not fast).
thr() {
	local tag=$1 c0 c1 out=$RESULTS/$1.$2.thr
	c0=$(cpu_ns "${C_PID[$tag]}")
	nsenter --net="${C_NS[$tag]}" dnsperf -s "${C_SRV[$tag]}" -d "${C_Q[$tag]}" -l "$DUR" -c 1 -T 1 \
		-q "${C_INFLIGHT[$tag]}" > "$out" 2>&1
	c1=$(cpu_ns "${C_PID[$tag]}")
	awk -v cpu=$((c1 - c0)) '/Queries completed/ {done = $3}
		/Response codes/ {for (i = 3; i < NF; i++) if ($i == "NOERROR") ok = $(i + 1)}
		/Run time/ {t = $4}
		END {printf "%.0f %.3f %.4f\n", t ? ok / t : 0, done ? cpu / 1000 / done : 0, done ? ok / done : 0}' \
		"$out" >> "$RESULTS/$tag.qps"
}
# lat TAG: a paced run; every answer's latency (us) appended to TAG.us, the run's p99 (ms) to
# TAG.p99 (one line per run: a load spike of the shared machine lands in one run, not in all).
lat() {
	local tag=$1
	nsenter --net="${C_NS[$tag]}" dnsperf -s "${C_SRV[$tag]}" -d "${C_Q[$tag]}" -l "$LAT_DUR" -Q "$LAT_QPS" -v \
		> "$RESULTS/$tag.lat" 2>&1
	awk '/^> NOERROR/ {printf "%d\n", $NF * 1e6}' "$RESULTS/$tag.lat" > "$RESULTS/$tag.run.us"
	cat "$RESULTS/$tag.run.us" >> "$RESULTS/$tag.us"
	bb_pct "$RESULTS/$tag.run.us" | awk '{print $2}' >> "$RESULTS/$tag.p99"
}
# median FILE COL DECIMALS: the median of column COL of FILE, rounded
median() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk -v d="$3" '{a[NR] = $1}
	END {if (!NR) {print "nan"; exit} printf "%.*f\n", d, (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# ratio_median A B [EXT COL]: the median over rounds of A/B (column COL of A.EXT and B.EXT; QPS by
# default), min and max: "med min max"
ratio_median() {
	local ext=${3:-qps} col=${4:-1}
	paste "$RESULTS/$1.$ext" "$RESULTS/$2.$ext" | awk -F'\t' -v c="$col" '{split($1, a, " "); split($2, b, " ")}
		b[c] > 0 {print a[c] / b[c]}' | sort -g |
		awk '{a[NR] = $1} END {if (!NR) {print "nan nan nan"; exit}
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			printf "%.2f %.2f %.2f\n", m, a[1], a[NR]}'
}

if [ "${HOLD:-0}" = 1 ]; then     # for profiling: keep the setup until $RESULTS/hold.env is removed
	declare -p BNS ANS BERTHD_PID DM_PID AP BB_DIR > "$RESULTS/hold.env"
	bb_say "setup held: $RESULTS/hold.env (remove it to end)"
	while [ -e "$RESULTS/hold.env" ]; do sleep 1; done
	exit 0
fi
bb_say "# embedded DNS: berthd vs dnsmasq $("$DM" --version | awk 'NR == 1 {print $3}') vs aardvark-dns $("$AV" --version | awk '{print $2}'); $(bb_machine)"
bb_say "# $NCTR containers each; dnsperf in a container; throughput -c1 -T1 -q100 (forwarded -q50) ${DUR}s x $ROUNDS rounds (rotating order);"
bb_say "# latency: -Q$LAT_QPS ${LAT_DUR}s x $LAT_REPS runs taking turns, samples pooled"
for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < ${#CASES[@]}; k++)); do
		thr "${CASES[(k + r) % ${#CASES[@]}]}" "$r"
	done
done
for _ in $(seq "$LAT_REPS"); do
	for tag in "${CASES[@]}"; do lat "$tag"; done
done
declare -A QPS CPU OK P50 P99 P99R LOST
printf '%-32s %9s %9s %9s %12s %9s %9s %9s\n' case "QPS" "NOERROR" "lost" "cpu us/q" "p50 ms" "p99 ms" "p99 runs"
for tag in "${CASES[@]}"; do
	QPS[$tag]=$(median "$RESULTS/$tag.qps" 1 0); CPU[$tag]=$(median "$RESULTS/$tag.qps" 2 2)
	OK[$tag]=$(awk '{printf "%.1f%%\n", $3 * 100}' "$RESULTS/$tag.qps" | sort -g | head -1)
	read -r P50[$tag] P99[$tag] _ < <(bb_pct "$RESULTS/$tag.us")
	P99R[$tag]=$(median "$RESULTS/$tag.p99" 1 3)
	LOST[$tag]=$(cat "$RESULTS/$tag".*.thr | awk '/Queries lost/ {s += $3} END {print s + 0}')
	printf '%-32s %9s %9s %9s %12s %9s %9s %9s\n' "${C_LABEL[$tag]}" "${QPS[$tag]}" "${OK[$tag]}" "${LOST[$tag]}" "${CPU[$tag]}" \
		"${P50[$tag]}" "${P99[$tag]}" "${P99R[$tag]}"
done
for _ in $(seq 20); do [ "$(berth dns stats --json | jq .Pending)" = 0 ] && break; sleep 0.1; done
RSS1=$(bb_rss_kib "$BERTHD_PID")
bb_say "per round, QPS (cpu us/query):"
for tag in "${CASES[@]}"; do
	printf '  %-30s %s\n' "$tag" "$(awk '{printf "%s (%s)  ", $1, $2}' "$RESULTS/$tag.qps")"
done
bb_say "berthd RSS: before ${RSS0} KiB, after ${RSS1} KiB (growth $((RSS1 - RSS0)) KiB); aardvark-dns RSS: before ${ARSS0} KiB, after $(bb_rss_kib "$AP") KiB"
berth dns stats | tr '\n' ' ' | sed 's/  */ /g; s/^/berth dns stats: /'; echo
read -r RD RDMIN RDMAX < <(ratio_median berth_names dnsmasq_names)
read -r RA RAMIN RAMAX < <(ratio_median berth_names aardvark_names)
read -r RF RFMIN RFMAX < <(ratio_median berth_forwarded aardvark_forwarded)
V1=$(bb_le 1 "$RD" && echo PASS || echo MISS)
read -r RL RLMIN RLMAX < <(ratio_median berth_names aardvark_names p99 1)
V2=$(bb_le "$RL" 1 && echo PASS || echo MISS)
bb_say "container names: berth/dnsmasq QPS = ${RD}x (rounds ${RDMIN}-${RDMAX}; target >= 1): $V1"
bb_say "container names: berth/aardvark QPS = ${RA}x (rounds ${RAMIN}-${RAMAX})"
bb_say "container names: p99 berth/aardvark = ${RL}x (median of $LAT_REPS paired runs, ${RLMIN}-${RLMAX}; target <= 1): $V2; all samples pooled: berth ${P99[berth_names]} ms vs aardvark ${P99[aardvark_names]} ms"
bb_say "forwarded:       berth/aardvark QPS = ${RF}x (rounds ${RFMIN}-${RFMAX}); p99 berth ${P99[berth_forwarded]} ms vs aardvark ${P99[aardvark_forwarded]} ms"
bb_say "(whole run: $((SECONDS - T_START)) s; raw dnsperf outputs in $RESULTS)"

# machine-readable results (bench/README.md)
bb_res title "Embedded DNS"
bb_res note "$(bb_machine). $NCTR containers per server; dnsperf 2.10 inside a container, \`-c 1 -T 1 -q 100\` for ${DUR} s (forwarded names \`-q 50\`: over 64 in flight per container, berth answers SERVFAIL at once), $ROUNDS rounds in rotating order (QPS: NOERROR answers per second, median of the rounds; ratios: median of the per-round ratios); latency paced at $LAT_QPS QPS, ${LAT_DUR} s × $LAT_REPS runs taking turns: p50 and p99 of all samples pooled, and the median of the runs' p99 (a load spike of this shared machine lands in one run). dnsmasq $("$DM" --version | awk 'NR == 1 {print $3}') serves the same names from a hosts file on 127.0.0.12 in the same container netns as berth's 127.0.0.11; aardvark-dns $("$AV" --version | awk '{print $2}') answers on its bridge gateway. CPU µs/query: the server's run time (all its threads) over the queries it answered."
bb_res table qps "Throughput and latency" "case" "QPS" "NOERROR (worst round)" "CPU µs/query" "p50 ms" "p99 ms" "p99 ms, median of runs" "lost"
for tag in "${CASES[@]}"; do
	bb_res row qps "${C_LABEL[$tag]}" "${QPS[$tag]}" "${OK[$tag]}" "${CPU[$tag]}" "${P50[$tag]}" "${P99[$tag]}" "${P99R[$tag]}" "${LOST[$tag]}"
done
bb_res plot qps bars "DNS throughput: NOERROR answers per second (dnsperf, 1 client; 100 queries in flight, forwarded 50)" "" "queries per second"
bb_res plot lat bars "DNS latency, paced at $LAT_QPS QPS: p50, p99 (median of runs); log scale" "" "ms" logy
for tag in "${CASES[@]}"; do
	srv=${tag%%_*}; what=${tag#*_}; [ "$srv" = aardvark ] && srv=aardvark-dns
	bb_res point qps "$srv" "${what/names/container names}" "${QPS[$tag]}"
	bb_res point lat "$srv" "${what/forwarded/fwd} p50" "${P50[$tag]}"
	bb_res point lat "$srv" "${what/forwarded/fwd} p99" "${P99R[$tag]}"
done
bb_res verdict "$V1" "container names: berth ${QPS[berth_names]} QPS vs dnsmasq ${QPS[dnsmasq_names]} (berth/dnsmasq ${RD}×, rounds ${RDMIN}–${RDMAX}; target ≥ 1×)"
bb_res verdict "$V2" "container names: p99 berth/aardvark-dns ${RL}× (median of $LAT_REPS paired runs, ${RLMIN}–${RLMAX}; target ≤ 1×); medians of the runs' p99: berth ${P99R[berth_names]} ms, aardvark-dns ${P99R[aardvark_names]} ms; all samples pooled: ${P99[berth_names]} vs ${P99[aardvark_names]} ms"
bb_res verdict INFO "container names: berth/aardvark-dns QPS ${RA}× (rounds ${RAMIN}–${RAMAX}); forwarded: ${RF}× (the single-threaded fake upstream bounds both)"
bb_res verdict INFO "berthd RSS ${RSS0} KiB before, ${RSS1} KiB after the run"
bb_res glance "container names: **${QPS[berth_names]} QPS**, ${RD}× dnsmasq's, ${RA}× aardvark-dns's; ${CPU[berth_names]} µs of CPU per answer (dnsmasq ${CPU[dnsmasq_names]}, aardvark-dns ${CPU[aardvark_names]}); p99 ${P99R[berth_names]} ms (aardvark-dns ${P99R[aardvark_names]} ms)"
exit 0
