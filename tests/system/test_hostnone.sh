#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Issue 5: the predefined networks bridge, host and none, and Docker's rules around them.
. "$(dirname "$0")/lib.sh"
bt_setup

say "# predefined networks"
check "network ls shows bridge, host and none" bash -c "for n in bridge host none; do berth network ls --format json | jq -e --arg n \$n '.[] | select(.Name==\$n)' >/dev/null || exit 1; done"
check "the drivers are bridge, host and none" bash -c "[ \"\$(berth network inspect bridge host none | jq -r '.[].Driver' | tr '\n' ' ')\" = 'bridge host none ' ]"
for n in bridge host none; do
	check_err "network rm $n is refused" "pre-defined network" berth network rm $n
done
check_err "a second host network cannot be created" "only one instance" berth network create -d host host2
check_err "a second none network cannot be created" "only one instance" berth network create -d none none2
check "prune keeps the predefined networks" bash -c "berth network prune -f >/dev/null; [ \$(berth network ls -q | wc -l) = 3 ]"
bt_stop_berthd; bt_start_berthd
check "after a restart there are still exactly three" bash -c "[ \$(berth network ls -q | wc -l) = 3 ]"

say "# default bridge"
check "run without --network lands on bridge" bash -c "berth run -d --name b1 busybox sleep 1d >/dev/null && berth inspect b1 | jq -e '.[0].NetworkSettings.Networks.bridge.IPAddress | startswith(\"172.17.\")'"
check "b1 has eth0 and reaches the gateway" in_ctr b1 ping -c1 -W2 172.17.0.1
check "a second container on bridge reaches b1" bash -c "berth run -d --name b2 busybox sleep 1d >/dev/null && berth exec b2 ping -c1 -W2 \$(ctr_ip b1 bridge)"

say "# host"
check "run --network host" berth run -d --name h1 --network host busybox sleep 1d
check "h1 sees the host's interfaces (berth0)" bash -c "berth exec h1 ip link show berth0"
check "h1 has no netns of its own" bash -c "[ \"\$(stat -L -c %i /proc/\$(ctr_pid h1)/ns/net)\" = \"\$(stat -L -c %i /run/netns/$BT_NS)\" ]"
check "inspect shows the host network" bash -c "berth inspect h1 | jq -e '.[0].NetworkSettings.Networks | has(\"host\")'"
check "-p with host networking is accepted with a warning" bash -c "curl -s --unix-socket $BT_DIR/berth.sock -XPOST 'http://x/containers/create?name=h2' -H 'Content-Type: application/json' -d '{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"HostConfig\":{\"NetworkMode\":\"host\",\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"8080\"}]}}}' | jq -e '.Warnings[0] | contains(\"discarded\")'"
check_err "a host-network container cannot join another network" "host's network namespace" berth network connect bridge h1
check_err "a bridge container cannot join host" "host network" berth network connect host b1
check_err "host plus another network at run is refused" "host" berth run -d --name h3 --network host --network bridge busybox true
check_err "disconnect from host is refused while running" "host" berth network disconnect host h1

say "# none"
check "run --network none" berth run -d --name n1 --network none busybox sleep 1d
check "n1 has only lo" bash -c "[ \"\$(berth exec n1 ls /sys/class/net)\" = lo ]"
check "n1 has its own netns" bash -c "[ \"\$(stat -L -c %i /proc/\$(ctr_pid n1)/ns/net)\" != \"\$(stat -L -c %i /run/netns/$BT_NS)\" ]"
check "n1 keeps the host's resolver configuration (no embedded DNS on none)" bash -c "! berth exec n1 grep -q 127.0.0.11 /etc/resolv.conf"
check_fail "n1 cannot reach the embedded DNS" in_ctr n1 nslookup -timeout=1 b1 127.0.0.11
check_err "connect while on none is refused" "disconnect it from none first" berth network connect bridge n1
check "disconnect n1 from none" berth network disconnect none n1
check "then connect to bridge works live" berth network connect bridge n1
check "n1 now has eth0 and reaches b1" bash -c "berth exec n1 ping -c1 -W2 \$(ctr_ip b1 bridge)"
check "a user network with a container u" bash -c "berth network create unet >/dev/null && berth run -d --name u --network unet busybox sleep 1d >/dev/null"
check "n1 joins unet live" berth network connect unet n1
check "n1 now uses the embedded DNS" bash -c "berth exec n1 grep -q 127.0.0.11 /etc/resolv.conf"
check "n1 resolves u by name" bash -c "berth exec n1 nslookup u 127.0.0.11 | grep -q \"\$(ctr_ip u unet)\""
check_err "a networked container cannot join none" "cannot also join network none" berth network connect none b1
bt_summary
