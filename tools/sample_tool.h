/*
 * sample_tool.h - what the files of the sample command share: its exit
 * statuses, the subcommands, and the helpers every subcommand needs to parse
 * options, open a context and write JSON.
 */
#ifndef SAMPLE_TOOL_H
#define SAMPLE_TOOL_H

#include <stdint.h>
#include <stdio.h>

#include "sample.h"

/* Exit statuses, as sample(1) documents them. */
enum {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_INVALID_ROWS = 1, /* run: some rows were invalid, all were still printed */
    TOOL_EXIT_USAGE = 2,        /* usage, file or library error */
    /* sample(1) counts a backend that cannot be used as status 2; this is the one
     * place to change should it ever get a status of its own. */
    TOOL_EXIT_NO_BACKEND = 2
};

/* The subcommands: each gets argv starting at its own name. */
int tool_info(int argc, char **argv);
int tool_run(int argc, char **argv);
int tool_bench(int argc, char **argv);

/* "sample: message" on stderr. */
void tool_error(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Reports what getopt_long rejected (c is its ':' or '?'); returns TOOL_EXIT_USAGE. */
int tool_bad_option(const char *command, int c, char **argv);

/* Option values, checked in full; each reports its own error and returns -1. */
int tool_float_arg(const char *option, const char *text, float *value);
int tool_int_arg(const char *option, const char *text, int64_t min, int64_t max,
                 int64_t *value);
int tool_uint64_arg(const char *option, const char *text, uint64_t *value);

/*
 * A context on backend (NULL: the library's choice, SAMPLE_BACKEND or auto)
 * with threads (0: the library's default).  On failure it prints
 * sample_create_error() and returns TOOL_EXIT_NO_BACKEND.
 */
int tool_create(sample_ctx **ctx, const char *backend, int32_t threads);

/* Flushes stdout; a write error (full disk, closed pipe) is an error too. */
int tool_finish_output(void);

/* JSON: a string with its escapes, and a float that is null when not finite. */
void tool_json_string(FILE *out, const char *s);
void tool_json_float(FILE *out, double value, const char *format);

#endif /* SAMPLE_TOOL_H */
