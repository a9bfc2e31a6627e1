#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The peers' side of the attach/detach benchmark; run.sh runs it inside the namespace that plays
# the host (nsenter --net=...). Adapted from ../shared/peers/netavark_latency.sh and
# cni_latency.sh (same NetworkOptions JSON and the same CNI invocation), with a /16 subnet so
# that thousands of containers fit, and p50/p99 of a single container's attach/detach on top of
# each number of resident containers in LEVELS.
#
#   peers.sh netavark|cni LAB NSPREFIX LEVELS OPS WARMUP OUT
#     LAB       scratch directory (configs, results, IPAM state)
#     NSPREFIX  container namespaces are /run/netns/NSPREFIX0 (the measured container)
#               and NSPREFIX1..NSPREFIX<N> (the resident ones); made when missing
#     LEVELS    "1 100 500": resident containers at each measurement (one number N: "1 N")
#     OUT       sample files OUT.n<L>.{attach,detach} (microseconds) per level L reached;
#               OUT.limit says why the sweep stopped early (a resident could not be set up)
#
# Times are wall clock around fork+exec of the peer from bash (that is how podman runs netavark
# and how a CNI runtime runs a plugin), read with $EPOCHREALTIME.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
NV=${NV:-/usr/lib/podman/netavark}
CNIBIN=${CNIBIN:-/usr/lib/cni}
KIND=$1 LAB=$2 NSP=$3 LEVELS=$4 OPS=$5 WARMUP=$6 OUT=$7
case $LEVELS in *" "*) ;; *) LEVELS="1 $LEVELS" ;; esac

us() { local t=${1/./}; echo $((10#$t)); }
die() { echo "peers.sh: $*" >&2; exit 1; }

# ---------- netavark 1.4: NetworkOptions JSON on stdin, netns path as argument ----------
nv_json() { # idx
	local i=$1 cid
	cid=$(printf 'c%063x' "$i")
	cat <<JSON
{
  "container_id": "$cid",
  "container_name": "ctr$i",
  "networks": {
    "bbnet": {
      "interface_name": "eth0",
      "static_ips": ["10.89.$((i / 250)).$((i % 250 + 2))"],
      "aliases": ["${cid:0:12}"]
    }
  },
  "network_info": {
    "bbnet": {
      "name": "bbnet",
      "id": "b000000000000000000000000000000000000000000000000000000000000001",
      "driver": "bridge",
      "network_interface": "bbbr0",
      "subnets": [{"subnet": "10.89.0.0/16", "gateway": "10.89.0.1"}],
      "ipv6_enabled": false,
      "internal": false,
      "dns_enabled": false,
      "ipam_options": {"driver": "host-local"}
    }
  }
}
JSON
}

ns_make() { # idx: the container's namespace, made when missing
	[ -e "/run/netns/$NSP$1" ] || ip netns add "$NSP$1" || die "cannot create namespace $NSP$1"
}

nv_prepare() { # idx
	mkdir -p "$LAB/cfg"
	nv_json "$1" > "$LAB/nv.$1.json"
}

# nv_run setup|teardown idx: prints elapsed microseconds.
nv_run() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$NV" --config "$LAB/cfg" "$1" "/run/netns/$NSP$2" < "$LAB/nv.$2.json" > "$LAB/last.out" 2> "$LAB/last.err" ||
		{ cat "$LAB/last.out" "$LAB/last.err" >&2; die "netavark $1 of container $2 failed"; }   # its error: {"error":"..."} on stdout
	t1=$EPOCHREALTIME
	echo $(($(us "$t1") - $(us "$t0")))
}
nv_attach() { nv_run setup "$1"; }
nv_detach() { nv_run teardown "$1"; }

# ---------- CNI reference plugins: bridge (+ host-local as its IPAM), per the CNI spec ----------
cni_conf() { # prevResult-file or empty
	printf '{"cniVersion": "1.0.0", "name": "bbcni", "type": "bridge", "bridge": "bbcni0",'
	printf ' "isGateway": true, "ipMasq": true, "hairpinMode": true,'
	printf ' "ipam": {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],'
	printf ' "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]], "dataDir": "%s"}' "$LAB/ipam"
	if [ -n "$1" ]; then printf ', "prevResult": %s' "$(cat "$1")"; fi
	printf '}\n'
}

cni_prepare() { # idx
	cni_conf "" > "$LAB/cni.$1.add.json"
}

# cni_run ADD|DEL idx conf-file: prints elapsed microseconds; the ADD result lands in $LAB/res.idx
cni_run() {
	local t0 t1 out=$LAB/res.$2
	[ "$1" = DEL ] && out=$LAB/del.out
	t0=$EPOCHREALTIME
	CNI_COMMAND=$1 CNI_CONTAINERID=$(printf 'c%063x' "$2") CNI_NETNS=/run/netns/$NSP$2 \
		CNI_IFNAME=eth0 CNI_PATH=$CNIBIN "$CNIBIN/bridge" < "$3" > "$out" ||
		{ cat "$out" >&2; die "CNI bridge $1 of container $2 failed"; }
	t1=$EPOCHREALTIME
	echo $(($(us "$t1") - $(us "$t0")))
}
cni_attach() { cni_run ADD "$1" "$LAB/cni.$1.add.json"; }
cni_detach() { # the DEL config carries the cached ADD result as prevResult (built untimed)
	cni_conf "$LAB/res.$1" > "$LAB/cni.$1.del.json"
	cni_run DEL "$1" "$LAB/cni.$1.del.json"
}

# ---------- common driver ----------
case $KIND in
netavark) P=nv ;;
cni) P=cni ;;
*) die "unknown peer $KIND (netavark or cni)" ;;
esac
mkdir -p "$LAB"

