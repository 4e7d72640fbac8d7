#!/usr/bin/env bash
# tests/tools/gotest-summary.sh CMD...: runs a verbose go test command with
# its output as usual, then repeats the names of the tests that failed (and
# any panic or timeout) as the last lines, so that a CI log shown only in
# part still says what failed. Exits with the command's status.
set -uo pipefail
log=$(mktemp "${TMPDIR:-/tmp}/gotest-summary.XXXXXX")
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" != 0 ]; then
	echo "=== summary: exit $rc; failed tests and fatal lines:"
	grep -E -- '^\s*--- FAIL|^panic:|test timed out|^FAIL\s' "$log" || echo "(no failed test named: see the output above)"
	grep -E -B3 -A12 -- '^\s*--- FAIL' "$log" | grep -E -- '_test\.go:[0-9]+:' | grep -vE ': \$ |: exit [0-9]+ in ' | head -40
fi
exit "$rc"
