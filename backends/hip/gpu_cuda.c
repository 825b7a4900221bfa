/*
 * gpu_cuda.c - gpu.h on NVIDIA: the CUDA driver API, opened with dlopen.
 *
 * Kernels run in each device's primary context, the one the CUDA runtime
 * uses too, so device pointers from a cudaMalloc'ing engine work unchanged.
 * gpu_enter pushes that context and gpu_leave pops it: the caller's own
 * current context is left as it was.
 */
#include "config.h"

#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gpu.h"

const char gpu_runtime_name[] = "CUDA driver API";
const char gpu_code_object_kind[] = "fatbin";

#define STR_(x) #x
#define STR(x) STR_(x)

/* Every driver function used here; the names are cuda.h's versioned ones. */
#define CUDA_FUNCTIONS(X)                                                                      \
    X(cuInit) X(cuGetErrorString) X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName)        \
    X(cuDeviceGetAttribute) X(cuDevicePrimaryCtxRetain) X(cuCtxPushCurrent)                    \
    X(cuCtxPopCurrent) X(cuModuleLoadData) X(cuModuleGetFunction) X(cuModuleGetGlobal)         \
    X(cuMemAlloc) X(cuMemFree) X(cuMemsetD8Async) X(cuMemcpyHtoDAsync) X(cuMemcpyDtoHAsync)    \
    X(cuMemcpyDtoH) X(cuMemcpyDtoDAsync) X(cuMemcpy2DAsync) X(cuLaunchKernel)                  \
    X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize) X(cuEventCreate)               \
    X(cuEventDestroy) X(cuEventRecord) X(cuEventElapsedTime) X(cuPointerGetAttributes)

static struct {
#define FIELD(f) __typeof__(f) *f;
    CUDA_FUNCTIONS(FIELD)
#undef FIELD
} cu;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_why;
static char load_msg[256];

#define MAX_DEVICES 64
static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static CUcontext primary[MAX_DEVICES];

void gpu_code_object_name(const char *arch, char *name, size_t len)
{
    (void)arch; /* the fatbin holds every architecture; the driver picks */
    snprintf(name, len, "sample-kernels.fatbin");
}

const char *gpu_code_object_check(const unsigned char *data, size_t size)
{
    /* fatbin header: magic, version (16 bits), header size (16), payload size (64). */
    uint32_t magic;
    uint16_t header;
    uint64_t payload;
    if (size < 16)
        return "truncated: shorter than a fatbin header";
    memcpy(&magic, data, 4);
    memcpy(&header, data + 6, 2);
    memcpy(&payload, data + 8, 8);
    if (magic != 0xBA55ED50u)
        return "not a fatbin (bad magic number)";
    if (header < 16 || payload > size || header > size - payload)
        return "truncated: shorter than its fatbin header says";
    return NULL;
}

static void load(void)
{
    /* RTLD_LOCAL: the driver's symbols stay out of the caller's namespace. */
    void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_msg, sizeof load_msg, "cannot load the CUDA driver: %s", dlerror());
        load_why = load_msg;
        return;
    }
#define LOAD(f)                                                                                \
    if (!(cu.f = (__typeof__(f) *)dlsym(lib, STR(f)))) {                                       \
        snprintf(load_msg, sizeof load_msg, "the CUDA driver lacks %s", STR(f));              \
        load_why = load_msg;                                                                   \
        return;                                                                                \
    }
    CUDA_FUNCTIONS(LOAD)
#undef LOAD
    CUresult rc = cu.cuInit(0);
    if (rc != CUDA_SUCCESS) {
        snprintf(load_msg, sizeof load_msg, "cuInit failed: %s", gpu_error(rc));
        load_why = load_msg;
    }
}

int gpu_load(const char **why)
{
    pthread_once(&load_once, load);
    *why = load_why ? load_why : "";
    return load_why != NULL;
}

const char *gpu_error(int code)
{
    const char *s = NULL;
    if (cu.cuGetErrorString && cu.cuGetErrorString((CUresult)code, &s) == CUDA_SUCCESS && s)
        return s;
    return "unknown CUDA error";
}

