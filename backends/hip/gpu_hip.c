/*
 * gpu_hip.c - gpu.h on AMD: the ROCm HIP runtime, opened with dlopen.
 *
 * The library opened is the one whose major version matches the headers this
 * file was built with, so that the structures it fills have the same layout.
 * gpu_enter remembers the thread's current device and gpu_leave restores it.
 */
#include "config.h"

#define __HIP_PLATFORM_AMD__ 1
#include <dlfcn.h>
#include <hip/hip_runtime_api.h>
#include <hip/hip_version.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gpu.h"

const char gpu_runtime_name[] = "HIP runtime";
const char gpu_code_object_kind[] = "HSACO";

#define STR_(x) #x
#define STR(x) STR_(x)
#define HIP_LIBRARY "libamdhip64.so." STR(HIP_VERSION_MAJOR)

#define HIP_FUNCTIONS(X)                                                                       \
    X(hipInit) X(hipGetErrorString) X(hipGetDeviceCount) X(hipGetDeviceProperties)             \
    X(hipGetDevice) X(hipSetDevice) X(hipModuleLoadData) X(hipModuleGetFunction)               \
    X(hipModuleGetGlobal) X(hipMalloc) X(hipFree) X(hipMemsetAsync) X(hipMemcpyAsync)          \
    X(hipMemcpy) X(hipMemcpy2DAsync) X(hipModuleLaunchKernel) X(hipStreamCreateWithFlags)      \
    X(hipStreamDestroy) X(hipStreamSynchronize) X(hipEventCreate) X(hipEventDestroy)           \
    X(hipEventRecord) X(hipEventElapsedTime) X(hipPointerGetAttributes)

static struct {
#define FIELD(f) __typeof__(f) *f;
    HIP_FUNCTIONS(FIELD)
#undef FIELD
} hip;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_why;
static char load_msg[256];
static _Thread_local int previous_device;

void gpu_code_object_name(const char *arch, char *name, size_t len)
{
    snprintf(name, len, "sample-kernels-%s.hsaco", arch);
}

const char *gpu_code_object_check(const unsigned char *data, size_t size)
{
    /* ELF64, little-endian, machine EM_AMDGPU (224); section headers inside the file. */
    uint16_t machine, shentsize, shnum;
    uint64_t shoff;
    if (size < 64)
        return "truncated: shorter than an ELF header";
    if (memcmp(data, "\x7f" "ELF", 4) != 0 || data[4] != 2 || data[5] != 1)
        return "not a 64-bit little-endian ELF file";
    memcpy(&machine, data + 18, 2);
    memcpy(&shoff, data + 40, 8);
    memcpy(&shentsize, data + 58, 2);
    memcpy(&shnum, data + 60, 2);
    if (machine != 224)
        return "not an AMD GPU code object (ELF machine is not AMDGPU)";
    if (shoff > size || (uint64_t)shentsize * shnum > size - shoff)
        return "truncated: its section headers lie past the end of the file";
    return NULL;
}

