#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The peers' side of "cost of publishing one more port": run.sh runs it inside the namespace that
# plays the peer's host (nsenter --net=...). Adapted from ../shared/peers/netavark_latency.sh
# and cni_latency.sh (the same NetworkOptions JSON for netavark 1.4, the same per-spec invocation
# of the CNI bridge and portmap plugins).
#
#   peers.sh netavark|cni LAB NSPREFIX RESIDENTS PORTS_EACH REPS OUT
#     NSPREFIX   /run/netns/NSPREFIX0 is the measured container, NSPREFIX1..RESIDENTS the ones
#                holding the already published ports (RESIDENTS x PORTS_EACH of them; 0 = none)
#     OUT        sample files (microseconds, one a line):
#                netavark: OUT.setup1 (setup with 1 port mapping), OUT.setup0 (without)
#                cni:      OUT.portmap (portmap ADD of 1 mapping, the container already attached
#                          by the bridge plugin), OUT.bridge (that bridge ADD, for scale)
# Times are wall clock around fork+exec of the peer from bash, which is how podman runs netavark
# and how a CNI runtime runs a plugin.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NV=${NV:-/usr/lib/podman/netavark}
CNIBIN=${CNIBIN:-/usr/lib/cni}
KIND=$1 LAB=$2 NSP=$3 RES=$4 EACH=$5 REPS=$6 OUT=$7
mkdir -p "$LAB"