int gpu_is_out_of_memory(int code)
{
    return code == CUDA_ERROR_OUT_OF_MEMORY;
}

int gpu_device_count(int *count)
{
    return cu.cuDeviceGetCount(count);
}

int gpu_device_info(int device, char *name, size_t name_len, char *arch, size_t arch_len,
                    int *processors)
{
    CUdevice d;
    int major, minor;
    CUresult rc = cu.cuDeviceGet(&d, device);
    if (rc == CUDA_SUCCESS)
        rc = cu.cuDeviceGetName(name, (int)name_len, d);
    if (rc == CUDA_SUCCESS)
        rc = cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
    if (rc == CUDA_SUCCESS)
        rc = cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
    if (rc == CUDA_SUCCESS)
        rc = cu.cuDeviceGetAttribute(processors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
    if (rc == CUDA_SUCCESS)
        snprintf(arch, arch_len, "sm_%d%d", major, minor);
    return rc;
}

int gpu_device_memory(int device, int64_t *l2, int64_t *shared_per_processor)
{
    CUdevice d;
    int cache = 0, shared = 0;
    CUresult rc = cu.cuDeviceGet(&d, device);
    if (rc == CUDA_SUCCESS)
        rc = cu.cuDeviceGetAttribute(&cache, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, d);
    if (rc == CUDA_SUCCESS)
        rc = cu.cuDeviceGetAttribute(&shared,
                                     CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, d);
    *l2 = cache;
    *shared_per_processor = shared;
    return rc;
}

int gpu_enter(int device)
{
    if (device < 0 || device >= MAX_DEVICES)
        return CUDA_ERROR_INVALID_DEVICE;
    CUresult rc = CUDA_SUCCESS;
    pthread_mutex_lock(&ctx_lock);
    if (!primary[device]) {
        CUdevice d;
        rc = cu.cuDeviceGet(&d, device);
        if (rc == CUDA_SUCCESS)
            rc = cu.cuDevicePrimaryCtxRetain(&primary[device], d);
    }
    pthread_mutex_unlock(&ctx_lock);
    return rc == CUDA_SUCCESS ? cu.cuCtxPushCurrent(primary[device]) : rc;
}

void gpu_leave(void)
{
    CUcontext previous;
    cu.cuCtxPopCurrent(&previous);
}

int gpu_module_load(const void *image, void **module)
{
    return cu.cuModuleLoadData((CUmodule *)module, image);
}

int gpu_module_function(void *module, const char *name, void **function)
{
    return cu.cuModuleGetFunction((CUfunction *)function, (CUmodule)module, name);
}

int gpu_module_read_global(void *module, const char *name, void *out, size_t size)
{
    CUdeviceptr p;
    size_t bytes;
    CUresult rc = cu.cuModuleGetGlobal(&p, &bytes, (CUmodule)module, name);
    if (rc == CUDA_SUCCESS && bytes != size)
        return CUDA_ERROR_INVALID_VALUE;
    return rc == CUDA_SUCCESS ? cu.cuMemcpyDtoH(out, p, size) : rc;
}

int gpu_malloc(void **ptr, size_t size)
{
    CUdeviceptr p = 0;
    CUresult rc = cu.cuMemAlloc(&p, size);
    *ptr = (void *)(uintptr_t)p;
    return rc;
}

int gpu_free(void *ptr)
{
    return ptr ? cu.cuMemFree((CUdeviceptr)(uintptr_t)ptr) : CUDA_SUCCESS;
}

int gpu_memset(void *ptr, int value, size_t size, void *stream)
{
    return cu.cuMemsetD8Async((CUdeviceptr)(uintptr_t)ptr, (unsigned char)value, size,
                              (CUstream)stream);
}

int gpu_copy_to_device(void *dst, const void *src, size_t size, void *stream)
{
    return cu.cuMemcpyHtoDAsync((CUdeviceptr)(uintptr_t)dst, src, size, (CUstream)stream);
}

int gpu_copy_to_host(void *dst, const void *src, size_t size, void *stream)
{
    return cu.cuMemcpyDtoHAsync(dst, (CUdeviceptr)(uintptr_t)src, size, (CUstream)stream);
}

int gpu_copy_on_device(void *dst, const void *src, size_t size, void *stream)
{
    return cu.cuMemcpyDtoDAsync((CUdeviceptr)(uintptr_t)dst, (CUdeviceptr)(uintptr_t)src, size,
                                (CUstream)stream);
}

int gpu_copy_2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch, size_t width,
                size_t height, int to_device, void *stream)
{
    CUDA_MEMCPY2D m;
    memset(&m, 0, sizeof m);
    m.srcPitch = src_pitch;
    m.dstPitch = dst_pitch;
    m.WidthInBytes = width;
    m.Height = height;
    if (to_device) {
        m.srcMemoryType = CU_MEMORYTYPE_HOST;
        m.srcHost = src;
        m.dstMemoryType = CU_MEMORYTYPE_DEVICE;
        m.dstDevice = (CUdeviceptr)(uintptr_t)dst;
    } else {
        m.srcMemoryType = CU_MEMORYTYPE_DEVICE;
        m.srcDevice = (CUdeviceptr)(uintptr_t)src;
        m.dstMemoryType = CU_MEMORYTYPE_HOST;
        m.dstHost = dst;
    }
    return cu.cuMemcpy2DAsync(&m, (CUstream)stream);
}

