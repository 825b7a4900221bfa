/*
 * sample.c - the sample command: dispatch to a subcommand, and the helpers
 * the subcommands share.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sample_tool.h"

static const struct command {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"info", tool_info, "the library version, its backends and which one is used"},
    {"run", tool_run, "run one operation on the rows of a .npy file"},
    {"bench", tool_bench, "time the library on the benchmark's inputs"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: sample COMMAND [OPTIONS]\n"
          "       sample --help | --version\n\ncommands:\n", out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-6s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'sample COMMAND --help' describes a command's options.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return tool_finish_output();
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("%s\n", sample_version_string());
        return tool_finish_output();
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].main(argc - 1, argv + 1);
    tool_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return TOOL_EXIT_USAGE;
}

void tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sample: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* getopt's own messages would call the program by the subcommand's name. */
int tool_bad_option(const char *command, int c, char **argv)
{
    const char *arg = argv[optind - 1];
    if (c == ':')
        tool_error("%s: option %s needs a value", command, arg);
    else
        tool_error("%s: unknown option %s", command, arg);
    fprintf(stderr, "Try 'sample %s --help'.\n", command);
    return TOOL_EXIT_USAGE;
}

static int not_a(const char *option, const char *text, const char *what)
{
    tool_error("%s: '%s' is not %s", option, text, what);
    return -1;
}

int tool_float_arg(const char *option, const char *text, float *value)
{
    char *end;
    errno = 0;
    float v = strtof(text, &end);
    if (end == text || *end != '\0')
        return not_a(option, text, "a number");
    /* A gradual underflow is still the nearest float; overflow and a nonzero
     * value flushed to zero are not what was asked for. */
    if (errno == ERANGE && (isinf(v) || v == 0.0f)) {
        tool_error("%s: '%s' is out of the range of a float", option, text);
        return -1;
    }
    *value = v;
    return 0;
}

/* Decimal, or hexadecimal after 0x; never octal, which would make 010 eight. */
static int number_base(const char *text)
{
    const char *digits = text[0] == '-' || text[0] == '+' ? text + 1 : text;
    return digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') ? 16 : 10;
}

/* strto* skip leading blanks and accept a sign before a hex prefix: insist on a digit. */
static int starts_with_digit(const char *text, int allow_minus)
{
    if (allow_minus && text[0] == '-')
        text++;
    return text[0] >= '0' && text[0] <= '9';
}

int tool_int_arg(const char *option, const char *text, int64_t min, int64_t max,
                 int64_t *value)
{
    char *end;
    if (!starts_with_digit(text, 1))
        return not_a(option, text, "an integer");
    errno = 0;
    long long v = strtoll(text, &end, number_base(text));
    if (*end != '\0')
        return not_a(option, text, "an integer");
    if (errno == ERANGE || v < min || v > max) {
        tool_error("%s: %s is out of range (%" PRId64 " ... %" PRId64 ")", option, text, min,
                   max);
        return -1;
    }
    *value = (int64_t)v;
    return 0;
}

int tool_uint64_arg(const char *option, const char *text, uint64_t *value)
{
    char *end;
    /* strtoull would turn "-1" into 2^64 - 1: no sign is allowed. */
    if (!starts_with_digit(text, 0))
        return not_a(option, text, "an unsigned integer");
    errno = 0;
    unsigned long long v = strtoull(text, &end, number_base(text));
    if (*end != '\0')
        return not_a(option, text, "an unsigned integer");
    if (errno == ERANGE) {
        tool_error("%s: %s is out of range (0 ... 2^64 - 1)", option, text);
        return -1;
    }
    *value = (uint64_t)v;
    return 0;
}

int tool_create(sample_ctx **ctx, const char *backend, int32_t threads)
{
    sample_options options;
    sample_options_init(&options);
    options.backend = backend;
    options.threads = threads;
    if (sample_create(ctx, &options) != SAMPLE_OK) {
        tool_error("%s", sample_create_error());
        return TOOL_EXIT_NO_BACKEND;
    }
    return TOOL_EXIT_OK;
}

int tool_finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        tool_error("writing the output failed: %s", strerror(errno));
        return TOOL_EXIT_USAGE;
    }
    return TOOL_EXIT_OK;
}

void tool_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

void tool_json_float(FILE *out, double value, const char *format)
{
    if (isfinite(value))
        fprintf(out, format, value);
    else
        fputs("null", out);
}
