#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Concurrency: 20 simultaneous live connects to one dual-stack network all succeed with distinct
# addresses (no duplicate allocation), every container reaches the gateway; 20 simultaneous
# disconnects free every address. Then simultaneous runs and removals.
. "$(dirname "$0")/lib.sh"
bt_setup
N=20

# par_run TAG COMMAND-TEMPLATE: run the command for i in 1..N at once ({} is replaced by i);
# passes when every one of them succeeded (failures are printed).
par_run() {
	local tag=$1 tmpl=$2 i pids=() bad=0
	for i in $(seq 1 $N); do
		bash -c "${tmpl//\{\}/$i}" >"$BT_DIR/$tag.$i.out" 2>&1 &
		pids[i]=$!
	done
	for i in $(seq 1 $N); do
		if ! wait "${pids[i]}"; then
			bad=1; say "#$i failed: $(head -3 "$BT_DIR/$tag.$i.out")"
		fi
	done
	return $bad
}
allocs_of() { sqlite3 "$BT_DIR/root/berth.db" "select address from allocations where network_id = '$1'" | sort; }
export -f allocs_of

check "create base" berth network create --subnet 10.80.0.0/24 base
check "create dual-stack x" berth network create --ipv6 --subnet 10.81.0.0/24 --subnet fd00:81::/64 x
x_id=$(berth network inspect x | jq -r '.[0].Id')
check "run $N containers on base" \
	bash -c "for i in \$(seq 1 $N); do berth run -d --name c\$i --network base busybox sleep 1d >/dev/null || exit 1; done"
bt_check_consistent "before"

say "# $N parallel connects"
check "all $N connects succeed" par_run connect 'berth network connect x c{}'
for i in $(seq 1 $N); do ctr_ip c$i x; done >"$BT_DIR/ips4"
for i in $(seq 1 $N); do ctr_ip6 c$i x; done >"$BT_DIR/ips6"
check "$N distinct IPv4 addresses in 10.81.0.0/24" \
	bash -c "[ \$(grep -c '^10\.81\.0\.' '$BT_DIR/ips4') = $N ] && [ \$(sort -u '$BT_DIR/ips4' | wc -l) = $N ]"
check "$N distinct IPv6 addresses in fd00:81::/64" \
	bash -c "[ \$(grep -c '^fd00:81::' '$BT_DIR/ips6') = $N ] && [ \$(sort -u '$BT_DIR/ips6' | wc -l) = $N ]"
check "no address is the gateway" bash -c "! grep -xqE '10\.81\.0\.1|fd00:81::1' '$BT_DIR/ips4' '$BT_DIR/ips6'"
check "allocations of x: 2 gateways + $N x 2 addresses, none twice" \
	bash -c "[ \$(allocs_of $x_id | wc -l) = $((N * 2 + 2)) ] && [ -z \"\$(allocs_of $x_id | uniq -d)\" ]"
check "the allocations are exactly the inspected addresses" \
	bash -c "diff <(allocs_of $x_id) <(printf '%s\n' 10.81.0.1 fd00:81::1 | cat - '$BT_DIR/ips4' '$BT_DIR/ips6' | sort)"
check "every container has eth1 on x with both addresses" \
	par_run addr 'berth exec c{} ip addr show eth1 | grep -q "inet 10.81.0." && berth exec c{} ip addr show eth1 | grep -q "inet6 fd00:81::"'
check "every container pings x's IPv4 gateway" par_run ping4 'berth exec c{} ping -c1 -W3 10.81.0.1'
check "every container pings x's IPv6 gateway" par_run ping6 'berth exec c{} ping -c1 -W3 fd00:81::1'
check "c1 pings c$N over IPv4 on x" in_ctr c1 ping -c1 -W2 "$(ctr_ip c$N x)"
check "network inspect lists $N containers on x" \
	bash -c "[ \$(berth network inspect x | jq '.[0].Containers | length') = $N ]"
bt_check_consistent "after $N connects"

say "# $N parallel disconnects"
check "all $N disconnects succeed" par_run disconnect 'berth network disconnect x c{}'
check "only x's gateways are still allocated" \
	bash -c "[ \"\$(allocs_of $x_id | tr '\n' ' ')\" = '10.81.0.1 fd00:81::1 ' ]"
check "x lists no container" bash -c "[ \$(berth network inspect x | jq '.[0].Containers | length') = 0 ]"
check "no container has eth1 left" par_run noeth1 '! berth exec c{} ip link show eth1'
check "every container still reaches base's gateway" par_run pingbase 'berth exec c{} ping -c1 -W3 10.80.0.1'
bt_check_consistent "after $N disconnects"

say "# $N parallel runs and removals"
check "$N parallel runs on x succeed" par_run run 'berth run -d --name r{} --network x busybox sleep 1d'
check "their $N IPv4 addresses are distinct" \
	bash -c "[ \$(for i in \$(seq 1 $N); do ctr_ip r\$i x; done | sort -u | grep -c .) = $N ]"
bt_check_consistent "after $N parallel runs"
check "$N parallel rm -f succeed" par_run rm 'berth rm -f r{} c{}'
check "only x's gateways are allocated after the removals" \
	bash -c "[ \"\$(allocs_of $x_id | tr '\n' ' ')\" = '10.81.0.1 fd00:81::1 ' ]"
bt_check_consistent "after removing everything"
check "no container veth is left" bash -c "! bt_host_links | grep '^bv'"
bt_summary
