#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Port publishing benchmark (issue 3), not a test. Prints:
#  (1) iperf3 TCP, 1 and 4 streams, client -> container: through a published port (DNAT),
#      directly to the container address (routed mode), through a socat userland proxy;
#  (2) cost of publishing one more port (one nft batch, p50/p90) with 0 and 1,000 ports already
#      published (build/tests/helpers/fw_bench), and, when netavark 1.4 is installed, netavark's
#      setup of a container with 2 port mappings (for scale: its cost per container).
# Needs iperf3 and socat (scripts/install-deps.sh with BERTH_BENCH_DEPS=1). Everything runs in
# private namespaces (tests/system/lib.sh).
set -u
. "$(dirname "$0")/../../tests/system/lib.sh"
SECS=${SECS:-5}
bt_setup
fw_lan_setup || exit 1
berth network create --subnet 10.81.0.0/24 -o com.docker.network.bridge.gateway_mode_ipv4=routed r >/dev/null
berth run -d --name srv --network r -p 5201:5201 busybox sleep 1d >/dev/null
srv=$(ctr_ip srv r)
incl ip route add 10.81.0.0/24 via $FW_HOST4
in_ctr_ns srv iperf3 -s -D >/dev/null
inhost socat TCP4-LISTEN:5301,fork,reuseaddr TCP4:$srv:5201 >/dev/null 2>&1 &
wait_for 5 bash -c "in_ctr_ns srv cat /proc/net/tcp | grep -qi ':1451 '"
gbps() { incl iperf3 -c "$1" -p "$2" -P "$3" -t "$SECS" -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100'; }
say "## throughput (Gbit/s, iperf3 TCP, ${SECS}s each)"
printf '%-28s %10s %10s\n' path 1-stream 4-streams
for row in "published (DNAT) $FW_HOST4 5201" "direct (routed) $srv 5201" "socat proxy $FW_HOST4 5301"; do
	set -- $row
	printf '%-28s %10s %10s\n' "$1 $2" "$(gbps $3 $4 1)" "$(gbps $3 $4 4)"
done

say "## publishing one more port (one nft batch)"
for n in 0 1000; do inhost "$TOP/build/tests/helpers/fw_bench" $n 200; done
say "## berth API: run -d with one -p, p50 over 20 (includes the container start)"
ts=()
for i in $(seq 1 20); do
	t0=$(date +%s%N); berth run -d --name b$i --network r -p $((6000 + i)):80 busybox sleep 1d >/dev/null; t1=$(date +%s%N)
	ts+=($(( (t1 - t0) / 1000 )))
done
printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print "p50_us=" a[int(NR/2)+1]}'
if [ -x /usr/lib/podman/netavark ] && [ "${PEERS:-0}" = 1 ]; then
	say "## netavark 1.4 (peer script, 2 port mappings)"
	CONFIGS=v4:2:0 REPS1=10 RUNS50=1 bash /work/shared/peers/netavark_latency.sh 2>&1 | tail -5
fi
bt_summary >/dev/null 2>&1; exit 0
