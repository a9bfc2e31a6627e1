#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Port publishing benchmark (issue 3), not a test. Everything runs in private namespaces
# (tests/system/lib.sh); berth and the peers in the same run. Prints:
#  (1) iperf3 TCP, 1 and 4 streams, client -> container: through a published port (DNAT), with
#      1 and with 1,000 ports published, directly to the container address (routed mode), and
#      through a socat userland proxy;
#  (2) cost of publishing one more port with 0, 100 and 1,000 ports already published (LEVELS):
#      berth  - nft batch: one element add + commit through nft/ (tests/helpers/fw_bench, in a
#               namespace of its own), p50 of BATCH_REPS;
#             - publish step: berthd's whole publishing step inside POST /containers/{id}/start
#               (resolve, host-port checks, store record, nft batch, conntrack flush), read from
#               its debug log line "published 1 ports ... in N us";
#             - API: p50 of POST /containers/{id}/start of a created container with one -p and
#               without (kept-alive connection, bench/publish/pubclient.py); the difference is
#               what publishing adds to the call;
#      netavark 1.4 - setup of a container with 1 port mapping and with none (the difference is
#               its publishing cost), the 1,000 ports held by 10 resident containers x 100;
#      CNI portmap - portmap ADD of 1 mapping for a container the bridge plugin just attached,
#               the 1,000 ports held by 10 resident containers x 100.
#  Then the ratios and PASS/MISS for the targets: berth at 1,000 <= 1.2 x berth at 0, and berth
#  >= 10x faster than both peers at 1,000 (at the last level).
# Env: SECS (iperf3 seconds, 5), REPS (API samples, 30), PEER_REPS (15), BATCH_REPS (500),
# LEVELS ("0 100 1000"), PEERS=0 skips the peers; QUICK=1: SECS=2 REPS=10 PEER_REPS=5
# BATCH_REPS=100 LEVELS="0 100"; BENCH_OUT=dir: machine-readable results (bench/README.md).
# Needs iperf3, socat, netavark, containernetworking-plugins.
set -u
. "$(dirname "$0")/../../tests/system/lib.sh"
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ "${QUICK:-0}" = 1 ]; then
	SECS=${SECS:-2} REPS=${REPS:-10} PEER_REPS=${PEER_REPS:-5} BATCH_REPS=${BATCH_REPS:-100}
	LEVELS=${LEVELS:-0 100}
else
	SECS=${SECS:-5} REPS=${REPS:-30} PEER_REPS=${PEER_REPS:-15} BATCH_REPS=${BATCH_REPS:-500}
	LEVELS=${LEVELS:-0 100 1000}
