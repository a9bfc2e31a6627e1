#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Events: berth events / GET /events streams network (create, connect, disconnect, destroy) and
# container (create, start, kill, die, stop, destroy, oom) events in order, with --since,
# --until, --filter and --format; the ring is bounded (BERTH_EVENTS_RING=64 here) so a reader
# that stops reading loses old events and never slows berthd down.
export BERTH_EVENTS_RING=64
# (container names are not hex: a container filter also matches ID prefixes, as in Docker)
. "$(dirname "$0")/lib.sh"
bt_setup

now() { date +%s.%N; }
# ev_replay SINCE [berth events flags...]: the events from SINCE until now.
ev_replay() { local s=$1; shift; berth events --since "$s" --until "$(now)" "$@"; }
export -f now ev_replay

T0=$(now)
check "network create" berth network create ev-net
check "run wa on ev-net" berth run -d --name wa --network ev-net busybox sleep 1d
check "run wb on bridge" berth run -d --name wb busybox sleep 1d
check "connect wb to ev-net" berth network connect ev-net wb
check "disconnect wb from ev-net" berth network disconnect ev-net wb
check "rm -f wa wb" berth rm -f wa wb
check "network rm" berth network rm ev-net
A=$(ev_replay "$T0" -f type=container -f event=create --format '{{.Actor.Attributes.name}} {{.ID}}' | awk '$1 == "wa" {print $2}')
B=$(ev_replay "$T0" -f type=container -f event=create --format '{{.Actor.Attributes.name}} {{.ID}}' | awk '$1 == "wb" {print $2}')
check "the containers' IDs are in their create events" test ${#A} = 64 -a ${#B} = 64
check "network events in order: create, connect at start, connect, disconnect, disconnect at stop, destroy" bash -c "
	got=\$(ev_replay $T0 --filter type=network --format '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}');
	want=\$(printf '%s\n' 'create ev-net <no value>' 'connect ev-net $A' 'connect bridge $B' 'connect ev-net $B' \
		'disconnect ev-net $B' 'disconnect ev-net $A' 'disconnect bridge $B' 'destroy ev-net <no value>');
	[ \"\$got\" = \"\$want\" ] || { echo \"\$got\"; false; }"
check "container events of wa in order" bash -c "
	got=\$(ev_replay $T0 -f container=wa -f type=container --format '{{.Action}}' | tr '\n' ' ');
	[ \"\$got\" = 'create start kill die destroy ' ] || { echo \"\$got\"; false; }"
check "die carries the exit code, kill the signal" bash -c "
	ev_replay $T0 -f container=$A -f event=die --format '{{.Actor.Attributes.exitCode}}' | grep -qx 137 &&
	ev_replay $T0 -f container=$A -f event=kill --format '{{.Actor.Attributes.signal}}' | grep -qx 9"
check "Docker's default line: time type action actor (attributes)" bash -c "
	line=\$(ev_replay $T0 -f type=network -f event=connect | head -1); echo \"\$line\";
	echo \"\$line\" | grep -qE '^20[0-9-]+T[0-9:]+\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2}) network connect [0-9a-f]{64} \(container=$A, name=ev-net, type=bridge\)$'"
check "--format json: Docker's messages, timeNano exact and never decreasing" bash -c "
	ev_replay $T0 --format json > $BT_DIR/ev.json &&
	jq -se 'length == 18 and all(.[]; .scope == \"local\" and (.Actor.ID | length) == 64)' $BT_DIR/ev.json &&
	grep -o '\"timeNano\":[0-9]*' $BT_DIR/ev.json | cut -d: -f2 | sort -c -n &&
	[ \"\$(grep -o '\"time\":[0-9]*' $BT_DIR/ev.json | cut -d: -f2)\" = \"\$(grep -o '\"timeNano\":[0-9]*' $BT_DIR/ev.json | cut -d: -f2 | cut -c1-10)\" ]"
check "filters: a container name matches its network events too" bash -c "
	got=\$(ev_replay $T0 -f container=wb -f type=network --format '{{.Action}}' | tr '\n' ' ');
	[ \"\$got\" = 'connect connect disconnect disconnect ' ] || { echo \"\$got\"; false; }"
check "filters: network by name" bash -c "
	[ \"\$(ev_replay $T0 -f network=ev-net | wc -l)\" = 6 ]"
check "filters: the same key twice is either value" bash -c "
	[ \"\$(ev_replay $T0 -f event=start -f event=destroy --format '{{.Action}}' | sort | uniq -c | awk '{print \$1 \$2}' | tr '\n' ' ')\" = '3destroy 2start ' ]"
check_err "an unknown filter is refused" "invalid filter 'colour'" berth events --since "$T0" --until "$(now)" -f colour=red
check_err "an unknown type is refused" 'invalid event type "volcano"' berth events -f type=volcano --until "$(now)"
check_err "a bad time is refused" "invalid --since" berth events --since yesterday
check "--since as a duration, --until 0s: only what happened, then exit" bash -c "
	[ \"\$(timeout 10 \$BERTH events --since 5m --until 0s -f type=network -f event=destroy --format '{{.Actor.Attributes.name}}')\" = ev-net ]"
check "--since as RFC 3339" bash -c "
	[ \"\$(ev_replay $(date -u -d @${T0%.*} +%Y-%m-%dT%H:%M:%SZ) -f network=ev-net | wc -l)\" = 6 ]"
check "API: filters in Docker's two shapes" bash -c "
	curl -s --unix-socket $BT_DIR/berth.sock -G http://x/events --data-urlencode since=$T0 --data-urlencode until=\$(now) \
		--data-urlencode 'filters={\"type\":{\"network\":true},\"event\":[\"destroy\"]}' | jq -se 'length == 1 and .[0].Action == \"destroy\"'"
check "API: a bad since is a 400" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' --unix-socket $BT_DIR/berth.sock 'http://x/events?since=soon') = 400 ]"

# live: connect and disconnect appear while the stream is open
check "live stream" bash -c "
	T1=\$(now); berth network create live-net >/dev/null && berth run -d --name wc busybox sleep 1d >/dev/null &&
	( timeout 30 \$BERTH events --since \$T1 -f type=network --format '{{.Action}} {{.Actor.Attributes.name}}' > $BT_DIR/live.out & echo \$! > $BT_DIR/live.pid ) &&
	wait_for 10 grep -qx 'connect bridge' $BT_DIR/live.out &&
	berth network connect live-net wc && wait_for 10 grep -qx 'connect live-net' $BT_DIR/live.out &&
	berth network disconnect live-net wc && wait_for 10 grep -qx 'disconnect live-net' $BT_DIR/live.out &&
	[ \"\$(cat $BT_DIR/live.out | tr '\n' ' ')\" = 'create live-net connect bridge connect live-net disconnect live-net ' ]"
kill "$(cat "$BT_DIR/live.pid")" 2>/dev/null

# OOM and stop
T2=$(now)
check "an OOM kill gives oom then die" bash -c "
	berth run --memory 16m --name oomer busybox tail /dev/zero;
	got=\$(ev_replay $T2 -f container=oomer -f type=container --format '{{.Action}}' | tr '\n' ' ');
	[ \"\$got\" = 'create start oom die ' ] || { echo \"\$got\"; false; }"
check "stop gives kill, die, stop" bash -c "
	T3=\$(now); berth stop -t 0 wc >/dev/null && [ \"\$(ev_replay \$T3 -f container=wc -f type=container --format '{{.Action}}' | tr '\n' ' ')\" = 'kill kill die stop ' ]"

if command -v docker >/dev/null; then
	check "docker events reads berthd's stream" bash -c "
		DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker events --since $T0 --until \$(now) \
			--filter type=network --format '{{.Action}} {{.Actor.Attributes.name}}' | head -2 | tr '\n' ' ' | grep -qx 'create ev-net connect ev-net '"
fi

# a reader that stops reading: berthd goes on at full speed, the reader loses the oldest events
cat >"$BT_DIR/slow.py" <<'EOF'
import json, socket, sys, time, http.client

path = sys.argv[1]
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)

# the stalled reader: asks for everything, then reads nothing
stalled = socket.socket(socket.AF_UNIX)
stalled.connect(path)
stalled.sendall(b"GET /events?since=1 HTTP/1.1\r\nHost: x\r\n\r\n")
c = Conn("x")
worst = 0.0
n = int(sys.argv[2])
for i in range(n):
    for method, url in (("POST", "/containers/create?name=fl-%d" % i), ("DELETE", "/containers/fl-%d" % i)):
        t = time.monotonic()
        c.request(method, url, body=b"{}" if method == "POST" else None,
                  headers={"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status in (201, 204), (method, url, r.status)
        worst = max(worst, time.monotonic() - t)
print("worst %.3f" % worst)
# now read what the stalled reader gets, until the stream is quiet
stalled.settimeout(2)
data = b""
try:
    while True:
        b = stalled.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    pass
events = [json.loads(l) for l in data.decode(errors="replace").split("\n") if l.startswith("{")]
names = [e["Actor"]["Attributes"].get("name", "") + ":" + e["Action"] for e in events if e["Type"] == "container"]
print("got %d" % len(names))
print("first %s" % names[0])
print("last %s" % names[-1])
times = [e["timeNano"] for e in events]
print("ordered %s" % (times == sorted(times)))
EOF
check "a stalled reader: 1,200 more events, berthd never waits for it" bash -c "
	python3 $BT_DIR/slow.py $BT_DIR/berth.sock 600 > $BT_DIR/slow.out; cat $BT_DIR/slow.out;
	awk '/^worst/ {exit !(\$2 < 2.0)}' $BT_DIR/slow.out"
check "the stalled reader got the oldest events it had room for, then lost some, then the newest" bash -c "
	grep -qx 'last fl-599:destroy' $BT_DIR/slow.out && grep -qx 'ordered True' $BT_DIR/slow.out &&
	n=\$(awk '/^got/ {print \$2}' $BT_DIR/slow.out) && [ \"\$n\" -lt 1200 ] && [ \"\$n\" -ge 64 ]"
check "berthd answers as usual afterwards" berth ps -a
bt_summary
