#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Container start and network benchmark (issue 13), berth next to its peers in the same run:
#   `run --rm --network N busybox true` (create, start, attach, run, wait, remove),
#   `network create --subnet S nX` and `network rm nX`,
# each the whole process of the system's CLI (bash fork+exec to exit), for berth, for dockerd
# (Debian's docker.io 20.10, a private dockerd with its own data, its Debian CLI 20.10) and for
# podman 4.3 (daemonless, netavark backend by default), in rounds that take turns (a change of the
# machine's load falls on every system alike). All three run the same busybox content: berth's
# built-in image, imported into dockerd and podman (docker import / podman import).
# Then berthd's restart with RESTART_N running containers on one network: the time from exec to
# the first answer to GET /containers/json, the containers running in that answer (adopted), and
# the packets lost by a ping between two of them that runs across the restart.
# Each system runs in a namespace of its own (bb-<pid>-bh berthd, -dk dockerd, -pd podman and
# its bridges); everything is removed on exit. Needs root.
#
#   bench/start/run.sh   env: RUNS=60 ROUNDS=6 WARMUP=3 RESTART_N=1000 (0: no restart part)
#                             QUICK=1 (RUNS=10 ROUNDS=2 RESTART_N=100)
#                             PEERS=0 (berth alone); PODMAN_BACKEND=netavark|cni
#                             RESULTS=/tmp/berth-bench-start (raw samples in µs, daemons' logs)
#                             BENCH_OUT=dir: machine-readable results (bench/README.md)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib.sh"
TOP=$BB_TOP
if [ "${QUICK:-0}" = 1 ]; then
	RUNS=${RUNS:-10} ROUNDS=${ROUNDS:-2} RESTART_N=${RESTART_N:-100}
else
	RUNS=${RUNS:-60} ROUNDS=${ROUNDS:-6} RESTART_N=${RESTART_N:-1000}
fi
WARMUP=${WARMUP:-3}
PEERS=${PEERS:-1}
PODMAN_BACKEND=${PODMAN_BACKEND:-netavark}
RESULTS=${RESULTS:-/tmp/berth-bench-start}
BERTHD=${BERTHD:-$TOP/build/berthd}
BERTH=${BERTH:-$TOP/build/berth}
SOCK=$BB_DIR/berth.sock
PD=$BB_DIR/podman
ERRLOG=$RESULTS/errors.log
BERTHD_PID=
T_START=$SECONDS
export BERTH_HOST=unix://$SOCK

[ "$(id -u)" = 0 ] || bb_die "run as root (it creates network namespaces)"
case $PODMAN_BACKEND in netavark|cni) ;; *) bb_die "PODMAN_BACKEND: netavark or cni" ;; esac

# tests/system/lib_docker.sh runs the private dockerd; it names things after the test's.
BT_ID=$BB_ID BT_DIR=$BB_DIR BT_NS=$BB_ID-dk
say() { bb_say "$@"; }
wait_for() { bb_wait_for "$@"; }
. "$TOP/tests/system/lib_docker.sh"

OPS=(run create rm)
declare -A OP_LABEL=([run]="run --rm --network N busybox true" [create]="network create --subnet S nX"
	[rm]="network rm nX")
SYSTEMS=(berth floor)           # the systems measured, berth first
declare -A LABEL=([berth]=berth [floor]="kernel floor") NOTRUN=()

# ---------- the systems' CLIs ----------
cli_berth() { "$BERTH" "$@"; }
cli_docker() { DOCKER_CONFIG=$BB_DIR/docker-config "$DOCKER_DEB" -H "unix://$DK_SOCK" "$@"; }
cli_podman() {
	CONTAINERS_CONF=$PD/containers.conf CONTAINERS_STORAGE_CONF=$PD/storage.conf \
		nsenter --net="/run/netns/$BB_ID-pd" podman --root "$PD/root" --runroot "$PD/runroot" "$@"
}

