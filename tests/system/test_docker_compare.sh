#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Same output as dockerd: equivalent objects made on a real dockerd 20.10 and on berthd, then
# `docker network ls|inspect`, `docker ps` and `docker inspect` of both compared field by field
# (tests/system/docker_compare.py: same fields, same formats; IDs, times, addresses and paths
# are values), with the machine's docker CLI (28.x) and Debian's (20.10). Every difference is
# fixed or listed, with its reason, in docker_compare.known.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_docker.sh"
dk_require
bt_setup
trap dk_trap EXIT
bt_netns d || { ko "dockerd's namespace"; bt_summary; }
DK_NS=$BT_ID-d
check "dockerd 20.10 starts (its own namespace)" dk_up
check "busybox imported into dockerd" dk_image
BSOCK=$BT_DIR/berth.sock

# on HOST (a socket), with CLI: the same objects
make_objects() {
	local d="timeout 60 $1 -H unix://$2"
	$d network create --subnet 10.50.0.0/24 cmp1 &&
	$d network create --ipv6 --subnet 10.51.0.0/24 --subnet fd00:51::/64 --label team=a \
		-o com.docker.network.driver.mtu=1400 cmp2 &&
	$d network create cmp3 &&
	$d network create --internal --subnet 10.52.0.0/24 cmpint &&
	$d run -d --name cweb --network cmp1 -p 8080:80 busybox httpd -f -p 80 &&
	$d run -d --name cplain busybox sleep 1d &&
	$d network connect --ip 10.50.0.50 --alias www cmp1 cplain &&
	$d create --name ccreated busybox true &&
	$d run -d --name cexit busybox true &&
	$d wait cexit &&
	$d run -d --name c6 --network cmp2 --label x=y -e A=1 --dns 10.9.9.9 --add-host db:10.50.0.7 busybox sleep 1d &&
	$d run -d --name chost --network host busybox sleep 1d &&
	$d run -d --name cnone --network none busybox sleep 1d
} >"$BT_DIR/make.$(basename "$2").out" 2>&1

# capture CLI SOCK DIR: what the CLI prints of those objects
capture() {
	local d="timeout 60 $1 -H unix://$2"
	mkdir -p "$3"
	$d network ls --format '{{json .}}' >"$3/netls.json" &&
	$d ps -a --format '{{json .}}' >"$3/ps.json" &&
	$d network inspect bridge host none cmp1 cmp2 cmp3 cmpint >"$3/netinspect.json" &&
	$d inspect cweb cplain ccreated cexit c6 chost cnone >"$3/inspect.json"
}

check "the objects on dockerd" make_objects "$DOCKER_DEB" "$DK_SOCK"
check "the same objects on berthd" make_objects "$DOCKER_DEB" "$BSOCK"
for cli in "$DOCKER_NEW" "$DOCKER_DEB"; do
	# the machine's CLI (28.x) is not a Debian package: a clone on another machine may lack it
	[ -x "$cli" ] || { skip "$cli is not installed"; continue; }
	v=$(DOCKER_CONFIG=$BT_DIR/docker-config "$cli" --version | awk '{print $3}' | tr -d ,)
	check "docker $v: capture from dockerd" capture "$cli" "$DK_SOCK" "$BT_DIR/cmp-$v/dockerd"
	check "docker $v: capture from berthd" capture "$cli" "$BSOCK" "$BT_DIR/cmp-$v/berthd"
	check "docker $v: same fields and formats (known differences listed)" \
		python3 "$TOP/tests/system/docker_compare.py" "$TOP/tests/system/docker_compare.known" \
		"$BT_DIR/cmp-$v/dockerd" "$BT_DIR/cmp-$v/berthd"
	say "$(sed 's/^/       /' "$BT_DIR/last.out")"
done
bt_summary
