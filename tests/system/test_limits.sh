#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Resource limits: --memory, --memory-swap, --pids-limit, --cpus, --cpu-shares shown in inspect
# (HostConfig), read back from the cgroup files (v1 controllers or v2), enforced (an OOM kill is
# recorded as State.OOMKilled with exit 137, the CPU quota throttles), and berth stats --no-stream
# (CPU, memory, pids, bytes per interface).
. "$(dirname "$0")/lib.sh"
bt_setup

# cg_file CONTAINER CONTROLLER FILE: the file's content in the container's cgroup (v1 or v2).
cg_file() {
	local pid path
	pid=$(ctr_pid "$1") || return 1
	path=$(grep -E "^[0-9]+:([^:]*,)?$2(,[^:]*)?:" /proc/"$pid"/cgroup | cut -d: -f3)
	if [ -n "$path" ]; then cat "/sys/fs/cgroup/$2$path/$3"; return; fi
	path=$(grep '^0::' /proc/"$pid"/cgroup | cut -d: -f3)
	cat "/sys/fs/cgroup$path/$3"
}
cg_v2() { [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; }
hc() { berth inspect "$1" | jq -r ".[0].HostConfig.$2"; }
export -f cg_file cg_v2 hc bt_http

check "run with --memory --pids-limit --cpus --cpu-shares" \
	berth run -d --memory 64m --pids-limit 100 --cpus 0.5 --cpu-shares 512 --name lim busybox sleep 1d
check "inspect: HostConfig.Memory = 64 MiB" test "$(hc lim Memory)" = 67108864
check "inspect: HostConfig.MemorySwap defaults to twice the memory (Docker)" test "$(hc lim MemorySwap)" = 134217728
check "inspect: HostConfig.PidsLimit" test "$(hc lim PidsLimit)" = 100
check "inspect: HostConfig.NanoCpus" test "$(hc lim NanoCpus)" = 500000000
check "inspect: HostConfig.CpuShares" test "$(hc lim CpuShares)" = 512
if cg_v2; then
	check "cgroup: memory.max" test "$(cg_file lim memory memory.max)" = 67108864
	check "cgroup: pids.max" test "$(cg_file lim pids pids.max)" = 100
	check "cgroup: cpu.max" test "$(cg_file lim cpu cpu.max)" = "50000 100000"
	check "cgroup: cpu.weight (shares converted)" test "$(cg_file lim cpu cpu.weight)" = 20
else
	check "cgroup v1: memory.limit_in_bytes" test "$(cg_file lim memory memory.limit_in_bytes)" = 67108864
	if [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
		check "cgroup v1: memory.memsw.limit_in_bytes" test "$(cg_file lim memory memory.memsw.limit_in_bytes)" = 134217728
	fi
	check "cgroup v1: pids.max" test "$(cg_file lim pids pids.max)" = 100
	check "cgroup v1: cpu.cfs_quota_us" test "$(cg_file lim cpu cpu.cfs_quota_us)" = 50000
	check "cgroup v1: cpu.cfs_period_us" test "$(cg_file lim cpu cpu.cfs_period_us)" = 100000
	check "cgroup v1: cpu.shares" test "$(cg_file lim cpu cpu.shares)" = 512
fi
check "containers without limits show zeros" bash -c '
	berth run -d --name free busybox sleep 1d >/dev/null &&
	[ "$(berth inspect free | jq -c "[.[0].HostConfig | .Memory, .MemorySwap, .PidsLimit, .NanoCpus, .CpuShares]")" = "[0,0,0,0,0]" ]'
# in_berth_cgroups FILE: a /proc/<pid>/cgroup in berth's cgroups (v2, or every v1 controller)
in_berth_cgroups() {
	if cg_v2; then grep -q '^0::/berth/' "$1"; return; fi
	for c in memory pids cpu cpuacct; do
		grep -Eq "^[0-9]+:([^:]*,)?$c(,[^:]*)?:/berth/" "$1" || return 1
	done
}
export -f in_berth_cgroups
check "a container without limits is in its cgroups all the same (stats, OOM)" bash -c 'in_berth_cgroups /proc/$(ctr_pid free)/cgroup'
check "and so is a command exec'd in it" bash -c 'berth exec free cat /proc/self/cgroup > $BT_DIR/exec.cg && in_berth_cgroups $BT_DIR/exec.cg'
check "and one exec'd through berthd's exec shim" bash -c 'berth exec -i free cat /proc/self/cgroup < /dev/null > $BT_DIR/exec.cg && in_berth_cgroups $BT_DIR/exec.cg'

# explicit swap, unlimited swap
check "--memory-swap sets memory + swap" berth run -d --memory 32m --memory-swap 48m --name sw busybox sleep 1d
check "inspect: HostConfig.MemorySwap as given" test "$(hc sw MemorySwap)" = 50331648
if ! cg_v2 && [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
	check "cgroup v1: memsw limit as given" test "$(cg_file sw memory memory.memsw.limit_in_bytes)" = 50331648
fi
check "--memory-swap -1: unlimited swap" bash -c 'berth create --memory 32m --memory-swap -1 --name sw2 busybox >/dev/null && [ "$(hc sw2 MemorySwap)" = -1 ]'

# refused before anything is created
check_err "memory under 6 MB refused" "Minimum memory limit" berth run -d --memory 1m busybox true
check_err "--memory-swap without --memory refused" "set the Memory limit" berth run -d --memory-swap 64m busybox true
check_err "--memory-swap below --memory refused" "larger than memory" berth run -d --memory 64m --memory-swap 32m busybox true
check_err "--cpus below 0.01 refused" "Range of CPUs" berth run -d --cpus 0.001 busybox true
check_err "--cpus above the CPUs refused" "Range of CPUs" berth run -d --cpus 4096 busybox true
check_err "--memory that is not a size" "invalid --memory" berth run -d --memory 12q busybox true
check_err "--cpus that is not a number" "invalid --cpus" berth run -d --cpus half busybox true
check "API: a Memory that is not an integer is a 400 naming the field" bash -c '
	[ "$(bt_http POST /containers/create "{\"HostConfig\":{\"Memory\":\"64m\"}}")" = 400 ] &&
	grep -q "HostConfig.Memory must be an integer" "$BT_DIR/http.out"'
check "nothing was created by the refused requests" test "$(berth ps -aq | wc -l)" = 4

# the pids limit holds
check "pids limit: forks past the limit fail" bash -c '
	berth run -d --pids-limit 8 --name pl busybox sleep 1d >/dev/null &&
	out=$(berth exec pl sh -c "for i in \$(seq 20); do sleep 30 & done; echo done" 2>&1);
	echo "$out" | grep -qi "fork\|resource"'
check "pids limit: pids.current stays at the limit" bash -c '[ "$(cg_file pl pids pids.current)" -le 8 ]'

# the CPU quota throttles a busy loop
check "a busy loop under --cpus 0.5" berth run -d --cpus 0.5 --name busy busybox sh -c 'while :; do :; done'
# throttling is seen on a quota far below any fair share: under a loaded host a loop limited to
# half a CPU may get less than that anyway and never reach its quota
check "a busy loop under --cpus 0.02" berth run -d --cpus 0.02 --name tiny busybox sh -c 'while :; do :; done'
if cg_v2; then
	check "cgroup: the quota throttled it" wait_for 10 bash -c '[ "$(cg_file tiny cpu cpu.stat | awk "/nr_throttled/{print \$2}")" -gt 0 ]'
else
	check "cgroup v1: the quota throttled it" wait_for 10 bash -c '[ "$(cg_file tiny cpu cpu.stat | awk "/nr_throttled/{print \$2}")" -gt 0 ]'
fi
check "the loop under 0.02 is stopped" bash -c 'berth rm -f tiny >/dev/null'
check "stats: the busy loop uses CPU, at most about half a CPU" bash -c '
	p=$(berth stats --no-stream --format json busy | jq -r .CPUPerc | tr -d %);
	awk -v p="$p" "BEGIN{exit !(p > 0 && p < 70)}"'

# OOM kill
check "a container over its memory limit exits 137" bash -c 'berth run --memory 16m --name oom busybox tail /dev/zero; [ $? = 137 ]'
check "inspect: State.OOMKilled" test "$(berth inspect oom | jq -r '.[0].State.OOMKilled')" = true
check "inspect: State.ExitCode 137" test "$(berth inspect oom | jq -r '.[0].State.ExitCode')" = 137
check "a container that was not OOM-killed says false" bash -c '
	berth run --name fine busybox true && [ "$(berth inspect fine | jq -r ".[0].State.OOMKilled")" = false ]'
check "OOMKilled is cleared by the next start" bash -c '
	berth start oom >/dev/null && [ "$(berth inspect oom | jq -r ".[0].State.OOMKilled")" = false ] || berth inspect oom | jq -c ".[0].State"'
wait_for 10 bash -c '[ "$(berth inspect oom | jq -r ".[0].State.Status")" = exited ]'

# stats
check "traffic on eth0" berth exec lim ping -c 2 -W 1 "$(ctr_ip free bridge)"
check "stats --no-stream: a row per running container" bash -c '
	out=$(berth stats --no-stream); echo "$out";
	echo "$out" | head -1 | grep -q "CONTAINER ID.*NAME.*CPU %.*MEM USAGE / LIMIT.*MEM %.*NET I/O.*PIDS" &&
	echo "$out" | grep -E "^[0-9a-f]{12} +lim " | grep -q "/ 64MiB" &&
	[ "$(echo "$out" | wc -l)" = "$(( $(berth ps -q | wc -l) + 1 ))" ]'
check "stats: pids and per-interface bytes" bash -c '
	j=$(berth stats --no-stream --format json lim); echo "$j";
	[ "$(echo "$j" | jq -r .PIDs)" = 1 ] && [ "$(echo "$j" | jq -r ".Networks.eth0.tx_bytes > 100")" = true ] &&
	echo "$j" | jq -r .NetIO | grep -q "^eth0: "'
check "stats: two interfaces after a connect" bash -c '
	berth network create st-net >/dev/null && berth network connect st-net lim &&
	berth stats --no-stream --format json lim | jq -e ".Networks | has(\"eth0\") and has(\"eth1\")"'
check "API: stats?stream=0 in Docker's shape" bash -c '
	[ "$(bt_http GET /containers/lim/stats?stream=0)" = 200 ] &&
	jq -e ".memory_stats.limit == 67108864 and .pids_stats.limit == 100 and (.cpu_stats.cpu_usage.total_usage > 0) and .precpu_stats.system_cpu_usage > 0" "$BT_DIR/http.out"'
check "API: stats streams a line per second (Docker's default)" bash -c '
	timeout 3 curl -sN --unix-socket "$BT_DIR/berth.sock" http://x/containers/lim/stats | head -2 | jq -s -e "length == 2"'
if command -v docker >/dev/null; then
	check "docker stats --no-stream reads berthd's stats" bash -c "
		DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker stats --no-stream lim |
		grep -E '^[0-9a-f]{12} +lim +[0-9.]+% +[0-9.]+[KMG]?i?B / 64MiB'"
fi
check_err "stats of an unknown container" "no such container" berth stats --no-stream nosuch
check "stats of a stopped container: zeros" bash -c '[ "$(berth stats --no-stream --format json fine | jq -r .PIDs)" = 0 ]'

# cgroups go with the containers
id=$(berth inspect lim | jq -r '.[0].Id')
check "rm -f" berth rm -f lim busy pl
check "the container's cgroups are removed" wait_for 5 bash -c "! ls -d /sys/fs/cgroup/*/berth/$id /sys/fs/cgroup/berth/$id 2>/dev/null | grep -q ."
bt_summary
