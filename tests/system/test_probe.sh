#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# berth network probe (docs/PROBE.md): the reachability matrix of a topology with two bridge
# networks, an internal network, an ICC-off network, a published port and dual-stack networks
# equals the policy berth's configuration implies; a hole made by hand in the firewall (its
# isolation rules deleted with nft) makes --expect exit 1 naming exactly the cells it changed,
# until the self-heal brings the rules back; --explain names the rule that decided (isolation, ICC off,
# internal) or "accepted", removes its trace rule (and a restart removes the one a crash left);
# the probe leaves no socket, rule or process behind; the table people read; progress on a
# terminal (against tests/helpers/apitest); the API's errors.
. "$(dirname "$0")/lib.sh"
# the self-heal waits 15 s, so the test can probe the firewall with rules deleted by hand
export BERTH_FW_HEAL_DELAY_MS=15000
bt_setup
APITEST=${APITEST:-$TOP/build/tests/helpers/apitest}
# jqe FILTER [FILE]: jq -e, but failing on empty input (jq 1.6 succeeds on it: a berth that
# printed nothing would pass every check)
jqe() {
	local in
	if [ $# -ge 2 ]; then in=$(cat "$2") || return 1; else in=$(cat); fi
	[ -n "$in" ] && printf '%s' "$in" | jq -e "$1" >/dev/null
}
export -f jqe

check "networks: front, back (bridges), inside (internal), quiet (ICC off, dual), dual" bash -c "
	berth network create --subnet 10.71.0.0/24 front >/dev/null &&
	berth network create --subnet 10.72.0.0/24 back >/dev/null &&
	berth network create --internal --subnet 10.73.0.0/24 inside >/dev/null &&
	berth network create --ipv6 --subnet 10.74.0.0/24 --subnet fd00:74::/64 -o com.docker.network.bridge.enable_icc=false quiet >/dev/null &&
	berth network create --ipv6 --subnet 10.75.0.0/24 --subnet fd00:75::/64 dual >/dev/null"
run() { berth run -d --name "$1" "${@:2}" busybox sleep 1d >/dev/null; }
check "containers: web (front, published 8080), api (front), db (back), app (front+back)" bash -c "
	$(declare -f run); run web --network front -p 8080:80 && run api --network front &&
	run db --network back && run app --network front --network back"
check "containers: i1 i2 (inside), q1 q2 (quiet), d1 d2 (dual)" bash -c "
	$(declare -f run); run i1 --network inside && run i2 --network inside &&
	run q1 --network quiet && run q2 --network quiet && run d1 --network dual && run d2 --network dual"
fw_serve web tcp 80
fw_serve db tcp 5432
fw_serve db udp 53                       # a UDP listener that answers
in_ctr_ns d2 socat -u UDP6-RECV:5300 - >/dev/null 2>&1 &   # one that never answers
# a TCP listener that says nothing and closes after a second: a probe connection closed
# politely would sit in TIME_WAIT in its source for a minute
in_ctr_ns api socat TCP4-LISTEN:7000,fork,reuseaddr SYSTEM:'sleep 1' >/dev/null 2>&1 &
wait_for 5 bash -c "in_ctr_ns d2 cat /proc/net/udp6 | grep -qi ':14B4 ' && in_ctr_ns api cat /proc/net/tcp | grep -qi ':1B58 '"

fw_snapshot() { inhost nft list ruleset | sed -e 's/[[:space:]]\+/ /g'; }
ctr_sockets() {   # every socket of every container's namespace (TIME_WAIT would count too)
	local c
	for c in web api db app i1 i2 q1 q2 d1 d2; do
		echo "## $c"; in_ctr_ns $c sh -c 'cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 /proc/net/raw /proc/net/raw6 /proc/net/packet' | awk 'NR > 1 && $1 != "sl" {print $2, $3, $4}' | sort
	done
}
berthd_fds() { ls /proc/$(bt_berthd_pid)/fd | wc -l; }
berthd_tasks() { ls /proc/$(bt_berthd_pid)/task | wc -l; }
ns_procs() { local c; for c in web api db app i1 i2 q1 q2 d1 d2; do ls -l /proc/*/ns/net 2>/dev/null | grep -c "$(stat -L -c %i "$(ctr_netns $c)")"; done; }
# the state before any probe: compared with the state after every probe of this test
ctr_sockets >"$BT_DIR/s0"; fw_snapshot >"$BT_DIR/r0"; f0=$(berthd_fds); t0=$(berthd_tasks); ns_procs >"$BT_DIR/p0"

say "# the matrix equals the policy berth's configuration implies"
probe_json() { berth network probe --format json "$@" >"$BT_DIR/m.json"; }
check "berth network probe --print-policy" bash -c "berth network probe --print-policy >$BT_DIR/policy.yaml && grep -q 'default: deny' $BT_DIR/policy.yaml"
check "--expect of that policy: exit 0" probe_json --expect "$BT_DIR/policy.yaml"
cell() {   # SOURCE TARGET NETWORK FAMILY PROTO [PORT]: the verdict of that cell
	jq -r --arg s "$1" --arg t "$2" --arg n "$3" --argjson f "$4" --arg p "$5" --argjson port "${6:-0}" \
		'[.Cells[] | select(.Source == $s and .Target == $t and .Network == $n and .Family == $f
		  and .Protocol == $p and ($port == 0 or .Port == $port))] | map(.Verdict) | unique | join(",")' "$BT_DIR/m.json"
}
is() { local want=$1; shift; [ "$(cell "$@")" = "$want" ] || { say "$* is $(cell "$@"), not $want"; return 1; }; }
check "every cell is reach or blocked, none differs from the policy" bash -c "jqe '.Summary.Errors == 0 and .Summary.Violations == 0 and .Summary.Cells > 500' $BT_DIR/m.json"
check "web -> api, same network: ICMP, TCP, UDP, DNS reach" bash -c "$(declare -f cell is); is reach web api front 4 icmp && is reach web api front 4 tcp && is reach web api front 4 udp && is reach web api front 4 dns"
check "web -> db, different networks: all blocked" bash -c "$(declare -f cell is); is blocked web db back 4 icmp && is blocked web db back 4 tcp 5432 && is blocked web db back 4 udp 53 && is blocked web db back 4 dns"
check "app (front+back) reaches db on back and web on front, not across" bash -c "$(declare -f cell is); is reach app db back 4 tcp 5432 && is reach app web front 4 tcp 80 && is blocked web app back 4 icmp"
check "i1 -> i2 (internal) reach; i1 -> web and web -> i1 blocked" bash -c "$(declare -f cell is); is reach i1 i2 inside 4 tcp && is blocked i1 web front 4 icmp && is blocked web i1 inside 4 icmp"
check "q1 -> q2 (ICC off) blocked over IPv4 and IPv6, names still resolve" bash -c "$(declare -f cell is); is blocked q1 q2 quiet 4 icmp && is blocked q1 q2 quiet 6 tcp && is blocked q1 q2 quiet 6 udp && is reach q1 q2 quiet 6 dns"
check "d1 -> d2 (dual) reach over IPv4 and IPv6" bash -c "$(declare -f cell is); is reach d1 d2 dual 4 icmp && is reach d1 d2 dual 6 icmp && is reach d1 d2 dual 6 tcp && is reach d1 d2 dual 6 dns"
check "the host reaches web's published port" bash -c "jqe '[.Cells[] | select(.Source == \"host\" and .Target == \"web\" and .Published and .Port == 8080)] | length > 0 and all(.Verdict == \"reach\" and .TargetPort == 80)' $BT_DIR/m.json"
check "TCP probes the ports a target listens on (db: 5432), or 33434 (refused: reached)" bash -c "jqe '([.Cells[] | select(.Target == \"db\" and .Protocol == \"tcp\") | .Port] | unique) == [5432] and ([.Cells[] | select(.Source == \"web\" and .Target == \"app\" and .Network == \"front\" and .Protocol == \"tcp\")][0].Reason | test(\"refused\"))' $BT_DIR/m.json"
check "UDP: berth's listener echoes; db's own (answers) and d2's own (only receives) see it" bash -c "jqe '([.Cells[] | select(.Source == \"web\" and .Target == \"api\" and .Protocol == \"udp\")][0].Reason | test(\"probe listener\")) and ([.Cells[] | select(.Source == \"app\" and .Target == \"db\" and .Protocol == \"udp\")][0].Reason | test(\"answered|arrived\")) and ([.Cells[] | select(.Source == \"d1\" and .Target == \"d2\" and .Protocol == \"udp\" and .Port == 5300)][0].Reason | test(\"arrived\"))' $BT_DIR/m.json"
check "names through the embedded DNS: nothing was forwarded upstream" bash -c "berth dns stats --json | jqe '.Forwarded == 0'"

say "# a policy file by hand (YAML), first match wins"
cat >"$BT_DIR/hand.yaml" <<'EOF'
# web may reach db's PostgreSQL, nothing else crosses networks
default: networks
rules:
  - from: web
    to: {container: db}
    proto: tcp
    port: 5432
    action: allow
EOF
check_fail "--expect: web -> db tcp/5432 is blocked, the policy says allow: exit 1" berth network probe --expect "$BT_DIR/hand.yaml" --proto tcp -4
check "and the difference is that cell and only it" bash -c "berth network probe --expect $BT_DIR/hand.yaml --proto tcp -4 --format json | jqe '[.Cells[] | select(.Match | not) | \"\(.Source) \(.Target) \(.Port) \(.ExpectedBy)\"] == [\"web db 5432 rule 1\"]'"
check "the table lists it" bash -c "berth network probe --expect $BT_DIR/hand.yaml --proto tcp -4 | grep -q 'web -> db@back (10.72.0.[0-9]*) tcp/5432 IPv4: expected reach (rule 1), seen blocked'"
check_err "a bad policy is refused, naming the place" "rules[0].proto" bash -c "printf 'rules: [{proto: sctp, action: deny}]\n' >$BT_DIR/bad.yaml; berth network probe --expect $BT_DIR/bad.yaml"

say "# isolation rules deleted by hand: exactly their cells change, until the self-heal"
# Networks are isolated twice in to_bridge: "iifname @bridges drop", and the final "drop" of
# what no rule accepted (ICC off is enforced by bridge berth fwd and, through br_netfilter,
# by to_bridge too). One deletion opens nothing; both open every pair of networks.
rule_handle() { inhost nft -a list chain inet berth to_bridge | awk -v c="$1" 'index($0, "comment \"" c "\" # handle") {print $NF}'; }
missing() { for c in "$@"; do [ -z "$(rule_handle "$c")" ] || return 1; done; }
export -f rule_handle missing
h=$(rule_handle "iifname @bridges drop")
check "delete the isolation rule (inet berth to_bridge handle ${h:-?})" inhost nft delete rule inet berth to_bridge handle "$h"
check "alone it opens nothing (the final drop isolates too): --expect exits 0" probe_json --expect "$BT_DIR/policy.yaml"
h=$(rule_handle "drop")
check "delete the final drop as well (handle ${h:-?})" inhost nft delete rule inet berth to_bridge handle "$h"
check_fail "--expect exits 1" probe_json --expect "$BT_DIR/policy.yaml"
check "both were still missing while it probed (the self-heal waits 15 s here)" missing "iifname @bridges drop" "drop"
changed='(.Nodes | map({(.Name): .Endpoints}) | add) as $n
	| [.Cells[] | . as $c
	   | select(($c.Published | not) and $c.Protocol != "dns" and $c.Network != "inside")
	   | select(([$n[$c.Source][].Network] - ([$n[$c.Source][].Network] - [$n[$c.Target][].Network])) == [])
	   | select($c.Network == ([$n[$c.Target][] | select(.Network != "inside" and
		     (if $c.Family == 4 then .IPv4Address else .IPv6Address end) != "")][0].Network))
	   | select([$n[$c.Source][] | select(.Network != "inside")
		     | if $c.Family == 4 then .IPv4Address else .IPv6Address end | select(. != "")] | length > 0)
	   | "\($c.Source) \($c.Target) \($c.Network) \($c.Protocol) \($c.Family) \($c.Port)"] | sort'
differ='[.Cells[] | select(.Match | not) | "\(.Source) \(.Target) \(.Network) \(.Protocol) \(.Family) \(.Port)"] | sort'
cp "$BT_DIR/m.json" "$BT_DIR/holes.json"
# (the reply leaves by the target's own routes: to a source it shares a network with, or to
# any source from a target on two networks when the address probed is not on the network of
# its default route, it goes out another port with that address, and anti-spoofing drops it)
check "the cells that differ are exactly those between containers sharing no network, to a network not internal, by ICMP, TCP, UDP, from a source with an address of the family" bash -c "jqe '($changed) as \$want | ($differ) | . == \$want and length > 100' $BT_DIR/m.json"
check "all of them seen reach, expected blocked" bash -c "jqe '[.Cells[] | select(.Match | not)] | all(.Verdict == \"reach\" and .Expected == \"blocked\")' $BT_DIR/m.json"
check "the self-heal brings both back" wait_for 30 bash -c "[ -n \"\$(rule_handle 'iifname @bridges drop')\" ] && [ -n \"\$(rule_handle drop)\" ]"
check "--expect exits 0 again" probe_json --expect "$BT_DIR/policy.yaml"

say "# --explain: the rule that decided, in berth's words"
explain() { berth network probe --explain "$@" >"$BT_DIR/x.txt" 2>&1; cat "$BT_DIR/x.txt"; }
check "web -> db/tcp/5432: the isolation rule" bash -c "$(declare -f explain); explain web db/tcp/5432 | grep -q 'dropped: isolation between networks front and back'"
check "it names the rule of berth's table" grep -q 'by rule "iifname @bridges drop" (handle [0-9]*) of chain to_bridge, table inet berth' "$BT_DIR/x.txt"
check "web -> api/icmp (same network): accepted" bash -c "$(declare -f explain); explain web api/icmp | grep -q '^accepted'"
check "q1 -> q2/udp/53: ICC off on quiet" bash -c "$(declare -f explain); explain q1 q2/udp/53 | grep -q 'dropped: inter-container communication is off on network quiet'"
check "q1 -> q2 over IPv6 too (-6): its neighbour solicitation is dropped" bash -c "$(declare -f explain); explain q1 q2/tcp/80 -6 | grep -q 'IPv6.*blocked' && grep -q 'off on network quiet (its neighbour solicitation' $BT_DIR/x.txt"
check "web -> i1/tcp/80: internal network" bash -c "$(declare -f explain); explain web i1/tcp/80 | grep -q 'dropped: network inside is internal'"
check "app -> db@back/tcp/5432: accepted, the path listed" bash -c "$(declare -f explain); explain app db@back/tcp/5432 | grep -q '^accepted' && grep -q 'path:' $BT_DIR/x.txt"
check "JSON: the decisive rule" bash -c "berth network probe --explain web db/tcp/5432 --format json | jqe '.Explain.Rule.Rule == \"iifname @bridges drop\" and .Explain.Verdict == \"blocked\"'"
check "the trace rule is gone afterwards" bash -c "! inhost nft list ruleset | grep -q probe_trace"
check_err "an unknown target is named" "no such container: nosuch" berth network probe --explain web nosuch/tcp/80
check_err "dns cannot be explained" "expected icmp, tcp or udp" berth network probe --explain web api/dns

say "# nothing left behind (by any probe of this test: compared with the state before the first)"
check "a full probe" probe_json
check "an explain" berth network probe --explain q1 q2/udp/53
export -f ctr_sockets in_ctr_ns
check "the containers' sockets are as before (no probe listener, no TIME_WAIT)" wait_for 5 bash -c "ctr_sockets | diff -q - $BT_DIR/s0"
check "the firewall is as before" bash -c "diff <($(declare -f fw_snapshot); fw_snapshot) $BT_DIR/r0"
check "berthd holds as many descriptors as before ($f0)" wait_for 5 bash -c "[ \$(ls /proc/$(bt_berthd_pid)/fd | wc -l) = $f0 ]"
check "and as many threads ($t0)" wait_for 5 bash -c "[ \$(ls /proc/$(bt_berthd_pid)/task | wc -l) = $t0 ]"
check "no process entered or was left in a container's namespace" wait_for 5 bash -c "diff <($(declare -f ns_procs); ns_procs) $BT_DIR/p0"

say "# bounded in time"
check "--timeout 0.2: over within a second" bash -c "s=\$(bt_now_ms); berth network probe --timeout 0.2 --format json >$BT_DIR/t.json; [ \$((\$(bt_now_ms) - s)) -lt 1500 ]"
check "cells it could not tell say so" bash -c "jqe '[.Cells[] | select(.Verdict == \"error\")] | length > 0 and all(.Reason | test(\"time limit\"))' $BT_DIR/t.json"

say "# the table people read"
check "plain when piped: no escape codes, a section per protocol and family, a summary" bash -c "berth network probe -4 --proto icmp,dns >$BT_DIR/plain.txt && ! grep -q \$'\\033' $BT_DIR/plain.txt && grep -q '^ICMP, IPv4' $BT_DIR/plain.txt && grep -q '^DNS.*IPv4' $BT_DIR/plain.txt && grep -q 'cells, 10 containers' $BT_DIR/plain.txt"
check "sources are rows, targets columns (app on two networks: app@front, app@back)" bash -c "grep -A1 '^ICMP, IPv4' $BT_DIR/plain.txt | tail -1 | grep -q 'app@front.*app@back' && grep -A12 '^ICMP, IPv4' $BT_DIR/plain.txt | grep -q '^web  '"
check "coloured on a terminal" bash -c "script -qec '$BERTH network probe -4 --proto icmp' /dev/null | grep -q \$'\\033\\[32m'"
check "many targets on a narrow terminal: numbered, with a key" bash -c "COLUMNS=40 script -qec 'stty cols 40; $BERTH network probe -4 --proto icmp' /dev/null | grep -q '^Targets:'"

say "# progress on a terminal, through the streamed API (tests/helpers/apitest: 1.8 s)"
"$APITEST" "$BT_DIR/fake.sock" "$BT_DIR" >"$BT_DIR/fake.out" 2>&1 &
fake=$!
wait_for 5 grep -q ready "$BT_DIR/fake.out"
check "stderr on a terminal shows 'probing: N of M cells' after a second" bash -c "BERTH_HOST=unix://$BT_DIR/fake.sock script -qec '$BERTH network probe' /dev/null | tr '\r' '\n' | grep -q 'probing: [0-9]* of 12 cells'"
check "piped, no progress" bash -c "BERTH_HOST=unix://$BT_DIR/fake.sock berth network probe 2>&1 >/dev/null | wc -c | grep -qx 0"
check "?progress=1 streams progress lines, then the result" bash -c "curl -s --unix-socket $BT_DIR/fake.sock -X POST 'http://x/networks/probe?progress=1' -d '{}' >$BT_DIR/stream && grep -q '\"Progress\"' $BT_DIR/stream && tail -1 $BT_DIR/stream | jqe '.Cells | length == 2'"
check "a failure after the stream began is the last line" bash -c "curl -s --unix-socket $BT_DIR/fake.sock -X POST 'http://x/networks/probe?progress=1' -d '{\"Fail\": true}' | tail -1 | jqe '.Status == 500 and (.message | test(\"failed\"))'"
kill $fake; wait $fake 2>/dev/null

say "# the API"
code=$(bt_http POST /networks/probe '{"Networks": ["dual"], "Protocols": ["icmp"]}')
check "POST /networks/probe: 200, every cell" bash -c "[ $code = 200 ] && jqe '.Cells | length == 4 and all(.Verdict == \"reach\")' $BT_DIR/http.out"
code=$(bt_http POST /networks/probe '{"Networks": ["nope"]}')
check "an unknown network: 404" bash -c "[ $code = 404 ] && jqe '.message | test(\"nope\")' $BT_DIR/http.out"
code=$(bt_http POST /networks/probe '{"Protocols": ["sctp"]}')
check "a bad protocol: 400" bash -c "[ $code = 400 ] && jqe '.message | test(\"Protocols\")' $BT_DIR/http.out"
code=$(bt_http POST /networks/probe '{"Policy": {"rules": [{"action": "maybe"}]}}')
check "a bad policy: 400 naming the place" bash -c "[ $code = 400 ] && jqe '.message | test(\"rules\\\\[0\\\\].action\")' $BT_DIR/http.out"

say "# a crash with the trace rule in place: the next start removes it"
bt_stop_berthd
BERTH_CRASH_AT=explain:after-trace-rule bt_start_berthd
berth network probe --explain web db/tcp/5432 >/dev/null 2>&1
check "berthd died" wait_for 10 bt_berthd_gone
check "with the trace rule in its table" bash -c "inhost nft list ruleset | grep -q probe_trace"
wait "$BT_BERTHD_PID" 2>/dev/null; BT_BERTHD_PID=
bt_start_berthd
check "after a restart it is gone" bash -c "! inhost nft list ruleset | grep -q probe_trace"
check "and the matrix still equals the policy" berth network probe --expect "$BT_DIR/policy.yaml" -4 --proto icmp

say "# any driver: two containers on a macvlan network (parent: one end of a veth of the host)"
check "network mv (macvlan), m1 and m2 on it" bash -c "inhost ip link add mvp0 type veth peer name mvp1 && inhost ip link set mvp1 up && inhost ip link set mvp0 up &&
	berth network create -d macvlan --subnet 10.76.0.0/24 -o parent=mvp0 mv >/dev/null &&
	berth run -d --name m1 --network mv busybox sleep 1d >/dev/null && berth run -d --name m2 --network mv busybox sleep 1d >/dev/null"
check "m1 <-> m2 reach by ICMP, TCP, UDP and name" bash -c "set -o pipefail; berth network probe --network mv --format json | jqe '.Cells | length == 8 and all(.Verdict == \"reach\")'"
check "the policy berth implies now covers mv: --expect exits 0" bash -c "berth network probe --print-policy >$BT_DIR/policy2.yaml && grep -q 'network: \"mv\"' $BT_DIR/policy2.yaml && berth network probe --expect $BT_DIR/policy2.yaml -4"
check "--explain of a macvlan flow: it never crosses the host's hooks" bash -c "berth network probe --explain m1 m2/icmp | grep -q 'did not cross this host'"

say "# a policy by container label"
check "container lab (label tier=web) on mv: berth run --label" \
	berth run -d --name lab --network mv -l tier=draft --label tier=web --label team= busybox sleep 1d
check "... inspect shows its labels (the last value of a key counts)" bash -c \
	"berth inspect lab | jqe '.[0].Config.Labels == {\"tier\": \"web\", \"team\": \"\"}'"
printf 'rules:\n  - {from: {label: tier=web}, to: {network: mv}, proto: icmp, action: deny}\n' >"$BT_DIR/label.yaml"
check_fail "--expect: lab's pings are denied by label, yet they reach: exit 1" berth network probe --expect "$BT_DIR/label.yaml" --network mv
check "the differences are exactly lab's ICMP cells" bash -c "berth network probe --expect $BT_DIR/label.yaml --network mv --format json | jqe '[.Cells[] | select(.Match | not) | \"\(.Source) \(.Target) \(.Protocol) \(.ExpectedBy)\"] | sort == [\"lab m1 icmp rule 1\", \"lab m2 icmp rule 1\"]'"
bt_summary