# cycle TAG: WARMUP untimed then OPS timed attach+detach cycles of container 0.
cycle() {
	local k
	for k in $(seq 1 "$WARMUP"); do "${P}_attach" 0 > /dev/null; "${P}_detach" 0 > /dev/null; done
	: > "$OUT.$1.attach"; : > "$OUT.$1.detach"
	for k in $(seq 1 "$OPS"); do
		"${P}_attach" 0 >> "$OUT.$1.attach" || exit 1
		"${P}_detach" 0 >> "$OUT.$1.detach" || exit 1
	done
}

# peer_error FILE: the peer's own message in what it printed (a CNI error's "msg", netavark's
# "error", else its last line), not peers.sh's.
peer_error() {
	local msg
	msg=$(grep -o '"\(msg\|error\)": *"\([^"\\]\|\\.\)*"' "$1" | tail -1 |
		sed 's/^"[a-z]*": *"//; s/"$//; s/\\"/"/g')
	[ -n "$msg" ] || msg=$(grep -v '^peers.sh:\|^ *[{}]* *$' "$1" | tail -1)
	printf '%s' "${msg:0:240}"
}

# attach_residents FROM TO: sets up residents FROM..TO; on a failure, says why in OUT.limit and
# returns 1 (the sweep ends there).
attach_residents() {
	local i t0=$EPOCHREALTIME
	for i in $(seq "$1" "$2"); do
		ns_make "$i"
		"${P}_prepare" "$i"
		if ! ("${P}_attach" "$i") > /dev/null 2> "$LAB/attach.err"; then   # die() ends the subshell only
			printf '%s: %s containers on one network (the sweep stops at %s): container %s failed: %s\n' \
				"$KIND" "$2" "$HAVE" "$i" "$(peer_error "$LAB/attach.err")" > "$OUT.limit"
			return 1
		fi
		HAVE_RES=$i
		if [ $((i % 100)) = 0 ] || [ "$i" = "$2" ]; then
			echo "  $KIND: $i resident containers set up, $((($(us $EPOCHREALTIME) - $(us "$t0")) / 1000)) ms"
		fi
	done
}

rm -f "$OUT.limit"
ns_make 0
"${P}_prepare" 0
HAVE=0 HAVE_RES=0
for L in $LEVELS; do
	if [ "$L" -gt "$HAVE" ]; then
		attach_residents $((HAVE + 1)) "$L" || break
	fi
	HAVE=$L
	cycle "n$L"
done
if [ "$KIND" = netavark ]; then
	# tear the residents down so the next phase runs on a quiet kernel
	T0=$EPOCHREALTIME
	for i in $(seq 1 "$HAVE_RES"); do nv_detach "$i" > /dev/null 2>&1; done
	echo "  netavark: $HAVE_RES resident containers torn down, $((($(us $EPOCHREALTIME) - $(us "$T0")) / 1000)) ms"
fi
exit 0
