#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The stock docker CLI against berthd's Engine API (DOCKER_HOST=unix://.../berth.sock): every
# `docker network` subcommand and the container commands of docs/DOCKER.md, with the machine's
# CLI (28.x, /usr/local/bin/docker) and Debian's (20.10, /usr/bin/docker), each run in full.
# Skipped (77) when neither is installed. (test_docker_compare.sh compares the output with a
# real dockerd's; test_docker_plugin.sh is berthd as dockerd's network driver.)
. "$(dirname "$0")/lib.sh"
CLIS=()
for c in "${DOCKER_NEW:-/usr/local/bin/docker}" "${DOCKER_DEB:-/usr/bin/docker}"; do
	[ -x "$c" ] && CLIS+=("$c")
done
[ ${#CLIS[@]} -gt 0 ] || { echo "SKIP: no docker CLI on this machine"; exit 77; }
bt_setup
export DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/docker-config
export BSOCK=$BT_DIR/berth.sock
# raw API call with the headers the CLI would send: dget PATH -> body on stdout
dapi() { curl -s --unix-socket "$BSOCK" "$@"; }
export -f dapi

run_cli() {
	local cli=$1 v
	dk() { timeout 30 "$DK_CLI" "$@"; }
	export -f dk; export DK_CLI=$cli
	v=$(dk --version | awk '{print $3}' | tr -d ,)
	say "# docker $v ($cli)"

	say "## version negotiation"
	check "docker version talks to berthd (API 1.41)" bash -c "dk version --format '{{.Server.APIVersion}}' | grep -qx 1.41"
	check "docker info" bash -c "dk info --format '{{.ServerVersion}} {{.OperatingSystem}}' | grep -q ."
	check "HEAD /_ping answers with Api-Version" bash -c "dapi -I http://x/_ping | grep -qi '^Api-Version: 1.41'"
	check "GET /_ping and /v1.41/_ping answer OK with Api-Version" bash -c "[ \"\$(dapi http://x/_ping)\" = OK ] && dapi -i http://x/v1.41/_ping | grep -qi '^Api-Version: 1.41' && [ \"\$(dapi http://x/v1.41/_ping)\" = OK ]"
	check "a client newer than 1.41 is told so (400)" bash -c "[ \$(dapi -o /dev/null -w '%{http_code}' http://x/v1.99/info) = 400 ] && dapi http://x/v1.99/info | jq -er .message | grep -qF 'client version 1.99 is too new. Maximum supported API version is 1.41'"
	check "one older than 1.24 too" bash -c "dapi http://x/v1.12/info | jq -er .message | grep -qF 'client version 1.12 is too old'"

	say "## docker network"
	check "network create --ipv6 --subnet --label -o" dk network create --ipv6 --subnet 10.81.0.0/24 --subnet fd00:81::/64 --label team=a -o com.docker.network.driver.mtu=1400 dk1
	check "network create (auto subnet)" dk network create dk2
	check "network create --internal" dk network create --internal dkint
	check_err "network create of an existing name" "already exists" dk network create dk1
	check_err "network create -d of an unknown driver" "unknown network driver" dk network create -d nosuch dkx
	check_err "network create --ingress is refused (501)" "does not support ingress networks" dk network create --ingress dkx
	check_err "network create --config-only is refused (501)" "does not support configuration-only" dk network create --config-only dkx
	check_err "network create --ipam-opt is refused (501)" "does not support IPAM driver options" dk network create --ipam-opt a=b dkx
	check "network ls shows them and the predefined ones (none's driver is null)" bash -c "dk network ls --format '{{.Name}} {{.Driver}}' | sort | tr '\n' ',' | grep -qx 'bridge bridge,dk1 bridge,dk2 bridge,dkint bridge,host host,none null,'"
	check "network ls --filter name=dk1" bash -c "[ \"\$(dk network ls -q --filter name=dk1 | wc -l)\" = 1 ]"
	check "network ls --filter type=builtin" bash -c "[ \"\$(dk network ls --filter type=builtin --format '{{.Name}}' | sort | tr '\n' ,)\" = bridge,host,none, ]"
	check "network ls --filter label=team=a" bash -c "[ \"\$(dk network ls --filter label=team=a --format '{{.Name}}')\" = dk1 ]"
	check "network ls --filter driver=null" bash -c "[ \"\$(dk network ls --filter driver=null --format '{{.Name}}')\" = none ]"
	check "network ls --filter dangling=true (custom networks, no containers)" bash -c "[ \"\$(dk network ls --filter dangling=true --format '{{.Name}}' | sort | tr '\n' ,)\" = dk1,dk2,dkint, ]"
	check_err "network ls with an unknown filter" "invalid filter" dk network ls --filter bogus=1
	check "network inspect: subnets, labels, options" bash -c "dk network inspect dk1 | jq -e '.[0] | (.IPAM.Config | map(.Subnet) | sort) == [\"10.81.0.0/24\", \"fd00:81::/64\"] and .Labels.team == \"a\" and .Options[\"com.docker.network.driver.mtu\"] == \"1400\" and (has(\"Berth\") | not)'"
	check "network inspect: a gateway only where Docker shows one" bash -c "dk network inspect dk1 dk2 | jq -e '(.[0].IPAM.Config | map(has(\"Gateway\"))) == [false, false] and (.[1].IPAM.Config[0] | has(\"Gateway\"))'"
	check_err "network inspect of an unknown network" "no such network" dk network inspect nosuch

	say "## containers"
	check "run -d --network -p (NetworkMode, PortBindings)" dk run -d --name web --network dk1 -p 8080:80 busybox httpd -f -p 80
	check "run -d without --network: the predefined bridge" dk run -d --name plain busybox sleep 1d
	check "... it is on bridge" bash -c "dk inspect plain --format '{{json .NetworkSettings.Networks}}' | jq -e 'keys == [\"bridge\"]'"
	check "run -d --dns --dns-search --add-host" dk run -d --name dnsy --network dk2 --dns 10.1.2.3 --dns-search corp.example --add-host db.example:10.81.0.77 busybox sleep 1d
	check "... resolv.conf has the search domain" bash -c "berth exec dnsy cat /etc/resolv.conf | grep -q 'corp.example'"
	check "... /etc/hosts has the extra host" bash -c "berth exec dnsy cat /etc/hosts | grep -q '10.81.0.77.*db.example'"
	check "... inspect shows Dns and ExtraHosts" bash -c "dk inspect dnsy | jq -e '.[0].HostConfig.Dns == [\"10.1.2.3\"] and .[0].HostConfig.ExtraHosts == [\"db.example:10.81.0.77\"]'"
	check_err "a one-character name is refused as dockerd does" "Invalid container name (a)" dk create --name a busybox true
	check_err "a restart policy is refused (501)" "does not support restart policies" dk create --name rp --restart always busybox true
	check_err "a privileged container is refused (501)" "does not support privileged containers" dk create --name mem --privileged busybox true
	check "a memory limit is taken (issue 14: HostConfig.Memory)" bash -c "dk create --name meml -m 64m busybox true >/dev/null && dk inspect meml | jq -e '.[0].HostConfig.Memory == 67108864' && dk rm meml >/dev/null"
	check_err "a bind mount is refused (501)" "does not support bind mounts" dk create --name bnd -v /tmp:/x busybox true
	check_err "another container's network namespace is refused (501)" "does not support sharing another container's network" dk create --name shr --network container:web busybox true
	check "an unknown network: named, no attempt to pull the image (400, not 404)" bash -c "! dk create --name unk --network nosuch busybox true >$BT_DIR/unk.out 2>&1 && grep -q 'no such network: nosuch' $BT_DIR/unk.out && ! grep -q 'Unable to find image' $BT_DIR/unk.out"
	check "... and nothing was created" bash -c "! dk inspect unk >/dev/null 2>&1 && ! dk inspect shr >/dev/null 2>&1 && [ \"\$(dapi -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{\"Image\":\"busybox\",\"HostConfig\":{\"NetworkMode\":\"container:web\"}}' 'http://x/v1.41/containers/create?name=shr')\" = 501 ]"
	check "create (created state)" dk create --name made busybox echo made-output
	check "ps shows the running ones with their ports (IPv4 and IPv6: dk1 is dual stack)" bash -c "dk ps --format '{{.Names}} {{.Ports}}' | grep -qxE 'web 0.0.0.0:8080->80/tcp, (::|\\[::\\]):8080->80/tcp'"
	check "ps -a shows the created one" bash -c "dk ps -a --format '{{.Names}} {{.Status}}' | grep -qx 'made Created'"
	check "ps --filter status=created" bash -c "[ \"\$(dk ps -a --filter status=created --format '{{.Names}}')\" = made ]"
	check "ps --filter network=dk1" bash -c "[ \"\$(dk ps --filter network=dk1 --format '{{.Names}}')\" = web ]"
	check "ps --filter name=^pla" bash -c "[ \"\$(dk ps --filter name=^/pla --format '{{.Names}}')\" = plain ]"
	check "ps --filter ancestor=busybox" bash -c "[ \"\$(dk ps -q --filter ancestor=busybox | wc -l)\" = 3 ]"
	check "ps -n 1 (limit): the newest" bash -c "[ \"\$(dk ps -a -n 1 --format '{{.Names}}')\" = made ]"
	check_err "ps with a filter berth cannot answer (501)" "does not support the container filter 'health'" dk ps --filter health=healthy
	check "ps -s (sizes)" bash -c "dk ps -s --format '{{.Names}} {{.Size}}' | grep -q '^web .*virtual'"
	check "start the created one; wait gives its code" bash -c "dk start made && [ \"\$(dk wait made)\" = 0 ]"
	check "logs: Docker's multiplexed stream, demultiplexed by the CLI" bash -c "[ \"\$(dk logs made)\" = made-output ]"
	check "logs --tail 1" bash -c "dk run -d --name lines busybox sh -c 'echo one; echo two; echo three' >/dev/null && dk wait lines >/dev/null && [ \"\$(dk logs --tail 1 lines)\" = three ] && [ \"\$(dk logs --tail 2 lines | tr '\n' ,)\" = two,three, ]"
	check "the raw stream has 8-byte frame headers (stream 1)" bash -c "dapi 'http://x/v1.41/containers/made/logs?stdout=1&stderr=1' | od -An -tx1 -N8 | tr -d ' \n' | grep -qx 010000000000000c"
	check "berth's own clients still get plain text" bash -c "[ \"\$(dapi 'http://x/containers/made/logs')\" = made-output ]"
	check_err "logs --timestamps is refused (501)" "timestamps" dk logs --timestamps made
	check "wait condition=next-exit waits for the next exit" bash -c "dapi -X POST 'http://x/v1.41/containers/made/wait?condition=next-exit' >$BT_DIR/next.out & p=\$!; sleep 0.3; [ ! -s $BT_DIR/next.out ] && dk start made && wait \$p && jq -e '.StatusCode == 0 and .Error == null' $BT_DIR/next.out"
	check "inspect: Docker's fields, no Berth extension" bash -c "dk inspect web | jq -e '.[0] | (.State.Running == true) and (.HostConfig.PortBindings[\"80/tcp\"][0].HostPort == \"8080\") and (.NetworkSettings.Networks.dk1.Aliases | index(\"'\$(dk inspect -f '{{.Id}}' web | cut -c1-12)'\")) and (has(\"Berth\") | not)'"
	check "inspect of an image" bash -c "dk image inspect busybox | jq -e '.[0].RepoTags == [\"busybox:latest\"]'"
	check "images lists berth's images" bash -c "dk images --format '{{.Repository}}:{{.Tag}}' | grep -qx busybox:latest"
	check_err "an image pull is refused (501)" "does not support pulling images" dk pull alpine

	say "## connect, disconnect, stop, kill, rm"
	check "network connect --ip --alias (EndpointConfig)" dk network connect --ip 10.81.0.50 --alias www dk1 plain
	check "the interface appeared live with the requested address" bash -c "berth exec plain ip addr show eth1 | grep -q 10.81.0.50/24"
	check "inspect shows the endpoint and its static address" bash -c "dk inspect plain | jq -e '.[0].NetworkSettings.Networks.dk1 | .IPAddress == \"10.81.0.50\" and .IPAMConfig.IPv4Address == \"10.81.0.50\" and (.Aliases | index(\"www\"))'"
	check "the alias resolves through berth's DNS" bash -c "berth exec web nslookup www 127.0.0.11 | grep -q 10.81.0.50"
	check_err "a duplicate connect gets berth's error" "already connected" dk network connect dk1 plain
	check_err "a link is refused (501)" "does not support links" dk network connect --link web:w dk2 plain
	check "network disconnect" dk network disconnect dk1 plain
	check "the interface is gone" bash -c "! berth exec plain ip link show eth1"
	check "network disconnect --force" bash -c "dk network connect dk2 plain && dk network disconnect -f dk2 plain"
	check_err "network rm of a network in use" "connected container" dk network rm dk1
	check "stop" dk stop -t 1 web
	check "ps -a shows it exited, without ports" bash -c "dk ps -a --filter name=^/web --format '{{.Status}}|{{.Ports}}' | grep -qE '^Exited \([0-9]+\) .* ago\|$'"
	check "kill" bash -c "dk kill plain && [ \"\$(dk inspect -f '{{.State.Status}}' plain)\" = exited ]"
	check_err "rm of a running container needs -f" "running" dk rm dnsy
	check "rm -f" dk rm -f dnsy
	check "rm" dk rm web plain made lines
	check_err "network rm of the predefined bridge is refused" "pre-defined" dk network rm bridge
	check "network rm" dk network rm dkint
	check "network prune --filter label=team=a removes only dk1" bash -c "dk network prune -f --filter label=team=a | grep -q dk1 && dk network inspect dk2 >/dev/null && ! dk network inspect dk1 2>/dev/null"
	check "network prune -f" bash -c "dk network prune -f | grep -q dk2"
	check "only the predefined networks are left" bash -c "[ \"\$(dk network ls --format '{{.Name}}' | sort | tr '\n' ,)\" = bridge,host,none, ]"
	check_err "an unknown network" "no such network" dk network inspect dk1
}

for cli in "${CLIS[@]}"; do run_cli "$cli"; done
bt_summary
