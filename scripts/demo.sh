#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build, and show berth working: networks, containers, reachability over
# IPv4 and IPv6, live connect/disconnect, restart with running containers. Everything happens in
# private network namespaces and directories, removed at the end. Must run as root.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (berth creates namespaces, bridges and veths)"; exit 1; }
scripts/install-deps.sh
make -j"$(nproc)" all >/dev/null

NS=berth-demo-$$
DIR=/tmp/$NS
BERTHD_PID=
cleanup() {
	set +e
	for c in $(build/berth ps -aq 2>/dev/null); do build/berth rm -f "$c" >/dev/null 2>&1; done
	build/berth network prune -f >/dev/null 2>&1
	[ -n "$BERTHD_PID" ] && kill "$BERTHD_PID" 2>/dev/null && wait "$BERTHD_PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	umount -l "$DIR/run/netns" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
note() { printf '\n# %s\n' "$*"; }

mkdir -p "$DIR"
export BERTH_CNI_CONFIG_DIR=$DIR/cni   # not the machine's /etc/cni/net.d
ip netns add "$NS"
nsenter --net=/run/netns/$NS ip link set lo up
export BERTH_HOST=unix://$DIR/berth.sock
note "berthd runs in network namespace $NS (playing the host), state in $DIR"
nsenter --net=/run/netns/$NS build/berthd --root "$DIR/root" --run "$DIR/run" \
	--socket "$DIR/berth.sock" >"$DIR/berthd.log" 2>&1 &
BERTHD_PID=$!
for _ in $(seq 100); do [ -S "$DIR/berth.sock" ] && break; sleep 0.1; done
berth() { build/berth "$@"; }

step berth network create my-net
step berth network create --ipv6 --subnet 10.30.0.0/24 --subnet fd00:30::/64 dual
step berth network ls
step berth run -d --name web --network my-net -p 8080:80 busybox \
	sh -c 'mkdir -p /www && echo "hello from web" > /www/index.html && exec httpd -f -p 80 -h /www'

step berth run -d --name db --network my-net busybox sleep 1d
step berth ps
WEB=$(berth inspect web | jq -r '.[0].NetworkSettings.Networks["my-net"].IPAddress')
note "db reaches web ($WEB) on my-net"
step berth exec db ping -c1 "$WEB"
note "names resolve through the embedded DNS (127.0.0.11 inside each container)"
step berth exec db cat /etc/resolv.conf
step berth exec db ping -c1 web
step berth exec db wget -qO- http://web/
note "web's port 80 is published on the host's port 8080 (nftables DNAT, no proxy process)"
step berth port web
for _ in $(seq 50); do nsenter --net=/run/netns/$NS curl -sf http://127.0.0.1:8080/ >/dev/null && break; sleep 0.1; done
step nsenter --net=/run/netns/$NS curl -s http://127.0.0.1:8080/
note "live connect: web is running and gets eth1 with IPv4 + IPv6 now"
step berth network connect dual web
step berth exec web ip addr show eth1
step berth run -d --name v6 --network dual busybox sleep 1d
WEB6=$(berth inspect web | jq -r '.[0].NetworkSettings.Networks.dual.GlobalIPv6Address')
step berth exec v6 ping -c1 "$WEB6"
note "live disconnect: eth0 disappears, the default route moves to dual's gateway"
step berth network disconnect my-net web
step berth exec web ip route
step berth network inspect my-net
note "berthd restarts; containers keep running and are re-adopted"
kill "$BERTHD_PID"; wait "$BERTHD_PID" || true
nsenter --net=/run/netns/$NS build/berthd --root "$DIR/root" --run "$DIR/run" \
	--socket "$DIR/berth.sock" >>"$DIR/berthd.log" 2>&1 &
BERTHD_PID=$!
for _ in $(seq 100); do curl -sf --unix-socket "$DIR/berth.sock" http://x/_ping >/dev/null && break; sleep 0.1; done
step berth ps
step berth exec v6 ping -c1 "$WEB6"
step berth stop -t 1 db
step berth logs web
step berth ps -a
step berth rm -f web db v6
step berth network rm dual my-net
note "demo finished; everything it created is removed"
