#!/bin/sh
# check_tool.sh - end-to-end checks of the sample command.
#
# Writes small .npy files with printf alone (octal escapes for the header's
# magic and length and for the float bytes), runs 'sample run' on them and
# compares with results worked out by hand from SPEC.md: a row with a single
# nonzero probability can only give that token, greedy and argmax take the
# first largest value, an invalid row gives -1 (or NaN values) and exit
# status 1, a malformed file exit status 2.  Then 'sample info' and a
# one-line 'sample bench'.
#
# Environment: SAMPLE_TOOL, the program to test (default ./tools/sample,
# relative to the build directory); top_srcdir, the source tree (default the
# directory above this script), whose sample.h gives the expected version.
#
# Prints one line per check and 'N passed, N failed'; exit status 0 if all
# passed, 1 if any failed, 99 if the checks could not run.

tool=${SAMPLE_TOOL:-./tools/sample}
srcdir=${top_srcdir:-$(dirname "$0")/..}
if [ ! -x "$tool" ]; then
    echo "$0: $tool: not an executable (set SAMPLE_TOOL)" >&2
    exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_tool.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM

passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "PASS: $1"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL: $1: $2"
}

# check NAME STATUS OUTPUT COMMAND...: COMMAND must exit with STATUS and print
# OUTPUT on stdout (compared without trailing newlines).
check() {
    name=$1 want_status=$2 want=$3
    shift 3
    got=$("$@" 2>"$tmp/stderr")
    status=$?
    if [ "$status" = "$want_status" ] && [ "$got" = "$want" ]; then
        pass "$name"
    else
        fail "$name" "exit $status (want $want_status), printed '$got' (want '$want'), \
stderr: $(head -c 300 "$tmp/stderr")"
    fi
}

# check_grep NAME PATTERN COMMAND...: COMMAND must exit 0 and print a line
# matching the extended regular expression PATTERN.
check_grep() {
    name=$1 pattern=$2
    shift 2
    if "$@" >"$tmp/stdout" 2>"$tmp/stderr" && grep -Eq "$pattern" "$tmp/stdout"; then
        pass "$name"
    else
        fail "$name" "no line matches '$pattern'; stderr: $(head -c 300 "$tmp/stderr")"
    fi
}

# ---- writing .npy files ----------------------------------------------------

# The little-endian bytes of a few float32 values.
f32() {
    for v; do
        case $v in
        0) printf '\000\000\000\000' ;;     # 0x00000000
        0.25) printf '\000\000\200\076' ;;  # 0x3e800000
        0.5) printf '\000\000\000\077' ;;   # 0x3f000000
        1) printf '\000\000\200\077' ;;     # 0x3f800000
        2) printf '\000\000\000\100' ;;     # 0x40000000
        3) printf '\000\000\100\100' ;;     # 0x40400000
        -1) printf '\000\000\200\277' ;;    # 0xbf800000
        -inf) printf '\000\000\200\377' ;;  # 0xff800000
        nan) printf '\000\000\300\177' ;;   # 0x7fc00000
        *) echo "$0: f32: no bytes for $v" >&2; exit 99 ;;
        esac
    done
}

# ... and of float16 values.
f16() {
    for v; do
        case $v in
        0) printf '\000\000' ;;             # 0x0000
        1) printf '\000\074' ;;             # 0x3c00
        *) echo "$0: f16: no bytes for $v" >&2; exit 99 ;;
        esac
    done
}

