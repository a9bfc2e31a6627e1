#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# berth's command line without a daemon: flag parsing, usage errors, help, and the connection
# error when berthd is absent. No privileges, no kernel objects.
#   BERTH=path/to/berth tests/system/test_cli_parse.sh
source "$(dirname "$0")/lib.sh"

if [ ! -x "$BERTH" ]; then
	echo "SKIP: $BERTH is not built"
	exit 77
fi
mkdir -p "$BT_DIR"
trap 'rm -rf "$BT_DIR"' EXIT
export BERTH_HOST=unix://$BT_DIR/absent.sock

# one_line_err "description" "expected stderr" command...: fails, exit 1, exactly one stderr line.
one_line_err() {
	local desc=$1 want=$2 rc; shift 2
	"$@" >"$BT_DIR/out" 2>"$BT_DIR/err"; rc=$?
	if [ $rc -ne 1 ]; then
		ko "$desc (exit $rc, want 1)"
	elif [ "$(wc -l <"$BT_DIR/err")" -ne 1 ]; then
		ko "$desc (stderr has $(wc -l <"$BT_DIR/err") lines)"; sed 's/^/       | /' "$BT_DIR/err"
	elif ! grep -qF -- "$want" "$BT_DIR/err"; then
		ko "$desc (stderr: $(cat "$BT_DIR/err"))"
	else
		ok "$desc"
	fi
}

say "help and version"
check "berth --help" berth --help
check "berth network create --help" berth network create --help
check "berth run --help" berth run --help
check "berth help network" berth help network
check "berth --version" berth --version
check "usage lists --subnet" grep -q -- '--subnet' <(berth network create --help)

say "usage errors"
one_line_err "unknown flag" 'berth: unknown flag --x for "network create"' berth network create --x n
one_line_err "unknown short flag" 'berth: unknown flag -z for "ps"' berth ps -z
one_line_err "unknown command" 'unknown command "frob"' berth frob
one_line_err "unknown subcommand" 'unknown command "frob" for "berth network"' berth network frob
one_line_err "missing name" '"network create" requires exactly 1 argument' berth network create
one_line_err "missing flag value" 'flag --subnet needs an argument' berth network create n --subnet
one_line_err "connect needs 2 args" '"network connect" requires exactly 2 arguments' berth network connect n
one_line_err "exec needs a command" '"exec" requires at least 2 arguments' berth exec web
one_line_err "gateway outside subnets" 'no matching subnet for gateway 10.9.0.1' \
	berth network create --subnet 10.1.0.0/24 --gateway 10.9.0.1 n
one_line_err "two gateways one subnet" 'cannot configure multiple gateways' \
	berth network create --subnet 10.1.0.0/24 --gateway 10.1.0.1 --gateway 10.1.0.2 n
one_line_err "bad port spec" 'invalid port specification' berth run -p 1:2:3:4 busybox
one_line_err "bad -H" 'only unix:// sockets are supported' berth -H tcp://127.0.0.1:1 ps
one_line_err "bad format" 'unsupported format yaml' berth ps --format yaml

say "no daemon"
one_line_err "connection error names the socket" \
	"berth: cannot connect to berthd at $BT_DIR/absent.sock: No such file or directory (is berthd running?)" \
	berth network ls
one_line_err "-H overrides BERTH_HOST" "cannot connect to berthd at $BT_DIR/other.sock" \
	berth -H "unix://$BT_DIR/other.sock" ps

bt_summary
