#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Field-by-field comparison of what the docker CLI prints against dockerd and against berthd
for equivalent objects (tests/system/test_docker_compare.sh).

    docker_compare.py KNOWN DOCKERD_DIR BERTH_DIR

Each directory holds, for one CLI, the outputs of the same commands: netls.json, ps.json (one
JSON object per line, from --format '{{json .}}'), netinspect.json, inspect.json (JSON arrays).
Objects are paired by name. IDs, times, addresses and paths are values, not shapes: what is
compared is the set of fields (at any depth) and each value's format: JSON type, and for strings
their kind (ID, image ID, RFC 3339 time, IPv4/IPv6 address or prefix, MAC, path, number, text;
an empty string fits any kind). The keys of data maps (Options, Labels, Containers, Networks,
Ports...) are data, so only their values' shapes count.

Values are compared too where equivalent objects must agree (names, states, commands, drivers,
subnets, settings, network modes...: VALUES below), with IDs, times and durations masked.

KNOWN lists the differences that are understood: `PATH | reason`, PATH a shell pattern over
"<file>:<object>:<field path>". Prints every difference, known or not; exits 1 if one is not.
"""
import fnmatch
import ipaddress
import json
import re
import sys

# Objects whose keys are data (names, IDs, ports, options), not fields.
DATA_PATHS = re.compile(r"(^|\.)(Options|Labels|Containers|Networks|Ports|ExposedPorts|"
                        r"PortBindings|LogConfig\.Config|IPAM\.Options)$")


# Fields whose values must be equal for equivalent objects (regular expressions over the field
# path with concrete keys, arrays as [n]).
VALUES = {
    "netls": [r"Name", r"Driver", r"Scope", r"IPv6", r"Internal", r"Labels"],
    "ps": [r"Names", r"Image", r"Command", r"State", r"Networks", r"Ports", r"Labels",
           r"Mounts", r"LocalVolumes", r"Status", r"RunningFor", r"CreatedAt"],
    "netinspect": [r"Name", r"Scope", r"Driver", r"EnableIPv6", r"Internal", r"Attachable",
                   r"Ingress", r"ConfigFrom\..*", r"ConfigOnly", r"IPAM\.Driver",
                   r"IPAM\.Config\[\d+\]\..*", r"Labels\..*", r"Options\..*",
                   r"Containers\.[^.]+\.Name"],
    "inspect": [r"Name", r"Path", r"Args.*", r"State\.(Status|Running|ExitCode|Paused|Dead|Error)",
                r"Config\.(Cmd|Image|Env|Labels|ExposedPorts|Tty|OpenStdin|User|WorkingDir).*",
                r"HostConfig\.(NetworkMode|PortBindings|Dns|DnsSearch|DnsOptions|ExtraHosts|"
                r"AutoRemove|RestartPolicy|Privileged|Links|Binds).*",
                r"NetworkSettings\.Networks\.[^.]+\.(Aliases|IPAMConfig|IPPrefixLen|"
                r"GlobalIPv6PrefixLen|Links|DriverOpts).*",
                r"NetworkSettings\.Ports\..*",
                r"NetworkSettings\.Networks\.(host|none)\..*"],
}


def mask(v):
    """IDs, times and durations are not compared."""
    if not isinstance(v, str):
        return v
    v = re.sub(r"[0-9a-f]{64}", "<id>", v)
    v = re.sub(r"\b[0-9a-f]{12}\b", "<id>", v)
    v = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?( \+0000 UTC|Z)?", "<time>", v)
    v = re.sub(r"(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes?|"
               r"hours?|days?|weeks?|months?|years?))", "<duration>", v)
    return v


def flatten(v, path, out):
    if isinstance(v, dict):
        if not v:
            out[path] = {}
        for k, x in v.items():
            # a network's containers are keyed by ID: pair them by name
            k = x["Name"] if path == "Containers" and isinstance(x, dict) and "Name" in x else mask(k)
            flatten(x, "%s.%s" % (path, k) if path else k, out)
    elif isinstance(v, list):
        if not v:
            out[path] = []
        for i, x in enumerate(v):
            flatten(x, "%s[%d]" % (path, i), out)
    else:
        out[path] = v
    return out


def compare_values(fname, name, l, r, diffs):
    fl, fr = flatten(l, "", {}), flatten(r, "", {})
    pats = [re.compile(p + "$") for p in VALUES[fname]]
    for p in sorted(set(fl) | set(fr)):
        if not any(x.match(p) for x in pats):
            continue
        a, b = mask(fl.get(p, "<absent>")), mask(fr.get(p, "<absent>"))
        if fname == "ps" and p == "Networks":   # the CLI lists a map: any order
            a, b = ",".join(sorted(str(a).split(","))), ",".join(sorted(str(b).split(",")))
        if a != b:
            diffs.append(("%s:%s:%s=" % (fname, name, p),
                          "value differs: dockerd %s, berthd %s" % (json.dumps(a), json.dumps(b))))


def str_kind(s):
    if s == "":
        return "empty"
    if re.fullmatch(r"[0-9a-f]{64}", s):
        return "id"
    if re.fullmatch(r"sha256:[0-9a-f]{64}", s):
        return "image-id"
    if re.fullmatch(r"[0-9a-f]{12}", s):
        return "short-id"
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", s):
        return "time"
    if re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", s):
        return "mac"
    try:
        return "ipv%d" % ipaddress.ip_address(s).version
    except ValueError:
        pass
    try:
        if "/" in s and not s.startswith("/"):
            return "prefix%d" % ipaddress.ip_network(s, strict=False).version
    except ValueError:
        pass
    if s.startswith("/"):
        return "path"
    if re.fullmatch(r"-?\d+", s):
        return "number"
    return "text"


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string:" + str_kind(v)
    if isinstance(v, list):
        return "array"
    return "object"


def shape(v, path, out, data=False):
    """Every field path of v -> the set of kinds seen there (a data map's string values are
    data too: only their type counts)."""
    out.setdefault(path, set()).add("string" if data and isinstance(v, str) else kind(v))
    if isinstance(v, dict):
        data = bool(DATA_PATHS.search(path))
        for k, x in v.items():
            shape(x, "%s.%s" % (path, "*" if data else k) if path else ("*" if data else k),
                  out, data)
    elif isinstance(v, list):
        for x in v:
            shape(x, path + "[]", out)
    return out


# String kinds an empty string may stand for (free text); an empty ID, address, path or time
# where the other side has one is a difference.
LOOSE = {"string:text", "string:number", "string:empty", "string"}


def compatible(a, b):
    """Two sets of kinds agree: the same kinds, an empty string fitting free text."""
    if a == b:
        return True
    na, nb = a - {"string:empty"}, b - {"string:empty"}
    if not na or not nb:
        return (na | nb) <= LOOSE
    return na == nb


def load(path, lines):
    with open(path) as f:
        if lines:
            return [json.loads(l) for l in f if l.strip()]
        return json.load(f)


def name_of(o):
    for k in ("Name", "Names"):
        if k in o:
            n = o[k]
            return (n[0] if isinstance(n, list) else n).lstrip("/")
    return "?"


def compare(fname, left, right, diffs):
    l = {name_of(o): o for o in left}
    r = {name_of(o): o for o in right}
    for name in sorted(set(l) | set(r)):
        if name not in l or name not in r:
            diffs.append(("%s:%s:" % (fname, name), "object only on %s" %
                          ("dockerd" if name in l else "berthd")))
            continue
        sl, sr = shape(l[name], "", {}), shape(r[name], "", {})
        for p in sorted(set(sl) | set(sr)):
            where = "%s:%s:%s" % (fname, name, p)
            if p not in sr:
                diffs.append((where, "field missing on berthd (dockerd: %s)" % sorted(sl[p])))
            elif p not in sl:
                diffs.append((where, "field only on berthd (%s)" % sorted(sr[p])))
            elif not compatible(sl[p], sr[p]):
                diffs.append((where, "format differs: dockerd %s, berthd %s" %
                              (sorted(sl[p]), sorted(sr[p]))))
        compare_values(fname, name, l[name], r[name], diffs)


def main():
    known_file, ddir, bdir = sys.argv[1:4]
    known = []
    with open(known_file) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                pat, _, why = line.partition("|")
                known.append((pat.strip(), why.strip()))
    diffs = []
    for fname, lines in (("netls", True), ("ps", True), ("netinspect", False),
                         ("inspect", False)):
        compare(fname, load("%s/%s.json" % (ddir, fname), lines),
                load("%s/%s.json" % (bdir, fname), lines), diffs)
    bad = 0
    for where, what in diffs:
        why = next((w for p, w in known if fnmatch.fnmatchcase(where, p)), None)
        if why is None:
            bad += 1
            print("DIFF  %s: %s" % (where, what))
        else:
            print("known %s: %s (%s)" % (where, what, why))
    print("%d differences, %d not known" % (len(diffs), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
