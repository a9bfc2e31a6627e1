#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Embedded DNS (issue 4): 127.0.0.11 in every container, names, aliases, short IDs, A/AAAA/PTR,
# round robin, scoping between networks, live connect/disconnect, resolv.conf, TCP, restart.
. "$(dirname "$0")/lib.sh"
mkdir -p "$BT_DIR"
printf 'search example.test corp.test\noptions timeout:2\n' > "$BT_DIR/resolv.conf"   # no upstream
export BERTH_RESOLV_CONF=$BT_DIR/resolv.conf
bt_setup

say "# listeners and resolv.conf"
check "create dual-stack front" berth network create --ipv6 --subnet 10.41.0.0/24 --subnet fd00:41::/64 front
check "create back" berth network create --subnet 10.42.0.0/24 back
check "run web (aliases www, shared)" berth run -d --name web --network front --alias www --alias shared busybox sleep 1d
check "run web2 (alias shared)" berth run -d --name web2 --network front --alias shared busybox sleep 1d
check "run client" berth run -d --name client --network front busybox sleep 1d
check "run other on back" berth run -d --name other --network back busybox sleep 1d
web4=$(ctr_ip web front); web6=$(ctr_ip6 web front); web2_4=$(ctr_ip web2 front)
webid=$(berth inspect web | jq -r '.[0].Id')
check "resolv.conf: nameserver 127.0.0.11 only" bash -c "[ \"\$(berth exec client grep ^nameserver /etc/resolv.conf)\" = 'nameserver 127.0.0.11' ]"
check "resolv.conf: the host's search domains" bash -c "berth exec client cat /etc/resolv.conf | grep -qx 'search example.test corp.test'"
check "resolv.conf: options ndots:0 plus the host's" bash -c "berth exec client cat /etc/resolv.conf | grep -qx 'options ndots:0 timeout:2'"
check "UDP and TCP listeners on 127.0.0.11:53 in the container" bash -c "nsenter --net=\$(ctr_netns client) ss -lnu | grep -q '127.0.0.11:53 ' && nsenter --net=\$(ctr_netns client) ss -lnt | grep -q '127.0.0.11:53 '"
check "no DNS socket in the host namespace" bash -c "! inhost ss -lnut | grep -q ':53 '"

say "# names"
check "busybox nslookup web" bash -c "berth exec client nslookup web | grep -q \"$web4\""
check "A web" bash -c "probe client query web A | grep -qx 'A $web4'"
check "AAAA web" bash -c "probe client query web AAAA | grep -qx 'AAAA $web6'"
check "alias www (A)" bash -c "probe client query www A | grep -qx 'A $web4'"
check "ping by alias" in_ctr client ping -c1 -W2 www
check "short ID" bash -c "probe client query ${webid:0:12} A | grep -qx 'A $web4'"
check "case-insensitive, trailing dot" bash -c "probe client query WeB. A | grep -qx 'A $web4'"
check "the question is echoed as asked" bash -c "probe client query WWW A | grep -q 'rcode=NOERROR'"
check "shared alias: both addresses" bash -c "out=\$(probe client query shared A); echo \"\$out\" | grep -qx 'A $web4' && echo \"\$out\" | grep -qx 'A $web2_4'"
check "shared alias: answers rotate" bash -c "for i in 1 2 3 4; do probe client query shared A | sed -n 2p; done | sort -u | wc -l | grep -qx 2"
check "PTR of an IPv4 address" bash -c "probe client query $(ptr_name "$web4") PTR | grep -qx 'PTR web'"
check "PTR of an IPv6 address" bash -c "probe client query $(ptr_name "$web6") PTR | grep -qx 'PTR web'"
check "busybox nslookup of an address" bash -c "berth exec client nslookup $web4 | grep -q 'name = web'"
check "a name without AAAA: NOERROR, no answer (not forwarded)" bash -c "probe client query other AAAA >/dev/null; berth run -d --name v4only --network back busybox sleep 1d >/dev/null && probe other query v4only AAAA | grep -q 'rcode=NOERROR tc=0 n=0'"
check "TCP query" bash -c "probe client -t query web A | grep -qx 'A $web4'"
check "TCP: two pipelined queries, two answers" bash -c "probe client tcp-pipeline | grep -qx 'answers 2'"
check "dns lookup from the host" bash -c "berth dns lookup web --network front | grep -q \"$web4\""
check "dns lookup -t AAAA" bash -c "berth dns lookup -t AAAA web --network front | grep -q \"$web6\""
check "dns lookup -t PTR takes an address" bash -c "berth dns lookup -t PTR $web6 --network front | grep -q 'PTR.web'"

