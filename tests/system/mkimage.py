#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Builds image archives for tests/system/test_image_load.sh: `docker save` archives and OCI image
# layouts made of busybox (static, from the host), with whiteouts and opaque directories, and
# hostile ones. Usage: mkimage.py KIND OUT [ARG]
#   docker OUT       two layers; tag testimg:1
#   oci OUT          the same as an OCI layout, gzip layers; named ocitest:latest
#   hostile-KIND OUT one bad member (see HOSTILE below) in an otherwise fine docker archive
import gzip, hashlib, io, json, os, sys, tarfile

BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "ls", "cat", "id", "pwd", "env", "echo", "sleep", "test", "stat", "readlink",
           "ping", "httpd", "wget", "true", "tail", "stty", "tty", "ps", "head", "grep"]


def entry(t, name, data=None, **kw):
    ti = tarfile.TarInfo(name)
    ti.mtime = 1700000000
    for k, v in kw.items():
        setattr(ti, k, v)
    if data is not None:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def layer(fill):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        fill(t)
    return buf.getvalue()


def base_layer(t):
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    entry(t, "bin", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "bin/busybox", bb, mode=0o755)
    for a in APPLETS:
        entry(t, "bin/" + a, type=tarfile.SYMTYPE, linkname="busybox")
    entry(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
    entry(t, "etc/group", b"root:x:0:\napp:x:1000:\nextra:x:2000:app\n")
    entry(t, "tmp", type=tarfile.DIRTYPE, mode=0o1777)
    entry(t, "gone.txt", b"removed by the next layer\n")
    entry(t, "keep.txt", b"kept\n", mode=0o640, uid=1000, gid=1000)
    entry(t, "opq", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "opq/old1", b"old\n")
    entry(t, "opq/sub", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "opq/sub/old2", b"old\n")
    entry(t, "lib", type=tarfile.SYMTYPE, linkname="usr/lib")
    entry(t, "usr", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "usr/lib", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "dev", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "dev/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    entry(t, "setuid", b"#!/bin/sh\n", mode=0o4755)


def top_layer(t):
    entry(t, ".wh.gone.txt")
    entry(t, "opq", type=tarfile.DIRTYPE, mode=0o755)
    entry(t, "opq/.wh..wh..opq")
    entry(t, "opq/new", b"new\n")
    entry(t, "bin/bb-hardlink", type=tarfile.LNKTYPE, linkname="bin/busybox")
    entry(t, "lib/through-a-relative-symlink", b"lands in usr/lib\n")
    entry(t, "keep.txt", b"kept, replaced\n", mode=0o644, uid=1000, gid=1000)
    entry(t, "deep/er/path", b"parents made\n")


CONFIG = {
    "architecture": "amd64", "os": "linux", "created": "2024-01-02T03:04:05Z",
    "config": {
        "Env": ["PATH=/bin", "FOO=bar", "SHADOWED=image"],
        "Entrypoint": ["sh", "-c"],
        "Cmd": ["echo hi from $FOO in $(pwd) as $(id -u):$(id -g) groups $(id -G)"],
        "WorkingDir": "/work", "User": "app", "ExposedPorts": {"80/tcp": {}},
    },
}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def config_for(layers):
    c = json.loads(json.dumps(CONFIG))
    c["rootfs"] = {"type": "layers", "diff_ids": ["sha256:" + sha(l) for l in layers]}
    return json.dumps(c).encode()


def add_bytes(t, name, data):
    entry(t, name, data, mode=0o644)


def docker_archive(out, layers, tags=("testimg:1",), config=None, gz=False):
    cfg = config or config_for(layers)
    manifest = [{"Config": sha(cfg) + ".json", "RepoTags": list(tags),
                 "Layers": ["l%d/layer.tar" % i for i in range(len(layers))]}]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for i, l in enumerate(layers):
            add_bytes(t, "l%d/layer.tar" % i, l)
        add_bytes(t, sha(cfg) + ".json", cfg)
        add_bytes(t, "manifest.json", json.dumps(manifest).encode())
    data = buf.getvalue()
    with open(out, "wb") as f:
        f.write(gzip.compress(data) if gz else data)


def oci_archive(out, layers):
    blobs = {}

    def blob(b):
        blobs[sha(b)] = b
        return {"digest": "sha256:" + sha(b), "size": len(b)}
    gzl = [gzip.compress(l) for l in layers]
    cfg = config_for(layers)
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": dict(blob(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
           "layers": [dict(blob(l), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
                      for l in gzl]}
    mb = json.dumps(man).encode()
    index = {"schemaVersion": 2, "manifests": [dict(blob(mb),
             mediaType="application/vnd.oci.image.manifest.v1+json",
             annotations={"io.containerd.image.name": "docker.io/library/ocitest:latest",
                          "org.opencontainers.image.ref.name": "latest"})]}
    with tarfile.open(out, "w") as t:
        add_bytes(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add_bytes(t, "index.json", json.dumps(index).encode())
        entry(t, "blobs", type=tarfile.DIRTYPE, mode=0o755)
        entry(t, "blobs/sha256", type=tarfile.DIRTYPE, mode=0o755)
        for h, b in blobs.items():
            add_bytes(t, "blobs/sha256/" + h, b)


def hostile(kind):
    def bad(t):
        entry(t, "ok.txt", b"fine\n")
        outside = os.environ.get("OUTSIDE", "/nonexistent")
        if kind == "dotdot":
            entry(t, "../../../../../../.." + outside + "/pwned", b"escaped\n")
        elif kind == "absolute":
            entry(t, outside + "/pwned", b"escaped\n")
        elif kind == "abs-symlink":
            entry(t, "esc", type=tarfile.SYMTYPE, linkname=outside)
            entry(t, "esc/pwned", b"escaped\n")
        elif kind == "rel-symlink":
            entry(t, "esc", type=tarfile.SYMTYPE, linkname="../../../../../../../.." + outside)
            entry(t, "esc/pwned", b"escaped\n")
        elif kind == "symlink-parent-chain":
            entry(t, "a", type=tarfile.SYMTYPE, linkname="b")
            entry(t, "b", type=tarfile.SYMTYPE, linkname=outside)
            entry(t, "a/pwned", b"escaped\n")
        elif kind == "hardlink-out":
            entry(t, "hl", type=tarfile.LNKTYPE, linkname="../../../../../../etc/passwd")
        elif kind == "device":
            entry(t, "etc", type=tarfile.DIRTYPE, mode=0o755)
            entry(t, "etc/evil", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        elif kind == "huge":
            entry(t, "big", b"\0" * int(os.environ.get("HUGE", "70000000")))
        elif kind == "whiteout-out":
            entry(t, "../.wh." + os.path.basename(outside), b"")
    return bad


def main():
    kind, out = sys.argv[1], sys.argv[2]
    layers = [layer(base_layer), layer(top_layer)]
    if kind == "docker":
        docker_archive(out, layers)
    elif kind == "docker-gz":
        docker_archive(out, layers, tags=("gzimg:2",), gz=True)
    elif kind == "oci":
        oci_archive(out, layers)
    elif kind == "bad-diffid":
        cfg = config_for([layers[0], layers[0]])
        docker_archive(out, layers, tags=("baddiff:1",), config=cfg)
    elif kind == "not-tar":
        with open(out, "wb") as f:
            f.write(b"this is not a tar archive at all" * 100)
    elif kind.startswith("hostile-"):
        l = layer(hostile(kind[8:]))
        gz = kind == "hostile-huge"
        docker_archive(out, [layers[0], gzip.compress(l) if gz else l], tags=("evil:1",),
                       config=config_for([layers[0], l]))
    elif kind == "rootfs":
        with open(out, "wb") as f:
            f.write(layers[0])
    else:
        sys.exit("unknown kind " + kind)


main()
