#!/usr/bin/env bash
# tests/fuzz/run.sh - build the libFuzzer harnesses with clang against the
# library's sources and run each one for a bounded time.
#
# usage: tests/fuzz/run.sh [SECONDS [HARNESS...]]
#   SECONDS   how long each harness runs (default 60)
#   HARNESS   api, npy (default: both)
#
# Environment:
#   FUZZ_CC         the compiler (default clang; it needs libFuzzer: clang's
#                   compiler-rt, Debian's libclang-rt-N-dev or clang itself)
#   FUZZ_BUILD      a build directory to use (and keep); default a fresh
#                   temporary one, removed at the end
#   FUZZ_ARTIFACTS  where crashing inputs are written (default ./fuzz-artifacts)
#   FUZZ_CORPUS     where the corpus grows (default inside the build directory);
#                   the seed corpora in tests/fuzz/*/corpus are read, never written
#
# Exit status: 0 if every harness ran its time without a crash, a sanitizer
# report or a broken property; 1 otherwise (the crashing input is printed,
# with how to save it as a regression); 2 on a usage or build error.
set -euo pipefail

seconds=${1:-60}
shift || true
harnesses=${*:-api npy}
case $seconds in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a number, not '$seconds'" >&2; exit 2 ;;
esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
cc=${FUZZ_CC:-clang}
artifacts=${FUZZ_ARTIFACTS:-$PWD/fuzz-artifacts}
if [ -n "${FUZZ_BUILD:-}" ]; then
    build=$FUZZ_BUILD
    mkdir -p "$build"
else
    build=$(mktemp -d "${TMPDIR:-/tmp}/sample-fuzz.XXXXXX")
    trap 'rm -rf "$build"' EXIT
fi
build=$(cd "$build" && pwd)
mkdir -p "$artifacts"
artifacts=$(cd "$artifacts" && pwd)

say() { printf '==== fuzz: %s\n' "$*"; }

# ---- the toolchain ---------------------------------------------------------
probe=$build/probe
mkdir -p "$probe"
cat >"$probe/t.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
EOF
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/t.c" -o "$probe/t" 2>"$probe/err"; then
    cat "$probe/err" >&2
    echo "run.sh: $cc cannot build a libFuzzer program (install clang and its compiler-rt," \
        "e.g. Debian's libclang-rt-14-dev)" >&2
    exit 2
fi

# ---- the library, instrumented ---------------------------------------------
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if [ ! -x "$srcdir/configure" ]; then
    say "bootstrapping (autoreconf -fi)"
    (cd "$srcdir" && autoreconf -fi) >"$build/autoreconf.log" 2>&1 ||
        { cat "$build/autoreconf.log" >&2; exit 2; }
fi
# A source tree configured in place (CI builds so) cannot host another build:
# configure a clean copy of it instead.
libsrc=$srcdir
if [ -f "$srcdir/config.status" ]; then
    libsrc=$build/src
    # refreshed on every run (FUZZ_BUILD may be reused): make rebuilds what changed
    say "copying the configured source tree to $libsrc"
    mkdir -p "$libsrc"
    (
        skip=(--exclude=./.git)
        case $build in "$srcdir"/*) skip+=(--exclude="./${build#"$srcdir"/}") ;; esac
        for b in "$srcdir"/*/config.status; do # other build trees (build-asan, ...)
            [ -f "$b" ] && skip+=(--exclude="./$(basename "$(dirname "$b")")")
        done
        tar -C "$srcdir" "${skip[@]}" -cf - . |
            tar -C "$libsrc" -xf -
        make -C "$libsrc" distclean >/dev/null 2>&1 || true
    )
fi
configure_lib() {
    rm -rf "${build:?}/lib"
    mkdir -p "$build/lib"
    say "configuring the library with $cc (ASan, UBSan, fuzzer coverage) $*"
    # shellcheck disable=SC2086
    (cd "$build/lib" && "$libsrc/configure" CC="$cc" \
        CFLAGS="-O1 -g $san -fsanitize=fuzzer-no-link" LDFLAGS="$san" \
        --disable-shared --enable-static ${FUZZ_CONFIGURE_FLAGS:-} "$@") \
        >"$build/configure.log" 2>&1 ||
        { tail -40 "$build/configure.log" >&2; exit 2; }
}
make_lib() {
    say "building the library"
    make -C "$build/lib" -j"$(nproc 2>/dev/null || echo 2)" libsample.la >"$build/make.log" 2>&1
}
[ -f "$build/lib/Makefile" ] || configure_lib
if ! make_lib; then
    # A backend that this compiler cannot build must not stop the fuzzing of
    # the rest; say so loudly, since that backend then goes unfuzzed.
    tail -20 "$build/make.log" >&2
    if grep -q 'backends/openmp/' "$build/make.log"; then
        say "WARNING: the OpenMP backend does not build with $cc: fuzzing without it"
        configure_lib --disable-openmp
        make_lib || { tail -40 "$build/make.log" >&2; exit 2; }
    else
        exit 2
    fi
fi
openmp=$(sed -n 's/^OPENMP_CFLAGS = //p' "$build/lib/Makefile")
libs=$(sed -n 's/^LIBS = //p' "$build/lib/Makefile")

# ---- the harnesses -----------------------------------------------------------
hflags="-O1 -g $san -ffp-contract=off -fno-fast-math -I$srcdir/include"
build_harness() {
    local name=$1
    local extra=()
    [ "$name" = npy ] && extra=("$srcdir/tools/npy.c")
    # shellcheck disable=SC2086
    "$cc" $hflags -fsanitize=fuzzer "$srcdir/tests/fuzz/fuzz_$name.c" "${extra[@]}" \
        "$build/lib/.libs/libsample.a" $openmp $libs -lm -o "$build/fuzz_$name"
}

status=0
for h in $harnesses; do
    if [ ! -f "$srcdir/tests/fuzz/fuzz_$h.c" ]; then
        echo "run.sh: no harness '$h' (tests/fuzz/fuzz_$h.c)" >&2
        exit 2
    fi
    say "building fuzz_$h"
    build_harness "$h" || exit 2

    corpus=${FUZZ_CORPUS:-$build/corpus}/$h
    mkdir -p "$corpus"
    log=$build/fuzz_$h.log
    say "running fuzz_$h for $seconds s"
    maxlen=()
    [ "$h" = api ] && maxlen=(-max_len=4096) # npy: libFuzzer's default, from the seeds
    rc=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$build/fuzz_$h" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 \
        "${maxlen[@]}" -use_value_profile=1 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$h-" \
        "$corpus" "$srcdir/tests/fuzz/$h/corpus" "$srcdir/tests/fuzz/$h/regressions" \
        >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
    if [ "$rc" -eq 0 ]; then
        say "fuzz_$h: ${runs:-?} runs in ${took:-$seconds} s, ${cov:-no coverage line}, no crash"
        continue
    fi
    status=1
    trap - EXIT # keep the build: the harness binary reproduces the crash
    say "fuzz_$h FAILED (exit $rc) after ${runs:-?} runs; the end of its log:"
    tail -80 "$log"
    for a in "$artifacts/$h-"*; do
        [ -f "$a" ] || continue
        say "crashing input $a ($(wc -c <"$a") bytes):"
        od -An -tx1 -v "$a" | head -64
        echo "  reproduce: $build/fuzz_$h $a   (or, without clang: tests/check_fuzz_replay_$h $a)"
        echo "  once fixed, keep it: cp $a $srcdir/tests/fuzz/$h/regressions/"
    done
done
[ "$status" -eq 0 ] || say "the build is kept in $build"
exit $status
