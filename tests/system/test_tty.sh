#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Terminals: run -it, attach, start -ai and exec -it driven through a pty made by script(1): the
# prompt, a command's output, the window size (at start and after the outer terminal is
# resized: SIGWINCH), Ctrl-P Ctrl-Q and --detach-keys (the container keeps running), the exit
# code; -i without a terminal with pipes (run and exec); docker's exec against berthd; an
# interactive container survives a berthd restart and is attached again.
command -v script >/dev/null || { echo "SKIP: no script(1) (util-linux)"; exit 77; }
. "$(dirname "$0")/lib.sh"
bt_setup

# pty_start NAME COMMAND: COMMAND (a shell line) in a pty of 33 rows, 111 columns; its output in
# $BT_DIR/NAME.out, its input from the fifo $BT_DIR/NAME.in (kept open by this shell).
declare -A PTY_FD PTY_PID
pty_start() {
	local name=$1 fd; shift
	mkfifo "$BT_DIR/$name.in"
	exec {fd}<>"$BT_DIR/$name.in"
	PTY_FD[$name]=$fd
	script -qfec "stty rows 33 cols 111; $*" /dev/null <"$BT_DIR/$name.in" >"$BT_DIR/$name.out" 2>&1 &
	PTY_PID[$name]=$!
}
pty_send() { printf '%b' "$2" >&"${PTY_FD[$1]}"; }
# pty_wait NAME PATTERN: the output shows PATTERN (extended regex, CR ignored) within 10 s.
pty_wait() { wait_for 10 bash -c "tr -d '\r' < '$BT_DIR/$1.out' | grep -aqE '$2'"; }
# pty_exit NAME: wait (bounded) for script to end; PTY_RC is the command's exit code.
pty_exit() {
	PTY_RC=timeout
	wait_for 10 bash -c "! kill -0 ${PTY_PID[$1]} 2>/dev/null" || return 1
	wait "${PTY_PID[$1]}"
	PTY_RC=$?
}
# the client's terminal (the pty script made): where a window size change starts
pty_of_client() { readlink "/proc/$(pgrep -f -n "$BERTH .*$1")/fd/0"; }
export -f pty_of_client

# ---- run -it ----
pty_start run "$BERTH run -it --name tt busybox sh"
check "run -it: the shell's prompt arrives (printed before the client attached: held)" pty_wait run '/ # '
pty_send run 'echo $((6*7)); tty; stty size\r'
check "a command's output" pty_wait run '^42$'
check "the container's process has a controlling terminal of its own (/dev/pts/0)" pty_wait run '^/dev/pts/0$'
check "the window size is the client's (33x111 at the start)" pty_wait run '^33 111$'
check "the terminal is a real one (job control: a session leader with a tty)" bash -c '
	[ "$(berth exec tt sh -c "cat /proc/1/stat | cut -d\" \" -f7")" != 0 ]'
check "resize the client's terminal: SIGWINCH reaches berth" bash -c 'stty -F "$(pty_of_client "run -it --name tt")" rows 40 cols 120'
pty_send run 'stty size\r'
check "the container sees the new size (40x120)" pty_wait run '^40 120$'
pty_send run '\x10\x11'
pty_exit run
check "Ctrl-P Ctrl-Q detaches: berth exits 0" test "$PTY_RC" = 0
check "the container keeps running" bash -c '[ "$(berth inspect -f "{{.State.Running}}" tt)" = true ]'
check "logs show the terminal's output" bash -c 'berth logs tt | tr -d "\r" | grep -qx 42'

# ---- attach ----
pty_start att "$BERTH attach tt"
pty_send att '\r'
check "attach: the prompt again" pty_wait att '/ # '
pty_send att 'echo again-$((1+1))\r'
check "attach: a command's output" pty_wait att '^again-2$'
pty_send att 'exit 7\r'
pty_exit att
check "attach ends with the container's exit code (7)" test "$PTY_RC" = 7
check "the container exited with 7" bash -c '[ "$(berth inspect -f "{{.State.ExitCode}}" tt)" = 7 ]'
check_err "attach to a stopped container is refused" "start it first" berth attach tt