static void load(void)
{
    void *lib = dlopen(HIP_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(load_msg, sizeof load_msg, "cannot load the HIP runtime: %s", dlerror());
        load_why = load_msg;
        return;
    }
#define LOAD(f)                                                                                \
    if (!(hip.f = (__typeof__(f) *)dlsym(lib, STR(f)))) {                                      \
        snprintf(load_msg, sizeof load_msg, "%s lacks %s", HIP_LIBRARY, STR(f));              \
        load_why = load_msg;                                                                   \
        return;                                                                                \
    }
    HIP_FUNCTIONS(LOAD)
#undef LOAD
    hipError_t rc = hip.hipInit(0);
    if (rc != hipSuccess) {
        snprintf(load_msg, sizeof load_msg, "hipInit failed: %s", gpu_error(rc));
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
    const char *s = hip.hipGetErrorString ? hip.hipGetErrorString((hipError_t)code) : NULL;
    return s ? s : "unknown HIP error";
}

int gpu_is_out_of_memory(int code)
{
    return code == hipErrorOutOfMemory;
}

int gpu_device_count(int *count)
{
    return hip.hipGetDeviceCount(count);
}

int gpu_device_info(int device, char *name, size_t name_len, char *arch, size_t arch_len,
                    int *processors)
{
    hipDeviceProp_t prop;
    hipError_t rc = hip.hipGetDeviceProperties(&prop, device);
    if (rc != hipSuccess)
        return rc;
    snprintf(name, name_len, "%s", prop.name);
    /* "gfx90a:sramecc+:xnack-": the code object is named by the part before ':'. */
    snprintf(arch, arch_len, "%.*s", (int)strcspn(prop.gcnArchName, ":"), prop.gcnArchName);
    *processors = prop.multiProcessorCount;
    return hipSuccess;
}

int gpu_device_memory(int device, int64_t *l2, int64_t *shared_per_processor)
{
    hipDeviceProp_t prop;
    hipError_t rc = hip.hipGetDeviceProperties(&prop, device);
    *l2 = rc == hipSuccess ? prop.l2CacheSize : 0;
    *shared_per_processor = rc == hipSuccess ? (int64_t)prop.maxSharedMemoryPerMultiProcessor : 0;
    return rc;
}

int gpu_enter(int device)
{
    hipError_t rc = hip.hipGetDevice(&previous_device);
    return rc == hipSuccess ? hip.hipSetDevice(device) : rc;
}

void gpu_leave(void)
{
    hip.hipSetDevice(previous_device);
}

int gpu_module_load(const void *image, void **module)
{
    return hip.hipModuleLoadData((hipModule_t *)module, image);
}

int gpu_module_function(void *module, const char *name, void **function)
{
    return hip.hipModuleGetFunction((hipFunction_t *)function, (hipModule_t)module, name);
}

int gpu_module_read_global(void *module, const char *name, void *out, size_t size)
{
    hipDeviceptr_t p;
    size_t bytes;
    hipError_t rc = hip.hipModuleGetGlobal(&p, &bytes, (hipModule_t)module, name);
    if (rc == hipSuccess && bytes != size)
        return hipErrorInvalidValue;
    return rc == hipSuccess ? hip.hipMemcpy(out, p, size, hipMemcpyDeviceToHost) : rc;
}

int gpu_malloc(void **ptr, size_t size)
{
    *ptr = NULL;
    return hip.hipMalloc(ptr, size);
}

int gpu_free(void *ptr)
{
    return ptr ? hip.hipFree(ptr) : hipSuccess;
}

int gpu_memset(void *ptr, int value, size_t size, void *stream)
{
    return hip.hipMemsetAsync(ptr, value, size, (hipStream_t)stream);
}

int gpu_copy_to_device(void *dst, const void *src, size_t size, void *stream)
{
    return hip.hipMemcpyAsync(dst, src, size, hipMemcpyHostToDevice, (hipStream_t)stream);
}

int gpu_copy_to_host(void *dst, const void *src, size_t size, void *stream)
{
    return hip.hipMemcpyAsync(dst, src, size, hipMemcpyDeviceToHost, (hipStream_t)stream);
}

int gpu_copy_on_device(void *dst, const void *src, size_t size, void *stream)
{
    return hip.hipMemcpyAsync(dst, src, size, hipMemcpyDeviceToDevice, (hipStream_t)stream);
}

int gpu_copy_2d(void *dst, size_t dst_pitch, const void *src, size_t src_pitch, size_t width,
                size_t height, int to_device, void *stream)
{
    return hip.hipMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, height,
                                to_device ? hipMemcpyHostToDevice : hipMemcpyDeviceToHost,
                                (hipStream_t)stream);
}

int gpu_launch(void *function, unsigned grid_x, unsigned grid_y, unsigned block,
               void *argument, void *stream)
{
    void *params[] = {argument};
    return hip.hipModuleLaunchKernel((hipFunction_t)function, grid_x, grid_y, 1, block, 1, 1,
                                     0, (hipStream_t)stream, params, NULL);
}

int gpu_stream_create(void **stream)
{
    return hip.hipStreamCreateWithFlags((hipStream_t *)stream, hipStreamNonBlocking);
}

int gpu_stream_destroy(void *stream)
{
    return hip.hipStreamDestroy((hipStream_t)stream);
}

int gpu_stream_sync(void *stream)
{
    return hip.hipStreamSynchronize((hipStream_t)stream);
}

int gpu_event_create(void **event)
{
    return hip.hipEventCreate((hipEvent_t *)event);
}

int gpu_event_destroy(void *event)
{
    return hip.hipEventDestroy((hipEvent_t)event);
}

int gpu_event_record(void *event, void *stream)
{
    return hip.hipEventRecord((hipEvent_t)event, (hipStream_t)stream);
}

int gpu_event_elapsed(float *ms, void *start, void *end)
{
    return hip.hipEventElapsedTime(ms, (hipEvent_t)start, (hipEvent_t)end);
}

int gpu_pointer_info(const void *ptr, int *kind, int *device, size_t *bytes)
{
    hipPointerAttribute_t a;
    memset(&a, 0, sizeof a);
    /* A plain host pointer is an error here, not a kind: report it as host. */
    if (hip.hipPointerGetAttributes(&a, ptr) != hipSuccess) {
        *kind = GPU_POINTER_HOST;
        *device = -1;
        *bytes = 0;
        return hipSuccess;
    }
    *kind = a.isManaged ? GPU_POINTER_MANAGED
            : a.memoryType == hipMemoryTypeDevice ? GPU_POINTER_DEVICE : GPU_POINTER_HOST;
    *device = a.device;
    *bytes = 0; /* HIP reports no allocation size */
    return hipSuccess;
}
