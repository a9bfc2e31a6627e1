#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Docker benchmark, everything in one run on one machine (namespaces bb-<pid>-*, removed on exit):
#  (1) `docker network connect` / `disconnect` of a running container, through the same dockerd
#      20.10 (Debian's docker.io), to a network of berth's remote driver (berthd --docker-plugin,
#      berth's IPAM) and to a network of Docker's own bridge driver, alternating;
#  (2) `docker network connect` / `disconnect` with the same docker CLI against berthd's Engine
#      API and against dockerd (its bridge driver).
# Each operation is timed twice: the CLI's whole run (Debian's CLI 20.10 for all; its start-up is
# most of it on a busy machine) and the API request alone that the CLI sends (curl on the same
# socket: the daemon's side). p50 and p99 in ms. Target: each berth path at or below the Docker
# path it is set against. Needs root.
#
#   bench/docker/run.sh        env: OPS=40 (per operation and side), RESULTS=/tmp/berth-bench-docker
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP
OPS=${OPS:-40}
RESULTS=${RESULTS:-/tmp/berth-bench-docker}
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTHD_PID=
[ "$(id -u)" = 0 ] || bb_die "run as root (it creates network namespaces)"
[ -x "$BERTHD" ] || bb_die "$BERTHD is missing: make all"

# tests/system/lib_docker.sh runs the private dockerd: it names things after the test's.
BT_ID=$BB_ID BT_DIR=$BB_DIR BT_NS=$BB_ID-h
say() { bb_say "$@"; }
wait_for() {
	local end=$(($(date +%s%N) / 1000000 + ${1%.*} * 1000)); shift
	until "$@" >/dev/null 2>&1; do
		[ $(($(date +%s%N) / 1000000)) -ge $end ] && return 1
		sleep 0.05
	done
}
. "$TOP/tests/system/lib_docker.sh"
dk_require

cleanup() {
	dk_cleanup
	if [ -n "$BERTHD_PID" ]; then
		for c in $(bsk ps -aq 2>/dev/null); do bsk rm -f "$c" >/dev/null 2>&1; done
		kill -TERM "$BERTHD_PID" 2>/dev/null
		wait "$BERTHD_PID" 2>/dev/null
	fi
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2>/dev/null; done
	umount -l "$BB_DIR/run/netns" 2>/dev/null
	bb_cleanup_netns
	rm -rf "$BB_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bsk ARGS: Debian's CLI against berthd's Engine API.
bsk() { DOCKER_CONFIG=$BB_DIR/docker-config timeout 60 "$DOCKER_DEB" -H "unix://$BB_DIR/berth.sock" "$@"; }

# apicall SOCK NET CTR connect|disconnect: the request the CLI sends, alone.
apicall() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--unix-socket "$1" "http://x/v1.41/networks/$2/$4" -d "{\"Container\":\"$3\"}")
	[ "$code" = 200 ]
}

# timed FILE command...: append the command's wall time in microseconds to FILE.
timed() {
	local f=$1 t0 t1; shift
	t0=$EPOCHREALTIME
	"$@" >/dev/null || bb_die "failed: $*"
	t1=$EPOCHREALTIME
	echo $(($(bb_us "$t1") - $(bb_us "$t0"))) >>"$f"
}

