#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every tests/system/test_*.sh (or the ones named), two at a time, and adds up their
# "N passed, M failed[, K skipped]" lines. Each test isolates itself in its own namespaces.
# Skips are counted and listed: whole scripts (exit 77) and single checks (lines starting with
# SKIP or skip). A script that fails and passes when rerun alone is reported FLAKY, and the suite
# still fails: a failure under load is a race to find, not noise.
set -u
cd "$(dirname "$0")"
top=$(cd ../.. && pwd)
export NLTEST=${NLTEST:-$top/build/tests/helpers/nltest} RTTEST=${RTTEST:-$top/build/tests/helpers/rttest}
export APITEST=${APITEST:-$top/build/tests/helpers/apitest}
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(test_*.sh)
out=$(mktemp -d)
jobs_max=${BT_JOBS:-2}
for t in "${tests[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
	( start=$SECONDS; timeout 600 bash "$t" >"$out/$t.log" 2>&1; echo $? >"$out/$t.rc"; echo $((SECONDS - start)) >"$out/$t.time" ) &
done
wait
# A script that failed while sharing the machine is run once more, alone, to tell a flaky script
# (FLAKY, the suite fails anyway) from a broken one.
flaky=()
for t in "${tests[@]}"; do
	rc=$(cat "$out/$t.rc")
	[ "$rc" = 0 ] || [ "$rc" = 77 ] || [ -n "${BT_NO_RETRY:-}" ] || {
		mv "$out/$t.log" "$out/$t.first.log"
		start=$SECONDS; timeout 600 bash "$t" >"$out/$t.log" 2>&1; echo $? >"$out/$t.rc"
		echo $((SECONDS - start)) >"$out/$t.time"
		if [ "$(cat "$out/$t.rc")" = 0 ]; then
			flaky+=("$t")
			{ echo "FLAKY: the first run failed (its failures below), the rerun alone passed"
			  grep -E 'FAIL' "$out/$t.first.log"; } >>"$out/$t.log"
		fi
	}
done
pass=0; fail=0; skip=0; skipped_scripts=(); bad=()
: >"$out/skips"
for t in "${tests[@]}"; do
	echo "=== $t ($(cat "$out/$t.time")s)"
	cat "$out/$t.log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/$t.log" | tail -1)
	p=$(echo "$line" | awk '{print $1}'); f=$(echo "$line" | awk '{print $3}')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	grep -E '^[[:space:]]*(SKIP|skip)\b' "$out/$t.log" | sed "s|^[[:space:]]*|$t: |" >>"$out/skips"
	rc=$(cat "$out/$t.rc")
	if [ "$rc" = 77 ]; then skipped_scripts+=("$t"); echo "SKIPPED: $t"; continue; fi
	if [ "$rc" != 0 ]; then bad+=("$t"); [ -z "$line" ] && fail=$((fail + 1)); fi
done
skip=$(grep -c . "$out/skips")
echo
if [ "$skip" -gt 0 ]; then echo "skipped ($skip):"; sed 's/^/  /' "$out/skips"; fi
rm -rf "$out"
[ ${#flaky[@]} -gt 0 ] && echo "FLAKY scripts (failed under load, passed alone; the suite fails): ${flaky[*]}"
[ ${#bad[@]} -gt 0 ] && echo "failing scripts: ${bad[*]}"
echo "system: $pass passed, $fail failed, $skip skipped (${#skipped_scripts[@]} whole scripts)"
[ "$fail" -eq 0 ] && [ ${#bad[@]} -eq 0 ] && [ ${#flaky[@]} -eq 0 ]
