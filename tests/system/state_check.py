#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Consistency checks of tests/system/lib.sh (bt_check_consistent) that compare structured state
and are clumsy in jq: the store against the API, nftables elements against the store, the
addresses inside each container against its endpoints, DNS answers against live endpoints.

  state_check.py store DB      < ctrs.json   API containers/endpoints = store rows
  state_check.py nft DB        < nft.json    elements of berth's sets and maps = store
  state_check.py addrs RUNDIR  < ctrs.json   addresses in each container netns = endpoints
  state_check.py dns RUNDIR [NAME...] < ctrs.json
                                             127.0.0.11 in each container answers exactly the
                                             addresses of the live endpoints that share a
                                             network with it (names of ctrs.json + NAME...)

ctrs.json is bt_ctrs_json's output (berth ps -a, endpoints tagged with .Driver). Exit status 0
when consistent; differences are printed. Only reads (the store is opened read-only)."""
import ctypes
import ipaddress
import json
import os
import random
import select
import socket
import sqlite3
import struct
import time
import subprocess
import sys

EP_STATE = {0: "inactive", 1: "pending", 2: "active"}
CTR_RUNNING = 1
OPT_ICC = "com.docker.network.bridge.enable_icc"
OPT_MASQ = "com.docker.network.bridge.enable_ip_masquerade"
OPT_GW4 = "com.docker.network.bridge.gateway_mode_ipv4"
OPT_GW6 = "com.docker.network.bridge.gateway_mode_ipv6"


def db_rows(path, sql):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql)]
    finally:
        con.close()


def norm_ip(s):
    return str(ipaddress.ip_address(s)) if s else ""


def diff(label, want, got):
    """Prints the difference of two sets; True when equal."""
    if want == got:
        return True
    for x in sorted(want - got, key=str):
        print(f"{label}: missing {x}")
    for x in sorted(got - want, key=str):
        print(f"{label}: unexpected {x}")
    return False


def ctr_name(c):
    return c["Names"][0].lstrip("/")


# ---- store = API ----

def check_store(db, ctrs):
    ok = True
    nets = {n["id"]: n["name"] for n in db_rows(db, "select id, name from networks")}
    state_names = {0: "created", 1: "running", 2: "exited"}
    want = {(ctr_name(c), c["State"]) for c in ctrs}
    got = {(r["name"], state_names.get(r["state"], str(r["state"])))
           for r in db_rows(db, "select name, state from containers")}
    ok &= diff("containers (API vs store)", want, got)
    want = set()
    for c in ctrs:
        for name, ep in c["NetworkSettings"]["Networks"].items():
            if "Berth" not in ep:
                continue
            want.add((ctr_name(c), name, ep["Berth"]["State"], norm_ip(ep["IPAddress"]),
                      norm_ip(ep["GlobalIPv6Address"]), ep["Berth"]["Interface"]))
    ids = {c["Id"]: ctr_name(c) for c in ctrs}
    got = {(ids.get(r["container_id"], r["container_id"]),
            nets.get(r["network_id"], r["network_id"]), EP_STATE.get(r["state"], r["state"]),
            norm_ip(r["ip4"]), norm_ip(r["ip6"]), r["ifname"])
           for r in db_rows(db, "select * from endpoints")}
    ok &= diff("endpoints (API vs store)", want, got)
    return ok


# ---- nftables = store ----

def opt(n, key):
    return n["options"].get(key)


def opt_false(n, key):
    return opt(n, key) in ("false", "0")


def ll_of(mac):
    b = bytes.fromhex(mac.replace(":", ""))
    eui = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:6]
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui))


def nft_expected(db):
    """({set name: {element}} the store implies, ports consistent)"""
    want = {}

    def add(s, *key):
        want.setdefault(s, set()).add(tuple(str(k) for k in key))

    nets = {}
    for n in db_rows(db, "select * from networks where driver = 'bridge' and ifname != ''"):
        n["options"] = json.loads(n["options"] or "{}")
        fams = {ipaddress.ip_network(s["Subnet"], strict=False).version
                for s in json.loads(n["subnets"] or "[]")}
        br, internal = n["ifname"], bool(n["internal"])
        masq = not internal and not opt_false(n, OPT_MASQ)
        nets[n["id"]] = n
        add("bridges", br)
        if internal:
            add("internal", br)
        if not opt_false(n, OPT_ICC):
            add("icc", br, br)
        for f, gw in ((4, OPT_GW4), (6, OPT_GW6)):
            routed = opt(n, gw) == "routed"
            if masq and f in fams and not routed:
                add(f"masq{f}", br)
            if not internal and routed:
                add(f"routed{f}", br)
    for e in db_rows(db, "select * from endpoints where state != 0 and host_ifname != ''"):
        n = nets.get(e["network_id"])
        if not n or not e["mac"]:
            continue
        ifn = e["host_ifname"]
        add("ports", ifn)
        add("mac", ifn, e["mac"].lower())
        for f, ip in ((4, e["ip4"]), (6, e["ip6"])):
            if ip:
                add(f"ip{f}", ifn, norm_ip(ip))
                add(f"ctr{f}", norm_ip(ip))
        add("ip6", ifn, ll_of(e["mac"]))
        if opt_false(n, OPT_ICC):
            add("noicc", ifn)
    spill_elems(nets, add)
    return want, port_elems(db, add)


def spill_elems(nets, add):
    """Trunk elements of the extra bridges the API lists (BT_SPILL, see lib.sh): bx<digits> is
    joined to its network's bridge by the veth by<digits> (there) - bz<digits> (on it)."""
    by_bridge = {n["ifname"]: n for n in nets.values()}
    for s in json.loads(os.environ.get("BT_SPILL") or "[]"):
        n = by_bridge.get(s["bridge"])
        for x in s["extra"]:
            trunk, up = "by" + x[2:], "bz" + x[2:]
            add("xbridges", x)
            add("uplinks", up)
            add("reflect", trunk, trunk, s["mac"])
            if n and opt_false(n, OPT_ICC):
                add("noicc", trunk)