mkdir -p "$BB_DIR/plugins" "$RESULTS"
rm -f "$RESULTS"/*.us
bb_netns h || bb_die "namespace"
nsenter --net="/run/netns/$BT_NS" "$BERTHD" --root "$BB_DIR/root" --run "$BB_DIR/run" \
	--socket "$BB_DIR/berth.sock" --docker-plugin="$BB_DIR/plugins/berth.sock" \
	>"$RESULTS/berthd.log" 2>&1 &
BERTHD_PID=$!
wait_for 20 curl -sf --unix-socket "$BB_DIR/berth.sock" http://x/_ping || bb_die "berthd did not start"
dk_up || bb_die "dockerd did not start"
dk_image || bb_die "importing busybox"

bb_say "docker network connect/disconnect benchmark ($OPS each, $(bb_machine))"
bb_say "dockerd $(dkd version --format '{{.Server.Version}}'), CLI $("$DOCKER_DEB" --version | awk '{print $3}' | tr -d ,)"

# (1) one dockerd, two drivers
dkd network create -d berth --ipam-driver berth --subnet 10.90.0.0/16 bnet >/dev/null &&
	dkd network create --subnet 10.91.0.0/16 dnet >/dev/null &&
	dkd run -d --name c1 --stop-timeout 1 busybox sleep 1d >/dev/null || bb_die "setup (1)"
for net in bnet dnet; do   # warm-up
	dkd network connect "$net" c1 && dkd network disconnect "$net" c1
done >/dev/null
for i in $(seq "$OPS"); do
	for net in bnet dnet; do
		timed "$RESULTS/plugin-$net-connect.us" dkd network connect "$net" c1
		timed "$RESULTS/plugin-$net-disconnect.us" dkd network disconnect "$net" c1
		timed "$RESULTS/plugin-$net-connect.api.us" apicall "$DK_SOCK" "$net" c1 connect
		timed "$RESULTS/plugin-$net-disconnect.api.us" apicall "$DK_SOCK" "$net" c1 disconnect
	done
done

# (2) the same CLI against berthd's Engine API and against dockerd
bsk network create --subnet 10.92.0.0/16 enet >/dev/null &&
	bsk run -d --name b1 busybox sleep 1d >/dev/null || bb_die "setup (2)"
bsk network connect enet b1 >/dev/null && bsk network disconnect enet b1 >/dev/null
for i in $(seq "$OPS"); do
	timed "$RESULTS/api-berthd-connect.us" bsk network connect enet b1
	timed "$RESULTS/api-berthd-disconnect.us" bsk network disconnect enet b1
	timed "$RESULTS/api-dockerd-connect.us" dkd network connect dnet c1
	timed "$RESULTS/api-dockerd-disconnect.us" dkd network disconnect dnet c1
	timed "$RESULTS/api-berthd-connect.api.us" apicall "$BB_DIR/berth.sock" enet b1 connect
	timed "$RESULTS/api-berthd-disconnect.api.us" apicall "$BB_DIR/berth.sock" enet b1 disconnect
	timed "$RESULTS/api-dockerd-connect.api.us" apicall "$DK_SOCK" dnet c1 connect
	timed "$RESULTS/api-dockerd-disconnect.api.us" apicall "$DK_SOCK" dnet c1 disconnect
done

row() { # LABEL FILE
	read -r p50 p99 n < <(bb_pct "$2")
	printf '  %-52s p50 %8s ms   p99 %8s ms   (n=%s)\n' "$1" "$p50" "$p99" "$n"
}
verdict() { # WHAT BERTH_FILE DOCKER_FILE
	local b d
	b=$(bb_p50 "$2"); d=$(bb_p50 "$3")
	if bb_le "$b" "$d"; then
		printf '  %-52s berth/docker = %s: target met\n' "$1" "$(bb_calc "$b / $d")"
	else
		printf '  %-52s berth/docker = %s: target MISSED\n' "$1" "$(bb_calc "$b / $d")"
	fi
}
{
	for what in "" .api; do
		k=$([ -z "$what" ] && echo "docker CLI" || echo "API request")
		bb_say ""
		bb_say "(1) the same dockerd: berth's remote driver vs Docker's bridge driver ($k)"
		row "connect, berth remote driver" "$RESULTS/plugin-bnet-connect$what.us"
		row "connect, Docker bridge driver" "$RESULTS/plugin-dnet-connect$what.us"
		row "disconnect, berth remote driver" "$RESULTS/plugin-bnet-disconnect$what.us"
		row "disconnect, Docker bridge driver" "$RESULTS/plugin-dnet-disconnect$what.us"
		verdict "connect (p50)" "$RESULTS/plugin-bnet-connect$what.us" \
			"$RESULTS/plugin-dnet-connect$what.us"
		verdict "disconnect (p50)" "$RESULTS/plugin-bnet-disconnect$what.us" \
			"$RESULTS/plugin-dnet-disconnect$what.us"
		bb_say ""
		bb_say "(2) the same client: berthd's Engine API vs dockerd ($k)"
		row "connect, berthd" "$RESULTS/api-berthd-connect$what.us"
		row "connect, dockerd" "$RESULTS/api-dockerd-connect$what.us"
		row "disconnect, berthd" "$RESULTS/api-berthd-disconnect$what.us"
		row "disconnect, dockerd" "$RESULTS/api-dockerd-disconnect$what.us"
		verdict "connect (p50)" "$RESULTS/api-berthd-connect$what.us" \
			"$RESULTS/api-dockerd-connect$what.us"
		verdict "disconnect (p50)" "$RESULTS/api-berthd-disconnect$what.us" \
			"$RESULTS/api-dockerd-disconnect$what.us"
	done
} | tee "$RESULTS/summary.txt"
