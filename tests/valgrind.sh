#!/usr/bin/env bash
# tests/valgrind.sh - the test programs of a built tree under valgrind's memcheck.
#
# usage: tests/valgrind.sh [BUILDDIR]      (default: the current directory)
#
# Builds the check programs (make check TESTS=), then runs every one of them
# under valgrind --tool=memcheck --error-exitcode=1 --leak-check=full, once
# with SAMPLE_BACKEND=scalar and once with SAMPLE_BACKEND=openmp (where the
# OpenMP backend is usable), with CK_FORK=no so that valgrind sees the tests
# themselves, and with reduced case counts: SAMPLE_DIFF_CASES=50,
# SAMPLE_LIMITS_QUICK=1 (no multi-gigabyte mappings), SAMPLE_STRESS_SECONDS=3.
# Prints one line per run and the error summary of each failure; the logs are
# kept in BUILDDIR/valgrind/.  Exit status 0 when every run is clean.
#
# Environment: VALGRIND (default valgrind), VALGRIND_BACKENDS (default
# "scalar openmp"), VALGRIND_PROGRAMS (default every tests/check_* program).
set -uo pipefail

build=$(cd "${1:-.}" && pwd) || exit 2
valgrind=${VALGRIND:-valgrind}
if [ ! -f "$build/Makefile" ] || [ ! -x "$build/libtool" ]; then
    echo "valgrind.sh: $build is not a configured build tree" >&2
    exit 2
fi
command -v "$valgrind" >/dev/null || { echo "valgrind.sh: no $valgrind" >&2; exit 2; }
srcdir=$(sed -n 's/^abs_top_srcdir = //p' "$build/Makefile")

echo "==== valgrind: building the test programs"
make -C "$build" -s -j"$(nproc 2>/dev/null || echo 2)" check TESTS= >/dev/null ||
    { echo "valgrind.sh: the build failed" >&2; exit 2; }

programs=${VALGRIND_PROGRAMS:-}
if [ -z "$programs" ]; then
    for p in "$build"/tests/check_*; do
        case $p in *.sh | *.c | *.o | *.log | *.trs) continue ;; esac
        [ -f "$p" ] && [ -x "$p" ] && programs="$programs $(basename "$p")"
    done
fi
backends=${VALGRIND_BACKENDS:-scalar openmp}
# The hip module and its code objects from this tree, as make check uses them.
export SAMPLE_MODULE_PATH=$build/backends/hip/.libs SAMPLE_KERNEL_PATH=$build/kernels
info=$("$build/tools/sample" info 2>/dev/null || true)

logdir=$build/valgrind
mkdir -p "$logdir"
# libgomp keeps its pool threads alive to the end: their TLS blocks are
# reported as possibly lost.  Nothing of libsample's is suppressed.
supp=$logdir/libgomp.supp
cat >"$supp" <<'EOF'
{
   libgomp-pool-thread-tls
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:_dl_allocate_tls
   ...
   obj:*/libgomp.so*
}
EOF
passed=0 failed=0 skipped=0
for b in $backends; do
    if ! printf '%s\n' "$info" | grep -q "^  $b *built, usable"; then
        echo "skip: backend $b is not usable here"
        skipped=$((skipped + 1))
        continue
    fi
    for p in $programs; do
        log=$logdir/$p.$b.log
        start=$(date +%s)
        # shellcheck disable=SC2086
        (
            cd "$build" &&
                top_srcdir=$srcdir CORPUS_DIR=$srcdir/tests/corpus SAMPLE_BACKEND=$b \
                    CK_FORK=no CK_DEFAULT_TIMEOUT=0 SAMPLE_DIFF_CASES=50 \
                    SAMPLE_LIMITS_QUICK=1 SAMPLE_STRESS_SECONDS=3 OMP_WAIT_POLICY=passive \
                    ./libtool --mode=execute "$valgrind" --tool=memcheck --error-exitcode=1 \
                    --leak-check=full --errors-for-leak-kinds=definite,possible \
                    --track-origins=yes --num-callers=30 --suppressions="$supp" \
                    ${VALGRIND_OPTIONS:-} \
                    "tests/$p"
        ) >"$log" 2>&1
        rc=$?
        took=$(($(date +%s) - start))
        summary=$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log" | tail -1)
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1))
            echo "ok:   $p ($b) ${took}s, ${summary:-no summary}"
        elif [ "$rc" -eq 77 ]; then # the Automake code of a skipped test
            skipped=$((skipped + 1))
            echo "skip: $p ($b): $(grep -v '^==' "$log" | tail -1)"
        else
            failed=$((failed + 1))
            echo "FAIL: $p ($b) exit $rc, ${took}s, ${summary:-no summary}; log $log"
            grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|.*(definitely|possibly) lost in)' \
                "$log" | head -20
            grep -E '^[^=].*(FAIL|Assertion|failed)' "$log" | head -10
        fi
    done
done
echo "valgrind: $passed clean, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