def port_elems(db, add):
    """Elements of the published ports of running containers; False when a port goes to an
    address that is not one of its container's active endpoints."""
    ok, mine = True, {}
    for e in db_rows(db, "select container_id, ip4, ip6 from endpoints where state = 2"):
        mine.setdefault(e["container_id"], set()).update(norm_ip(a) for a in (e["ip4"], e["ip6"]) if a)
    for c in db_rows(db, f"select id, name, extra from containers where state = {CTR_RUNNING}"):
        for p in json.loads(c["extra"] or "{}").get("BerthPorts", []):
            if norm_ip(p["Target"]) not in mine.get(c["id"], set()):
                print(f"{c['name']}: published port {p['HostPort']}/{p['Proto']} goes to "
                      f"{p['Target']}, not an address of its endpoints")
                ok = False
            f = p["Family"]
            val = (norm_ip(p["Target"]), p["ContainerPort"])
            if p["HostIp"]:
                add(f"pub{f}", norm_ip(p["HostIp"]), p["Proto"], p["HostPort"], *val)
            else:
                add(f"pubany{f}", p["Proto"], p["HostPort"], *val)
    return ok


def nft_flat(x):
    if isinstance(x, dict) and "concat" in x:
        return [y for v in x["concat"] for y in nft_flat(v)]
    if isinstance(x, dict) and "elem" in x:
        return nft_flat(x["elem"]["val"])
    if isinstance(x, list):       # a map element: [key, value]
        return [y for v in x for y in nft_flat(v)]
    if isinstance(x, str):
        try:
            return [norm_ip(x)]
        except ValueError:
            return [x]
    return [str(x)]


def nft_actual(docs):
    got = {}
    for doc in docs:
        for o in doc.get("nftables", []):
            s = o.get("set") or o.get("map")
            if s is None:
                continue
            got[s["name"]] = {tuple(nft_flat(e)) for e in s.get("elem", [])}
    return got


def json_docs(text):
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        doc, i = dec.raw_decode(text, i)
        out.append(doc)


def check_nft(db, text):
    (want, ok), got = nft_expected(db), nft_actual(json_docs(text))
    if not got:
        print("no nftables set of berth found")
        return False
    for name in sorted(set(want) | set(got)):
        ok &= diff(f"nft set {name}", want.get(name, set()), got.get(name, set()))
    return ok


# ---- container interfaces' addresses = endpoints ----

def has_netns(c):
    return c["State"] == "running" and not c.get("HostMode")


