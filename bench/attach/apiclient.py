# SPDX-License-Identifier: Apache-2.0
"""Timing client for berthd's HTTP API over its unix socket.

One HTTP/1.1 connection is kept open (keep-alive), so a sample is the time from writing the
request to having read the whole reply: berthd's own latency plus one socket round trip, with no
process start (unlike `curl` or `berth`, whose start would be measured too).

  apiclient.py SOCK cycle NET CONTAINER OPS WARMUP OUT_PREFIX
      WARMUP untimed, then OPS timed connect+disconnect cycles of CONTAINER to network NET;
      writes OUT_PREFIX.attach and OUT_PREFIX.detach (microseconds, one sample a line).
  apiclient.py SOCK spawn NET FIRST LAST NAME_PREFIX
      create and start containers NAME_PREFIX<FIRST>..NAME_PREFIX<LAST> (busybox sleep 1d) on NET,
      printing progress every 50.
  apiclient.py SOCK target NAME NET
      create and start one container NAME (busybox sleep 1d) on NET.
  apiclient.py SOCK rmall
      force-remove every container.
"""
import http.client
import json
import socket
import sys
import time


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path
        self.opens = 0

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock
        self.opens += 1


class Api:
    def __init__(self, path):
        self.conn = UnixHTTPConnection(path)

    def call(self, method, url, body=None, ok=(200, 201, 204)):
        """Returns (elapsed_us, status, reply bytes); raises when status is not in ok."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        t0 = time.perf_counter_ns()
        self.conn.request(method, url, body=data, headers=headers)
        resp = self.conn.getresponse()
        reply = resp.read()
        t1 = time.perf_counter_ns()
        if resp.status not in ok:
            raise SystemExit(f"apiclient: {method} {url} answered {resp.status}: "
                             f"{reply.decode(errors='replace').strip()}")
        return (t1 - t0) // 1000, resp.status, reply


def run_container(api, name, net):
    body = {"Image": "busybox", "Cmd": ["sleep", "1d"], "HostConfig": {"NetworkMode": net}}
    api.call("POST", f"/containers/create?name={name}", body)
    api.call("POST", f"/containers/{name}/start")


def cmd_cycle(api, net, ctr, ops, warmup, prefix):
    body = {"Container": ctr}
    for _ in range(int(warmup)):
        api.call("POST", f"/networks/{net}/connect", body)
        api.call("POST", f"/networks/{net}/disconnect", body)
    att, det = [], []
    opens = api.conn.opens
    for _ in range(int(ops)):
        att.append(api.call("POST", f"/networks/{net}/connect", body)[0])
        det.append(api.call("POST", f"/networks/{net}/disconnect", body)[0])
    with open(prefix + ".attach", "w") as f:
        f.write("".join(f"{v}\n" for v in att))
    with open(prefix + ".detach", "w") as f:
        f.write("".join(f"{v}\n" for v in det))
    reconnects = api.conn.opens - opens
    if reconnects:
        print(f"  note: berthd closed the connection {reconnects} times during {ops} cycles")


def cmd_spawn(api, net, first, last, prefix):
    first, last = int(first), int(last)
    t0 = time.monotonic()
    for i in range(first, last + 1):
        run_container(api, f"{prefix}{i}", net)
        done = i - first + 1
        if done % 100 == 0 or i == last:
            el = time.monotonic() - t0
            print(f"  started {done}/{last - first + 1} containers, {el:.1f} s "
                  f"({el * 1000 / done:.1f} ms each)", flush=True)


def cmd_rmall(api):
    """Best effort: go on past a failure, report the failures at the end."""
    _, _, reply = api.call("GET", "/containers/json?all=1")
    failed = []
    for c in json.loads(reply):
        try:
            api.call("DELETE", f"/containers/{c['Id']}?force=1")
        except (SystemExit, OSError, http.client.HTTPException) as e:
            failed.append(f"{c['Id'][:12]}: {e}")
            api.conn.close()
    if failed:
        raise SystemExit("apiclient: could not remove " + "; ".join(failed))


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    api = Api(argv[1])
    cmd, args = argv[2], argv[3:]
    if cmd == "cycle" and len(args) == 5:
        cmd_cycle(api, *args)
    elif cmd == "spawn" and len(args) == 4:
        cmd_spawn(api, *args)
    elif cmd == "target" and len(args) == 2:
        run_container(api, args[0], args[1])
    elif cmd == "rmall" and not args:
        cmd_rmall(api)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
