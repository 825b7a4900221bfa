/*
 * fuzz.h - the entry point every harness in tests/fuzz defines.
 *
 * Built with clang -fsanitize=fuzzer (tests/fuzz/run.sh), libFuzzer calls it;
 * built into tests/check_fuzz_replay_* (make check, any compiler), a plain
 * main() calls it once for every saved input.  A harness reports a broken
 * property by printing it and calling abort().
 */
#ifndef SAMPLE_FUZZ_H
#define SAMPLE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
