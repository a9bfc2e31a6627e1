# SPDX-License-Identifier: Apache-2.0
"""Timing client for the publishing benchmark: cost of POST /containers/{id}/start of a created
container with one published port versus without, over one kept-alive HTTP/1.1 connection to
berthd's unix socket (bench/attach/apiclient.py's Api: no process start is measured).

  pubclient.py SOCK startcost NET PREFIX REPS HOSTPORT OUT
      REPS times (after one untimed warm-up): create PREFIXp<i> with PortBindings
      {"80/tcp": [{"HostPort": HOSTPORT}]}, time its start, remove it; the same for PREFIXn<i>
      without ports. Writes OUT.start_p and OUT.start_n (microseconds, one sample a line).
      Create and remove are not timed.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attach"))
from apiclient import Api  # noqa: E402


def start_once(api, name, net, host_port):
    hc = {"NetworkMode": net}
    body = {"Image": "busybox", "Cmd": ["sleep", "1d"], "HostConfig": hc}
    if host_port:
        body["ExposedPorts"] = {"80/tcp": {}}
        hc["PortBindings"] = {"80/tcp": [{"HostPort": str(host_port)}]}
    api.call("POST", f"/containers/create?name={name}", body)
    us = api.call("POST", f"/containers/{name}/start")[0]
    api.call("DELETE", f"/containers/{name}?force=1")
    return us


def cmd_startcost(api, net, prefix, reps, host_port, out):
    with_p, without = [], []
    for i in range(-1, int(reps)):
        a = start_once(api, f"{prefix}p{i + 1}", net, host_port)
        b = start_once(api, f"{prefix}n{i + 1}", net, None)
        if i >= 0:
            with_p.append(a)
            without.append(b)
    for suffix, v in (("start_p", with_p), ("start_n", without)):
        with open(f"{out}.{suffix}", "w") as f:
            f.write("".join(f"{x}\n" for x in v))


def main(argv):
    if len(argv) == 8 and argv[2] == "startcost":
        cmd_startcost(Api(argv[1]), *argv[3:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
