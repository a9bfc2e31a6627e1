#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Small things people notice: ps STATUS reads "Up Less than a second" / "Exited (0) ... ago" as
# Docker's, and --format takes Docker's {{.Field}} templates (the documented subset) for ps,
# network ls, inspect, network inspect and stats; bad templates are refused with one line.
. "$(dirname "$0")/lib.sh"
bt_setup

# status_ok PREFIX SUFFIX SINCE CMD...: CMD prints a status such as "Up 5 seconds"; it must be
# Docker's wording for the seconds elapsed from SINCE (RFC 3339) to some moment while CMD ran.
status_ok() {
	local prefix=$1 suffix=$2 since=$3 before after got; shift 3
	before=$(date +%s.%N); got=$("$@"); after=$(date +%s.%N)
	python3 - "$prefix" "$suffix" "$since" "$before" "$after" "$got" <<'PY' || { say "status \"$got\""; return 1; }
import sys, datetime as d
prefix, suffix, since, before, after, got = sys.argv[1:]
t = since.replace("Z", "")
t = t[:t.index(".") + 7] if "." in t else t
start = d.datetime.fromisoformat(t).replace(tzinfo=d.timezone.utc).timestamp()
def human(s):
    return "Less than a second" if s < 1 else "1 second" if s == 1 else "%d seconds" % s
ok = {"%s %s%s" % (prefix, human(s), suffix) for s in range(int(float(before) - start), int(float(after) - start) + 1)}
sys.exit(0 if got in ok else 1)
PY
}
export -f status_ok

check "run a container" berth run -d --name web --memory 32m busybox sleep 1d
started=$(berth inspect web | jq -r ".[0].State.StartedAt")
check "ps STATUS just after the start: Up Less than a second (Docker's wording for the time)" \
	status_ok Up "" "$started" berth ps --format "{{.Status}}"
check "the API's Status reads the same" \
	status_ok Up "" "$started" bash -c 'berth ps --format json | jq -r ".[0].Status"'
check "an exited container (exit 3)" bash -c 'berth run --name ex busybox sh -c "exit 3"; [ $? = 3 ]'
check "its STATUS: Exited (3) Less than a second ago" \
	status_ok "Exited (3)" " ago" "$(berth inspect ex | jq -r ".[0].State.FinishedAt")" \
	bash -c 'berth ps -a --format "{{.Names}} {{.Status}}" | grep "^ex " | cut -d" " -f2-'
check "the default ps table is unchanged" bash -c '
	berth ps | head -1 | grep -qx "CONTAINER ID *IMAGE *COMMAND *CREATED *STATUS *NAMES" &&
	berth ps | grep -E "^[0-9a-f]{12} +busybox +\"sleep 1d\" +.* ago +Up .* +web$"'

# ps templates
check "ps --format {{.Names}}" test "$(berth ps --format '{{.Names}}')" = web
check "ps --format with several fields and text" bash -c '
	[ "$(berth ps -a --format "{{.Names}}: {{.State}} {{.Image}}" | sort)" = "$(printf "ex: exited busybox\nweb: running busybox")" ]'
check "ps --format table: aligned columns under Docker's headers" bash -c '
	out=$(berth ps --format "table {{.ID}}\t{{.Names}}\t{{.Status}}"); echo "$out";
	echo "$out" | head -1 | grep -qx "CONTAINER ID *NAMES *STATUS" && echo "$out" | sed -n 2p | grep -qE "^[0-9a-f]{12}   web +Up "'
