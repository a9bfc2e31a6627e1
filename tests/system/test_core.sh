#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The core flow of issue 2: networks, containers on them reaching each other over IPv4 and IPv6,
# live connect/disconnect, lifecycle commands, inspect/ps/logs.
. "$(dirname "$0")/lib.sh"
bt_setup

say "# networks"
check "create my-net from the default pools" berth network create my-net
check "create dual-stack network" berth network create --ipv6 --subnet 10.30.0.0/24 --subnet fd00:30::/64 dual
check "ls lists both" bash -c "berth network ls | grep -q my-net && berth network ls | grep -q dual"
br=$(berth network inspect dual | jq -r '.[0].Berth.Bridge')
check "bridge exists with both gateways" bash -c "inhost ip addr show dev $br | grep -q 10.30.0.1/24 && inhost ip addr show dev $br | grep -q fd00:30::1/64"
check "bridge name is at most 15 characters" test ${#br} -le 15
# with snooping on, every port going up or down re-arms the multicast timers of every port
check "multicast snooping is off on the bridge" bash -c "inhost ip -d link show $br | grep -q 'mcast_snooping 0'"
check "IPv4 forwarding on in the host" bash -c "[ \$(inhost cat /proc/sys/net/ipv4/ip_forward) = 1 ]"
check "IPv6 forwarding on in the host" bash -c "[ \$(inhost cat /proc/sys/net/ipv6/conf/all/forwarding) = 1 ]"

say "# containers"
check "run web" berth run -d --name web --network my-net busybox httpd -f -p 80
check "run db" berth run -d --name db --network my-net busybox sleep 1d
web4=$(ctr_ip web my-net)
check "web has an IPv4 address" test -n "$web4" -a "$web4" != null
check "db pings web over IPv4" in_ctr db ping -c1 -W2 "$web4"
check "db fetches web's page" bash -c "berth exec db wget -qO- http://$web4/ >/dev/null 2>&1 || berth exec db wget -S -qO- http://$web4/ 2>&1 | grep -q 'HTTP/1.[01] [0-9]'"
check "hostname is the container name" bash -c "[ \$(berth exec web hostname) = web ]"
check "name resolution through NSS works in the image" in_ctr db ping -c1 -W2 localhost
check "container sees eth0 with a locally administered MAC" bash -c "berth exec db cat /sys/class/net/eth0/address | grep -q '^02:'"
check "arp_notify is on in the container" bash -c "[ \$(berth exec db cat /proc/sys/net/ipv4/conf/eth0/arp_notify) = 1 ]"
check "default route via the gateway" bash -c "berth exec db ip route | grep -q 'default via'"
check "an IPv4-only interface has no IPv6 address (no DAD/MLD floods)" bash -c "[ -z \"\$(berth exec db ip -6 addr show dev eth0)\" ]"
check "the host end of the veth has no IPv6 either" bash -c "h=\$(berth inspect db | jq -r '.[0].NetworkSettings.Networks[\"my-net\"].Berth.HostInterface'); [ -z \"\$(inhost ip -6 addr show dev \$h)\" ]"
check_fail "a container cannot reconfigure its network (no NET_ADMIN)" in_ctr db ip addr add 10.99.0.1/24 dev eth0
check "exec has Docker's capability set, no_new_privs and seccomp" bash -c "berth exec db cat /proc/self/status > $BT_DIR/st && grep -q 'CapEff:.*a80425fb' $BT_DIR/st && grep -q 'NoNewPrivs:.*1' $BT_DIR/st && grep -q 'Seccomp:.*2' $BT_DIR/st"
check "the container's init has the same restrictions" bash -c "berth exec db cat /proc/1/status > $BT_DIR/st1 && grep -q 'CapEff:.*a80425fb' $BT_DIR/st1 && grep -q 'NoNewPrivs:.*1' $BT_DIR/st1 && grep -q 'Seccomp:.*2' $BT_DIR/st1"
# adjtimex(2) only reading the clock needs no capability: refused by the seccomp profile alone,
# loaded as berthd compiled it (<run>/seccomp.bpf) or compiled by the process itself
check "berthd compiled the seccomp profile once, into <run>/seccomp.bpf" test -s "$BT_DIR/run/seccomp.bpf"
check "a container's command runs under the seccomp profile (adjtimex refused)" bash -c "berth run --rm busybox adjtimex 2>&1 | grep -q 'Operation not permitted'"
check "so does an exec through berthd's exec shim" bash -c "berth exec -i db adjtimex </dev/null 2>&1 | grep -q 'Operation not permitted'"
check "and an exec run by the CLI itself" bash -c "berth exec db adjtimex 2>&1 | grep -q 'Operation not permitted'"
check "exec through berthd has the capability set, no_new_privs and seccomp" bash -c "berth exec -i db cat /proc/self/status </dev/null > $BT_DIR/st2 && grep -q 'CapEff:.*a80425fb' $BT_DIR/st2 && grep -q 'NoNewPrivs:.*1' $BT_DIR/st2 && grep -q 'Seccomp:.*2' $BT_DIR/st2"
shim=$(awk '/^PPid:/ {print $2}' /proc/$(berth inspect db | jq -r '.[0].State.Pid')/status)
check "the container's shim is berth-shim, without berthd's libraries (libcurl...)" bash -c "readlink /proc/$shim/exe | grep -q '/berth-shim\$' && ! grep -q libcurl /proc/$shim/maps"
check "a start copies nothing of the image up into the container's layer (mount points opened read-only)" bash -c "id=\$(berth run -d --name fresh busybox sleep 1d) && [ -z \"\$(find $BT_DIR/root/containers/\$id/upper -mindepth 1 | head -5 | tee /dev/stderr)\" ]"
berth rm -f fresh >/dev/null
check "pid namespace: the command is pid 1" bash -c "berth exec db ps | awk '\$1==1' | grep -q 'sleep'"
check "netns is bind-mounted under <run>/netns/<id>" bash -c "test -e $BT_DIR/run/netns/\$(berth inspect db | jq -r .[0].Id)"
check "-e sets the environment" bash -c "berth run -d --name envc -e FOO=bar busybox sleep 1d >/dev/null && berth exec envc sh -c 'echo \$FOO' | grep -qx bar"
check "--hostname sets the hostname" bash -c "berth run -d --name hn --hostname custom-host busybox sleep 1d >/dev/null && [ \$(berth exec hn hostname) = custom-host ]"
check "foreground run prints the output and returns the exit code" bash -c "out=\$(berth run --rm --network my-net busybox sh -c 'echo fg-out; exit 3'); [ \$? = 3 ] && [ \"\$out\" = fg-out ]"
check "foreground --rm removed the container" bash -c "! berth ps -a --format json | jq -e '.[] | select(.Command | contains(\"fg-out\"))'"
check "-d --rm removes the container when it exits" bash -c "berth run -d --rm --name gone busybox true >/dev/null; wait_for 10 bash -c '! berth inspect gone'"
berth rm -f envc hn >/dev/null

say "# dual stack and live connect"
berth exec db ping -c 60 -i 0.05 "$web4" > "$BT_DIR/ping.out" 2>&1 &
pingpid=$!
check "connect dual to running web" berth network connect dual web
check "web got eth1 with IPv4 and IPv6" bash -c "berth exec web ip addr show eth1 | grep -q 10.30.0. && berth exec web ip addr show eth1 | grep -q fd00:30::"
check "accept_ra is off on eth1" bash -c "[ \$(berth exec web cat /proc/sys/net/ipv6/conf/eth1/accept_ra) = 0 ]"
check "run c6 on dual" berth run -d --name c6 --network dual busybox sleep 1d
web6=$(ctr_ip6 web dual)
check "c6 pings web over IPv6" in_ctr c6 ping -c1 -W2 "$web6"
check "c6 pings web over IPv4 on dual" in_ctr c6 ping -c1 -W2 "$(ctr_ip web dual)"
check "c6 has an IPv6 default route" bash -c "berth exec c6 ip -6 route | grep -q 'default via fd00:30::1'"
check_err "connecting twice is refused" "already connected" berth network connect dual web
check "the ping started before connect is still running" kill -0 $pingpid
wait $pingpid
check "and it lost no packet across the connect" grep -q " 0% packet loss" "$BT_DIR/ping.out"

say "# default routes change only when their carrier does"
check "connect and disconnect dual on db" bash -c "berth network connect dual db && berth network disconnect dual db"
check "db's IPv4 default route is still via my-net's gateway" bash -c "berth exec db ip route | grep -q '^default via .* dev eth0'"

say "# disconnect"
check "db has web's address in its neighbour cache" bash -c "berth exec db ping -c1 -W2 $web4 >/dev/null && berth exec db ip neigh show $web4 | grep -q lladdr"
check "disconnect my-net from web" berth network disconnect my-net web
check "web's /etc/hosts shrank to its dual addresses (rewritten in place, cut to length)" bash -c "berth exec web cat /etc/hosts > $BT_DIR/hosts.web; ! grep -q '$web4' $BT_DIR/hosts.web && [ \$(grep -c . $BT_DIR/hosts.web) = 4 ] && [ \"\$(tail -c1 $BT_DIR/hosts.web | od -An -c | tr -d ' ')\" = '\\n' ]"
check "eth0 is gone from web" bash -c "! berth exec web ip link show eth0 >/dev/null 2>&1"
check "the default route moved to dual's gateway" bash -c "berth exec web ip route | grep -q 'default via 10.30.0.1 dev eth1'"
check "my-net no longer lists web" bash -c "! berth network inspect my-net | jq -e '.[0].Containers[] | select(.Name==\"web\")'"
check_err "disconnecting again is refused" "not connected" berth network disconnect my-net web
check "web4 is free again: a static --ip takes it" berth run -d --name reuse --network my-net --ip "$web4" busybox sleep 1d
# No gratuitous ARP is sent (a bridge floods it to every port): the MAC follows the IPv4 address,
# so the entry db cached for web4 is right for its new owner at once (arp_notify's purpose).
check "db reaches web4's new owner at once (its cached MAC is right)" in_ctr db ping -c1 -W1 "$web4"
check "the MAC follows the address (02:42 + the IPv4 address)" bash -c "[ \"\$(ctr_ip reuse my-net MacAddress)\" = \"\$(printf '02:42:%02x:%02x:%02x:%02x' \$(echo $web4 | tr . ' '))\" ]"

say "# lifecycle"
check "ps lists running containers" bash -c "berth ps | grep -q web"
check "logs show output" bash -c "berth run -d --name echo --network my-net busybox sh -c 'echo hello-from-echo' >/dev/null && wait_for 10 bash -c 'berth logs echo | grep -q hello-from-echo'"
check "exited container shows in ps -a" bash -c "wait_for 10 bash -c \"berth ps -a | grep echo | grep -q Exited\""
check "exit code is recorded" bash -c "berth run -d --name seven busybox sh -c 'exit 7' >/dev/null; wait_for 10 bash -c '[ \$(berth inspect seven | jq .[0].State.ExitCode) = 7 ]'"
check "stop web" berth stop -t 1 web
check "web is exited" bash -c "[ \$(berth inspect web | jq -r .[0].State.Status) = exited ]"
check "web's host veth is gone" bash -c "! bt_host_links | grep -q \"\$(berth inspect web | jq -r '.[0].NetworkSettings.Networks.dual.Berth.HostInterface')\""
check "start web again" berth start web
# berth remembers the routes it set: a new namespace has none, whatever the old one had
check "web has its default route again" bash -c "berth exec web ip route | grep -q '^default via 10.30.0.1'"
check "web is running again on dual" bash -c "berth exec c6 ping -c1 -W2 \$(berth inspect web | jq -r .[0].NetworkSettings.Networks.dual.IPAddress)"
check "kill web" berth kill web
check "web is exited after kill" wait_for 10 bash -c "[ \$(berth inspect web | jq -r .[0].State.Status) = exited ]"
check_err "rm of a running container needs force" "running" berth rm db
check "rm -f db" berth rm -f db
# by name only: "db" is also a prefix any remaining container ID may start with
check "db is gone" bash -c "berth ps -a --format json | jq -e 'map(.Names[]) | index(\"/db\") == null'"
check "inspect by ID prefix" bash -c "berth inspect \$(berth ps -aq | head -1 | cut -c1-5) >/dev/null"

say "# network removal"
check_err "rm of a network in use is refused" "connected" berth network rm dual
check "rm -f everything on dual" bash -c "berth rm -f web c6"
check "network rm dual" berth network rm dual
check "the bridge is gone" bt_link_gone "$br"
check "prune removes unused networks" bash -c "berth rm -f reuse echo seven >/dev/null; berth network prune -f | grep -q my-net"
check "only the predefined bridge berth0 is left" bash -c "! bt_host_links | grep -v '^berth0 ' | grep -Eq '^(bv|berth)'"
check_err "the predefined bridge network cannot be removed" "pre-defined" berth network rm bridge
bt_summary