int gpu_launch(void *function, unsigned grid_x, unsigned grid_y, unsigned block,
               void *argument, void *stream)
{
    void *params[] = {argument};
    return cu.cuLaunchKernel((CUfunction)function, grid_x, grid_y, 1, block, 1, 1, 0,
                             (CUstream)stream, params, NULL);
}

int gpu_stream_create(void **stream)
{
    return cu.cuStreamCreate((CUstream *)stream, CU_STREAM_NON_BLOCKING);
}

int gpu_stream_destroy(void *stream)
{
    return cu.cuStreamDestroy((CUstream)stream);
}

int gpu_stream_sync(void *stream)
{
    return cu.cuStreamSynchronize((CUstream)stream);
}

int gpu_event_create(void **event)
{
    return cu.cuEventCreate((CUevent *)event, CU_EVENT_DEFAULT);
}

int gpu_event_destroy(void *event)
{
    return cu.cuEventDestroy((CUevent)event);
}

int gpu_event_record(void *event, void *stream)
{
    return cu.cuEventRecord((CUevent)event, (CUstream)stream);
}

int gpu_event_elapsed(float *ms, void *start, void *end)
{
    return cu.cuEventElapsedTime(ms, (CUevent)start, (CUevent)end);
}

int gpu_pointer_info(const void *ptr, int *kind, int *device, size_t *bytes)
{
    CUpointer_attribute which[] = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                   CU_POINTER_ATTRIBUTE_IS_MANAGED,
                                   CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                                   CU_POINTER_ATTRIBUTE_RANGE_START_ADDR,
                                   CU_POINTER_ATTRIBUTE_RANGE_SIZE};
    unsigned int type = 0;
    int managed = 0, ordinal = -1;
    CUdeviceptr start = 0;
    size_t size = 0;
    void *data[] = {&type, &managed, &ordinal, &start, &size};
    /* Unlike the singular call, this one succeeds on plain host pointers and
     * leaves type 0 (unknown). */
    CUresult rc = cu.cuPointerGetAttributes(5, which, data, (CUdeviceptr)(uintptr_t)ptr);
    if (rc != CUDA_SUCCESS)
        return rc;
    *kind = managed ? GPU_POINTER_MANAGED
            : type == CU_MEMORYTYPE_DEVICE ? GPU_POINTER_DEVICE : GPU_POINTER_HOST;
    *device = ordinal;
    *bytes = size ? (size_t)(start + size - (CUdeviceptr)(uintptr_t)ptr) : 0;
    return CUDA_SUCCESS;
}
