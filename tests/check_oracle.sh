#!/bin/sh
# check_oracle.sh - the Python oracle's own self-test (Philox known answers,
# exact float32 emulation).  Skipped (77) where python3 is not installed:
# make check needs only the committed corpus files.
srcdir=${top_srcdir:-$(dirname "$0")/..}
py=${PYTHON3:-python3}
command -v "$py" >/dev/null 2>&1 || { echo "python3 not found: skipped"; exit 77; }
exec "$py" "$srcdir/tests/oracle/selftest.py"
