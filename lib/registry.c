/*
 * registry.c - the backends built into this library, and probing them once.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "context.h"

extern const struct sample_backend sample_backend_scalar;
#ifdef SAMPLE_HAVE_OPENMP
extern const struct sample_backend sample_backend_openmp;
#endif

static const char *const names[SAMPLE_ID_COUNT] = {"hip", "openmp", "scalar"};

static const char *const not_built[SAMPLE_ID_COUNT] = {
    "not built into this library (configure --with-hip)",
    "not built into this library (configure found no OpenMP, or --disable-openmp)",
    "",
};

const char *sample_backend_id_name(enum sample_backend_id id)
{
    return names[id];
}

const struct sample_backend *sample_backend_table(enum sample_backend_id id)
{
    switch (id) {
#ifdef SAMPLE_HAVE_OPENMP
    case SAMPLE_ID_OPENMP:
        return &sample_backend_openmp;
#endif
    case SAMPLE_ID_SCALAR:
        return &sample_backend_scalar;
    default:
        return NULL;
    }
}

/* Probe results, filled once per process. */
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_usable[SAMPLE_ID_COUNT];
static const char *probe_why[SAMPLE_ID_COUNT];

static void probe_all(void)
{
    for (int id = 0; id < SAMPLE_ID_COUNT; id++) {
        const struct sample_backend *b = sample_backend_table((enum sample_backend_id)id);
        if (!b) {
            probe_usable[id] = 0;
            probe_why[id] = not_built[id];
            continue;
        }
        probe_usable[id] = b->probe(&probe_why[id]);
        sample_log("backend %s: %s%s", names[id], probe_usable[id] ? "usable" : "unusable: ",
                   probe_usable[id] ? "" : probe_why[id]);
    }
}

int sample_backend_usable(enum sample_backend_id id, const char **why)
{
    pthread_once(&probe_once, probe_all);
    *why = probe_usable[id] ? "" : probe_why[id];
    return probe_usable[id];
}

int sample_backend_info(int32_t index, sample_backend_desc *desc)
{
    if (!desc)
        return SAMPLE_ERR_NULL;
    if (desc->size != sizeof *desc)
        return SAMPLE_ERR_STRUCT_SIZE;
    if (index < 0 || index >= SAMPLE_ID_COUNT)
        return SAMPLE_ERR_RANGE;
    /* Listed in the order the man page uses: the reference first. */
    enum sample_backend_id id = (enum sample_backend_id)(SAMPLE_ID_COUNT - 1 - index);
    const char *why;
    desc->usable = sample_backend_usable(id, &why);
    desc->built = sample_backend_table(id) != NULL;
    desc->reserved = 0;
    desc->name = names[id];
    desc->reason = why;
    return SAMPLE_OK;
}

static int log_enabled(void)
{
    const char *v = getenv("SAMPLE_LOG");
    return v && strcasecmp(v, "debug") == 0;
}

void sample_log(const char *fmt, ...)
{
    if (!log_enabled())
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("libsample: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