# op SYS OP I: one operation; I numbers the network of create and rm. The kernel's floor for
# create and rm: the bridge alone, one `ip` process each (its namespace -fl).
op() {
	[ "$1" = floor ] && { op_floor "$2" "$3"; return; }
	case $2 in
	run) "cli_$1" run --rm --network bench busybox true ;;
	create) "cli_$1" network create --subnet "10.210.$(($3 % 250)).0/24" "n$3" ;;
	rm) "cli_$1" network rm "n$3" ;;
	esac
}

op_floor() {
	case $1 in
	create) ip -n "$BB_ID-fl" link add name "n$2" up type bridge ;;
	rm) ip -n "$BB_ID-fl" link del "n$2" ;;
	esac
}

# ---------- berthd ----------
berthd_start() {
	nsenter --net="/run/netns/$BB_ID-bh" "$BERTHD" --root "$BB_DIR/berth" --run "$BB_DIR/run" \
		--socket "$SOCK" --log-level info >> "$BB_DIR/berthd.log" 2>&1 &
	BERTHD_PID=$!
}

# berthd_first_answer FILE: waits for berthd's first answer to GET /containers/json?all=1 (to
# FILE). berthd makes its socket when its API starts (it removes it on exit): until the socket
# exists, bash looks every millisecond without starting a process (a read timing out on a FIFO),
# so that the wait takes no CPU from berthd's start; then curl, again if the socket refused.
berthd_first_answer() {
	local deadline=$((SECONDS + 120)) pause=$BB_DIR/pause
	[ -p "$pause" ] || mkfifo "$pause" || bb_die "mkfifo $pause"
	until [ -S "$SOCK" ] && curl -sf --unix-socket "$SOCK" 'http://x/containers/json?all=1' > "$1" 2> /dev/null; do
		[ $SECONDS -ge $deadline ] && { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd did not answer"; }
		kill -0 "$BERTHD_PID" 2> /dev/null || { tail -20 "$BB_DIR/berthd.log"; bb_die "berthd exited"; }
		read -r -t 0.001 <> "$pause"
	done
}

setup_berth() {
	bb_netns bh && bb_netns fl || bb_die "cannot create namespace"
	berthd_start
	berthd_first_answer "$BB_DIR/first.json"
	"$BERTH" network create --subnet 10.209.0.0/24 bench > /dev/null || bb_die "network bench"
}

# ---------- peers ----------
# busybox_tar: berth's built-in busybox image as a tarball, for docker import and podman import.
busybox_tar() {
	[ -s "$BB_DIR/busybox.tar" ] && return 0
	[ -x "$RTTEST" ] || make -C "$TOP" "${RTTEST#"$TOP"/}" > /dev/null || return 1
	"$RTTEST" image-busybox "$BB_DIR/img" > /dev/null &&
		tar -C "$BB_DIR/img/busybox/rootfs" -cf "$BB_DIR/busybox.tar" .
}

# peer_fail SYS REASON: SYS is not measured; the report says why.
peer_fail() {
	NOTRUN[$1]=$2
	bb_say "  $1: NOT RUN: $2"
	return 1
}

setup_docker() {
	local v
	[ -x "$DOCKERD" ] && [ -x "$DOCKER_DEB" ] && command -v containerd > /dev/null &&
		command -v runc > /dev/null ||
		peer_fail docker "Debian's docker.io, containerd and runc are needed (scripts/install-deps.sh)" || return 1
	busybox_tar || peer_fail docker "cannot make the busybox tarball ($RTTEST)" || return 1
	bb_netns dk || peer_fail docker "cannot create its namespace" || return 1
	dk_up > /dev/null || peer_fail docker "dockerd did not come up ($RESULTS/dockerd.log)" || return 1
	cli_docker import "$BB_DIR/busybox.tar" busybox:latest > /dev/null 2>> "$ERRLOG" &&
		cli_docker network create --subnet 10.209.0.0/24 bench > /dev/null 2>> "$ERRLOG" ||
		peer_fail docker "importing busybox or creating network bench failed ($ERRLOG)" || return 1
	v=$(cli_docker version --format '{{.Server.Version}}' 2> /dev/null)
	LABEL[docker]="docker ${v%%+*}"
}

podman_conf() {
	mkdir -p "$PD"/{root,runroot,tmp,nets} || return 1
	# the ulimits: root lacks CAP_SYS_RESOURCE here (podman's default nofile 1048576 fails);
	# runc: crun refuses this machine's hybrid cgroup layout
	cat > "$PD/containers.conf" <<-EOF
		[containers]
		log_driver = "k8s-file"
		default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]
		[network]
		network_backend = "$PODMAN_BACKEND"
		network_config_dir = "$PD/nets"
		cni_plugin_dirs = ["/usr/lib/cni"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		runtime = "runc"
		tmp_dir = "$PD/tmp"
	EOF
	printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
		"$PD/root" "$PD/runroot" > "$PD/storage.conf"
}

setup_podman() {
	local nv=/usr/lib/podman/netavark
	command -v podman > /dev/null && command -v conmon > /dev/null && command -v runc > /dev/null ||
		peer_fail podman "podman, conmon and runc are needed (scripts/install-deps.sh)" || return 1
	if [ "$PODMAN_BACKEND" = netavark ]; then
		[ -x "$nv" ] && command -v iptables > /dev/null ||
			peer_fail podman "netavark and iptables are needed for PODMAN_BACKEND=netavark" || return 1
	fi
	busybox_tar || peer_fail podman "cannot make the busybox tarball ($RTTEST)" || return 1
	podman_conf && bb_netns pd || peer_fail podman "cannot create its namespace or configuration" || return 1
	cli_podman import "$BB_DIR/busybox.tar" busybox > /dev/null 2>> "$ERRLOG" &&
		cli_podman network create --subnet 10.209.0.0/24 bench > /dev/null 2>> "$ERRLOG" ||
		peer_fail podman "importing busybox or creating network bench failed ($ERRLOG)" || return 1
	LABEL[podman]="podman $(podman --version | awk '{print $3}') ($PODMAN_BACKEND)"
}

# podman_cleanup: its containers, the processes left in its namespace (aardvark-dns), mounts.
podman_cleanup() {
	local pid m
	[ -f "$PD/containers.conf" ] || return 0
	[ -e "/run/netns/$BB_ID-pd" ] || return 0
	cli_podman rm -af -t 0 > /dev/null 2>&1
	for pid in $(ip netns pids "$BB_ID-pd" 2> /dev/null); do kill -KILL "$pid" 2> /dev/null; done
	awk -v d="$PD/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m"; done
}

cleanup() {
	local rc=$? ns
	if [ -n "$BERTHD_PID" ] && [ -S "$SOCK" ]; then
		"$BERTH" ps -aq 2> /dev/null | xargs -r -n100 "$BERTH" rm -f > /dev/null 2>&1
	fi
	bb_berthd_stop
	dk_cleanup
	podman_cleanup
	for ns in "$BB_DIR"/run/netns/*; do [ -e "$ns" ] && umount -l "$ns" 2> /dev/null; done
	umount -l "$BB_DIR/run/netns" 2> /dev/null
	bb_cleanup_netns
	cp -f "$BB_DIR/berthd.log" "$RESULTS/" 2> /dev/null
	cp -f "$DK_DIR/dockerd.log" "$RESULTS/" 2> /dev/null
	rm -rf "$BB_DIR"
	exit $rc
}

# ---------- timing ----------
NET_I=0 # the networks created so far by each system (each system counts the same)

# timed SYS OP FILE I: appends the operation's whole-process time in µs to FILE.
timed() {
	local t0 t1 rc
	t0=$EPOCHREALTIME
	op "$1" "$2" "$4" > /dev/null 2>> "$ERRLOG"
	rc=$?
	t1=$EPOCHREALTIME
	[ $rc = 0 ] || return 1
	echo $(($(bb_us "$t1") - $(bb_us "$t0"))) >> "$3"
}

# batch SYS N [FILE-PREFIX]: N of each operation (N runs, then N create + rm pairs); timed
# into $RESULTS/SYS.OP when FILE-PREFIX is given. A peer that fails is dropped from the run.
batch() {
	local s=$1 n=$2 k i out=${3:-$BB_DIR/warm}
	for ((k = 0; k < n; k++)); do
		[ "$s" = floor ] && break   # no floor for run
		timed "$s" run "$out.run" 0 || { batch_failed "$s" run; return 1; }
	done
	for ((k = 0; k < n; k++)); do
		i=$((NET_I + k + 1))
		timed "$s" create "$out.create" $i || { batch_failed "$s" "network create"; return 1; }
		timed "$s" rm "$out.rm" $i || { batch_failed "$s" "network rm"; return 1; }
	done
}

batch_failed() { # SYS WHAT
	[ "$1" = berth ] && { tail -5 "$ERRLOG"; bb_die "berth $2 failed"; }
	peer_fail "$1" "its $2 failed during the run ($ERRLOG: $(tail -1 "$ERRLOG"))"
	local s keep=()
	for s in "${SYSTEMS[@]}"; do [ "$s" = "$1" ] || keep+=("$s"); done
	SYSTEMS=("${keep[@]}")
}

# measure: WARMUP untimed of each operation per system, then ROUNDS rounds; in each round every
# system runs its share of each operation, the order rotating from round to round.
measure() {
	local per=$(((RUNS + ROUNDS - 1) / ROUNDS)) r j n s order
	for s in "${SYSTEMS[@]}"; do
		rm -f "$RESULTS/$s".{run,create,rm}
		batch "$s" "$WARMUP"
	done
	NET_I=$WARMUP
	for ((r = 0; r < ROUNDS; r++)); do
		order=("${SYSTEMS[@]}") n=${#SYSTEMS[@]}
		for ((j = 0; j < n; j++)); do
			s=${order[(r + j) % n]}
			[[ " ${SYSTEMS[*]} " == *" $s "* ]] && batch "$s" "$per" "$RESULTS/$s"
		done
		NET_I=$((NET_I + per))
		bb_say "  round $((r + 1))/$ROUNDS done ($((SECONDS - T_START)) s)"
	done
}

# ---------- restart ----------
declare -A RS=()    # the restart's figures

# last_seq FILE: the highest seq= of the ping replies in FILE.
last_seq() { grep -o 'seq=[0-9]*' "$1" | tail -1 | cut -d= -f2; }

# ping_gaps FILE: "first last received lost" of the replies' sequence numbers (lost: the
# numbers between the first and last reply without a reply; the packet in flight when ping is
# stopped does not count).
ping_gaps() {
	grep -o 'seq=[0-9]*' "$1" | cut -d= -f2 | sort -nu |
		awk 'NR == 1 {f = $1} {l = $1; n++} END {printf "%d %d %d %d\n", f, l, n, l - f + 1 - n}'
}

# log_ms LOG FROM T0 PATTERN: ms from T0 ($EPOCHREALTIME) to the last line matching PATTERN of
# berthd's log LOG from line FROM on ("-" when none); the log's times are UTC.
log_ms() {
	tail -n +"$2" "$1" | grep -E "$4" | tail -1 | awk -v t0="$3" '
		{ split(substr($1, 12, 18), t, ":"); s = t[1] * 3600 + t[2] * 60 + t[3]
		  d = s - (t0 % 86400); if (d < -43200) d += 86400; printf "%.1f", d * 1000; found = 1 }
		END { if (!found) print "-" }'
}

restart() {
	local t0 t1 t2 target id pingpid rss s0 deadline log0
	bb_say "  starting $RESTART_N containers on network many ..."
	"$BERTH" network create --subnet 10.211.0.0/16 many > /dev/null || bb_die "network many"
	t0=$SECONDS
	seq "$RESTART_N" | xargs -P2 -I{} "$BERTH" run -d --name m{} --network many busybox sleep 1d \
		> /dev/null 2>> "$ERRLOG" || bb_die "starting containers ($ERRLOG)"
	RS[start_s]=$((SECONDS - t0))
	curl -sf --unix-socket "$SOCK" 'http://x/containers/json?all=1' |
		jq -r '.[] | select(.State == "running") | .Id' | sort > "$RESULTS/restart_before"
	[ "$(wc -l < "$RESULTS/restart_before")" -ge "$RESTART_N" ] || bb_die "not all containers run"
	target=$("$BERTH" inspect m2 | jq -r '.[0].NetworkSettings.Networks.many.IPAddress')
	id=$("$BERTH" inspect m1 | jq -r '.[0].Id')
	# m1 pings m2 every 10 ms across the restart: the host's busybox in m1's namespace, entered
	# directly (berth exec needs berthd); stopped once 100 more replies came after the answer
	nsenter --net="$BB_DIR/run/netns/$id" busybox ping -i 0.01 "$target" > "$RESULTS/restart_ping" 2>&1 &
	pingpid=$!
	bb_wait_for 10 grep -q "bytes from" "$RESULTS/restart_ping" || bb_die "ping from m1 to m2 failed"
	rss=$(bb_rss_kib "$BERTHD_PID")
	RS[rss_mib]=$(bb_r1 "$(bb_calc "$rss / 1024")")
	t0=$EPOCHREALTIME
	bb_berthd_stop
	t1=$EPOCHREALTIME
	log0=$(wc -l < "$BB_DIR/berthd.log")
	berthd_start
	berthd_first_answer "$RESULTS/restart_first.json"
	t2=$EPOCHREALTIME
	RS[stop_ms]=$(bb_calc "($(bb_us "$t1") - $(bb_us "$t0")) / 1000")
	RS[first_ms]=$(bb_calc "($(bb_us "$t2") - $(bb_us "$t1")) / 1000")
	jq -r '.[] | select(.State == "running") | .Id' "$RESULTS/restart_first.json" | sort > "$RESULTS/restart_after"
	RS[adopted]=$(comm -12 "$RESULTS/restart_before" "$RESULTS/restart_after" | wc -l)
	RS[logged]=$(tail -n +$((log0 + 1)) "$BB_DIR/berthd.log" | grep -c 'adopted running container')
	RS[log_adopted]=$(log_ms "$BB_DIR/berthd.log" $((log0 + 1)) "$t1" 'adopted running container')
	RS[log_fw]=$(log_ms "$BB_DIR/berthd.log" $((log0 + 1)) "$t1" 'firewall: .* rebuilt')
	RS[log_ready]=$(log_ms "$BB_DIR/berthd.log" $((log0 + 1)) "$t1" 'berthd ready')
	s0=$(last_seq "$RESULTS/restart_ping")
	deadline=$((SECONDS + 30))
	until [ "$(last_seq "$RESULTS/restart_ping")" -ge $((s0 + 100)) ]; do
		[ $SECONDS -ge $deadline ] && break
		kill -0 "$pingpid" 2> /dev/null || break
		sleep 0.05  # a pause between polls of ping's output, not a synchronisation
	done
	kill -INT "$pingpid" 2> /dev/null
	wait "$pingpid" 2> /dev/null
	read -r RS[seq0] RS[seq1] RS[replies] RS[lost] < <(ping_gaps "$RESULTS/restart_ping")
	RS[after]=$(($(last_seq "$RESULTS/restart_ping") - s0))
	RS[rss_after_mib]=$(bb_r1 "$(bb_calc "$(bb_rss_kib "$BERTHD_PID") / 1024")")
	bb_say "  berthd RSS with $RESTART_N containers running: ${RS[rss_mib]} MiB before the restart," \
		"${RS[rss_after_mib]} MiB after"
	bb_say "  stop (SIGTERM to exit): ${RS[stop_ms]} ms; exec to first answer: ${RS[first_ms]} ms;" \
		"running in that answer: ${RS[adopted]} of $RESTART_N (berthd's log: ${RS[logged]} adopted)"
	bb_say "  berthd's log, from exec: last container adopted ${RS[log_adopted]} ms, firewall rebuilt" \
		"${RS[log_fw]} ms, ready ${RS[log_ready]} ms"
	bb_say "  ping m1 -> m2 every 10 ms across the restart: replies to seq ${RS[seq0]}..${RS[seq1]}," \
		"${RS[lost]} lost ($(grep -E 'packets transmitted' "$RESULTS/restart_ping"))"
}

# ---------- report ----------
declare -A P50=() P99=() N=()

stats() {
	local s o
	for s in "${SYSTEMS[@]}"; do
		for o in "${OPS[@]}"; do
			P50[$s.$o]=- P99[$s.$o]=- N[$s.$o]=0
			[ -s "$RESULTS/$s.$o" ] || continue
			read -r P50[$s.$o] P99[$s.$o] N[$s.$o] < <(bb_pct "$RESULTS/$s.$o")
		done
	done
}

# ratio SYS OP: berth's p50 over SYS's, "-" when SYS has none.
ratio() {
	local p=${P50[$1.$2]:--}
	[ "$p" != - ] && [ "${P50[berth.$2]}" != - ] || { echo -; return; }
	bb_calc "${P50[berth.$2]} / $p"
}

peers() { local s; for s in "${SYSTEMS[@]}"; do [ "$s" = berth ] || [ "$s" = floor ] || echo "$s"; done; }

# shown: the systems in the order of the tables and the plot: berth, the peers, the floor.
shown() { echo berth; peers; echo floor; }

print_table() {
	local s o line
	bb_say ""
	bb_say "Whole process (bash fork+exec of the CLI to its exit), ms: p50 / p99 (n)"
	line=$(printf '  %-36s' "")
	for s in $(shown); do line+=$(printf ' | %-26s' "${LABEL[$s]}"); done
	for s in $(peers); do line+=$(printf ' | %-12s' "berth/$s"); done
	bb_say "$line"
	for o in "${OPS[@]}"; do
		line=$(printf '  %-36s' "${OP_LABEL[$o]}")
		for s in $(shown); do
			line+=$(printf ' | %-26s' "$(bb_r1 "${P50[$s.$o]}") / $(bb_r1 "${P99[$s.$o]}") (${N[$s.$o]})")
		done
		for s in $(peers); do line+=$(printf ' | %-12s' "$(ratio "$s" "$o")"); done
		bb_say "$line"
	done
	for s in "${!NOTRUN[@]}"; do bb_say "  $s: NOT RUN: ${NOTRUN[$s]}"; done
}

verdict() { # PASS-CONDITION TEXT
	local v=MISS
	if eval "$1"; then v=PASS; fi
	bb_say "  $v  $2"
	bb_res verdict "$v" "$2"
}

# against: " (docker X ms, podman Y ms, kernel floor Z ms)", p50 of operation $o.
against() {
	local s out=()
	for s in $(peers); do out+=("$s $(bb_r1 "${P50[$s.$o]}") ms"); done
	[ "${P50[floor.$o]}" != - ] && out+=("kernel floor $(bb_r1 "${P50[floor.$o]}") ms")
	[ ${#out[@]} -gt 0 ] && printf ' (%s)' "$(IFS=,; echo "${out[*]}" | sed 's/,/, /g')"
}

# peer_notes: how each peer measured is run, for the note.
peer_notes() {
	local s
	for s in $(peers); do
		case $s in
		docker) printf '; %s' "dockerd ${LABEL[docker]#docker } (Debian's docker.io, a private dockerd, its Debian CLI; its \`network create\` makes the bridge)" ;;
		podman) printf '; %s' "podman ${LABEL[podman]#podman } (daemonless: the CLI is the whole engine, run through \`nsenter --net\` into its own namespace; its \`network create\` and \`rm\` write and delete a configuration file, the bridge is made when the first container starts)" ;;
		esac
	done
}

# note: the section's note (machine, method, how each system runs).
note() {
	printf '%s' "$(bb_machine). Whole-process times of each system's CLI (bash fork+exec to exit), p50 and p99 of $((((RUNS + ROUNDS - 1) / ROUNDS) * ROUNDS)) per operation after $WARMUP untimed, in $ROUNDS rounds taking turns in rotating order: berth (\`berth\` against berthd)$(peer_notes). Every system runs the same busybox (berth's built-in image; docker import, podman import) on a network \`bench\` of its own with its embedded DNS on, each in a network namespace of its own. Kernel floor of \`network create\` and \`rm\` (the bridge alone): \`ip link add name nX up type bridge\` and \`ip link del nX\`, whole processes, in the same rounds (a bridge's delete waits for the kernel's RCU grace periods).$(restart_note)"
}

restart_note() {
	[ "$RESTART_N" -gt 0 ] || return 0
	printf '%s' " Restart: berthd is stopped (SIGTERM) with $RESTART_N containers (busybox sleep) running on one network and started again; first answer: exec to the first answered \`GET /containers/json\` (sent as soon as its socket exists); adopted: the containers running before the restart that this answer lists running; a busybox ping from one container to another every 10 ms runs across the restart (lost: sequence numbers without a reply)."
}

results() {
	local s o row cols=() adopted
	declare -A TARGET=([run]=50 [create]=5 [rm]=5)
	bb_res title "Container start and networks"
	bb_res note "$(note)"
	for s in "${!NOTRUN[@]}"; do bb_res limit "$s: not run: ${NOTRUN[$s]}"; done
	for o in "${OPS[@]}"; do
		verdict "bb_le ${P50[berth.$o]} ${TARGET[$o]}" \
			"\`${OP_LABEL[$o]}\` p50 ≤ ${TARGET[$o]} ms: berth $(bb_r1 "${P50[berth.$o]}") ms$(against)"
	done
	if [ "$RESTART_N" -gt 0 ]; then
		verdict "bb_le ${RS[first_ms]} 2000 && [ ${RS[adopted]} -eq $RESTART_N ] && [ ${RS[lost]} -eq 0 ]" \
			"berthd restart with $RESTART_N running containers: first answer ≤ 2 s, all adopted, no ping lost: $(bb_r1 "${RS[first_ms]}") ms, ${RS[adopted]} of $RESTART_N running in it, ${RS[lost]} of $((RS[seq1] - RS[seq0] + 1)) pings lost"
		[ "$RESTART_N" -lt 1000 ] && bb_res verdict INFO "the issue's restart target is with 1,000 containers; this run had $RESTART_N"
	fi
	[ "${P50[floor.rm]}" != - ] &&
		bb_res verdict INFO "\`network rm\`: berth $(bb_r1 "${P50[berth.rm]}") ms; the kernel's bridge delete (the floor, an \`ip\` process) $(bb_r1 "${P50[floor.rm]}") ms is not in berth's reply: berth retires the bridge (down, its addresses removed) and its reaper thread deletes it in the background"
	for s in $(peers); do
		row=()
		for o in "${OPS[@]}"; do row+=("$(ratio "$s" "$o")"); done
		bb_res verdict INFO "berth/$s p50 ratios: run --rm ${row[0]}, network create ${row[1]}, network rm ${row[2]}"
	done
	for s in $(shown); do cols+=("${LABEL[$s]}"); done
	for s in $(peers); do cols+=("berth/$s"); done
	bb_res table ops "Whole process, ms: p50 / p99" "operation" "${cols[@]}"
	for o in "${OPS[@]}"; do
		row=("\`${OP_LABEL[$o]}\`")
		for s in $(shown); do row+=("$(bb_r1 "${P50[$s.$o]}") / $(bb_r1 "${P99[$s.$o]}")"); done
		for s in $(peers); do row+=("$(ratio "$s" "$o")"); done
		bb_res row ops "${row[@]}"
	done
	bb_res plot ops bars "Whole-process time of each operation, p50 (log scale)" "" "ms" logy
	for s in $(shown); do
		for o in "${OPS[@]}"; do
			[ "${P50[$s.$o]}" = - ] && continue
			bb_res point ops "${LABEL[$s]}" "$(case $o in run) echo "run --rm" ;; *) echo "network $o" ;; esac)" \
				"$(bb_r1 "${P50[$s.$o]}")"
		done
	done
	if [ "$RESTART_N" -gt 0 ]; then
		bb_res table restart "berthd restart with $RESTART_N running containers" "measure" "value"
		bb_res row restart "starting the $RESTART_N containers (\`berth run -d\`, 2 at a time)" "${RS[start_s]} s"
		bb_res row restart "berthd RSS before / after the restart" "${RS[rss_mib]} / ${RS[rss_after_mib]} MiB"
		bb_res row restart "stop: SIGTERM to exit" "$(bb_r1 "${RS[stop_ms]}") ms"
		bb_res row restart "**start: exec to first answer**" "**$(bb_r1 "${RS[first_ms]}") ms**"
		bb_res row restart "running in the first answer (berthd's log: \"adopted running container\")" "${RS[adopted]} of $RESTART_N (${RS[logged]})"
		bb_res row restart "berthd's log, from exec: last container adopted / firewall rebuilt / ready" "${RS[log_adopted]} / ${RS[log_fw]} / ${RS[log_ready]} ms"
		bb_res row restart "pings lost (every 10 ms, replies ${RS[seq0]}..${RS[seq1]})" "${RS[lost]}"
	fi
	adopted=
	[ "$RESTART_N" -gt 0 ] &&
		adopted="; restart with $RESTART_N containers: first answer $(bb_r1 "${RS[first_ms]}") ms, ${RS[adopted]} of $RESTART_N adopted, ${RS[lost]} pings lost"
	o=run
	bb_res glance "\`run --rm\` **$(bb_r1 "${P50[berth.run]}") ms**$(against); $(o=create; echo "\`network create\` $(bb_r1 "${P50[berth.create]}") ms$(against)"); $(o=rm; echo "\`network rm\` $(bb_r1 "${P50[berth.rm]}") ms$(against)")$adopted"
}

# ---------- main ----------
mkdir -p "$BB_DIR" || bb_die "cannot create $BB_DIR"
bb_results_dir "$RESULTS"
rm -f "$RESULTS"/{berth,docker,podman}.* "$RESULTS"/restart_* "$ERRLOG"
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -x "$BERTHD" ] && [ -x "$BERTH" ] || make -C "$TOP" -j2 all > /dev/null || bb_die "could not build berth"
bb_say "# container start and networks: $RUNS of each operation in $ROUNDS rounds (+$WARMUP warm-up)," \
	"restart with $RESTART_N containers"
bb_say "# $(bb_machine)"
setup_berth
if [ "$PEERS" = 0 ]; then
	NOTRUN[docker]="PEERS=0" NOTRUN[podman]="PEERS=0"
	bb_say "  peers: not run (PEERS=0)"
else
	setup_docker && SYSTEMS+=(docker)
	setup_podman && SYSTEMS+=(podman)
fi
bb_say "  systems: $(for s in $(shown); do printf '%s; ' "${LABEL[$s]}"; done)"
measure
stats
print_table | tee "$RESULTS/summary.txt"
[ "$RESTART_N" -gt 0 ] && { bb_say ""; bb_say "berthd restart:"; restart; }
bb_say ""
bb_say "Targets:"
results
bb_say "Raw samples (µs) and logs: $RESULTS (whole run: $((SECONDS - T_START)) s)"
