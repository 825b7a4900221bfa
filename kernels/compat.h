/*
 * compat.h - the few names that differ between HIP on AMD and CUDA on NVIDIA.
 *
 * The kernels are HIP sources.  hipcc builds them for AMD (HSACO); nvcc builds
 * the same files as CUDA (-x cu).  Only the names here differ: the header,
 * ballots, shuffles, a warp's barrier and a pause for spin loops.  Nothing
 * here assumes a warp width: CDNA (gfx9) runs 64 lanes, RDNA and NVIDIA 32,
 * and ballots are widened to 64 bits on both.
 */
#ifndef SAMPLE_KERNELS_COMPAT_H
#define SAMPLE_KERNELS_COMPAT_H

#if defined(__HIPCC__) && !defined(__CUDACC__)
#include <hip/hip_runtime.h>
#define SAMPLE_BALLOT(pred) ((uint64_t)__ballot(pred))
#define SAMPLE_SHFL(v, lane) __shfl((v), (lane))
#define SAMPLE_SHFL_DOWN(v, delta) __shfl_down((v), (delta))
#define SAMPLE_SHFL_UP(v, delta) __shfl_up((v), (delta))
#define SAMPLE_PAUSE() __builtin_amdgcn_s_sleep(1)
/* A wavefront runs in lockstep: its shared-memory accesses only need to stay
 * in program order, and be seen in it. */
#define SAMPLE_SYNCWARP()                                                                    \
    do {                                                                                     \
        __builtin_amdgcn_fence(__ATOMIC_RELEASE, "wavefront");                               \
        __builtin_amdgcn_wave_barrier();                                                     \
        __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "wavefront");                               \
    } while (0)
#else
#include <cuda_runtime.h>
#define SAMPLE_BALLOT(pred) ((uint64_t)__ballot_sync(0xffffffffu, (pred)))
#define SAMPLE_SHFL(v, lane) __shfl_sync(0xffffffffu, (v), (lane))
#define SAMPLE_SHFL_DOWN(v, delta) __shfl_down_sync(0xffffffffu, (v), (delta))
#define SAMPLE_SHFL_UP(v, delta) __shfl_up_sync(0xffffffffu, (v), (delta))
#define SAMPLE_PAUSE() __nanosleep(32)
#define SAMPLE_SYNCWARP() __syncwarp()
#endif

/* The warp (wavefront) width as a constant: warpSize is a variable, and
 * dividing by it costs an integer division sequence in every kernel. */
#if defined(__HIPCC__) && !defined(__CUDACC__)
#if defined(__AMDGCN_WAVEFRONT_SIZE)
#define SAMPLE_WARP __AMDGCN_WAVEFRONT_SIZE
#else
#define SAMPLE_WARP warpSize /* the host pass, which runs no kernel code */
#endif
#else
#define SAMPLE_WARP 32
#endif

/* Lanes below this one in its warp, as a 64-bit mask. */
__device__ static inline uint64_t sample_lanes_below(void)
{
    return ((uint64_t)1 << (threadIdx.x % SAMPLE_WARP)) - 1;
}

#endif /* SAMPLE_KERNELS_COMPAT_H */