say "# scoping"
check "other (back) does not see web (front)" bash -c "! probe other query web A | grep -q '^A '"
check "client (front) does not see other (back)" bash -c "! probe client query other A | grep -q '^A '"
check_fail "dns lookup web on back fails" berth dns lookup web --network back
check_err "dns lookup on an unknown network" "no such network" berth dns lookup web --network nope

say "# connect and disconnect take effect at once"
check "connect web to back with alias api" berth network connect --alias api back web
webb=$(ctr_ip web back)
check "other resolves web right away, to its back address only" bash -c "[ \"\$(probe other query web A | grep '^A ')\" = 'A $webb' ]"
check "other resolves the new alias api" bash -c "probe other query api A | grep -qx 'A $webb'"
check "client still sees web's front address only" bash -c "[ \"\$(probe client query web A | grep '^A ')\" = 'A $web4' ]"
check "api is not a name on front" bash -c "! probe client query api A | grep -q '^A '"
check "web sees other now" bash -c "probe web query other A | grep -q '^A '"
check "disconnect web from back" berth network disconnect back web
check "other no longer resolves web" bash -c "! probe other query web A | grep -q '^A '"
check "nor api" bash -c "! probe other query api A | grep -q '^A '"
check "PTR of web's back address is gone" bash -c "! probe other query $(ptr_name "$webb") PTR | grep -q '^PTR '"
check "stop web2: shared is web alone" bash -c "berth stop -t 1 web2 >/dev/null && [ \"\$(probe client query shared A | grep '^A ')\" = 'A $web4' ]"
check "start web2 again: shared has both" bash -c "berth start web2 >/dev/null && probe client query shared A | grep -c '^A ' | grep -qx 2"

say "# resolv.conf options"
check "--dns-search and --dns-option" bash -c "berth run -d --name opts --network front --dns-search corp.example --dns-option timeout:3 busybox sleep 1d >/dev/null && berth exec opts cat /etc/resolv.conf > $BT_DIR/r && grep -qx 'search corp.example' $BT_DIR/r && grep -qx 'options ndots:0 timeout:2 timeout:3' $BT_DIR/r"
check "--dns-search . removes search domains" bash -c "berth run -d --name nosearch --network front --dns-search . busybox sleep 1d >/dev/null && ! berth exec nosearch grep -q ^search /etc/resolv.conf"
check "--dns-option ndots:2 replaces ndots:0" bash -c "berth run -d --name nd --network front --dns-option ndots:2 busybox sleep 1d >/dev/null && berth exec nd grep -qx 'options timeout:2 ndots:2' /etc/resolv.conf"
check "--dns keeps 127.0.0.11 in resolv.conf" bash -c "berth run -d --name own --network front --dns 192.0.2.53 busybox sleep 1d >/dev/null && berth exec own grep -qx 'nameserver 127.0.0.11' /etc/resolv.conf && ! berth exec own grep -q 192.0.2.53 /etc/resolv.conf"
check "--network none: no 127.0.0.11, no listener" bash -c "berth run -d --name isolated --network none busybox sleep 1d >/dev/null && ! berth exec isolated grep -q 127.0.0.11 /etc/resolv.conf && ! nsenter --net=\$(ctr_netns isolated) ss -lnu | grep -q ':53 '"
check "the default bridge: 127.0.0.11 but no container names" bash -c "berth run -d --name b1 busybox sleep 1d >/dev/null && berth run -d --name b2 busybox sleep 1d >/dev/null && berth exec b1 grep -qx 'nameserver 127.0.0.11' /etc/resolv.conf && ! probe b1 query b2 A | grep -q '^A '"
check "connect rewrites resolv.conf in place (still 127.0.0.11)" bash -c "berth network connect back client >/dev/null && berth exec client grep -qx 'nameserver 127.0.0.11' /etc/resolv.conf"

say "# restart: running containers are adopted"
bt_stop_berthd
bt_start_berthd
check "after a restart web still resolves" bash -c "probe client query web A | grep -qx 'A $web4'"
check "and over TCP" bash -c "probe client -t query www AAAA | grep -qx 'AAAA $web6'"
check "dns stats counts local answers" bash -c "berth dns stats | awk '\$1==\"Answered\" && \$2>0' | grep -q ."
bt_summary
