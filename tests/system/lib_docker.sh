# SPDX-License-Identifier: Apache-2.0
# A private dockerd (Debian's docker.io 20.10) for the tests that need a real one: source after
# lib.sh and bt_setup. It runs in the test's host namespace ($BT_NS, next to berthd: the remote
# driver's interfaces are created where dockerd runs) and in a mount namespace of its own, where
# /run is a fresh tmpfs (no system containerd, no other dockerd's plugins or xtables lock) whose
# docker/plugins is $BT_DIR/plugins, and /etc/docker is empty; its data, exec root, socket,
# config and containers' cgroups are the test's ($BT_DIR/dk, cgroup parent $BT_ID-docker).
# Nothing it makes outlives the test: dk_cleanup runs from the EXIT trap before bt_cleanup.
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
DOCKER_DEB=${DOCKER_DEB:-/usr/bin/docker}        # Debian's CLI 20.10, next to its dockerd
DOCKER_NEW=${DOCKER_NEW:-/usr/local/bin/docker}  # the machine's CLI (28.x)
DK_DIR=$BT_DIR/dk
DK_SOCK=$DK_DIR/docker.sock
DK_PID=
DK_CGROUP=$BT_ID-docker
DK_NS=${DK_NS:-$BT_NS}   # the network namespace dockerd runs in (berthd's by default)

# dk_require: skip (77) when Debian's docker.io is not installed.
dk_require() {
	[ -x "$DOCKERD" ] && [ -x "$DOCKER_DEB" ] && command -v containerd >/dev/null &&
		command -v runc >/dev/null && return 0
	say "SKIP: Debian's docker.io, containerd and runc are needed (scripts/install-deps.sh)"
	exit 77
}

# dkd ARGS...: Debian's docker CLI against the private dockerd.
dkd() { DOCKER_CONFIG=$BT_DIR/docker-config timeout 60 "$DOCKER_DEB" -H "unix://$DK_SOCK" "$@"; }

dk_up() {
	mkdir -p "$DK_DIR/data" "$DK_DIR/exec" "$BT_DIR/plugins" "$BT_DIR/docker-config"
	[ -f "$DK_DIR/daemon.json" ] || echo '{}' >"$DK_DIR/daemon.json"
	rm -f "$DK_SOCK"
	# nsenter, unshare and sh all exec: $! is dockerd itself.
	nsenter --net=/run/netns/$DK_NS unshare -m --propagation private sh -c "
		mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/docker/plugins &&
		mount --bind '$BT_DIR/plugins' /run/docker/plugins &&
		{ [ ! -d /etc/docker ] || mount -t tmpfs -o mode=755 tmpfs /etc/docker; } &&
		exec '$DOCKERD' --data-root '$DK_DIR/data' --exec-root '$DK_DIR/exec' \
			--pidfile '$DK_DIR/docker.pid' -H 'unix://$DK_SOCK' \
			--config-file '$DK_DIR/daemon.json' --storage-driver overlay2 \
			--cgroup-parent '/$DK_CGROUP' --shutdown-timeout 2 --log-level debug" \
		>>"$DK_DIR/dockerd.log" 2>&1 &
	DK_PID=$!
	if ! wait_for 60 dkd version; then
		say "dockerd did not come up:"; tail -20 "$DK_DIR/dockerd.log"; return 1
	fi
}

# True once dockerd has exited.
dk_gone() { ! kill -0 "$DK_PID" 2>/dev/null || [ "$(awk '{print $3}' /proc/$DK_PID/stat 2>/dev/null)" = Z ]; }

# dk_down: stop dockerd (its containers stop with it), bounded.
dk_down() {
	[ -n "$DK_PID" ] || return 0
	kill -TERM "$DK_PID" 2>/dev/null
	wait_for 40 dk_gone || kill -KILL "$DK_PID" 2>/dev/null
	wait "$DK_PID" 2>/dev/null
	DK_PID=
}

# dk_image: berth's busybox image (busybox-static + glibc's NSS: names resolve) imported as
# "busybox" into dockerd.
dk_image() {
	local img=$BT_DIR/dk-img
	"$RTTEST" image-busybox "$img" >/dev/null &&
		tar -C "$img/busybox/rootfs" -cf "$BT_DIR/busybox.tar" . &&
		dkd import "$BT_DIR/busybox.tar" busybox:latest >/dev/null
}

# Processes left in the test's docker cgroups (a container whose shim died with dockerd).
dk_cgroup_kill() {
	local d pid
	for d in /sys/fs/cgroup/*/"$DK_CGROUP" /sys/fs/cgroup/"$DK_CGROUP"; do
		[ -d "$d" ] || continue
		for pid in $(cat "$d"/cgroup.procs "$d"/*/cgroup.procs 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
	done
	for d in /sys/fs/cgroup/*/"$DK_CGROUP" /sys/fs/cgroup/"$DK_CGROUP"; do
		[ -d "$d" ] || continue
		rmdir "$d"/*/ 2>/dev/null; rmdir "$d" 2>/dev/null
	done
	return 0
}

dk_cleanup() {
	if [ -n "$DK_PID" ] && [ -S "$DK_SOCK" ]; then
		local ids; ids=$(dkd ps -aq 2>/dev/null)
		[ -n "$ids" ] && dkd rm -f $ids >/dev/null 2>&1
	fi
	dk_down
	dk_cgroup_kill
}

# Installed as the EXIT trap after bt_setup: dockerd first, then berth's own cleanup.
dk_trap() {
	local rc=$?
	dk_cleanup
	(exit $rc)
	bt_cleanup
}

RTTEST=${RTTEST:-$TOP/build/tests/helpers/rttest}
export DOCKER_DEB DOCKER_NEW DK_SOCK DK_DIR
export -f dkd
