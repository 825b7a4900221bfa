/*
 * info.c - sample info: the library's version, the backends it knows, which
 * one a context gets, and the GPUs.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sample_tool.h"
#ifdef SAMPLE_HAVE_HIP
#include "gpu.h"
#endif

/* More than libsample will ever know; a longer list is cut, not overrun. */
#define MAX_BACKENDS 16

/* One way of choosing a backend, and what a context created that way got. */
struct choice {
    const char *by;      /* "auto", "SAMPLE_BACKEND" or "backend" (the option) */
    const char *request; /* what sample_options.backend gets */
    char backend[32];    /* the context's backend, or "" when it failed */
    char error[256];     /* why it failed */
};

struct report {
    sample_backend_desc backends[MAX_BACKENDS];
    int count;
    const char *only;       /* --backend: report on this one alone */
    struct choice choices[2];
    int nchoices;
    char devices[1024];
};

static void help(FILE *out)
{
    fputs("usage: sample info [--backend NAME] [--json]\n"
          "Prints the library version, every backend with whether it is built in and\n"
          "usable here (or why not), which backend a context gets, and the GPUs.\n\n"
          "  --backend NAME  report on backend NAME alone (scalar, openmp, hip, auto)\n"
          "  --json          print the report as one JSON object\n"
          "  --help          print this help\n", out);
}

static int list_backends(struct report *r)
{
    for (r->count = 0; r->count < MAX_BACKENDS; r->count++) {
        sample_backend_desc *d = &r->backends[r->count];
        memset(d, 0, sizeof *d);
        d->size = sizeof *d;
        int status = sample_backend_info(r->count, d);
        if (status == SAMPLE_ERR_RANGE)
            break;
        if (status != SAMPLE_OK) {
            tool_error("info: sample_backend_info(%d): %s", r->count, sample_strerror(status));
            return TOOL_EXIT_USAGE;
        }
    }
    return TOOL_EXIT_OK;
}

static void try_choice(struct choice *c)
{
    sample_ctx *ctx = NULL;
    sample_options options;
    sample_options_init(&options);
    options.backend = c->request;
    c->backend[0] = c->error[0] = '\0';
    if (sample_create(&ctx, &options) != SAMPLE_OK) {
        snprintf(c->error, sizeof c->error, "%s", sample_create_error());
        return;
    }
    snprintf(c->backend, sizeof c->backend, "%s", sample_backend(ctx));
    sample_destroy(ctx);
}

/* The choices worth reporting: the one asked for, or auto and SAMPLE_BACKEND. */
static void make_choices(struct report *r)
{
    const char *env = getenv("SAMPLE_BACKEND");
    r->nchoices = 0;
    if (r->only) {
        r->choices[r->nchoices++] = (struct choice){.by = "backend", .request = r->only};
    } else {
        r->choices[r->nchoices++] = (struct choice){.by = "auto", .request = "auto"};
        if (env && *env)
            r->choices[r->nchoices++] = (struct choice){.by = "SAMPLE_BACKEND", .request = NULL};
    }
    for (int i = 0; i < r->nchoices; i++)
        try_choice(&r->choices[i]);
}

/* The GPUs the hip backend would use, from the runtime it loads itself. */
static void list_devices(char *out, size_t len)
{
#ifdef SAMPLE_HAVE_HIP
    const char *why;
    int count = 0;
    size_t used = 0;
    if (gpu_load(&why) || gpu_device_count(&count) || count == 0) {
        snprintf(out, len, "hip backend usable");
        return;
    }
    for (int i = 0; i < count && used < len; i++) {
        char name[128], arch[32];
        int processors;
        if (gpu_device_info(i, name, sizeof name, arch, sizeof arch, &processors) == 0)
            used += (size_t)snprintf(out + used, len - used, "%s%d: %s (%s, %d processors)",
                                     i ? "; " : "", i, name, arch, processors);
    }
#else
    snprintf(out, len, "hip backend usable");
#endif
}

