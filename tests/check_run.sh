#!/bin/sh
# check_run.sh - `sample run` against the Python oracle: every fixture in
# tests/corpus/run (NAME.npy, NAME.args, NAME.expected, written by
# tests/oracle/gen_run.py) on every backend `sample info` reports usable.
srcdir=${top_srcdir:-$(dirname "$0")/..}
tool=${SAMPLE_TOOL:-./tools/sample}
dir=$srcdir/tests/corpus/run
out=$(mktemp "${TMPDIR:-/tmp}/check_run.XXXXXX") || exit 99
trap 'rm -f "$out"' 0

backends=$("$tool" info | sed -n 's/^  \([a-z]*\) *built, usable.*/\1/p')
[ -n "$backends" ] || { echo "sample info lists no usable backend"; exit 99; }

passed=0 failed=0
for args in "$dir"/*.args; do
    name=$(basename "$args" .args)
    for b in $backends; do
        # shellcheck disable=SC2046
        if "$tool" run $(sed "s/@BACKEND@/$b/" "$args") "$dir/$name.npy" >"$out" &&
            cmp -s "$out" "$dir/$name.expected"; then
            passed=$((passed + 1))
            echo "ok: $name on $b"
        else
            failed=$((failed + 1))
            echo "FAIL: $name on $b"
            diff "$dir/$name.expected" "$out" | head -5
        fi
    done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
