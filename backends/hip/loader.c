/*
 * loader.c - finding the code object for a device, checking it, loading it.
 *
 * The file is looked for in each directory of SAMPLE_KERNEL_PATH (colon-
 * separated), then in "kernels" beside this module, then in the directory
 * configure chose (SAMPLE_KERNEL_DIR).  A file is read whole and checked
 * (format, truncation) before the runtime sees it, and its sample_kernel_abi
 * must be this build's.  Results, failures included, are cached per device.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpu.h"
#include "kernel_abi.h"
#include "loader.h"
#include "sample.h"

#define MAX_DEVICES 64
/* No code object of ours comes near this; a larger file is not one. */
#define MAX_CODE_OBJECT (256u << 20)

struct cache_entry {
    int tried;
    int status;
    char message[1024];
    struct hip_kernels kernels;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry cache[MAX_DEVICES];

/* The directory this module was loaded from, or "" when unknown. */
static void module_dir(char *dir, size_t len)
{
    Dl_info info;
    dir[0] = '\0';
    if (dladdr((void *)module_dir, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash)
            snprintf(dir, len, "%.*s", (int)(slash - info.dli_fname), info.dli_fname);
    }
}

/* Reads a whole file; NULL and errno-style reason on failure. */
static unsigned char *read_file(const char *path, size_t *size, const char **why)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    unsigned char *data = NULL;
    *why = NULL;
    if (!f) {
        *why = strerror(errno);
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        *why = "not a regular file";
    else if ((uint64_t)st.st_size > MAX_CODE_OBJECT)
        *why = "too large to be a code object";
    else if (!(data = malloc((size_t)st.st_size + 1)))
        *why = "out of memory";
    else if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
        *why = "read error";
    fclose(f);
    if (*why) {
        free(data);
        return NULL;
    }
    *size = (size_t)st.st_size;
    return data;
}

/* Tries dir/file: 1 found (image set), 0 absent, -1 present but unusable. */
static int try_dir(const char *dir, const char *file, char *path, size_t pathlen,
                   unsigned char **image, char *msg, size_t msglen)
{
    size_t size = 0;
    const char *why;
    struct stat st;
    snprintf(path, pathlen, "%s/%s", dir, file);
    if (stat(path, &st) != 0)
        return 0;
    *image = read_file(path, &size, &why);
    if (!*image) {
        snprintf(msg, msglen, "cannot read %.400s: %s", path, why);
        return -1;
    }
    why = gpu_code_object_check(*image, size);
    if (why) {
        snprintf(msg, msglen, "%.400s is not a usable %s: %s", path, gpu_code_object_kind, why);
        free(*image);
        *image = NULL;
        return -1;
    }
    return 1;
}

/* Finds and reads the code object; on failure msg lists where it looked. */
static unsigned char *find_code_object(const char *file, char *path, size_t pathlen, char *msg,
                                       size_t msglen)
{
    char dirs[2048] = "", here[1024];
    const char *env = getenv("SAMPLE_KERNEL_PATH");
    unsigned char *image = NULL;
    size_t used = 0;

    if (env && *env)
        used += (size_t)snprintf(dirs, sizeof dirs, "%s:", env);
    module_dir(here, sizeof here);
    if (here[0] && used < sizeof dirs)
        used += (size_t)snprintf(dirs + used, sizeof dirs - used, "%s/kernels:", here);
    if (used < sizeof dirs)
        snprintf(dirs + used, sizeof dirs - used, "%s", SAMPLE_KERNEL_DIR);

    for (char *save = NULL, *dir = strtok_r(dirs, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        int found = try_dir(dir, file, path, pathlen, &image, msg, msglen);
        if (found > 0)
            return image;
        if (found < 0)
            return NULL;
    }
    snprintf(msg, msglen, "no code object %s in SAMPLE_KERNEL_PATH (%.300s), %.300s%s or %.300s",
             file, env && *env ? env : "unset", here[0] ? here : "", here[0] ? "/kernels" : "",
             SAMPLE_KERNEL_DIR);
    return NULL;
}

static int load_device(int device, struct cache_entry *e)
{
    struct hip_kernels *k = &e->kernels;
    char file[128];
    int rc = gpu_device_info(device, k->name, sizeof k->name, k->arch, sizeof k->arch,
                             &k->processors);
    if (!rc)
        rc = gpu_device_memory(device, &k->l2_bytes, &k->shared_per_processor);
    if (rc) {
        snprintf(e->message, sizeof e->message, "device %d: %s", device, gpu_error(rc));
        return SAMPLE_ERR_DEVICE;
    }
    gpu_code_object_name(k->arch, file, sizeof file);
    unsigned char *image = find_code_object(file, k->path, sizeof k->path, e->message,
                                            sizeof e->message);
    if (!image)
        return SAMPLE_ERR_BACKEND_UNUSABLE;

    void *module = NULL;
    rc = gpu_module_load(image, &module);
    free(image);
    if (rc) {
        snprintf(e->message, sizeof e->message, "%.400s does not load on %.100s (%s): %s", k->path,
                 k->name, k->arch, gpu_error(rc));
        return SAMPLE_ERR_BACKEND_UNUSABLE;
    }
    uint32_t abi = 0;
    rc = gpu_module_read_global(module, "sample_kernel_abi", &abi, sizeof abi);
    if (rc || abi != SAMPLE_KERNEL_ABI) {
        snprintf(e->message, sizeof e->message,
                 "%.400s is not this libsample's kernels (kernel ABI %u, expected %u)", k->path,
                 (unsigned)abi, (unsigned)SAMPLE_KERNEL_ABI);
        return SAMPLE_ERR_BACKEND_UNUSABLE;
    }
    struct {
        const char *name;
        void **slot;
    } fns[] = {{"sample_k_fused", &k->fused},
               {"sample_k_fused_frac", &k->fused_frac},
               {"sample_k_scan", &k->scan},
               {"sample_k_scan_count", &k->scan_count},
               {"sample_k_histogram", &k->histogram}, {"sample_k_gather", &k->gather},
               {"sample_k_draw", &k->draw},           {"sample_k_write", &k->write},
               {"sample_k_scan_mass", &k->scan_mass}, {"sample_k_topk", &k->topk}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        rc = gpu_module_function(module, fns[i].name, fns[i].slot);
        if (rc) {
            snprintf(e->message, sizeof e->message, "%.400s lacks kernel %s: %s", k->path,
                     fns[i].name, gpu_error(rc));
            return SAMPLE_ERR_BACKEND_UNUSABLE;
        }
    }
    return SAMPLE_OK;
}

int hip_kernels_get(int device, const struct hip_kernels **kernels, char *msg, size_t msglen)
{
    if (device < 0 || device >= MAX_DEVICES) {
        snprintf(msg, msglen, "device %d is out of range", device);
        return SAMPLE_ERR_RANGE;
    }
    struct cache_entry *e = &cache[device];
    pthread_mutex_lock(&cache_lock);
    if (!e->tried) {
        e->status = load_device(device, e);
        e->tried = 1;
    }
    pthread_mutex_unlock(&cache_lock);
    if (e->status != SAMPLE_OK) {
        snprintf(msg, msglen, "%s", e->message);
        return e->status;
    }
    *kernels = &e->kernels;
    return SAMPLE_OK;
}
