/*
 * registry.c - the backends built into this library, and probing them once.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "context.h"

extern const struct sample_backend sample_backend_scalar;
#ifdef SAMPLE_HAVE_OPENMP
extern const struct sample_backend sample_backend_openmp;
#endif

static const char *const names[SAMPLE_ID_COUNT] = {"hip", "openmp", "scalar"};

static const char *const not_built[SAMPLE_ID_COUNT] = {
#ifdef SAMPLE_HAVE_HIP
    "",
#else
    "not built into this library (configure --with-hip)",
#endif
    "not built into this library (configure found no OpenMP, or --disable-openmp)",
    "",
};

const char *sample_backend_id_name(enum sample_backend_id id)
{
    return names[id];
}

#ifdef SAMPLE_HAVE_HIP
/*
 * The hip backend is a module, so that libsample never links a GPU runtime.
 * It is looked for in each directory of SAMPLE_MODULE_PATH, then in the one
 * configure chose; it is opened once, while probing, and never closed.
 */
#define HIP_MODULE "sample-hip.so"
static const struct sample_backend *hip_table;
static char hip_why[512];

static void load_hip_from(const char *path)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(hip_why, sizeof hip_why, "not loadable: %.480s", dlerror());
        return;
    }
    const struct sample_backend *(*entry)(uint32_t) =
        (const struct sample_backend *(*)(uint32_t))dlsym(handle, "sample_backend_hip_entry");
    const struct sample_backend *b = entry ? entry(SAMPLE_BACKEND_ABI) : NULL;
    if (!entry)
        snprintf(hip_why, sizeof hip_why, "%.400s has no sample_backend_hip_entry", path);
    else if (!b || b->abi != SAMPLE_BACKEND_ABI || b->size != sizeof *b)
        snprintf(hip_why, sizeof hip_why, "%.400s was built for another libsample (backend ABI %u)",
                 path, (unsigned)SAMPLE_BACKEND_ABI);
    else
        hip_table = b;
}

static void load_hip(void)
{
    char dirs[2048], path[2300];
    const char *env = getenv("SAMPLE_MODULE_PATH");
    snprintf(dirs, sizeof dirs, "%s%s%s", env && *env ? env : "", env && *env ? ":" : "",
             SAMPLE_MODULE_DIR);
    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        snprintf(path, sizeof path, "%s/%s", dir, HIP_MODULE);
        if (access(path, F_OK) == 0) {
            sample_log("loading %s", path);
            load_hip_from(path);
            return;
        }
    }
    snprintf(hip_why, sizeof hip_why, "not installed: no %s in SAMPLE_MODULE_PATH (%.200s) or %.200s",
             HIP_MODULE, env && *env ? env : "unset", SAMPLE_MODULE_DIR);
}
#endif

int sample_backend_built(enum sample_backend_id id)
{
#ifdef SAMPLE_HAVE_HIP
    if (id == SAMPLE_ID_HIP)
        return 1;
#endif
    return sample_backend_table(id) != NULL;
}

const struct sample_backend *sample_backend_table(enum sample_backend_id id)
{
    switch (id) {
#ifdef SAMPLE_HAVE_HIP
    case SAMPLE_ID_HIP:
        return hip_table;
#endif
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
#ifdef SAMPLE_HAVE_HIP
    load_hip();
#endif
    for (int id = 0; id < SAMPLE_ID_COUNT; id++) {
        const struct sample_backend *b = sample_backend_table((enum sample_backend_id)id);
        if (!b) {
            probe_usable[id] = 0;
            probe_why[id] = not_built[id];
#ifdef SAMPLE_HAVE_HIP
            if (id == SAMPLE_ID_HIP)
                probe_why[id] = hip_why;
#endif
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
    desc->built = sample_backend_built(id);
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
