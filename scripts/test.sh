#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what is missing, build, and run every test (unit, fuzz replay + fuzzing, system, scale,
# system under ASan + UBSan). Must run as root.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (the system tests create namespaces, bridges, veths)"; exit 1; }
scripts/install-deps.sh
make -j"$(nproc)" all helpers unit-bins
make unit
make system
# 4,000 containers on one bridge network (~9 min on 2 cores)
make scale
# Once more under ASan + UBSan (build-asan/): any sanitizer report fails the run.
make -j"$(nproc)" asan
make system-asan
