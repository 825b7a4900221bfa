#!/bin/sh
# The shared corpus and the differential suite, unchanged, on the hip backend
# alone.  Exit 77 (skip) when no GPU is usable here.
set -u
builddir=${builddir:-.}
status=0
for t in check_corpus check_differential; do
    SAMPLE_TEST_BACKEND=hip "$builddir/tests/$t"
    rc=$?
    [ $rc -eq 77 ] && exit 77
    [ $rc -ne 0 ] && status=1
done
exit $status