static void describe_devices(struct report *r)
{
    snprintf(r->devices, sizeof r->devices, "no GPU backend built");
    for (int i = 0; i < r->count; i++) {
        const sample_backend_desc *d = &r->backends[i];
        if (strcmp(d->name, "hip") != 0 || !d->built)
            continue;
        if (d->usable)
            list_devices(r->devices, sizeof r->devices);
        else
            snprintf(r->devices, sizeof r->devices, "none usable: %s", d->reason);
    }
}

static int shown(const struct report *r, const sample_backend_desc *d)
{
    return !r->only || strcasecmp(r->only, "auto") == 0 || strcasecmp(r->only, d->name) == 0;
}

static void print_text(const struct report *r)
{
    printf("libsample %s\nbackends:\n", sample_version_string());
    for (int i = 0; i < r->count; i++) {
        const sample_backend_desc *d = &r->backends[i];
        if (!shown(r, d))
            continue;
        if (!d->built)
            printf("  %-8s not built: %s\n", d->name, d->reason);
        else
            printf("  %-8s built, %s%s%s\n", d->name, d->usable ? "usable" : "unusable",
                   d->reason[0] ? ": " : "", d->reason);
    }
    for (int i = 0; i < r->nchoices; i++) {
        const struct choice *c = &r->choices[i];
        if (c->backend[0])
            printf("%s: %s\n", c->by, c->backend);
        else
            printf("%s: no backend: %s\n", c->by, c->error);
    }
    printf("devices: %s\n", r->devices);
}

static void json_string_or_null(const char *s)
{
    if (s)
        tool_json_string(stdout, s);
    else
        fputs("null", stdout);
}

static void print_json(const struct report *r)
{
    fputs("{\"version\": ", stdout);
    tool_json_string(stdout, sample_version_string());
    fputs(", \"backends\": [", stdout);
    const char *sep = "";
    for (int i = 0; i < r->count; i++) {
        const sample_backend_desc *d = &r->backends[i];
        if (!shown(r, d))
            continue;
        printf("%s{\"name\": ", sep);
        tool_json_string(stdout, d->name);
        printf(", \"built\": %s, \"usable\": %s, \"reason\": ", d->built ? "true" : "false",
               d->usable ? "true" : "false");
        tool_json_string(stdout, d->reason);
        fputs("}", stdout);
        sep = ", ";
    }
    fputs("], \"choices\": [", stdout);
    for (int i = 0; i < r->nchoices; i++) {
        const struct choice *c = &r->choices[i];
        printf("%s{\"by\": ", i ? ", " : "");
        tool_json_string(stdout, c->by);
        fputs(", \"backend\": ", stdout);
        json_string_or_null(c->backend[0] ? c->backend : NULL);
        fputs(", \"error\": ", stdout);
        json_string_or_null(c->backend[0] ? NULL : c->error);
        fputs("}", stdout);
    }
    fputs("], \"devices\": ", stdout);
    tool_json_string(stdout, r->devices);
    fputs("}\n", stdout);
}

int tool_info(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct report r;
    int json = 0, c;
    memset(&r, 0, sizeof r);
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': r.only = optarg; break;
        case 'j': json = 1; break;
        case 'h': help(stdout); return tool_finish_output();
        default: return tool_bad_option("info", c, argv);
        }
    }
    if (optind < argc) {
        tool_error("info: unexpected argument '%s'", argv[optind]);
        return TOOL_EXIT_USAGE;
    }
    if (list_backends(&r) != TOOL_EXIT_OK)
        return TOOL_EXIT_USAGE;
    make_choices(&r);
    describe_devices(&r);
    if (json)
        print_json(&r);
    else
        print_text(&r);

    int status = tool_finish_output();
    for (int i = 0; i < r.nchoices; i++)
        if (!r.choices[i].backend[0]) {
            tool_error("%s", r.choices[i].error);
            status = TOOL_EXIT_NO_BACKEND;
        }
    return status;
}