# ---- start -ai, --detach-keys ----
check "create -it" berth create -it --name st busybox sh
pty_start start "$BERTH start -ai --detach-keys ctrl-x,x st"
check "start -ai: the prompt" pty_wait start '/ # '
pty_send start 'echo started-ok\r'
check "start -ai: output" pty_wait start '^started-ok$'
pty_send start '\x10\x11'
pty_send start '\x03echo still-here\r'
check "with --detach-keys, Ctrl-P Ctrl-Q is just input" pty_wait start '^still-here$'
pty_send start '\x18x'
pty_exit start
check "ctrl-x,x detaches: exit 0" test "$PTY_RC" = 0
check "st keeps running" bash -c '[ "$(berth inspect -f "{{.State.Running}}" st)" = true ]'

# ---- exec -it ----
pty_start ex "$BERTH exec -it st sh"
check "exec -it: the prompt" pty_wait ex '/ # '
pty_send ex 'tty; stty size; echo exec-$((2+3))\r'
check "exec -it: a terminal of its own (/dev/pts/1)" pty_wait ex '^/dev/pts/1$'
check "exec -it: the client's size" pty_wait ex '^33 111$'
check "exec -it: output" pty_wait ex '^exec-5$'
pty_send ex 'exit 3\r'
pty_exit ex
check "exec -it returns the command's exit code (3)" test "$PTY_RC" = 3
check "the container is untouched" bash -c '[ "$(berth inspect -f "{{.State.Running}}" st)" = true ]'
pty_start exk "$BERTH exec -it --detach-keys ctrl-x,x st sh"
check "exec -it --detach-keys: the prompt" pty_wait exk '/ # '
pty_send exk '\x10\x11'
pty_send exk '\x03echo exec-still-here\r'
check "exec -it with --detach-keys: Ctrl-P Ctrl-Q is just input (berthd too)" pty_wait exk '^exec-still-here$'
pty_send exk '\x18x'
pty_exit exk
check "exec -it: ctrl-x,x detaches, exit 0" test "$PTY_RC" = 0
check "API: exec create refuses bad DetachKeys (400)" bash -c '
	[ "$(curl -s -o /dev/null -w "%{http_code}" --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" \
		-d "{\"Cmd\":[\"true\"],\"DetachKeys\":\"ctrl-1\"}" http://x/containers/st/exec)" = 400 ]'
check_err "exec -it of a command that does not exist: 127" "executable file not found" berth exec -it st nosuchcmd
check "... and its exit code is 127" bash -c 'berth exec -i st nosuchcmd </dev/null 2>/dev/null; [ $? = 127 ]'

# ---- -i without a terminal: pipes ----
check "run -i: stdin from a pipe" bash -c '[ "$(echo hello-pipe | berth run -i --rm busybox cat)" = hello-pipe ]'
check "run -i: the end of input reaches the process" bash -c '[ "$(printf "a\nb\nc\n" | berth run -i --rm busybox wc -l)" = 3 ]'
check "run -i: its exit code" bash -c 'echo | berth run -i --rm busybox sh -c "read x; exit 4"; [ $? = 4 ]'
for i in 1 2 3; do   # each races the start against the attach: a few rounds
	check "run -i: the output of a command that ends at once ($i)" bash -c '
		[ "$(echo | berth run -i --rm busybox echo early-out)" = early-out ]'
	check "exec -i: the same ($i)" bash -c '[ "$(berth exec -i st echo exec-early </dev/null)" = exec-early ]'
	check "run -t: the same through a terminal ($i)" bash -c '
		script -qfec "$BERTH run -t --rm busybox echo tty-early" /dev/null </dev/null | tr -d "\r" | grep -qx tty-early'
done
check "run -i: input after the process closed its stdin harms nothing (exit 0, output)" bash -c '
	{ wait_for 10 berth exec pc test -e /tmp/closed; echo late; berth exec pc touch /tmp/go; } |
	berth run -i --rm --name pc busybox sh -c "exec 0<&-; touch /tmp/closed; until [ -e /tmp/go ]; do sleep 0.1; done; sleep 0.3; echo survived" |
	grep -qx survived; [ "${PIPESTATUS[1]}" = 0 ]'
check "exec -i: stdin from a pipe" bash -c '[ "$(echo via-exec | berth exec -i st cat)" = via-exec ]'
check "exec -i: stdout and stderr apart" bash -c '
	[ "$(berth exec -i st sh -c "echo out; echo err >&2" </dev/null 2>/dev/null)" = out ] &&
	[ "$(berth exec -i st sh -c "echo out; echo err >&2" </dev/null 2>&1 >/dev/null)" = err ]'
check "exec -i: exit code" bash -c 'berth exec -i st sh -c "exit 9" </dev/null; [ $? = 9 ]'
check "exec -d: in the background" bash -c 'berth exec -d st sh -c "echo bg > /tmp/bg" && wait_for 5 berth exec st test -s /tmp/bg'
check "API: exec inspect in Docker's shape" bash -c '
	id=$(curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" -d "{\"Cmd\":[\"true\"]}" http://x/containers/st/exec | jq -r .Id) &&
	curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" -d "{\"Detach\":true}" http://x/exec/$id/start &&
	wait_for 5 bash -c "curl -s --unix-socket $BT_DIR/berth.sock http://x/exec/$id/json | jq -e \".Running == false and .ExitCode == 0 and .ContainerID != null\""'
check "exec sessions go with their container: inspect answers 404 after rm -f, no file left" bash -c '
	berth run -d --name ex busybox sleep 1d >/dev/null &&
	id=$(curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" -d "{\"Cmd\":[\"true\"]}" http://x/containers/ex/exec | jq -r .Id) &&
	curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" -d "{\"Detach\":true}" http://x/exec/$id/start &&
	wait_for 5 bash -c "curl -s --unix-socket $BT_DIR/berth.sock http://x/exec/$id/json | jq -e \".Running == false\"" &&
	id2=$(curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" -d "{\"Cmd\":[\"sleep\",\"1d\"]}" http://x/containers/ex/exec | jq -r .Id) &&
	curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" -d "{\"Detach\":true}" http://x/exec/$id2/start &&
	berth rm -f ex >/dev/null &&
	[ "$(curl -s -o /dev/null -w "%{http_code}" --unix-socket $BT_DIR/berth.sock http://x/exec/$id/json)" = 404 ] &&
	[ "$(curl -s -o /dev/null -w "%{http_code}" --unix-socket $BT_DIR/berth.sock http://x/exec/$id2/json)" = 404 ] &&
	! ls $BT_DIR/run/attach/ | grep -q "^x${id2:0:24}"'
check "API: a create as docker run sends it (busybox:latest, EndpointsConfig \"default\") runs on bridge" bash -c '
	id=$(curl -s --unix-socket $BT_DIR/berth.sock -H "Content-Type: application/json" \
		-d "{\"Image\":\"busybox:latest\",\"Cmd\":[\"true\"],\"HostConfig\":{\"NetworkMode\":\"default\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"default\":{}}}}" \
		http://x/containers/create | jq -r .Id) && [ -n "$id" ] && [ "$id" != null ] &&
	berth inspect $id | jq -e "(.[0].NetworkSettings.Networks | has(\"bridge\")) and .[0].Config.Image == \"busybox\"" >/dev/null &&
	berth rm -f $id >/dev/null'
if command -v docker >/dev/null; then
	check "docker run -i with stdin against berthd" bash -c "
		[ \"\$(echo piped-run | DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker run -i --rm busybox cat)\" = piped-run ]"
	check "docker run -i returns the container's exit code (7)" bash -c "
		DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker run -i --rm busybox sh -c 'exit 7' </dev/null; [ \$? = 7 ]"
	check "docker run -t returns the container's exit code (5)" bash -c "
		script -qec 'DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker run -t --rm busybox sh -c \"exit 5\"' /dev/null </dev/null; [ \$? = 5 ]"
	check "docker exec (no terminal: frames) against berthd" bash -c "
		[ \"\$(DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker exec st sh -c 'echo from-docker')\" = from-docker ]"
	check "docker exec -i with stdin" bash -c "
		[ \"\$(echo piped | DOCKER_HOST=unix://$BT_DIR/berth.sock DOCKER_CONFIG=$BT_DIR/dc timeout 20 docker exec -i st cat)\" = piped ]"
fi

# ---- berthd restarts: the terminal lives in the shim ----
check "run -dit" berth run -dit --name keep busybox sh
bt_stop_berthd
check "berthd starts again" bt_start_berthd
pty_start keep "$BERTH attach keep"
pty_send keep 'echo survived\r'
check "the interactive container survived and answers" pty_wait keep '^survived$'
pty_send keep '\x10\x11'
pty_exit keep
check "detach from it" test "$PTY_RC" = 0
check "run -it --rm: the exit code, then removed" bash -c '
	script -qfec "$BERTH run -it --rm --name gone busybox sh -c \"exit 6\"" /dev/null </dev/null >/dev/null 2>&1; [ $? = 6 ] &&
	! berth inspect gone >/dev/null 2>&1'
bt_summary
