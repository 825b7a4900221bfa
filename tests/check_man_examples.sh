#!/bin/sh
# check_man_examples.sh [SRCDIR]
#
# Compile and run the program in the EXAMPLES section of every man/*.3 page
# under SRCDIR, so that the documentation cannot drift from the library.
# A page's program is its first ".Bd -literal" block after ".Sh EXAMPLES";
# pages that are only ".so" aliases are skipped.
#
# The mdoc escapes used in those blocks are undone: \e is a backslash,
# \(aq an apostrophe, \& nothing.
#
# SRCDIR defaults to $top_srcdir (set by "make check"), else to the
# directory above this script.
#
# Environment: CC, CPPFLAGS, CFLAGS, LDFLAGS, LIBS as for a compiler run;
# RUN_WRAPPER, a command prefix to run each program with (a libtool
# --mode=execute wrapper, or "env LD_LIBRARY_PATH=..."); TMPDIR.
# Each program runs with SAMPLE_BACKEND=scalar.
#
# Exit status: 0 if every program compiled and exited 0, 1 if any did not,
# 77 (skip) if no page has an example, 99 on a usage error.

if [ $# -gt 1 ]; then
    echo "usage: $0 [SRCDIR]" >&2
    exit 99
fi
srcdir=${1:-${top_srcdir:-$(dirname "$0")/..}}
if [ ! -d "$srcdir" ]; then
    echo "$0: $srcdir: not a directory" >&2
    exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_man_examples.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM

passed=0
failed=0
failures=

for page in "$srcdir"/man/*.3; do
    [ -f "$page" ] || continue
    name=$(basename "$page" .3)

    # An alias page is a single .so line.
    if sed -n '1p' "$page" | grep -q '^\.so[ 	]'; then
        continue
    fi

    awk '
        /^\.Sh[ \t]/  { examples = ($2 == "EXAMPLES"); next }
        examples && !done && /^\.Bd[ \t]+-literal/ { inblock = 1; next }
        inblock && /^\.Ed([ \t]|$)/ { inblock = 0; done = 1; next }
        inblock { print }
    ' "$page" | sed -e 's/\\&//g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g' \
        > "$tmp/$name.c"

    if [ ! -s "$tmp/$name.c" ]; then
        echo "SKIP: $name.3 (no EXAMPLES program)"
        continue
    fi

    # shellcheck disable=SC2086 # the flag variables are word lists
    if ! ${CC:-cc} ${CPPFLAGS} ${CFLAGS} -Wall -Wextra -Werror -std=c11 \
            "$tmp/$name.c" -o "$tmp/$name" ${LDFLAGS} ${LIBS} \
            > "$tmp/$name.log" 2>&1; then
        echo "FAIL: $name.3 (does not compile)"
        sed 's/^/    /' "$tmp/$name.log"
        failed=$((failed + 1))
        failures="$failures $name.3"
        continue
    fi

    # shellcheck disable=SC2086 # RUN_WRAPPER is a command prefix
    SAMPLE_BACKEND=scalar ${RUN_WRAPPER} "$tmp/$name" \
        > "$tmp/$name.log" 2>&1 < /dev/null
    status=$?
    if [ "$status" -ne 0 ]; then
        echo "FAIL: $name.3 (exit status $status)"
        sed 's/^/    /' "$tmp/$name.log"
        failed=$((failed + 1))
        failures="$failures $name.3"
        continue
    fi

    echo "PASS: $name.3"
    passed=$((passed + 1))
done

if [ $((passed + failed)) -eq 0 ]; then
    echo "no man page examples found under $srcdir/man"
    exit 77
fi

echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
    echo "failed:$failures"
    exit 1
fi
exit 0
