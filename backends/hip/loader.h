/*
 * loader.h - the hip backend's kernels: found, checked and loaded once per device.
 */
#ifndef SAMPLE_HIP_LOADER_H
#define SAMPLE_HIP_LOADER_H

#include <stddef.h>

/* One device's loaded kernels; valid for the life of the process. */
struct hip_kernels {
    void *fused, *fused_frac, *scan, *scan_count, *scan_mass, *topk, *histogram, *gather, *draw,
        *write;
    int processors;
    int64_t l2_bytes, shared_per_processor;
    char name[128];
    char arch[32];
    char path[512]; /* the code object file they came from */
};

/*
 * The kernels of `device` (the calling thread inside gpu_enter for it), loaded
 * on the first call for that device; thread-safe.  On failure returns a
 * sample_status and a message naming the file or the reason.
 */
int hip_kernels_get(int device, const struct hip_kernels **kernels, char *msg, size_t msglen);

#endif /* SAMPLE_HIP_LOADER_H */
