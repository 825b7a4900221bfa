/*
 * context.c - creating a context: choosing its backend and opening it.
 *
 * The choice: the options' backend > SAMPLE_BACKEND > auto.  A backend named
 * explicitly either opens or the call fails saying why; only auto moves on to
 * the next candidate.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "context.h"

static _Thread_local char create_error[SAMPLE_MESSAGE_MAX];

const char *sample_create_error(void)
{
    return create_error;
}

static int fail(int status, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(create_error, sizeof create_error, fmt, ap);
    va_end(ap);
    sample_log("%s", create_error);
    return status;
}

void sample_options_init(sample_options *options)
{
    if (!options)
        return;
    memset(options, 0, sizeof *options);
    options->size = sizeof *options;
    options->device = -1;
}

static int open_backend(sample_ctx *ctx, enum sample_backend_id id,
                        const sample_options *options)
{
    char msg[SAMPLE_MESSAGE_MAX] = "";
    const struct sample_backend *b = sample_backend_table(id);
    int status = b->open(options, &ctx->state, msg, sizeof msg);
    if (status != SAMPLE_OK)
        return fail(status, "backend %s: %s", b->name, msg[0] ? msg : sample_strerror(status));
    ctx->backend = b;
    return SAMPLE_OK;
}

/* A backend asked for by name: it opens, or the reason is the error. */
static int open_named(sample_ctx *ctx, const char *name, const char *source,
                      const sample_options *options)
{
    for (int i = 0; i < SAMPLE_ID_COUNT; i++) {
        enum sample_backend_id id = (enum sample_backend_id)i;
        if (strcasecmp(name, sample_backend_id_name(id)) != 0)
            continue;
        const char *why;
        int usable = sample_backend_usable(id, &why);
        if (!sample_backend_built(id))
            return fail(SAMPLE_ERR_BACKEND_MISSING, "backend %s (from %s) is %s",
                        sample_backend_id_name(id), source, why);
        if (!usable)
            return fail(SAMPLE_ERR_BACKEND_UNUSABLE, "backend %s (from %s) cannot run here: %s",
                        sample_backend_id_name(id), source, why);
        sample_log("backend %s chosen by %s", sample_backend_id_name(id), source);
        return open_backend(ctx, id, options);
    }
    return fail(SAMPLE_ERR_BACKEND_UNKNOWN,
                "backend \"%s\" (from %s) is unknown: use scalar, openmp, hip or auto", name,
                source);
}

/* Auto: the first backend that is usable and opens; scalar always does. */
static int open_auto(sample_ctx *ctx, const sample_options *options)
{
    int status = SAMPLE_ERR_BACKEND_UNUSABLE;
    for (int i = 0; i < SAMPLE_ID_COUNT; i++) {
        enum sample_backend_id id = (enum sample_backend_id)i;
        const char *why;
        if (!sample_backend_usable(id, &why)) {
            sample_log("auto: skipping %s: %s", sample_backend_id_name(id), why);
            continue;
        }
        status = open_backend(ctx, id, options);
        if (status == SAMPLE_OK) {
            sample_log("auto: chose %s", sample_backend_id_name(id));
            return SAMPLE_OK;
        }
        sample_log("auto: %s failed to open, trying the next", sample_backend_id_name(id));
    }
    return status;
}

int sample_create(sample_ctx **out, const sample_options *options)
{
    sample_options defaults;
    create_error[0] = '\0';
    if (!out)
        return fail(SAMPLE_ERR_NULL, "sample_create: ctx is NULL");
    *out = NULL;
    if (!options) {
        sample_options_init(&defaults);
        options = &defaults;
    }
    if (options->size != sizeof *options)
        return fail(SAMPLE_ERR_STRUCT_SIZE, "sample_create: options.size is %u, expected %zu",
                    (unsigned)options->size, sizeof *options);
    if (options->flags != 0)
        return fail(SAMPLE_ERR_FLAGS, "sample_create: unknown options.flags 0x%x",
                    (unsigned)options->flags);
    if (options->device < -1 || options->threads < 0 || options->threads > SAMPLE_MAX_THREADS)
        return fail(SAMPLE_ERR_ARGUMENT, "sample_create: device %d or threads %d out of range",
                    (int)options->device, (int)options->threads);

    sample_ctx *ctx = sample_calloc(1, sizeof *ctx);
    if (!ctx)
        return fail(SAMPLE_ERR_NO_MEMORY, "sample_create: out of memory");

    const char *name = options->backend, *source = "the options";
    if (!name || !*name) {
        name = getenv("SAMPLE_BACKEND");
        source = "SAMPLE_BACKEND";
    }
    int status = (!name || !*name || strcasecmp(name, "auto") == 0)
                     ? open_auto(ctx, options)
                     : open_named(ctx, name, source, options);
    if (status != SAMPLE_OK) {
        sample_free(ctx);
        return status;
    }
    *out = ctx;
    return SAMPLE_OK;
}

void sample_destroy(sample_ctx *ctx)
{
    if (!ctx)
        return;
    ctx->backend->close(ctx->state);
    sample_free(ctx);
}

const char *sample_backend(const sample_ctx *ctx)
{
    return ctx ? ctx->backend->name : NULL;
}

const char *sample_last_error(const sample_ctx *ctx)
{
    return ctx ? ctx->error : "sample_last_error: ctx is NULL";
}
