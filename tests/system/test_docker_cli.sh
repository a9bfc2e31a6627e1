#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The stock docker CLI against berthd's Docker-shaped API (networks and containers).
# Skipped (exit 77) when no docker client is installed; the docker.io package brings one.
command -v docker >/dev/null || { echo "SKIP: no docker CLI on this machine"; exit 77; }
. "$(dirname "$0")/lib.sh"
bt_setup
export DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/docker-config
dk() { timeout 20 docker "$@"; }
export -f dk

check "docker version talks to berthd" bash -c "dk version --format '{{.Server.Version}}' | grep -q ."
check "docker network create --ipv6 --subnet" dk network create --ipv6 --subnet 10.81.0.0/24 --subnet fd00:81::/64 dk1
check "docker network ls shows it and the predefined ones" bash -c "dk network ls --format '{{.Name}}' | sort | tr '\n' ' ' | grep -qx 'bridge dk1 host none '"
check "docker network inspect shows the subnets" bash -c "dk network inspect dk1 --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' | grep -q 'fd00:81::/64'"
check "berth sees the network docker created" bash -c "berth network inspect dk1 | jq -e '.[0].EnableIPv6'"
check "run a container with berth" berth run -d --name w busybox sleep 1d
check "docker ps lists it" bash -c "dk ps --format '{{.Names}}' | grep -qx w"
check "docker network connect --ip --alias" dk network connect --ip 10.81.0.50 --alias www dk1 w
check "the interface appeared live with the requested address" bash -c "berth exec w ip addr show eth1 | grep -q 10.81.0.50/24"
check "docker inspect shows the endpoint" bash -c "dk inspect w --format '{{(index .NetworkSettings.Networks \"dk1\").IPAddress}}' | grep -qx 10.81.0.50"
check_err "docker gets berth's error for a duplicate connect" "already connected" dk network connect dk1 w
check "docker network disconnect" dk network disconnect dk1 w
check "the interface is gone" bash -c "! berth exec w ip link show eth1"
check_err "docker rm of a running container needs -f" "running" dk rm w
check "docker rm -f" dk rm -f w
check_err "docker network rm of the predefined bridge is refused" "pre-defined" dk network rm bridge
check "docker network rm" dk network rm dk1
check_err "docker gets a clear error for an unknown network" "no such network" dk network inspect dk1
bt_summary