def check_addrs(rundir, ctrs):
    ok, holder = True, {}
    for c in filter(has_netns, ctrs):
        want = set()
        for ep in c["NetworkSettings"]["Networks"].values():
            for k in ("IPAddress", "GlobalIPv6Address"):
                if ep.get(k) and ep.get("Driver") != "none":
                    want.add((ep["Berth"]["Interface"], norm_ip(ep[k])))
        out = subprocess.run(["nsenter", f"--net={rundir}/netns/{c['Id']}", "ip", "-j", "addr"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{ctr_name(c)}: ip addr failed: {out.stderr.strip()}")
            ok = False
            continue
        got = {(link["ifname"], norm_ip(a["local"]))
               for link in json.loads(out.stdout) if link["ifname"] != "lo"
               for a in link.get("addr_info", []) if a.get("scope") == "global"}
        ok &= diff(f"addresses in {ctr_name(c)}", want, got)
        for _, a in got:
            if a in holder:
                print(f"address {a} is held by {holder[a]} and {ctr_name(c)}")
                ok = False
            holder[a] = ctr_name(c)
    return ok


# ---- DNS answers = live endpoints ----

def dns_query(qid, name, qtype):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def dns_skip_name(buf, off):
    while True:
        n = buf[off]
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
        if n == 0:
            return off


def dns_answers(buf):
    """(rcode, [(type, address)])"""
    _, flags, qd, an, _, _ = struct.unpack_from("!HHHHHH", buf)
    off = 12
    for _ in range(qd):
        off = dns_skip_name(buf, off) + 4
    out = []
    for _ in range(an):
        off = dns_skip_name(buf, off)
        t, _, _, rdlen = struct.unpack_from("!HHIH", buf, off)
        off += 10
        if t in (1, 28):
            out.append((t, str(ipaddress.ip_address(buf[off:off + rdlen]))))
        off += rdlen
    return flags & 0xF, out


_libc = ctypes.CDLL(None, use_errno=True)


def udp_socket_in(netns):
    fd = os.open(netns, os.O_RDONLY)
    try:
        if _libc.setns(fd, 0) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    finally:
        os.close(fd)


def dns_exchange(sock, queries, timeout=2.0, tries=3):
    """queries: {qid: packet}. Sends them (at most 32 in flight) and returns {qid: reply}. Like a
    resolver, a query unanswered for `timeout` seconds is sent again (UDP: a datagram may be
    dropped when the machine is loaded), `tries` times in all."""
    replies, pending, todo, sent = {}, {}, list(queries), {}
    sock.setblocking(False)
    while todo or pending:
        while todo and len(pending) < 32:
            qid = todo.pop()
            sock.sendto(queries[qid], ("127.0.0.11", 53))
            pending[qid] = time.monotonic()
            sent[qid] = 1
        if not select.select([sock], [], [], 0.2)[0]:
            now = time.monotonic()
            for qid, t0 in list(pending.items()):
                if now - t0 < timeout:
                    continue
                if sent[qid] >= tries:
                    del pending[qid]
                    continue
                sock.sendto(queries[qid], ("127.0.0.11", 53))
                pending[qid] = now
                sent[qid] += 1
            continue
        while True:
            try:
                buf = sock.recv(4096)
            except BlockingIOError:
                break
            qid = struct.unpack_from("!H", buf)[0]
            if qid in pending:
                del pending[qid]
                replies[qid] = buf
    return replies


def dns_views(ctrs):
    """{client id: {name: {(type, addr)}}} as the embedded DNS must answer."""
    records = {}      # network -> name -> {(type, addr)}
    for c in ctrs:
        for net, ep in c["NetworkSettings"]["Networks"].items():
            if net == "bridge" or ep.get("Berth", {}).get("State") != "active":
                continue
            for name in [ctr_name(c), c["Id"][:12]] + (ep.get("Aliases") or []):
                rr = records.setdefault(net, {}).setdefault(name.lower(), set())
                if ep["IPAddress"]:
                    rr.add((1, norm_ip(ep["IPAddress"])))
                if ep["GlobalIPv6Address"]:
                    rr.add((28, norm_ip(ep["GlobalIPv6Address"])))
    views = {}
    for c in filter(has_netns, ctrs):
        eps = c["NetworkSettings"]["Networks"]
        if not any(ep.get("Driver") in ("bridge", "macvlan") for ep in eps.values()):
            continue      # no listener (only on none)
        view = views.setdefault(c["Id"], {})
        for net, ep in eps.items():
            if ep.get("Berth", {}).get("State") == "active":
                for name, rr in records.get(net, {}).items():
                    view.setdefault(name, set()).update(rr)
    return views


def check_dns(rundir, ctrs, extra_names):
    names = {ctr_name(c).lower() for c in ctrs} | {n.lower() for n in extra_names}
    for c in ctrs:
        for ep in c["NetworkSettings"]["Networks"].values():
            names.update(a.lower() for a in ep.get("Aliases") or [])
    ok, byid = True, {c["Id"]: ctr_name(c) for c in ctrs}
    for cid, view in dns_views(ctrs).items():
        queries, asked, qid = {}, {}, random.randrange(1, 30000)
        for name in sorted(names):
            for t in (1, 28):
                qid += 1
                queries[qid] = dns_query(qid, name, t)
                asked[qid] = (name, t)
        try:
            with udp_socket_in(f"{rundir}/netns/{cid}") as s:
                replies = dns_exchange(s, queries)
        except OSError as e:
            print(f"DNS in {byid[cid]}: {e}")
            ok = False
            continue
        for q, (name, t) in sorted(asked.items(), key=lambda x: x[1]):
            want = {a for (ty, a) in view.get(name, set()) if ty == t}
            if q not in replies:
                print(f"DNS in {byid[cid]}: no reply to {name} {'A' if t == 1 else 'AAAA'}")
                ok = False
                continue
            rcode, ans = dns_answers(replies[q])
            got = {a for (ty, a) in ans if ty == t}
            if want and rcode != 0:
                print(f"DNS in {byid[cid]}: {name} rcode {rcode}, want {sorted(want)}")
                ok = False
            else:
                ok &= diff(f"DNS in {byid[cid]}: {name} {'A' if t == 1 else 'AAAA'}", want, got)
    return ok


def main(argv):
    cmd, arg = argv[1], argv[2]
    stdin = sys.stdin.read()
    if cmd == "store":
        return check_store(arg, json.loads(stdin))
    if cmd == "nft":
        return check_nft(arg, stdin)
    if cmd == "addrs":
        return check_addrs(arg, json.loads(stdin))
    if cmd == "dns":
        return check_dns(arg, json.loads(stdin), argv[3:])
    raise SystemExit(f"unknown check {cmd}")


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) else 1)
