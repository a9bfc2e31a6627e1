#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The storm driver of tests/system/test_storm.sh: CLIENTS threads send random operations to
berthd's API at once (network create/rm, run/rm, connect/disconnect with and without static
addresses and aliases, publish, stop/start) and classify every answer.

  storm.py SOCKET SEED ROUND OPS [--clients N] [--kill-pid PID] [--log FILE]

Everything random derives from (SEED, ROUND): the same arguments replay the same operations
(their interleaving is up to the scheduler). With --kill-pid, berthd is sent SIGKILL once a
random K (OPS/2 to OPS) operations have been started, after a random 0-40 ms so that it lands
inside one; operations
cut short by the kill are counted as interrupted and no new one starts.

Classes: ok (2xx, 304), expected (404, 409, a 400 named in EXPECTED_400: the random
operations collide by design), interrupted (the connection died with berthd, only after the
kill), unexpected (any other status, a connection error without a kill, a reply after 60 s).
Prints one JSON line of counts; exit status 1 when anything was unexpected."""
import http.client
import json
import os
import random
import signal
import socket
import sys
import threading
import time

NETS = {   # name: (IPv4 slot, dual-stack, internal, icc)
    "n0": (0, False, False, True), "n1": (1, False, False, True),
    "n2": (2, False, True, True), "n3": (3, True, False, True),
    "n4": (4, True, False, False), "n5": (5, True, False, True),
}
CTRS = [f"c{i}" for i in range(8)]
# 400s that a random interleaving legitimately produces.
EXPECTED_400 = ("only on internal networks", "has no address to publish")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def net_create_body(rng, name):
    slot, dual, internal, icc = NETS[name]
    cfg = [{"Subnet": f"10.99.{slot}.0/24"}]
    if dual:
        cfg.append({"Subnet": f"fd00:99:{slot}::/64"})
    body = {"Name": name, "Driver": "bridge", "EnableIPv6": dual, "Internal": internal,
            "IPAM": {"Config": cfg}, "Options": {}}
    if not icc:
        body["Options"]["com.docker.network.bridge.enable_icc"] = "false"
    return body


def endpoint_config(rng, net):
    """Random static addresses (a small range, so that they collide) and aliases."""
    ep = {}
    if net in NETS and rng.random() < 0.35:
        slot, dual = NETS[net][0], NETS[net][1]
        ipam = {"IPv4Address": f"10.99.{slot}.{rng.randrange(10, 16)}"}
        if dual and rng.random() < 0.6:
            ipam["IPv6Address"] = f"fd00:99:{slot}::{rng.randrange(10, 16):x}"
        ep["IPAMConfig"] = ipam
    if rng.random() < 0.25:
        ep["Aliases"] = [f"a{rng.randrange(4)}"]
    return ep


def pick_net(rng):
    return rng.choice(list(NETS) + ["bridge"])


def op_run(rng):
    name, net = rng.choice(CTRS), pick_net(rng)
    eps = {net: endpoint_config(rng, net)}
    if rng.random() < 0.25:
        second = rng.choice(list(NETS))
        eps.setdefault(second, endpoint_config(rng, second))
    host = {"NetworkMode": net}
    if rng.random() < 0.4:
        port = "" if rng.random() < 0.3 else str(20000 + rng.randrange(8))
        proto = rng.choice(["tcp", "udp"])
        host["PortBindings"] = {f"{rng.choice([80, 53])}/{proto}": [{"HostPort": port}]}
    body = {"Image": "busybox", "Cmd": ["sleep", "1d"], "HostConfig": host,
            "NetworkingConfig": {"EndpointsConfig": eps}}
    return [("POST", f"/containers/create?name={name}", body),
            ("POST", f"/containers/{name}/start", None)]


def op_connect(rng):
    net = pick_net(rng)
    body = {"Container": rng.choice(CTRS), "EndpointConfig": endpoint_config(rng, net)}
    return [("POST", f"/networks/{net}/connect", body)]


OPS = [  # (weight, name, builder)
    (8, "net-create", lambda r: [("POST", "/networks/create", net_create_body(r, r.choice(list(NETS))))]),
    (6, "net-rm", lambda r: [("DELETE", f"/networks/{r.choice(list(NETS))}", None)]),
    (24, "run", op_run),
    (9, "rm", lambda r: [("DELETE", f"/containers/{r.choice(CTRS)}?force=1", None)]),
    (22, "connect", op_connect),
    (18, "disconnect", lambda r: [("POST", f"/networks/{pick_net(r)}/disconnect",
                                   {"Container": r.choice(CTRS)})]),
    (6, "stop", lambda r: [("POST", f"/containers/{r.choice(CTRS)}/stop?t=0", None)]),
    (6, "start", lambda r: [("POST", f"/containers/{r.choice(CTRS)}/start", None)]),
]


class Storm:
    def __init__(self, args):
        self.sock, self.seed, self.round, self.ops = args["socket"], args["seed"], args["round"], args["ops"]
        self.clients, self.kill_pid = args["clients"], args["kill_pid"]
        self.kill_at = random.Random(f"{self.seed}:{self.round}:kill").randint(self.ops // 2, self.ops)
        self.lock = threading.Lock()
        self.started = 0
        self.killed = threading.Event()
        self.reached = threading.Event()
        self.counts = {"ok": 0, "expected": 0, "interrupted": 0, "unexpected": 0, "completed": 0}
        self.log = open(args["log"], "a") if args["log"] else None

    def note(self, line):
        with self.lock:
            if self.log:
                self.log.write(line + "\n")
                self.log.flush()

    def take(self):
        """The next operation number, or None when the round is over."""
        with self.lock:
            if self.killed.is_set() or self.started >= self.ops:
                return None
            self.started += 1
            if self.kill_pid and self.started >= self.kill_at:
                self.reached.set()
            return self.started

    def classify(self, status, msg):
        if 200 <= status < 300 or status == 304:
            return "ok"
        if status in (404, 409) or (status == 400 and any(s in msg for s in EXPECTED_400)):
            return "expected"
        return "unexpected"

    def request(self, method, path, body):
        """(status, message); status 0 when the connection failed."""
        conn = UnixHTTP(self.sock, timeout=60)
        try:
            data = json.dumps(body) if body is not None else None
            hdrs = {"Content-Type": "application/json"} if data else {}
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read().decode(errors="replace")
            try:
                msg = json.loads(raw).get("message", "") if raw else ""
            except (ValueError, AttributeError):
                msg = raw[:200]
            return resp.status, msg
        except (OSError, http.client.HTTPException) as e:
            return 0, f"{type(e).__name__}: {e}"
        finally:
            conn.close()

    def client(self, k):
        rng = random.Random(f"{self.seed}:{self.round}:{k}")
        while True:
            n = self.take()
            if n is None:
                return
            weights = [w for w, _, _ in OPS]
            _, name, build = rng.choices(OPS, weights=weights)[0]
            for method, path, body in build(rng):
                t0 = time.monotonic()
                status, msg = self.request(method, path, body)
                dt = time.monotonic() - t0
                if status == 0:
                    cls = "interrupted" if self.killed.is_set() else "unexpected"
                else:
                    cls = self.classify(status, msg)
                if dt > 30:
                    cls = "unexpected"
                with self.lock:
                    self.counts[cls] += 1
                self.note(f"r{self.round} #{n} client{k} {name}: {method} {path} "
                          f"{json.dumps(body) if body else ''} -> {status} {cls} ({dt * 1000:.0f} ms) {msg}")
                if status == 0 or (status >= 400 and name == "run"):
                    break   # run: no start after a failed create
            if status != 0:
                with self.lock:
                    self.counts["completed"] += 1

    def killer(self):
        delay = random.Random(f"{self.seed}:{self.round}:delay").uniform(0, 0.04)
        while not self.reached.wait(0.05):
            if self.done.is_set():
                break
        time.sleep(delay)
        with self.lock:
            self.killed.set()
        try:
            os.kill(self.kill_pid, signal.SIGKILL)
            self.note(f"r{self.round} berthd (pid {self.kill_pid}) killed after {self.started} operations")
        except ProcessLookupError:
            self.note(f"r{self.round} berthd (pid {self.kill_pid}) was already gone")

    def run(self):
        self.done = threading.Event()
        threads = [threading.Thread(target=self.client, args=(k,)) for k in range(self.clients)]
        kt = threading.Thread(target=self.killer) if self.kill_pid else None
        for t in threads + ([kt] if kt else []):
            t.start()
        for t in threads:
            t.join()
        self.done.set()
        if kt:
            self.reached.set()   # every operation done before K was reached: kill now
            kt.join()
        self.counts["started"] = self.started
        self.counts["killed"] = self.killed.is_set()
        print(json.dumps(self.counts))
        return self.counts["unexpected"] == 0


def parse(argv):
    a = {"socket": argv[1], "seed": argv[2], "round": int(argv[3]), "ops": int(argv[4]),
         "clients": 8, "kill_pid": 0, "log": None}
    i = 5
    while i < len(argv):
        key = argv[i].lstrip("-").replace("-", "_")
        a[key] = argv[i + 1] if key == "log" else int(argv[i + 1])
        i += 2
    return a


if __name__ == "__main__":
    sys.exit(0 if Storm(parse(sys.argv)).run() else 1)