# npy_header FILE DESCR SHAPE [FORTRAN]: a format 1.0 preamble and header.
npy_header() {
    dict="{'descr': '$2', 'fortran_order': ${4:-False}, 'shape': $3, }"
    len=$((${#dict} + 1)) # and the newline
    printf '\223NUMPY\001\000' >"$1"
    # the header's length, 2 bytes little-endian, as octal escapes
    printf "\\$(printf %o $((len % 256)))\\$(printf %o $((len / 256)))" >>"$1"
    printf '%s\n' "$dict" >>"$1"
}

# npy FILE DESCR SHAPE VALUE...: a whole file.
npy() {
    file=$1 descr=$2 shape=$3
    shift 3
    npy_header "$file" "$descr" "$shape"
    case $descr in
    '<f2') f16 "$@" >>"$file" ;;
    *) f32 "$@" >>"$file" ;;
    esac
}

run() {
    "$tool" run "$@"
}

# ---- sample run: tokens ---------------------------------------------------

# One nonzero probability: every seed and offset must draw it.
npy "$tmp/onehot.npy" '<f4' '(1, 4)' 0 0 1 0
check "probs: the only nonzero probability" 0 2 run "$tmp/onehot.npy"
check "probs: any seed and offset" 0 2 run --seed 123456789 --offset 0x10 "$tmp/onehot.npy"

# Each row of a batch on its own.
npy "$tmp/rows.npy" '<f4' '(3, 3)' 1 0 0 0 0 1 0 1 0
check "probs: a batch, one token per row" 0 "$(printf '0\n2\n1')" run --seed 7 "$tmp/rows.npy"

# Top-k 1 keeps only the most likely token.
npy "$tmp/mid.npy" '<f4' '(3,)' 0.25 0.5 0.25
for seed in 0 1 2 3; do
    check "probs: top-k 1, seed $seed" 0 1 run --top-k 1 --seed $seed "$tmp/mid.npy"
done
check "probs: min-p 0.75 keeps the maximum alone" 0 1 run --min-p 0.75 --seed 5 "$tmp/mid.npy"

# Greedy and argmax: the smallest index of the largest value.
npy "$tmp/ties.npy" '<f4' '(4,)' 0.25 1 0.5 1
check "argmax-probs: first of equal maxima" 0 1 run --op argmax-probs "$tmp/ties.npy"
npy "$tmp/logits.npy" '<f4' '(2, 4)' -1 3 3 -inf 0.5 -1 2 2
check "argmax-logits" 0 "$(printf '1\n2')" run --op argmax-logits "$tmp/logits.npy"
check "logits: temperature 0 is greedy" 0 "$(printf '1\n2')" \
    run --op logits --temperature 0 --seed 9 "$tmp/logits.npy"
check "logits: hex float temperature, top-k 1" 0 "$(printf '1\n2')" \
    run --op logits --temperature 0x1p-1 --top-k 1 "$tmp/logits.npy"

# float16 input, and the JSON form.
npy "$tmp/half.npy" '<f2' '(2,)' 0 1
check "probs: float16" 0 1 run "$tmp/half.npy"
check "probs: --json" 0 '{"tokens": [2]}' run --json "$tmp/onehot.npy"

# Invalid rows: -1, exit status 1, the valid rows still computed.
npy "$tmp/bad.npy" '<f4' '(2, 2)' 0 1 1 -1
check "probs: an invalid row gives -1, exit 1" 1 "$(printf '1\n-1')" run "$tmp/bad.npy"
npy "$tmp/zero.npy" '<f4' '(1, 2)' 0 0
check "probs: every probability zero is invalid" 1 -1 run "$tmp/zero.npy"
check "probs: top-p 2 is out of range" 1 -1 run --top-p 2 "$tmp/onehot.npy"

# ---- sample run: rows -----------------------------------------------------

check "renorm: top-k 1" 0 "0 1 0" run --op renorm --top-k 1 "$tmp/mid.npy"
npy "$tmp/even.npy" '<f4' '(1, 2)' 0 0
check "softmax: equal logits" 0 "0.5 0.5" run --op softmax "$tmp/even.npy"
npy "$tmp/three.npy" '<f4' '(3,)' 1 3 2
check "mask: top-k 1" 0 "-inf 3 -inf" run --op mask --top-k 1 "$tmp/three.npy"
npy "$tmp/nan.npy" '<f4' '(1, 2)' nan 1
check "softmax: a NaN logit makes the row invalid" 1 '{"rows": [[null, null]]}' \
    run --op softmax --json "$tmp/nan.npy"

# ---- sample run: errors ---------------------------------------------------

printf 'not a numpy file' >"$tmp/magic.npy"
check "bad magic: exit 2" 2 "" run "$tmp/magic.npy"
npy "$tmp/short.npy" '<f4' '(2, 2)' 0 1 1
check "data shorter than the shape: exit 2" 2 "" run "$tmp/short.npy"
npy "$tmp/big.npy" '>f4' '(2,)' 0 0
check "big-endian data: exit 2" 2 "" run "$tmp/big.npy"
npy_header "$tmp/fortran.npy" '<f4' '(1, 2)' True
f32 0 1 >>"$tmp/fortran.npy"
check "Fortran order: exit 2" 2 "" run "$tmp/fortran.npy"
npy "$tmp/cube.npy" '<f4' '(1, 1, 2)' 0 1
check "three dimensions: exit 2" 2 "" run "$tmp/cube.npy"
check "a missing file: exit 2" 2 "" run "$tmp/none.npy"
check "an unknown operation: exit 2" 2 "" run --op nope "$tmp/onehot.npy"
check "a temperature on probs: exit 2" 2 "" run --temperature 0.5 "$tmp/onehot.npy"
check "a negative seed: exit 2" 2 "" run --seed -1 "$tmp/onehot.npy"
check "no file: exit 2" 2 "" run

# ---- the other commands ---------------------------------------------------

version=$(sed -n 's/^#define SAMPLE_VERSION_STRING "\(.*\)"$/\1/p' "$srcdir/include/sample.h")
check "--version is the library's" 0 "$version" "$tool" --version
check "no command: exit 2" 2 "" "$tool"
check "an unknown command: exit 2" 2 "" "$tool" frobnicate
check_grep "info mentions scalar" 'scalar' "$tool" info
check_grep "info --json" '^\{"version": ' "$tool" info --json
check_grep "bench prints a table line" '^scalar +plain +normal1 +32000 +1 ' \
    "$tool" bench --quick --backend scalar --vocab 32000 --batch 1 --op plain \
    --dist normal1 --iters 3

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
