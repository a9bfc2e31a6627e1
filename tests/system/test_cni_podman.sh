#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth-cni with a real runtime: Debian's podman 4.3 on its CNI backend, run inside the test's
# host namespace (where berthd runs) with private storage, run and configuration directories,
# reading the configuration lists berthd writes. A podman container and a berth container on the
# same berth network reach each other by name both ways; `-p` publishes through berth's nftables;
# `podman network connect/disconnect` works on a running container; `podman rm -f` leaves
# nothing behind (address, link, nft element, DNS record, sandbox).
. "$(dirname "$0")/lib.sh"
command -v podman >/dev/null || { say "SKIP: podman is not installed (scripts/install-deps.sh)"; exit 77; }
[ -x /usr/lib/cni/tuning ] || { say "SKIP: containernetworking-plugins is not installed"; exit 77; }
CNI=${BERTH_CNI:-$TOP/build/berth-cni}
bt_setup

PD=$BT_DIR/podman
mkdir -p "$PD"/{root,runroot,tmp,cni-bin}
ln -s "$CNI" "$PD/cni-bin/berth-cni"
# As ../shared/peers/podman-env.sh: this machine's root lacks CAP_SYS_RESOURCE (explicit
# ulimits), crun refuses its cgroup layout (runc), no systemd (cgroupfs, file events).
cat > "$PD/containers.conf" <<EOF
[containers]
log_driver = "k8s-file"
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$PD/cni-bin", "/usr/lib/cni"]
network_config_dir = "$BERTH_CNI_CONFIG_DIR"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
tmp_dir = "$PD/tmp"
lock_type = "file"
EOF
cat > "$PD/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$PD/root"
runroot = "$PD/runroot"
EOF
P() {
	CONTAINERS_CONF=$PD/containers.conf CONTAINERS_STORAGE_CONF=$PD/storage.conf \
		nsenter --net=/run/netns/$BT_NS podman --network-backend cni --root "$PD/root" \
		--runroot "$PD/runroot" "$@"
}
export -f P
export PD

pod_cleanup() {
	P rm -af -t 0 >/dev/null 2>&1
	P image rm -af >/dev/null 2>&1
	awk -v d="$PD/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null
	return 0
}
trap 'rc=$?; pod_cleanup; (exit $rc); bt_cleanup' EXIT

say "# podman on the CNI backend, berth's network"
check "network create --ipv6 pnet" berth network create --ipv6 --subnet 10.91.0.0/24 pnet
check "podman sees pnet (berth-cni)" bash -c "P network ls | grep -q 'pnet.*berth-cni'"
check "a berth container bweb on pnet" berth run -d --name bweb --network pnet busybox httpd -f -p 80 -h /tmp
# The podman image is berth's busybox rootfs (glibc NSS: names resolve) with a page to serve.
IMG=$BT_DIR/img
check "podman imports an image of berth's busybox rootfs" bash -c "
	cp -a $BT_DIR/root/images/busybox/rootfs $IMG && mkdir -p $IMG/www && echo hello-from-podman > $IMG/www/index.html &&
	tar -C $IMG -cf $BT_DIR/img.tar . && P import $BT_DIR/img.tar bbx >/dev/null"

T0=$EPOCHREALTIME
check "podman run -d --network pnet -p 18090:80 --name p1" \
	P run -d --network pnet --name p1 -p 18090:80 --network-alias www bbx httpd -f -p 80 -h /www