us() { local t=${1/./}; echo $((10#$t)); }
die() { echo "peers.sh: $*" >&2; exit 1; }
# maps IDX FIRST_HOST_PORT COUNT FORMAT: COUNT comma-separated mappings to container port 80+k
maps() {
	local k sep=
	for ((k = 0; k < $3; k++)); do
		printf "$sep$4" $(($2 + k)) $((80 + k)); sep=,
	done
}

# ---------- netavark 1.4 ----------
nv_json() { # idx nports first_host_port
	local i=$1 cid pm=
	cid=$(printf 'c%063x' "$i")
	[ "$2" -gt 0 ] && pm="\"port_mappings\": [$(maps "$i" "$3" "$2" \
		'{"host_ip": "", "host_port": %d, "container_port": %d, "range": 1, "protocol": "tcp"}')],"
	cat <<JSON
{
  "container_id": "$cid",
  "container_name": "ctr$i",
  $pm
  "networks": {"bbnet": {"interface_name": "eth0", "static_ips": ["10.89.0.$((i + 2))"],
                         "aliases": ["${cid:0:12}"]}},
  "network_info": {"bbnet": {"name": "bbnet",
    "id": "b000000000000000000000000000000000000000000000000000000000000001",
    "driver": "bridge", "network_interface": "bbbr0",
    "subnets": [{"subnet": "10.89.0.0/16", "gateway": "10.89.0.1"}],
    "ipv6_enabled": false, "internal": false, "dns_enabled": false,
    "ipam_options": {"driver": "host-local"}}}
}
JSON
}
nv_run() { # setup|teardown idx json -> elapsed us
	local t0 t1
	t0=$EPOCHREALTIME
	"$NV" --config "$LAB/cfg" "$1" "/run/netns/$NSP$2" < "$3" > "$LAB/last.out" 2> "$LAB/last.err" ||
		{ cat "$LAB/last.err" >&2; die "netavark $1 of container $2 failed"; }
	t1=$EPOCHREALTIME
	echo $(($(us "$t1") - $(us "$t0")))
}
netavark() {
	mkdir -p "$LAB/cfg"
	for ((i = 1; i <= RES; i++)); do
		nv_json "$i" "$EACH" $((20000 + (i - 1) * EACH)) > "$LAB/nv.$i.json"
		nv_run setup "$i" "$LAB/nv.$i.json" >/dev/null
	done
	nv_json 0 1 30000 > "$LAB/nv.p.json"
	nv_json 0 0 0 > "$LAB/nv.n.json"
	: > "$OUT.setup1"; : > "$OUT.setup0"
	for ((r = -1; r < REPS; r++)); do   # r = -1: warm-up, not recorded
		a=$(nv_run setup 0 "$LAB/nv.p.json"); nv_run teardown 0 "$LAB/nv.p.json" >/dev/null
		b=$(nv_run setup 0 "$LAB/nv.n.json"); nv_run teardown 0 "$LAB/nv.n.json" >/dev/null
		[ $r -ge 0 ] && { echo "$a" >> "$OUT.setup1"; echo "$b" >> "$OUT.setup0"; }
	done
	for ((i = RES; i >= 1; i--)); do nv_run teardown "$i" "$LAB/nv.$i.json" >/dev/null; done
}

# ---------- CNI plugins: bridge + host-local, then portmap ----------
cni_bridge_conf() {
	printf '{"cniVersion": "1.0.0", "name": "bbcni", "type": "bridge", "bridge": "bbcni0",'
	printf ' "isGateway": true, "ipMasq": true, "hairpinMode": true,'
	printf ' "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],'
	printf ' "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]], "dataDir": "%s"}}' "$LAB/ipam"
}
cni_portmap_conf() { # nports first_host_port prevResult-file
	printf '{"cniVersion": "1.0.0", "name": "bbcni", "type": "portmap", "snat": true,'
	printf ' "capabilities": {"portMappings": true}, "runtimeConfig": {"portMappings": [%s]},' \
		"$(maps 0 "$2" "$1" '{"hostPort": %d, "containerPort": %d, "protocol": "tcp"}')"
	printf ' "prevResult": %s}' "$(cat "$3")"
}
cni_call() { # ADD|DEL plugin idx conf-file -> elapsed us; the plugin's output in $LAB/out.IDX
	local t0 t1
	t0=$EPOCHREALTIME
	CNI_COMMAND=$1 CNI_CONTAINERID=$(printf 'c%063x' "$3") CNI_NETNS=/run/netns/$NSP$3 \
		CNI_IFNAME=eth0 CNI_PATH=$CNIBIN "$CNIBIN/$2" < "$4" > "$LAB/out.$3" ||
		{ cat "$LAB/out.$3" >&2; die "CNI $2 $1 of container $3 failed"; }
	t1=$EPOCHREALTIME
	echo $(($(us "$t1") - $(us "$t0")))
}
cni_attach() { # idx nports first_host_port -> "bridge_us portmap_us"
	local b p
	cni_bridge_conf > "$LAB/br.json"
	b=$(cni_call ADD bridge "$1" "$LAB/br.json") || exit 1
	cp "$LAB/out.$1" "$LAB/res.$1"
	cni_portmap_conf "$2" "$3" "$LAB/res.$1" > "$LAB/pm.$1.json"
	p=$(cni_call ADD portmap "$1" "$LAB/pm.$1.json") || exit 1
	echo "$b $p"
}
cni_detach() { # idx
	cni_call DEL portmap "$1" "$LAB/pm.$1.json" >/dev/null || exit 1
	printf '%s' "$(cni_bridge_conf | sed '$ s/}$//'), \"prevResult\": $(cat "$LAB/res.$1")}" > "$LAB/brd.json"
	cni_call DEL bridge "$1" "$LAB/brd.json" >/dev/null || exit 1
}
cni() {
	for ((i = 1; i <= RES; i++)); do cni_attach "$i" "$EACH" $((20000 + (i - 1) * EACH)) >/dev/null; done
	: > "$OUT.portmap"; : > "$OUT.bridge"
	for ((r = -1; r < REPS; r++)); do
		read -r b p < <(cni_attach 0 1 30000)
		cni_detach 0
		[ $r -ge 0 ] && { echo "$p" >> "$OUT.portmap"; echo "$b" >> "$OUT.bridge"; }
	done
	for ((i = RES; i >= 1; i--)); do cni_detach "$i"; done
}

case $KIND in
netavark) netavark ;;
cni) cni ;;
*) die "unknown peer $KIND" ;;
esac
