#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DNS name forms as Docker resolves them: <container>.<network>, the container's --hostname,
# --network-alias on run; --add-host entries in /etc/hosts (host-gateway included).
. "$(dirname "$0")/lib.sh"
bt_setup

# resolves CTR NAME IP: NAME resolves to IP inside CTR (busybox ping prints the address it uses).
resolves() { berth exec "$1" ping -c1 -W1 "$2" 2>&1 | head -1 | grep -qF "($3)"; }
export -f resolves

check "network my-net" berth network create --subnet 10.77.0.0/24 my-net
check "network other" berth network create --subnet 10.78.0.0/24 other
check "run web with --hostname and --network-alias" \
	berth run -d --name web --hostname webhost --network-alias www --network my-net busybox sleep 1d
check "run db on my-net" berth run -d --name db --network my-net busybox sleep 1d
check "run x on other" berth run -d --name x --network other busybox sleep 1d
WEB=$(ctr_ip web my-net)
check "db reaches web.my-net" berth exec db ping -c1 -W2 web.my-net
check "web.my-net is web's address" resolves db web.my-net "$WEB"
check "the name is case-insensitive" resolves db WEB.My-Net "$WEB"
check "the hostname resolves" resolves db webhost "$WEB"
check "the --network-alias resolves" resolves db www "$WEB"
check "the plain name still resolves" resolves db web "$WEB"
# a program of the static busybox resolves through the image's NSS modules (the wget segfault
# once seen came from -T: Debian's busybox is built without wget's timeout option, not from NSS)
check "web serves a page" berth exec web sh -c 'echo page-of-web > /tmp/i.html && httpd -p 8080 -h /tmp'
check "busybox wget fetches by the name forms (web.my-net, webhost)" bash -c '
	wait_for 5 berth exec db wget -qO /dev/null http://web.my-net:8080/i.html &&
	[ "$(berth exec db wget -qO- http://web.my-net:8080/i.html)" = page-of-web ] &&
	[ "$(berth exec db wget -qO- http://webhost:8080/i.html)" = page-of-web ]'
check "berth dns lookup web.my-net" bash -c "berth dns lookup --network my-net web.my-net | grep -qx 'A	$WEB'"
check "PTR still names the container" bash -c "berth dns lookup --network my-net -t PTR $WEB | grep -qx 'PTR	web'"
check "x.other is not visible from my-net" bash -c '! berth exec db ping -c1 -W1 x.other 2>/dev/null'
check "web.other is no name (web is not on other)" bash -c '! berth dns lookup --network other web.other'
check "connect web to other: web.other appears" bash -c "
	berth network connect other web && ip=\$(ctr_ip web other) && resolves x web.other \$ip && resolves x webhost \$ip"
check "disconnect: web.other is gone, web.my-net stays" bash -c "
	berth network disconnect other web && ! berth exec x ping -c1 -W1 web.other 2>/dev/null && resolves db web.my-net $WEB"
check "gone with the container" bash -c 'berth rm -f web >/dev/null && ! berth exec db ping -c1 -W1 web.my-net 2>/dev/null'

# --add-host
GW=$(berth network inspect bridge | jq -r '.[0].IPAM.Config[0].Gateway')
check "run with --add-host (IPv4, name=IP, bracketed IPv6, host-gateway)" \
	berth run -d --name h --network my-net --add-host db.local:10.9.9.9 --add-host alt=10.9.9.10 \
	--add-host h6:[fd00::9] --add-host gw:host-gateway busybox sleep 1d
check "/etc/hosts holds them after the container's own lines" bash -c "
	berth exec h cat /etc/hosts > $BT_DIR/hosts; cat $BT_DIR/hosts;
	grep -qx '10.9.9.9	db.local' $BT_DIR/hosts && grep -qx '10.9.9.10	alt' $BT_DIR/hosts &&
	grep -qx 'fd00::9	h6' $BT_DIR/hosts && grep -qx '$GW	gw' $BT_DIR/hosts &&
	[ \"\$(grep -n 'db.local' $BT_DIR/hosts | cut -d: -f1)\" -gt \"\$(grep -n '	h$' $BT_DIR/hosts | cut -d: -f1)\" ]"
check "libc resolves an extra host" resolves h db.local 10.9.9.9
check "host-gateway is the bridge network's gateway" resolves h gw "$GW"
check "inspect: HostConfig.ExtraHosts as given" bash -c "
	[ \"\$(berth inspect h | jq -c '.[0].HostConfig.ExtraHosts')\" = '[\"db.local:10.9.9.9\",\"alt=10.9.9.10\",\"h6:[fd00::9]\",\"gw:host-gateway\"]' ]"
check "a container without --add-host shows null" bash -c "[ \"\$(berth inspect db | jq -c '.[0].HostConfig.ExtraHosts')\" = null ]"
check "the entries survive a connect (hosts is rewritten)" bash -c "
	berth network connect other h && berth exec h grep -q db.local /etc/hosts"
check_err "an entry without an address is refused" "expected NAME:IP" berth run -d --add-host justaname busybox true
check_err "a bad address is refused" 'invalid IP address "nope"' berth run -d --add-host a:nope busybox true
check_err "a bad name is refused" "bad host name" berth run -d --add-host 'a b:1.2.3.4' busybox true
bt_summary