fi
PEERS=${PEERS:-1} RES=10
read -ra LV <<< "$LEVELS"
[ "${LV[0]}" = 0 ] || { echo "LEVELS must begin with 0"; exit 1; }
BULK=${LV[${#LV[@]} - 1]}
T0=$SECONDS
bt_setup
# The iperf3 server daemonizes inside srv's namespace: once berth has removed the container, the
# lib's cleanup no longer finds that namespace, so it is ended by its pid file first.
trap 'rc=$?; [ -s "$BT_DIR/iperf3.pid" ] && kill "$(cat "$BT_DIR/iperf3.pid")" 2>/dev/null; (exit $rc); bt_cleanup' EXIT
fw_lan_setup || exit 1
S=$BT_DIR/samples; mkdir -p "$S"
# p50 FILE: median in microseconds (mean of the two middle samples when even)
p50() { sort -n "$1" | awk '{a[NR]=$1} END {if (!NR) {print "nan"; exit}
	print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "PASS" : "MISS" }'; }
say "# $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------- (1) throughput ----------------
berth network create --subnet 10.81.0.0/24 -o com.docker.network.bridge.gateway_mode_ipv4=routed r >/dev/null
berth network create --subnet 10.82.0.0/16 pb >/dev/null
berth run -d --name srv --network r -p 5201:5201 busybox sleep 1d >/dev/null
srv=$(ctr_ip srv r)
incl ip route add 10.81.0.0/24 via $FW_HOST4
in_ctr_ns srv iperf3 -s -D -I "$BT_DIR/iperf3.pid" >/dev/null
inhost socat TCP4-LISTEN:5301,fork,reuseaddr TCP4:$srv:5201 >/dev/null 2>&1 &
wait_for 5 bash -c "in_ctr_ns srv cat /proc/net/tcp | grep -qi ':1451 '"
gbps() { incl iperf3 -c "$1" -p "$2" -P "$3" -t "$SECS" -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100'; }
tput_row() {
	local one four
	one=$(gbps $2 $3 1); four=$(gbps $2 $3 4)
	printf '%-40s %10s %10s\n' "$1" "$one" "$four"
	printf '%s\t%s\t%s\n' "$1" "$one" "$four" >> "$S/tput"
}
say "## throughput (Gbit/s, iperf3 TCP, ${SECS}s each)"
printf '%-40s %10s %10s\n' path 1-stream 4-streams
tput_row "published (DNAT), 1 port published" $FW_HOST4 5201
tput_row "direct (routed mode)" $srv 5201
tput_row "socat proxy" $FW_HOST4 5301

# ---------------- (2) berth: nft batch, publish step, API ----------------
bt_netns fb || exit 1
for n in "${LV[@]}"; do
	nsenter --net=/run/netns/$BT_ID-fb "$TOP/build/tests/helpers/fw_bench" $n $BATCH_REPS > "$S/batch.$n" || exit 1
done
batch_p50() { sed 's/.*p50_us=\([0-9]*\).*/\1/' "$S/batch.$1"; }
sock=$BT_DIR/berth.sock
api_level() { # N: publish cost samples with N ports already published
	python3 "$HERE/pubclient.py" "$sock" startcost pb "b$1" "$REPS" 40000 "$S/api.$1" || exit 1
	grep -o "published 1 ports of container b$1p[1-9][0-9]* in [0-9]* us (nft batch [0-9]* us" \
		"$BT_DIR/berthd.log" > "$S/log.$1"
	awk '{print $8}' "$S/log.$1" > "$S/step.$1"
	awk '{print $12}' "$S/log.$1" > "$S/stepbatch.$1"
}
# srv's port is published: "0" below means no other port (the maps hold 1 element). Each
# further level adds a container that publishes the ports up to it.
api_level 0
prev=0
for lvl in "${LV[@]:1}"; do
	berth run -d --name "bulk$lvl" --network pb -p $((20000 + prev))-$((20000 + lvl - 1)):$((20000 + prev))-$((20000 + lvl - 1)) \
		busybox sleep 1d >/dev/null || { say "bulk container with ports $prev..$lvl failed"; exit 1; }
	api_level "$lvl"
	prev=$lvl
done
have=$(grep -o "[0-9]* ports published in all" "$BT_DIR/berthd.log" | tail -1 | cut -d' ' -f1)
say "## throughput with $have ports published"
tput_row "published (DNAT), $have ports published" $FW_HOST4 5201

# ---------------- (2) peers ----------------
if [ "$PEERS" = 1 ]; then
	for i in $(seq 0 $RES); do bt_netns pc$i || exit 1; done
	bt_netns pe || exit 1
	for lvl in "${LV[@]}"; do
		res=0; [ $lvl -gt 0 ] && res=$RES
		for k in netavark cni; do
			rm -rf "$BT_DIR/peer"
			nsenter --net=/run/netns/$BT_ID-pe bash "$HERE/peers.sh" $k "$BT_DIR/peer" "$BT_ID-pc" \
				$res $((lvl / RES)) "$PEER_REPS" "$S/$k.$lvl" || { say "peer $k failed"; exit 1; }
		done
	done
fi

# ---------------- report ----------------
say "## publishing one more port: p50 in microseconds (samples: API $REPS, batch $BATCH_REPS, peers $PEER_REPS)"
printf '%-62s' "operation"; for n in "${LV[@]}"; do printf ' %12s' "$n ports"; done; printf ' %8s\n' "ratio"
ROWS=()
row() { # label key: one value per level, then last / first
	local n vals=()
	for n in "${LV[@]}"; do vals+=("${V[$2.$n]}"); done
	printf '%-62s' "$1"; printf ' %12s' "${vals[@]}"; printf ' %8s\n' "$(ratio "${V[$2.$BULK]}" "${V[$2.0]}")"
	ROWS+=("$1"$'\t'"$2")
}
declare -A V
for n in "${LV[@]}"; do
	V[batch.$n]=$(batch_p50 $n)
	V[step.$n]=$(p50 "$S/step.$n"); V[stepbatch.$n]=$(p50 "$S/stepbatch.$n")
	V[startp.$n]=$(p50 "$S/api.$n.start_p"); V[startn.$n]=$(p50 "$S/api.$n.start_n")
	V[apidiff.$n]=$(calc "${V[startp.$n]} - ${V[startn.$n]}" 0)
	if [ "$PEERS" = 1 ]; then
		V[nv1.$n]=$(p50 "$S/netavark.$n.setup1"); V[nv0.$n]=$(p50 "$S/netavark.$n.setup0")
		V[nvdiff.$n]=$(calc "${V[nv1.$n]} - ${V[nv0.$n]}" 0)
		V[pm.$n]=$(p50 "$S/cni.$n.portmap"); V[cbr.$n]=$(p50 "$S/cni.$n.bridge")
	fi
done
row "berth: nft batch, one element add + commit (fw_bench)" batch
row "berth: nft batch inside berthd's publish step" stepbatch
row "berth: berthd's publish step (in the start call)" step
row "berth: API POST /start with one -p" startp
row "berth: API POST /start without -p" startn
row "berth: API difference (what -p adds to the call)" apidiff
if [ "$PEERS" = 1 ]; then
	row "netavark 1.4: setup with 1 port mapping" nv1
	row "netavark 1.4: setup without" nv0
	row "netavark 1.4: difference (its publishing cost)" nvdiff
	row "CNI portmap: ADD of 1 mapping" pm
	row "CNI bridge: ADD before it (for scale)" cbr
fi
say "## targets"
VERDICTS=()
target() { # PASS|MISS text
	say "$1 $2"
	VERDICTS+=("$1"$'\t'"$2")
}
declare -A WHAT=([step]="berthd's publish step" [startp]="API POST /start with one -p"
	[batch]="nft batch" [apidiff]="API difference (what -p adds)")
for k in step startp batch; do
	lim=$(calc "1.2 * ${V[$k.0]}" 0)
	target "$(verdict ${V[$k.$BULK]} $lim)" "berth: ${WHAT[$k]} at $BULK ports (${V[$k.$BULK]} us) <= 1.2 x at 0 ($lim us)"
done
declare -A PEER_NAME=([nvdiff]="netavark's publishing cost" [pm]="CNI portmap")
if [ "$PEERS" = 1 ]; then
	for peer in nvdiff pm; do
		for k in step apidiff; do
			b=${V[$k.$BULK]}; p=${V[$peer.$BULK]}
			if [ "$k" = apidiff ] && ! bb_le 1 "$b"; then
				# two calls of tens of ms each: a difference at or below 0 is their noise, no ratio
				target INFO "berth: ${WHAT[$k]} at $BULK ports ($b us) is within the noise of the two API calls (${V[startp.$BULK]} vs ${V[startn.$BULK]} us); ${PEER_NAME[$peer]}: $p us"
				continue
			fi
			target "$(verdict "$(calc "10 * $b" 0)" "$p")" "berth: ${WHAT[$k]} at $BULK ports ($b us) >= 10x faster than ${PEER_NAME[$peer]} ($p us): $(calc "$p / ($b > 0 ? $b : 1)" 1)x"
		done
	done
fi
say "# whole run: $((SECONDS - T0)) s"

# machine-readable results (bench/README.md)
bb_res title "Port publishing"
bb_res note "$(bb_machine). Throughput: iperf3 TCP, ${SECS} s per case, from a remote-host namespace to a container. Cost of publishing one more port with ${LEVELS// /, } ports already published: berth's nft batch (\`tests/helpers/fw_bench\`, p50 of $BATCH_REPS), berthd's publish step inside \`POST /containers/{id}/start\` (its debug log) and that API call with one \`-p\` and without (p50 of $REPS); netavark $(/usr/lib/podman/netavark --version | awk '{print $2}') setup with 1 port mapping minus without, CNI portmap ADD of 1 mapping (p50 of $PEER_REPS, wall clock around fork+exec; the published ports held by $RES resident containers)."
for v in "${VERDICTS[@]}"; do bb_res verdict "${v%%$'\t'*}" "${v#*$'\t'}"; done
bb_res table tput "Throughput, Gbit/s" "path" "1 stream" "4 streams"
while IFS=$'\t' read -r label one four; do bb_res row tput "$label" "$one" "$four"; done < "$S/tput"
cols=(); for n in "${LV[@]}"; do cols+=("$n ports"); done
bb_res table cost "Publishing one more port, p50 µs" "operation" "${cols[@]}" "ratio last/first"
for r in "${ROWS[@]}"; do
	vals=(); for n in "${LV[@]}"; do vals+=("${V[${r#*$'\t'}.$n]}"); done
	bb_res row cost "${r%%$'\t'*}" "${vals[@]}" "$(ratio "${V[${r#*$'\t'}.$BULK]}" "${V[${r#*$'\t'}.0]}")"
done
bb_res plot cost lines "Cost of publishing one more port (log scale)" "ports already published" "µs (p50)" logy
declare -A SERIES=([step]="berth: publish step in berthd" [batch]="berth: nft batch"
	[nvdiff]="netavark 1.4: its publishing cost" [pm]="CNI portmap ADD")
for k in step batch nvdiff pm; do
	[ "$PEERS" = 1 ] || [ "${k:0:1}" != n ] || continue
	for n in "${LV[@]}"; do
		[ -n "${V[$k.$n]:-}" ] && [ "${V[$k.$n]}" != nan ] && bb_res point cost "${SERIES[$k]}" "$n" "${V[$k.$n]}"
	done
done
g="publishing one more port with $BULK already published: berth's publish step **${V[step.$BULK]} µs** (${V[step.0]} with none)"
[ "$PEERS" = 1 ] && g="$g, netavark $(calc "${V[nvdiff.$BULK]} / 1000" 1) ms, CNI portmap $(calc "${V[pm.$BULK]} / 1000" 1) ms"
bb_res glance "$g"
bb_res glance "published path throughput $(awk -F'\t' 'NR == 1 {print $2}' "$S/tput") Gbit/s vs direct routing $(awk -F'\t' '/^direct/ {print $2}' "$S/tput") (1 stream)"
exit 0    # the EXIT trap (bt_cleanup) removes everything; bt_summary would exit 1 (a benchmark has no checks)
