#!/bin/sh
# Code objects that are missing, truncated, corrupt or for another GPU: with
# SAMPLE_BACKEND=hip creating a context fails naming the file; in auto mode
# libsample falls back to a CPU backend and says why under SAMPLE_LOG=debug.
# Exit 77 (skip) without a usable GPU.
set -u
sample=${SAMPLE_TOOL:-${builddir:-.}/tools/sample}
npy=${top_srcdir:-.}/tests/corpus/run/probs_topk_topp.npy
"$sample" info | grep -q '^  hip .*built, usable' || { echo "SKIP: hip not usable"; exit 77; }
real=${SAMPLE_KERNEL_PATH:?}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # name, grep pattern, then the command's output in $out and status in $rc
    if [ "$rc" -ne 2 ] || ! printf '%s\n' "$out" | grep -q -- "$2"; then
        echo "FAIL: $1 (exit $rc): $out"; fail=1
    else
        echo "ok: $1"
    fi
}
for f in "$real"/sample-kernels*; do
    name=$(basename "$f")
    mkdir -p "$tmp/trunc" "$tmp/noise" "$tmp/empty"
    head -c $(($(wc -c <"$f") / 2)) "$f" >"$tmp/trunc/$name"
    head -c $(wc -c <"$f") /dev/urandom >"$tmp/noise/$name"
    out=$(SAMPLE_KERNEL_PATH=$tmp/trunc SAMPLE_BACKEND=hip "$sample" run "$npy" 2>&1); rc=$?
    expect "truncated $name" "$tmp/trunc/$name.*truncated"
    out=$(SAMPLE_KERNEL_PATH=$tmp/noise SAMPLE_BACKEND=hip "$sample" run "$npy" 2>&1); rc=$?
    expect "corrupt $name" "$tmp/noise/$name"
    out=$(SAMPLE_KERNEL_PATH=$tmp/empty SAMPLE_BACKEND=hip "$sample" run "$npy" 2>&1); rc=$?
    expect "missing $name" "no code object $name"
    out=$(SAMPLE_KERNEL_PATH=$tmp/trunc SAMPLE_LOG=debug "$sample" run "$npy" 2>&1); rc=$?
    if [ $rc -ne 0 ] || ! printf '%s\n' "$out" | grep -q "auto: hip failed to open"; then
        echo "FAIL: auto mode did not fall back (exit $rc): $out"; fail=1
    else
        echo "ok: auto falls back past a truncated $name"
    fi
done
# Another GPU's code: a fatbin for sm_80 alone, without PTX, on a newer GPU.
if [ -n "${NVCC:-}" ] && [ -x "$NVCC" ]; then
    mkdir -p "$tmp/arch"
    if "$NVCC" -x cu -fatbin -gencode arch=compute_80,code=sm_80 -fmad=false \
        -I"$top_srcdir/include" -I"$top_srcdir/lib" -I"$top_srcdir/kernels" \
        -o "$tmp/arch/sample-kernels.fatbin" "$top_srcdir/kernels/sample.hip" 2>/dev/null; then
        out=$(SAMPLE_KERNEL_PATH=$tmp/arch SAMPLE_BACKEND=hip "$sample" run "$npy" 2>&1); rc=$?
        if "$sample" info | grep -q 'sm_80'; then
            echo "skip: the GPU is sm_80; no foreign architecture to try"
        else
            expect "sm_80-only fatbin" "does not load on"
        fi
    fi
fi
exit $fail