say "  (podman run took $(awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", (b - a) * 1000}') ms)"
check "network inspect lists p1 beside bweb" bash -c "berth network inspect pnet | jq -e '[.[0].Containers[].Name] | index(\"p1\") and index(\"bweb\")'"
check "ps --all marks p1 as external" bash -c "berth ps -a | grep -w p1 | grep -q 'external: CNI'"
check "podman and berth agree on p1's address" bash -c "[ \"\$(P inspect p1 --format '{{(index .NetworkSettings.Networks \"pnet\").IPAddress}}')\" = \"\$(ctr_ip p1 pnet)\" ]"
check "p1 got berth's resolver from the CNI result (first nameserver 127.0.0.11)" bash -c "P exec p1 cat /etc/resolv.conf | grep nameserver | head -1 | grep -q 127.0.0.11"
# (nc with -w, not wget -T: Debian 12's busybox-static 1.35 wget segfaults whenever -T is given, names or not)
get() { berth run --rm --network pnet busybox sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 $1 80"; }
export -f get
check "a berth container reaches p1's httpd by name" bash -c "get p1 | grep -q hello-from-podman"
check "... and by its podman alias" bash -c "get www | grep -q hello-from-podman"
check "p1 reaches bweb by name" bash -c "P exec p1 ping -c1 -W2 bweb"
check "p1 resolves bweb to its address" bash -c "P exec p1 nslookup bweb | grep -q \"\$(ctr_ip bweb pnet)\""
check "-p 18090:80 is published by berth (host port -> p1)" bash -c "inhost curl -s -m 5 http://127.0.0.1:18090/ | grep -q hello-from-podman"
check "in berth's nftables table, not in iptables" bash -c "inhost nft list table inet berth | grep -q 18090 && ! inhost iptables-save 2>/dev/null | grep -q 18090"
check "podman's CNI CHECK-free healthcheck: p1's interface is eth0" bash -c "P exec p1 ip -o link show eth0"

say "# podman network connect / disconnect on a running container"
check "network create pnet2" berth network create --subnet 10.92.0.0/24 pnet2
check "a berth container b2 on pnet2" berth run -d --name b2 --network pnet2 busybox sleep 1d
check "podman network connect pnet2 p1" P network connect pnet2 p1
check "p1 has eth1 in 10.92.0.0/24" bash -c "P exec p1 ip -o -4 addr show eth1 | grep -q 'inet 10.92.0.'"
check "pnet2 lists p1" bash -c "berth network inspect pnet2 | jq -e '[.[0].Containers[].Name] | index(\"p1\")'"
check "p1 reaches b2 by name over pnet2" bash -c "P exec p1 ping -c1 -W2 b2"
check "b2 reaches p1 by name" bash -c "berth exec b2 ping -c1 -W2 p1"
check "the default route stays on eth0" bash -c "P exec p1 ip route show default | grep -q 'dev eth0'"
check "podman network disconnect pnet2 p1" P network disconnect pnet2 p1
check "eth1 is gone, pnet2 no longer lists p1" bash -c "! P exec p1 ip link show eth1 2>/dev/null && ! berth network inspect pnet2 | grep -q '\"p1\"'"
check "p1 still reaches bweb on pnet" bash -c "P exec p1 ping -c1 -W2 bweb"

say "# disconnecting the network a container started with"
# podman 4.3 drops from resolv.conf the nameservers a network's CNI result named when it
# disconnects that network (even one also given with --dns). berth names its resolver in a
# container's first attachment only, so other disconnects keep it (checked above); after the
# first network's, a restart of the container brings it back (docs/CNI.md).
check "p3 on pnet, then connected to pnet2" bash -c "P run -d --network pnet --name p3 bbx sleep 1d && P network connect pnet2 p3"
check "podman network disconnect pnet p3 (its first network)" P network disconnect pnet p3
check "podman restart p3: berth's resolver is back, p3 resolves b2 on pnet2" bash -c "P restart -t 0 p3 >/dev/null && P exec p3 grep -q 'nameserver 127.0.0.11' /etc/resolv.conf && P exec p3 ping -c1 -W2 b2"
check "podman rm -f p3" P rm -f -t 0 p3

say "# podman rm -f leaves nothing behind"
P1IP=$(ctr_ip p1 pnet)
P1IF=$(berth inspect p1 | jq -r '.[0].NetworkSettings.Networks.pnet.Berth.HostInterface')
check "p1's host interface $P1IF exists" inhost ip link show "$P1IF"
check "podman rm -f p1" P rm -f -t 0 p1
check "no sandbox, no address" bash -c "! berth ps -a | grep -qw p1 && ! berth network inspect pnet | grep -q '\"$P1IP/'"
check "no host interface" bash -c "! inhost ip link show $P1IF 2>/dev/null"
check "no nft element for 18090 and nothing listens there" bash -c "! inhost nft list table inet berth | grep -q 18090 && ! inhost ss -ltn | grep -q ':18090 '"
check "no DNS record for p1 or its alias" bash -c "berth dns lookup --network pnet p1 | grep -qv '$P1IP' && ! berth dns lookup --network pnet www 2>/dev/null | grep -q '$P1IP'"
check "no bind mount of its namespace" bash -c "[ -z \"\$(ls $BT_DIR/run/netns | while read f; do berth inspect \$f >/dev/null 2>&1 || echo \$f; done)\" ]"
check "the address is free again: a new podman container can take it" \
	P run -d --network pnet --name p2 --ip "$P1IP" bbx sleep 1d
check "p2 has $P1IP" bash -c "[ \"\$(ctr_ip p2 pnet)\" = $P1IP ]"

say "# a berthd restart with a podman container attached"
bt_stop_berthd
bt_start_berthd
check "p2 survives the restart (inspect, DNS)" bash -c "berth network inspect pnet | grep -q '\"p2\"' && berth exec bweb ping -c1 -W2 p2"
check "podman rm -f p2 after the restart" P rm -f -t 0 p2
check "p2 is gone from berth" bash -c "! berth ps -a | grep -qw p2"
check "only berth's own containers remain" bash -c "[ \"\$(berth ps -a --format json 2>/dev/null | jq -r '.[].Names[0]' 2>/dev/null | sort | tr '\n' ' ')\" = '/b2 /bweb ' ] || [ \"\$(berth ps -aq | wc -l)\" = 2 ]"
bt_summary