check "ps --format {{.ID}} is short, --no-trunc full" bash -c '
	a=$(berth ps --format "{{.ID}}"); b=$(berth ps --no-trunc --format "{{.ID}}"); [ ${#a} = 12 ] && [ ${#b} = 64 ]'
check "ps --format {{.Command}} {{.Networks}} {{.CreatedAt}} {{.RunningFor}}" bash -c '
	out=$(berth ps --format "{{.Command}}|{{.Networks}}|{{.CreatedAt}}|{{.RunningFor}}"); echo "$out";
	echo "$out" | grep -qE "^\"sleep 1d\"\|bridge\|20[0-9-]+ [0-9:]+ \+0000 UTC\|.* ago$"'
check "ps --format json stays the API's array" bash -c 'berth ps --format json | jq -e "type == \"array\" and .[0].Names[0] == \"/web\""'
check "ps -q ignores the template" test "$(berth ps -q | wc -c)" = 13
check_err "an unclosed action is refused" "unclosed action" berth ps --format '{{.Names'
check_err "an unknown function is refused" 'function "nope" not defined' berth ps --format '{{nope .Names}}'
check_err "a {{range}} without {{end}}" "has no {{end}}" berth ps --format '{{range .X}}'
check_err "plain text is refused (a likely mistake)" "unsupported format yaml" berth ps --format yaml
check "a missing field prints <no value>" test "$(berth ps --format '{{.Nope}}')" = "<no value>"

# inspect
check "inspect --format {{.State.Status}}" test "$(berth inspect --format '{{.State.Status}}' web)" = running
check "inspect -f with nested fields and json" bash -c '
	[ "$(berth inspect -f "{{.Name}} {{.HostConfig.Memory}} {{json .Config.Cmd}}" web)" = "/web 33554432 [\"sleep\",\"1d\"]" ]'
check "inspect -f index for a network name with a dash" bash -c '
	berth network create fmt-net >/dev/null && berth network connect fmt-net web &&
	ip=$(berth inspect -f "{{index .NetworkSettings.Networks \"fmt-net\" \"IPAddress\"}}" web) &&
	[ "$ip" = "$(ctr_ip web fmt-net)" ]'
check "inspect -f range over the networks" bash -c '
	[ "$(berth inspect -f "{{range .NetworkSettings.Networks}}{{.Berth.Interface}} {{end}}" web)" = "eth0 eth1 " ]'
check "inspect -f: one line per object, errors after" bash -c '
	out=$(berth inspect -f "{{.Name}}" web ex nosuch 2>&1); [ $? = 1 ] && [ "$out" = "$(printf "/web\n/ex\nberth: no such object: nosuch")" ]'
check "network inspect --format" bash -c '
	[ "$(berth network inspect --format "{{.Name}} {{.Driver}} {{range .IPAM.Config}}{{.Subnet}}{{end}}" fmt-net)" = "fmt-net bridge $(berth network inspect fmt-net | jq -r ".[0].IPAM.Config[0].Subnet")" ]'
check_err "inspect with a bad template" "template" berth inspect -f '{{.A' web

# network ls
check "network ls --format {{.Name}}" bash -c '[ "$(berth network ls --format "{{.Name}}" | tr "\n" " ")" = "bridge fmt-net host none " ]'
check "network ls --format table" bash -c '
	out=$(berth network ls --format "table {{.Name}}\t{{.Driver}}\t{{.IPv6}}\t{{.Internal}}"); echo "$out";
	echo "$out" | head -1 | grep -qx "NAME *DRIVER *IPV6 *INTERNAL" && echo "$out" | grep -qE "^fmt-net +bridge +false +false$"'
check "network ls default table unchanged" bash -c 'berth network ls | head -1 | grep -qx "NETWORK ID *NAME *DRIVER *SCOPE"'
check "network ls --format {{.ID}} {{.Labels}}" bash -c '
	berth network create --label a=1 --label b=2 lab >/dev/null &&
	berth network ls --format "{{.ID}} {{.Labels}}" -f name=lab | grep -qE "^[0-9a-f]{12} a=1,b=2$"'

# stats
check "stats --format with a template" bash -c '
	berth stats --no-stream --format "{{.Name}} {{.PIDs}} {{.MemUsage}}" web | grep -qE "^web 1 .*/ 32MiB$"'
check "stats --format table" bash -c '
	berth stats --no-stream --format "table {{.Name}}\t{{.CPUPerc}}" | head -1 | grep -qx "NAME *CPU %"'
bt_summary
