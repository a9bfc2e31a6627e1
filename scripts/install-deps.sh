#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages berth needs to build, run and test (only the missing ones).
set -eu
pkgs=(build-essential pkg-config
      libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev libseccomp-dev libcjson-dev
      libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev zlib1g-dev libyaml-dev
      busybox-static iproute2 nftables util-linux procps psmisc curl jq sqlite3 ca-certificates
      clang libclang-rt-14-dev python3 socat
      etcd-server etcd-client openssl
      podman containernetworking-plugins conmon docker.io containerd runc iptables)
# clang + its runtime: libFuzzer/ASan for the DNS fuzz target; socat: the firewall tests' peers
# podman (+ conmon, runc) and the reference CNI plugins: berth-cni's tests (test_cni*.sh);
# iptables: the reference portmap plugin they chain with
# docker.io (dockerd 20.10 + CLI), containerd, runc: the Docker tests run a private dockerd in
# their own namespaces (tests/system/lib_docker.sh); the package's own service is not used
# bench: hyperfine times process starts (bench/cli); netavark 1.4 needs the iptables binary;
# dnsmasq-base is bench/dns's C reference; gnuplot-nox draws bench/report.sh's plots
[ "${BERTH_BENCH_DEPS:-0}" = 1 ] && pkgs+=(netavark containernetworking-plugins iperf3 socat dnsperf aardvark-dns hyperfine iptables dnsmasq-base gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
