/*
 * gpu.h - the one interface between the hip backend and a GPU runtime.
 *
 * Two implementations: gpu_cuda.c (the CUDA driver API, NVIDIA, fatbin code
 * objects) and gpu_hip.c (the ROCm HIP runtime, AMD, HSACO code objects); a
 * build has one of them.  Both open their runtime library with dlopen on first
 * use, so that neither libsample nor this module needs a GPU runtime to load:
 * on a machine without one, gpu_load() says why and libsample uses openmp or
 * scalar.  Nothing outside these two files knows which runtime it runs on.
 *
 * Every function returns 0 or the runtime's error code; gpu_error() names it.
 * Streams and events are the runtime's own handles (CUstream, hipStream_t).
 * Device functions act on the device the calling thread entered with
 * gpu_enter(), and gpu_leave() restores the thread's previous device.
 */
#ifndef SAMPLE_GPU_H
#define SAMPLE_GPU_H

#include <stddef.h>
#include <stdint.h>

/* The runtime and the code objects it loads. */
extern const char gpu_runtime_name[];   /* "CUDA driver API", "HIP runtime" */
extern const char gpu_code_object_kind[]; /* "fatbin", "HSACO" */

/* The code object file for a device architecture, e.g. "sample-kernels.fatbin"
 * (one file, every NVIDIA architecture) or "sample-kernels-gfx90a.hsaco". */
void gpu_code_object_name(const char *arch, char *name, size_t len);
/* NULL if the bytes look like one whole code object of this runtime's kind,
 * else why not (truncated, wrong format). */
const char *gpu_code_object_check(const unsigned char *data, size_t size);

/* Loads the runtime and initialises it, once per process (thread-safe).  On
 * failure returns nonzero and a static reason in *why. */
int gpu_load(const char **why);
const char *gpu_error(int code);
/* An error code of the runtime's that means "out of memory". */
int gpu_is_out_of_memory(int code);

int gpu_device_count(int *count);
/* Name, architecture as code objects name it ("sm_90", "gfx90a"), processors. */
int gpu_device_info(int device, char *name, size_t name_len, char *arch, size_t arch_len,
                    int *processors);

/* The device's L2 cache and the shared memory of one of its processors, in
 * bytes (0 where the runtime does not say). */
int gpu_device_memory(int device, int64_t *l2, int64_t *shared_per_processor);

/* Make `device` the calling thread's current device until gpu_leave(). */
int gpu_enter(int device);
void gpu_leave(void);

int gpu_module_load(const void *image, void **module);
int gpu_module_function(void *module, const char *name, void **function);
/* Copies a __device__ variable of the module to host memory (synchronously). */
int gpu_module_read_global(void *module, const char *name, void *out, size_t size);

int gpu_malloc(void **ptr, size_t size);
int gpu_free(void *ptr);
int gpu_memset(void *ptr, int value, size_t size, void *stream);
int gpu_copy_to_device(void *dst, const void *src, size_t size, void *stream);
int gpu_copy_to_host(void *dst, const void *src, size_t size, void *stream);
int gpu_copy_on_device(void *dst, const void *src, size_t size, void *stream);
/* height rows of width bytes, pitches in bytes; to_device says which side is host. */
int gpu_copy_2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch, size_t width,
                size_t height, int to_device, void *stream);

int gpu_launch(void *function, unsigned grid_x, unsigned grid_y, unsigned block,
               void *argument, void *stream);

int gpu_stream_create(void **stream);
int gpu_stream_destroy(void *stream);
int gpu_stream_sync(void *stream);

int gpu_event_create(void **event);
int gpu_event_destroy(void *event);
int gpu_event_record(void *event, void *stream);
int gpu_event_elapsed(float *ms, void *start, void *end);

/* What a pointer is: host memory, device memory of *device, or managed memory
 * (both sides may use it); *bytes from ptr to the end of its allocation, 0 if
 * unknown. */
enum { GPU_POINTER_HOST = 0, GPU_POINTER_DEVICE = 1, GPU_POINTER_MANAGED = 2 };
int gpu_pointer_info(const void *ptr, int *kind, int *device, size_t *bytes);

#endif /* SAMPLE_GPU_H */
