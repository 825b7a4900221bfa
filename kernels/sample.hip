/*
 * sample.hip - the GPU kernels of the hip backend: SPEC.md on a batch of rows.
 *
 * A call is one launch of sample_k_fused where all its blocks fit on the
 * device at once, else a short chain of kernels, one per step (the grid of a
 * large batch); row-valued operations add sample_k_write.  A call whose rows
 * all draw from every weight of a row of probabilities is one launch of
 * sample_k_scan_mass, at any batch size (see "one pass"); one whose rows all
 * draw from probabilities with top-k <= SAMPLE_TOPK_MAX (top-p and min-p
 * after it or not) is one launch of sample_k_topk (see "one pass for a small
 * top-k").  Each row is split into chunks, one block per chunk, so that a
 * single row still fills the GPU.
 * The steps, in order:
 *
 *   scan       validity, the maximum and the first maximum's index
 *   histogram  top-k / top-p rows: counts of 2304 log-scale weight buckets
 *              (in the chain, rows of probabilities too large for the L2
 *              cache count them in the scan's pass: sample_k_scan_count);
 *              then the buckets that can hold the boundary
 *   gather     those buckets' rank keys into a list, and exact sums; then
 *              the exact boundary key (the boundary bucket's keys sorted,
 *              or radix narrowing first), and the draw
 *   mass       rows without a selection: kept weight per chunk; then t's
 *              chunk and token (rows of probabilities with no filter at all:
 *              found in the scan's pass, see "one pass" below)
 *
 * Each "then" is done by the last block of the row to finish the step (an
 * atomic counter per row).  In the chain every step is a kernel and the last
 * block's work ends it.  In the fused kernel a block reads its chunk from the
 * row once, into shared memory, and runs every step on that copy; after the
 * scan and the histogram the row's other blocks wait (spinning on a flag in
 * the row's state) until the last one has finished.  Waiting is safe because
 * a block takes its (row, chunk) from a ticket when it starts, not from its
 * block index: every ticket below a running block's has been taken by a
 * running block, so the blocks a row waits for have started or are next, and
 * the host launches the fused kernel only where its blocks all fit on the
 * device and a row has at most one block per processor.
 *
 * Weights are recomputed from the float values at every step rather than
 * stored (a weight is 8 bytes).  All arithmetic on mass is 64-bit integer;
 * the float steps are the shared helpers of sample_exact.h, compiled with
 * contraction off, so every token is the scalar backend's.
 */
#include <stdint.h>

#include "compat.h"
#include "kernel_abi.h"
#include "backend.h"

typedef struct sample_kernel_call kcall;

/* The host checks this before it uses a code object. */
extern "C" __device__ const uint32_t sample_kernel_abi = SAMPLE_KERNEL_ABI;

/* The row's meeting points: a counter each, and a flag for those that wait. */
enum { MEET_SCAN, MEET_HISTOGRAM, MEET_GATHER, MEET_MASS };

/* Lines of four elements per thread in a chunk that shared memory holds. */
#define HELD_LINES (SAMPLE_CHUNK_MAX / (4 * SAMPLE_FUSED_BLOCK))
/* Entries of a block's reduction scratch: one per warp and one more. */
#define SCRATCH (SAMPLE_BLOCK / 32 + 1)


/* ---- small helpers --------------------------------------------------------- */

__device__ static inline const void *row_data(const kcall &c, int r)
{
    size_t elem = c.dtype == SAMPLE_F32 ? 4 : 2;
    return (const char *)c.input + (size_t)r * (size_t)c.stride * elem;
}

__device__ static inline struct sample_row_params row_params(const kcall &c, int r)
{
    if (c.rows)
        return c.rows[r];
    struct sample_row_params p = c.uni;
    p.fault = c.uni_fault;
    return p;
}

__device__ static inline uint64_t row_draw(const kcall &c, int r)
{
    return c.rows ? c.rows[r].draw : sample_draw_u64(c.seed, c.offset, (uint64_t)(c.row0 + r));
}

/* The end of chunk j of a row: [j * chunk, chunk_end) are its elements. */
__device__ static inline int chunk_end(const kcall &c, int j)
{
    const int begin = j * c.chunk;
    return begin + c.chunk < c.vocab ? begin + c.chunk : c.vocab;
}

/* Four elements of a row of type DT from element i, whose address is a
 * multiple of four elements: one 16-byte (float32) or 8-byte load. */
template <int DT> __device__ static inline void load4_aligned(const void *row, int i, float v[4])
{
    if (DT == SAMPLE_F32) {
        float4 q = *((const float4 *)row + i / 4);
        v[0] = q.x, v[1] = q.y, v[2] = q.z, v[3] = q.w;
    } else {
        uint2 q = *((const uint2 *)row + i / 4);
        uint16_t h[4] = {(uint16_t)q.x, (uint16_t)(q.x >> 16), (uint16_t)q.y,
                         (uint16_t)(q.y >> 16)};
        for (int j = 0; j < 4; j++)
            v[j] = DT == SAMPLE_F16 ? sample_f16_to_f32(h[j]) : sample_bf16_to_f32(h[j]);
    }
}

/* Whether a row's start allows wide loads: four elements' bytes (16 for
 * float32, 8 for the 16-bit types). */
__device__ static inline bool row_aligned(const void *row, int dtype)
{
    const uintptr_t quad = dtype == SAMPLE_F32 ? 16 : 8;
    return ((uintptr_t)row & (quad - 1)) == 0;
}

/* Elements i .. i+3 of a row of any type: the wide load where i and the row
 * allow it, else one element at a time. */
__device__ static inline void load4(const void *row, int dtype, int64_t i, float v[4])
{
    if (i % 4 == 0 && row_aligned(row, dtype)) {
        switch (dtype) {
        case SAMPLE_F32: load4_aligned<SAMPLE_F32>(row, (int)i, v); return;
        case SAMPLE_F16: load4_aligned<SAMPLE_F16>(row, (int)i, v); return;
        default: load4_aligned<SAMPLE_BF16>(row, (int)i, v); return;
        }
    }
    for (int j = 0; j < 4; j++)
        v[j] = sample_load(row, dtype, i + j);
}

/* Elements i .. i+3 that lie before end, as float32 (the rest 0). */
__device__ static inline void load4_until(const void *row, int dtype, int64_t i, int64_t end,
                                          float v[4])
{
    if (i + 4 <= end) {
        load4(row, dtype, i, v);
        return;
    }
    for (int j = 0; j < 4; j++)
        v[j] = i + j < end ? sample_load(row, dtype, i + j) : 0.0f;
}

template <int DT, typename F>
__device__ static inline void for_each_value_of(const void *row, int begin, int end, F &f)
{
    const int step = 4 * blockDim.x;
    int i = begin + 4 * threadIdx.x;
    /* Whole quads, two loads issued before either is used; begin is a
     * multiple of four and the row is aligned, so every quad is. */
    for (; i + step + 4 <= end; i += 2 * step) {
        float a[4], b[4];
        load4_aligned<DT>(row, i, a);
        load4_aligned<DT>(row, i + step, b);
        for (int j = 0; j < 4; j++)
            f(i + j, a[j]);
        for (int j = 0; j < 4; j++)
            f(i + step + j, b[j]);
    }
    for (; i < end; i += step) {
        if (i + 4 <= end) {
            float a[4];
            load4_aligned<DT>(row, i, a);
            for (int j = 0; j < 4; j++)
                f(i + j, a[j]);
        } else {
            for (int j = i; j < end; j++)
                f(j, sample_load(row, DT, j));
        }
    }
}

/* f(i, value) for every element of [begin, end), begin a multiple of four:
 * four neighbours per thread per load, so that each load is wide and a warp
 * reads whole lines.  The element type is a template argument, so that the
 * loop holds no test of it; a row whose start is not aligned for wide loads
 * is read one element at a time. */
template <typename F>
__device__ static inline void for_each_value(const void *row, int dtype, int begin, int end, F f)
{
    if (!row_aligned(row, dtype)) {
        for (int i = begin + threadIdx.x; i < end; i += blockDim.x)
            f(i, sample_load(row, dtype, i));
        return;
    }
    switch (dtype) {
    case SAMPLE_F32: for_each_value_of<SAMPLE_F32>(row, begin, end, f); break;
    case SAMPLE_F16: for_each_value_of<SAMPLE_F16>(row, begin, end, f); break;
    default: for_each_value_of<SAMPLE_BF16>(row, begin, end, f); break;
    }
}

template <typename T> __device__ static inline T volatile_load(const T *p)
{
    return *(const volatile T *)p;
}

__device__ static inline void add_u64(uint64_t *p, uint64_t v)
{
    atomicAdd((unsigned long long *)p, (unsigned long long)v);
}

/* A 64-bit sum in shared memory kept as two 32-bit halves: v added with
 * 32-bit atomics, native on every target, where a 64-bit shared add can be a
 * compare-and-swap loop that contending lanes retry.  The low half's atomic
 * returns what it held, so its carry into the high half is exact. */
struct split_u64 {
    uint32_t lo, hi;
};

__device__ static inline void add_split(split_u64 *p, uint64_t v)
{
    const uint32_t low = (uint32_t)v, before = atomicAdd(&p->lo, low);
    const uint32_t high = (uint32_t)(v >> 32) + (before + low < before ? 1u : 0u);
    if (high)
        atomicAdd(&p->hi, high);
}

__device__ static inline uint64_t split_value(const split_u64 &p)
{
    return ((uint64_t)p.hi << 32) + p.lo;
}

/* A float as a 32-bit key whose unsigned order is the float order (no NaN);
 * -0 and +0 are one value, so that the first of them is the first maximum. */
__device__ static inline uint32_t order_bits(float v)
{
    uint32_t u = sample_f32_bits(v == 0.0f ? 0.0f : v);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

__device__ static inline float from_order_bits(uint32_t o)
{
    return sample_f32_from_bits((o & 0x80000000u) ? (o & 0x7fffffffu) : ~o);
}

/* How one row's values become weights (SPEC 2). */
struct weigher {
    int kind;
    float max;
    float temperature;
    float scale[2]; /* probabilities: sample_prob_scale(E) */

    /* The weight as a float x, w = trunc(x): 0 <= x <= 2^40 (SPEC 2). */
    __device__ float scaled(float v) const
    {
        return kind == SAMPLE_PROBS ? sample_prob_scaled(v, scale)
                                    : sample_logit_scaled(v, max, temperature);
    }

    __device__ uint64_t operator()(float v) const
    {
        return (uint64_t)scaled(v);
    }
};

__device__ static inline weigher make_weigher(const kcall &c, int r, float max, int32_t exponent)
{
    weigher w = {c.kind, max, row_params(c, r).temperature, {1.0f, 1.0f}};
    if (c.kind == SAMPLE_PROBS)
        sample_prob_scale(exponent, w.scale);
    return w;
}

__device__ static inline weigher row_weigher(const kcall &c, int r)
{
    const struct sample_row_state *s = &c.state[r];
    return make_weigher(c, r, volatile_load(&s->max), volatile_load(&s->exponent));
}

/* Log-scale bucket of a weight: exact below 64, then 64 buckets per octave.
 * Non-decreasing in w, so buckets never reorder weights. */
__device__ static inline uint32_t bucket_of(uint64_t w)
{
    if (w < 64)
        return (uint32_t)w;
    int len = 64 - __clzll((long long)w);
    return (uint32_t)((len - 7) * 64 + (w >> (len - 7)));
}

/*
 * bucket_of(trunc(x)) from the float x of weigher::scaled, without the 64-bit
 * weight.  For x >= 64 with biased exponent e, trunc(x) has e - 126 bits and
 * its top seven are 64 plus the top six bits of x's fraction, so the bucket is
 * (e - 132) * 64 plus those six bits: x's bits shifted right by 17, less
 * 132 * 64.
 */
__device__ static inline uint32_t bucket_of_scaled(float x)
{
    return x >= 64.0f ? (sample_f32_bits(x) >> 17) - 132u * 64u : (uint32_t)x;
}

/* ---- block-wide reductions and scans ---------------------------------------- */

struct max_op {
    template <typename T> __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};
struct min_op {
    template <typename T> __device__ T operator()(T a, T b) const { return a < b ? a : b; }
};
struct add_op {
    __device__ uint64_t operator()(uint64_t a, uint64_t b) const { return a + b; }
};

/* op over the warp's values, in lane 0. */
template <typename T, typename Op> __device__ static inline T warp_reduce(T v, Op op)
{
    for (int d = SAMPLE_WARP / 2; d > 0; d /= 2)
        v = op(v, SAMPLE_SHFL_DOWN(v, d));
    return v;
}

/* op over the block's values, in thread 0 only (the others get their warp's):
 * one barrier, for results that only thread 0 uses.  scratch holds one per
 * warp; until the block's next barrier, a second call needs other scratch. */
template <typename T, typename Op>
__device__ static T block_reduce_first(T v, Op op, T *scratch)
{
    v = warp_reduce(v, op);
    if (threadIdx.x % SAMPLE_WARP == 0)
        scratch[threadIdx.x / SAMPLE_WARP] = v;
    __syncthreads();
    if (threadIdx.x == 0)
        for (int i = 1; i < (int)(blockDim.x / SAMPLE_WARP); i++)
            v = op(v, scratch[i]);
    return v;
}

/* Every thread gets op over the block's values (two barriers more than
 * block_reduce_first); scratch holds one per warp. */
template <typename T, typename Op>
__device__ static T block_reduce(T v, Op op, T *scratch)
{
    v = block_reduce_first(v, op, scratch);
    if (threadIdx.x == 0)
        scratch[0] = v;
    __syncthreads();
    v = scratch[0];
    __syncthreads();
    return v;
}

/* The sum of v over lanes 0 .. lane of the warp (an inclusive scan). */
template <typename T> __device__ static inline T warp_inclusive_sum(T v, int lane)
{
    for (int d = 1; d < SAMPLE_WARP; d *= 2) {
        const T up = SAMPLE_SHFL_UP(v, d);
        v += lane >= d ? up : 0;
    }
    return v;
}

/* Exclusive prefix sums of N values, v[k] in place, over the block's
 * threads in index order, with one round of barriers for all N.  scratch
 * holds N runs of SCRATCH entries (one per warp and one more); total[k]
 * (optional) receives the sum of v[k] over all threads.  Warp 0 scans the
 * warps' sums (a block has at most SAMPLE_WARP warps), where one thread
 * adding them in turn waited on each.  LEAN keeps that thread's loop, which
 * needs fewer registers: plan in the chain's scan kernel (32 registers)
 * spilled with the warp's scan, and top-p at B = 256 on an H100 went 240 ->
 * 250 us. */
template <int N, bool LEAN = false>
__device__ static void block_exclusive_scans(uint64_t (&v)[N], uint64_t *scratch,
                                             uint64_t *total)
{
    const int lane = threadIdx.x % SAMPLE_WARP, warp = threadIdx.x / SAMPLE_WARP;
    const int warps = blockDim.x / SAMPLE_WARP;
    uint64_t inclusive[N];
#pragma unroll
    for (int k = 0; k < N; k++) {
        inclusive[k] = warp_inclusive_sum(v[k], lane);
        if (lane == SAMPLE_WARP - 1)
            scratch[k * SCRATCH + warp] = inclusive[k];
    }
    __syncthreads();
    if (LEAN && threadIdx.x == 0) {
#pragma unroll
        for (int k = 0; k < N; k++) {
            uint64_t running = 0;
            for (int w = 0; w < warps; w++) {
                uint64_t t = scratch[k * SCRATCH + w];
                scratch[k * SCRATCH + w] = running;
                running += t;
            }
            scratch[k * SCRATCH + warps] = running;
        }
    } else if (!LEAN && warp == 0) {
#pragma unroll
        for (int k = 0; k < N; k++) {
            const uint64_t own = lane < warps ? scratch[k * SCRATCH + lane] : 0;
            const uint64_t upto = warp_inclusive_sum(own, lane);
            if (lane < warps)
                scratch[k * SCRATCH + lane] = upto - own;
            if (lane == warps - 1)
                scratch[k * SCRATCH + warps] = upto;
        }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < N; k++) {
        v[k] = scratch[k * SCRATCH + warp] + inclusive[k] - v[k];
        if (total)
            total[k] = scratch[k * SCRATCH + warps];
    }
    __syncthreads();
}

/* The same for one value: its exclusive prefix sum is returned. */
template <bool LEAN = false>
__device__ static uint64_t block_exclusive_scan(uint64_t v, uint64_t *scratch, uint64_t *total)
{
    uint64_t one[1] = {v};
    block_exclusive_scans<1, LEAN>(one, scratch, total);
    return one[0];
}

struct nothing {
    __device__ void operator()() const {}
};

/* After this block's part of step `which` for row r: whether it arrived last.
 * The barrier orders every thread's global writes and atomics before thread
 * 0's fence (fences are cumulative), which orders them before the counter.
 * Thread 0 of the last block runs on_last() before the closing barrier. */
template <typename F = nothing>
__device__ static bool arrive(const kcall &c, int r, int which, F on_last = F())
{
    __shared__ int last;
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        unsigned prev = atomicAdd(&c.state[r].counter[which], 1u);
        last = prev == (unsigned)c.nchunks - 1;
        if (last) {
            c.state[r].counter[which] = 0; /* ready for the next call */
            on_last();
        }
    }
    __syncthreads();
    if (last)
        __threadfence();
    return last;
}

/* The last block, once its result is in global memory: let the others go on. */
__device__ static void release(const kcall &c, int r, int which)
{
    __syncthreads();
    if (threadIdx.x == 0) {
        __threadfence();
        atomicExch(&c.state[r].flag[which], c.epoch);
    }
}

/* The others: wait until the last block has released this call's step. */
__device__ static void wait_release(const kcall &c, int r, int which)
{
    if (threadIdx.x == 0) {
        while (volatile_load(&c.state[r].flag[which]) != c.epoch)
            SAMPLE_PAUSE();
        __threadfence();
    }
    __syncthreads();
}

/* ---- where a block's elements are ------------------------------------------- */

/* A block's chunk [begin, end) of a row: in shared memory (held, the fused
 * kernel once its scan has loaded it), else read from the row (the chain). */
struct chunk_view {
    const void *row;
    int dtype;
    int begin, end;
    const float *held;
};

/* f(i, value) for every element of the chunk, four neighbours per thread. */
template <typename F> __device__ static inline void visit(const chunk_view &ch, F f)
{
    if (!ch.held) {
        for_each_value(ch.row, ch.dtype, ch.begin, ch.end, f);
        return;
    }
    for (int i = ch.begin + 4 * (int)threadIdx.x; i < ch.end; i += 4 * (int)blockDim.x) {
        const float4 q = *(const float4 *)(ch.held + (i - ch.begin));
        const float v[4] = {q.x, q.y, q.z, q.w};
        if (i + 4 <= ch.end) {
#pragma unroll
            for (int j = 0; j < 4; j++)
                f(i + j, v[j]);
        } else {
#pragma unroll
            for (int j = 0; j < 4; j++)
                if (i + j < ch.end)
                    f(i + j, v[j]);
        }
    }
}

/*
 * f(k, i, value) for the elements of the chunk that a thread's flags name: bit
 * e is the e-th element the thread saw in visit(), which takes the same order
 * (lines of four, or single elements where the row is not aligned for wide
 * loads); k numbers the warp's elements from 0, lane by lane, eight bits of
 * the flags at a time.  A warp first lists its flagged indices in `staged`
 * (eight entries per thread), then its lanes take the list in turn, so that
 * all of them work however few elements are flagged: a few in a hundred
 * leave most lanes of a per-lane walk idle.  A thread sees at most 32
 * elements: SAMPLE_CHUNK_MAX / SAMPLE_FUSED_BLOCK in the fused kernel,
 * SAMPLE_CHAIN_CHUNK_MAX / SAMPLE_BLOCK in the chain's.
 */
static_assert(SAMPLE_CHUNK_MAX <= 32 * SAMPLE_FUSED_BLOCK &&
                  SAMPLE_CHAIN_CHUNK_MAX <= 32 * SAMPLE_BLOCK,
              "a thread's elements in a chunk fit a 32-bit mask");
template <typename F>
__device__ static inline void visit_flagged(const chunk_view &ch, uint32_t flags,
                                            uint32_t *staged, F f)
{
    const bool lines = ch.held || row_aligned(ch.row, ch.dtype);
    const int lane = threadIdx.x % SAMPLE_WARP;
    const int first = lines ? ch.begin + 4 * (int)threadIdx.x : ch.begin + (int)threadIdx.x;
    uint32_t *list = staged + 8 * (threadIdx.x - lane), done = 0;
    for (int round = 0; round < 32; round += 8) {
        uint32_t bits = flags >> round & 0xffu;
        const uint32_t n = __popc(bits), incl = warp_inclusive_sum(n, lane);
        const uint32_t total = SAMPLE_SHFL(incl, SAMPLE_WARP - 1);
        if (total == 0)
            continue;
        for (uint32_t at = incl - n; bits; bits &= bits - 1, at++) {
            const int e = round + __ffs((int)bits) - 1;
            list[at] = (uint32_t)(lines ? first + (e / 4) * 4 * (int)blockDim.x + e % 4
                                        : first + e * (int)blockDim.x);
        }
        SAMPLE_SYNCWARP();
        for (uint32_t k = lane; k < total; k += SAMPLE_WARP) {
            const int i = (int)list[k];
            f(done + k, i, ch.held ? ch.held[i - ch.begin] : sample_load(ch.row, ch.dtype, i));
        }
        done += total;
        SAMPLE_SYNCWARP();
    }
}

/* ---- scan: validity, maximum, first maximum ------------------------------------ */

/* What the scan keeps of the values it sees. */
struct scan_acc {
    int kind;
    float max;
    int first_max;
    uint32_t first_fault; /* (index << 4) | fault, or ~0 */

    __device__ void operator()(int i, float v)
    {
        /* One test for every fault: NaN, infinities, negative probabilities. */
        bool plausible = kind == SAMPLE_PROBS ? (v >= 0.0f && v < INFINITY) : v < INFINITY;
        if (!plausible) {
            enum sample_row_fault f = kind == SAMPLE_PROBS ? sample_prob_fault(v)
                                                            : sample_logit_fault(v);
            if (f != SAMPLE_ROW_OK) {
                uint32_t packed = ((uint32_t)i << 4) | (uint32_t)f;
                first_fault = packed < first_fault ? packed : first_fault;
            }
        }
        /* Each thread sees its elements in increasing order. */
        if (v > max) {
            max = v;
            first_max = i;
        }
    }
};

/* The chunk [begin, end) into registers, every load issued before any is
 * used: line l of a thread at begin + 4 * (threadIdx.x + l * BLOCK), elements
 * past end +0.  The host keeps chunks within 4 * LINES * BLOCK.  A whole
 * chunk of aligned float32, nearly every block's, takes a branch of its own
 * with nothing but the wide loads: with each line's test for the end and
 * its narrow loads between them, a new block's warps waited on instruction
 * fetch (plain, B = 256: 84 -> 78.5 us on an H100). */
template <int BLOCK, int LINES>
__device__ static inline void load_lines(const void *row, int dtype, int begin, int end,
                                         float v[LINES][4])
{
    if (dtype == SAMPLE_F32 && row_aligned(row, dtype) && begin + 4 * LINES * BLOCK <= end) {
#pragma unroll
        for (int l = 0; l < LINES; l++)
            load4_aligned<SAMPLE_F32>(row, begin + 4 * ((int)threadIdx.x + l * BLOCK), v[l]);
        return;
    }
    /* The rest (a row's last chunk, 16-bit types, rows not so aligned):
     * load4_until takes the wide load wherever a line allows it. */
#pragma unroll
    for (int l = 0; l < LINES; l++)
        load4_until(row, dtype, begin + 4 * ((int)threadIdx.x + l * BLOCK), end, v[l]);
}

/* The scan of one chunk: into shared memory where held is not NULL. */
__device__ static void scan_chunk(const chunk_view &ch, float *held, scan_acc &acc)
{
    if (!held) {
        for_each_value(ch.row, ch.dtype, ch.begin, ch.end, [&](int i, float v) { acc(i, v); });
        return;
    }
    float v[HELD_LINES][4];
    load_lines<SAMPLE_FUSED_BLOCK, HELD_LINES>(ch.row, ch.dtype, ch.begin, ch.end, v);
#pragma unroll
    for (int l = 0; l < HELD_LINES; l++) {
        const int i = ch.begin + 4 * ((int)threadIdx.x + l * SAMPLE_FUSED_BLOCK);
        if (i < ch.end) {
            *(float4 *)(held + (i - ch.begin)) = make_float4(v[l][0], v[l][1], v[l][2], v[l][3]);
            for (int j = 0; j < 4; j++)
                if (i + j < ch.end)
                    acc(i + j, v[l][j]);
        }
    }
}

/* Whether a row's top-k / top-p removes anything by its parameters: k below
 * the vocabulary, p below 1. */
__device__ static inline bool filters_top_k(const kcall &c, const struct sample_row_params &p)
{
    return p.top_k > 0 && p.top_k < c.vocab;
}

__device__ static inline bool filters_top_p(const struct sample_row_params &p)
{
    return p.top_p < 1.0f;
}

/* Whether a row's kept set needs the top-k / top-p selection (softmax keeps
 * every token). */
__device__ static inline bool row_selects(const kcall &c, const struct sample_row_params &p)
{
    return c.op != SAMPLE_OP_SOFTMAX && (filters_top_k(c, p) || filters_top_p(p));
}

__device__ static inline bool uses_min_p(const kcall &c, const struct sample_row_params &p)
{
    return c.op != SAMPLE_OP_SOFTMAX && p.min_p > 0.0f;
}

/* Thread 0 of the row's last block: the row's fault, or what it needs next. */
/* What finish_scan leaves in the row's state that the top-k kernel's last
 * block reads again: a copy in shared memory spares it the round trip. */
struct row_view {
    uint64_t theta;
    float max;
    int32_t exponent;
    uint32_t mode;
};

__device__ static void finish_scan(const kcall &c, int r, uint64_t best, uint32_t first_fault,
                                   row_view *view)
{
    struct sample_row_params p = row_params(c, r);
    struct sample_row_state *s = &c.state[r];
    float max = from_order_bits((uint32_t)(best >> 32));
    uint32_t fault = p.fault;
    int32_t index = -1;

    if (fault == SAMPLE_ROW_OK && first_fault != ~0u) {
        fault = first_fault & 15u;
        index = (int32_t)(first_fault >> 4);
    }
    if (fault == SAMPLE_ROW_OK && c.kind == SAMPLE_PROBS && !(max > 0.0f))
        fault = SAMPLE_ROW_ALL_ZERO;
    if (fault == SAMPLE_ROW_OK && c.kind == SAMPLE_LOGITS && max == -INFINITY)
        fault = SAMPLE_ROW_NO_FINITE;
    c.report[r].fault = fault;
    c.report[r].index = index;
    if (fault != SAMPLE_ROW_OK) {
        s->mode = SAMPLE_MODE_INVALID;
        if (view)
            view->mode = SAMPLE_MODE_INVALID;
        if (c.tokens)
            c.tokens[r] = -1;
        return;
    }
    if (c.op == SAMPLE_OP_ARGMAX || (c.op == SAMPLE_OP_FROM_LOGITS && p.temperature == 0.0f)) {
        c.tokens[r] = (int32_t)~(uint32_t)best;
        s->mode = SAMPLE_MODE_DONE;
        if (view)
            view->mode = SAMPLE_MODE_DONE;
        return;
    }

    uint64_t w_max = SAMPLE_W_ONE;
    int32_t exponent = 0;
    s->max = max;
    if (c.kind == SAMPLE_PROBS) {
        exponent = sample_frexp_exponent(max);
        s->exponent = exponent;
        w_max = sample_prob_weight(max, exponent);
    }
    /* min-p alone is a weight threshold: no selection needed (SPEC 4.3). */
    const uint64_t theta = uses_min_p(c, p) ? sample_ceil_mul(p.min_p, w_max) : 0;
    const uint32_t mode = row_selects(c, p) ? SAMPLE_MODE_SELECT : SAMPLE_MODE_KEPT;
    s->theta = theta;
    s->bound = theta << SAMPLE_INDEX_BITS;
    s->mode = mode;
    if (view)
        *view = {theta, max, exponent, mode};
}

/* Chunk j's scan result of row r, into best and first_fault. */
__device__ static inline void take_part(const kcall &c, int r, int j, uint64_t &best,
                                        uint32_t &first_fault)
{
    const uint64_t b = volatile_load(&c.part[(size_t)r * c.nchunks + j]);
    const uint32_t f = volatile_load(&c.part_fault[(size_t)r * c.nchunks + j]);
    best = b > best ? b : best;
    first_fault = f < first_fault ? f : first_fault;
}

/* The chunks' scan results first, first + step, ... of row r, combined into
 * best and first_fault (which start at 0 and ~0). */
__device__ static inline void scan_parts(const kcall &c, int r, int first, int step,
                                         uint64_t &best, uint32_t &first_fault)
{
    for (int j = first; j < c.nchunks; j += step)
        take_part(c, r, j, best, first_fault);
}

/* The same where there are at most N of them: their loads go out together. */
template <int N>
__device__ static inline void scan_parts_upto(const kcall &c, int r, int first, int step,
                                              uint64_t &best, uint32_t &first_fault)
{
#pragma unroll
    for (int i = 0, j = first; i < N && j < c.nchunks; i++, j += step)
        take_part(c, r, j, best, first_fault);
}

/* The row's last scanning block: combine the chunks' results. */
__device__ static void combine_scan(const kcall &c, int r, uint64_t *scratch64,
                                    uint32_t *scratch32, row_view *view = NULL)
{
    uint64_t best = 0;
    uint32_t first_fault = ~0u;
    scan_parts(c, r, threadIdx.x, blockDim.x, best, first_fault);
    best = block_reduce_first(best, max_op(), scratch64);
    first_fault = block_reduce_first(first_fault, min_op(), scratch32);
    if (threadIdx.x == 0)
        finish_scan(c, r, best, first_fault, view);
}

/* A chunk's scan: (order of its maximum, ~its first index) and its first
 * fault's index (~0u for none). */
struct chunk_scan {
    uint64_t best;
    uint32_t fault;
};

/*
 * A chunk of probabilities below 2 counted by float bucket as the scan reads
 * it: bucket a holds the values whose bits, shifted right by 17, are a (an
 * octave's 64 buckets, as bucket_of_scaled's).  Scaling by a power of two
 * moves a normal float's bits by a multiple of 2^23, so every weight of
 * bucket a at any exponent falls in the weight bucket of a's least value
 * (float_to_weight_buckets); the scan's histogram then needs no second read
 * of the chunk and no maximum first.  float_cnt (SAMPLE_FLOAT_BUCKETS + 1
 * words) is zeroed, a barrier passed; float_cnt[FLOAT_OVER] counts the values
 * outside (2 or more, or no number: the row faults then).  A negative value
 * counts by its magnitude; its row faults, and the counts go unused.
 */
#define FLOAT_OVER SAMPLE_FLOAT_BUCKETS
__device__ static void count_float_buckets(const chunk_view &ch, scan_acc &acc,
                                           uint32_t *float_cnt)
{
    for_each_value(ch.row, ch.dtype, ch.begin, ch.end, [&](int i, float v) {
        acc(i, v);
        const uint32_t a = (sample_f32_bits(v) & 0x7fffffffu) >> 17;
        atomicAdd(&float_cnt[a < FLOAT_OVER ? a : FLOAT_OVER], 1u);
    });
}

/* A block's scan of its chunk (into held, where not NULL; with FLOAT_COUNT
 * counted into float_cnt as well), its result left in the row's part and
 * part_fault slots for the last block and returned to thread 0. */
template <bool FLOAT_COUNT = false>
__device__ static chunk_scan scan_step(const kcall &c, int r, int j, const chunk_view &ch,
                                       float *held, uint64_t *scratch64, uint32_t *scratch32,
                                       uint32_t *float_cnt = NULL)
{
    /* Each thread's largest value and its first index (its elements come in
     * increasing order), then (order of the value, ~index) across threads:
     * the maximum is the largest value's first index. */
    scan_acc acc = {c.kind, -INFINITY, -1, ~0u};
    if (FLOAT_COUNT)
        count_float_buckets(ch, acc, float_cnt);
    else
        scan_chunk(ch, held, acc);
    uint64_t best = ((uint64_t)order_bits(acc.max) << 32) | (uint32_t)~(uint32_t)acc.first_max;
    best = block_reduce_first(best, max_op(), scratch64);
    uint32_t first_fault = block_reduce_first(acc.first_fault, min_op(), scratch32);
    if (threadIdx.x == 0) {
        c.part[(size_t)r * c.nchunks + j] = best;
        c.part_fault[(size_t)r * c.nchunks + j] = first_fault;
    }
    chunk_scan out = {best, first_fault};
    return out;
}

/* ---- histogram: where the top-k and top-p boundaries lie ------------------------ */

/* The smallest and largest weight of a bucket (bucket_of inverted). */
__device__ static inline uint64_t bucket_min(uint32_t b)
{
    return b < 64 ? b : (uint64_t)(64 + b % 64) << (b / 64 - 1);
}

__device__ static inline uint64_t bucket_max(uint32_t b)
{
    return b < 64 ? b : ((uint64_t)(65 + b % 64) << (b / 64 - 1)) - 1;
}

/*
 * Counts alone bound a bucket's weight only to within 1/64 of it, which
 * leaves top-p's boundary a range of 15-30 buckets and thousands of
 * candidates on a dense row.  So the histogram also sums each weight's
 * FRAC_BITS bits below its top seven (frac_of_scaled, 0 where the bucket
 * has fewer bits than that): a bucket b of n weights whose sum of those bits
 * is f, with u = its width less FRAC_BITS, weighs between
 * n * bucket_min(b) + f * 2^u and that plus n * (2^u - 1).  A block counts
 * an element as 1 + (its bits << FRAC_SHIFT) in one 32-bit word, which
 * holds a chunk of SAMPLE_CHUNK_MAX.
 */
#define FRAC_BITS 5
#define FRAC_SHIFT 14
static_assert(SAMPLE_CHUNK_MAX < (1 << FRAC_SHIFT) &&
                  (uint64_t)SAMPLE_CHUNK_MAX * ((1u << FRAC_BITS) - 1) < (1ull << (32 - FRAC_SHIFT)),
              "a chunk's count and fraction sum share a word");

/* The FRAC_BITS bits of trunc(x) below its top seven, where its bucket has
 * that many (x >= 2^(6 + FRAC_BITS)); else 0. */
__device__ static inline uint32_t frac_of_scaled(float x)
{
    return x >= (float)(1u << (6 + FRAC_BITS))
               ? (sample_f32_bits(x) >> (17 - FRAC_BITS)) & ((1u << FRAC_BITS) - 1)
               : 0u;
}

/* Whether row r's histogram sums fractions: for top-p alone.  With top-k
 * too, the range starts at top-k's bucket, which counts find exactly, and
 * the sums only cost (logits' top-k 50 + top-p 0.9: 2-20 us). */
__device__ static inline bool sums_fractions(const kcall &c, int r)
{
    const struct sample_row_params p = row_params(c, r);
    return filters_top_p(p) && !filters_top_k(c, p);
}

/* Bounds on the weight of bucket b's n elements; frac says whether f, the
 * sum of their frac_of_scaled bits, is known. */
__device__ static inline void bucket_weight(uint32_t b, uint64_t n, uint64_t f, bool frac,
                                            uint64_t &lo, uint64_t &hi)
{
    lo = n * bucket_min(b);
    const int width = b < 64 ? 0 : (int)(b / 64) - 1;
    if (frac && width >= FRAC_BITS) {
        const int unit = width - FRAC_BITS;
        lo += f << unit;
        hi = lo + n * ((1ull << unit) - 1);
    } else {
        hi = n * bucket_max(b);
    }
}

/* Where the gather leaves the candidate buckets' exact counts and weights:
 * the row's histogram space, which the histogram step leaves zeroed. */
__device__ static inline uint32_t *range_counts(const kcall &c, int r)
{
    return c.hist_cnt + (size_t)r * SAMPLE_HIST_WORDS;
}

__device__ static inline uint64_t *range_sums(const kcall &c, int r)
{
    return (uint64_t *)(range_counts(c, r) + SAMPLE_RANGE);
}

/* cnt's n counts (shared memory; SAMPLE_BUCKETS unless said) to 0, for the
 * whole block. */
__device__ static inline void clear_buckets(uint32_t *cnt, int n = SAMPLE_BUCKETS)
{
    for (int b = threadIdx.x; b < n; b += blockDim.x)
        cnt[b] = 0;
    __syncthreads();
}

/* The chunk's bucket counts under weight, into cnt (shared memory; the
 * whole block, which may read cnt on return); with frac, each with its
 * fraction sum above FRAC_SHIFT. */
template <bool FRAC>
__device__ static void count_buckets_as(const chunk_view &ch, const weigher &weight,
                                        uint32_t *cnt)
{
    clear_buckets(cnt);
    /* The constant add stays the compiler's to combine across a warp: the
     * small weights of a peaked row crowd into a few buckets. */
    visit(ch, [&](int, float v) {
        const float x = weight.scaled(v);
        const uint32_t b = bucket_of_scaled(x), f = FRAC ? frac_of_scaled(x) : 0u;
        if (f)
            atomicAdd(&cnt[b], 1u + (f << FRAC_SHIFT));
        else
            atomicAdd(&cnt[b], 1u);
    });
    __syncthreads();
}

__device__ static void count_buckets(const chunk_view &ch, const weigher &weight, uint32_t *cnt,
                                     bool frac)
{
    if (frac)
        count_buckets_as<true>(ch, weight, cnt);
    else
        count_buckets_as<false>(ch, weight, cnt);
}

/* The chunk's bucket counts (and with frac their fraction sums), added to
 * the row's in global memory. */
__device__ static void histogram_chunk(const kcall &c, int r, const chunk_view &ch,
                                       const weigher &weight, uint32_t *cnt, bool frac)
{
    count_buckets(ch, weight, cnt, frac);
    uint32_t *g_cnt = c.hist_cnt + (size_t)r * SAMPLE_HIST_WORDS;
    for (int b = threadIdx.x; b < SAMPLE_BUCKETS; b += blockDim.x) {
        const uint32_t v = cnt[b];
        if (!v)
            continue;
        atomicAdd(&g_cnt[b], frac ? v & ((1u << FRAC_SHIFT) - 1) : v);
        if (frac && v >> FRAC_SHIFT)
            atomicAdd(&g_cnt[SAMPLE_BUCKETS + b], v >> FRAC_SHIFT);
    }
}

/* Running totals over the buckets from the top down to one bucket. */
struct tally {
    uint64_t cnt, lo, hi; /* count, and the weight at least and at most */
};

/*
 * Thread t walks the t-th segment of buckets from the top, with `above` the
 * totals of the buckets above the segment.  For each of its buckets b, from
 * high to low, f(b, totals of buckets >= b, totals of buckets > b).
 */
template <typename F>
__device__ static void walk_segment(const uint32_t *cnt, const uint32_t *frac, int first,
                                    int last, tally above, F f)
{
    for (int b = last - 1; b >= first; b--) {
        uint64_t lo, hi;
        bucket_weight((uint32_t)b, cnt[b], frac ? frac[b] : 0, frac != NULL, lo, hi);
        tally ge = above;
        ge.cnt += cnt[b];
        ge.lo += lo;
        ge.hi += hi;
        f(b, ge, above);
        above = ge;
    }
}

/*
 * The row's last histogram block, with the row's bucket counts in cnt (and
 * their fraction sums in frac, or NULL): find the buckets that can hold the
 * top-k and top-p boundaries.  Counts are exact; a bucket's weight is only
 * bounded (bucket_weight), so top-p's boundary is a short range of buckets
 * whose bounds straddle tau.  The gather step adds up the exact weights.  For
 * a total G non-increasing in b, "b crosses target" means G(>= b) >= target >
 * G(> b).  LEAN: with the block scans that need the fewest registers
 * (block_exclusive_scans' LEAN).
 */
template <bool LEAN = false>
__device__ static void plan(const kcall &c, int r, const uint32_t *cnt, const uint32_t *frac)
{
    __shared__ int found[3];
    __shared__ uint64_t mass[2];
    __shared__ uint64_t scans[3 * SCRATCH];
    struct sample_row_state *s = &c.state[r];
    struct sample_row_params p = row_params(c, r);
    /* Thread t takes the t-th segment from the top, so that a prefix sum in
     * thread order is a sum over the buckets above. */
    const int per = (SAMPLE_BUCKETS + blockDim.x - 1) / blockDim.x;
    const int seg = blockDim.x - 1 - threadIdx.x;
    const int first = seg * per < SAMPLE_BUCKETS ? seg * per : SAMPLE_BUCKETS;
    const int last = first + per < SAMPLE_BUCKETS ? first + per : SAMPLE_BUCKETS;

    tally own = {0, 0, 0}, above;
    for (int b = first; b < last; b++) {
        uint64_t lo, hi;
        bucket_weight((uint32_t)b, cnt[b], frac ? frac[b] : 0, frac != NULL, lo, hi);
        own.cnt += cnt[b];
        own.lo += lo;
        own.hi += hi;
    }
    if (LEAN) { /* three rounds: one would spill here too */
        above.cnt = block_exclusive_scan<true>(own.cnt, scans, NULL);
        above.lo = block_exclusive_scan<true>(own.lo, scans, &mass[0]);
        above.hi = block_exclusive_scan<true>(own.hi, scans, &mass[1]);
    } else {
        uint64_t sums[3] = {own.cnt, own.lo, own.hi}, totals[3];
        block_exclusive_scans<3>(sums, scans, totals);
        above = {sums[0], sums[1], sums[2]};
        if (threadIdx.x == 0) {
            mass[0] = totals[1];
            mass[1] = totals[2];
        }
    }
    if (threadIdx.x == 0)
        found[0] = found[1] = found[2] = 0;
    __syncthreads();

    /* Bounds on M_k: the buckets above top-k's at their least, or those and
     * its own at their most (without top-k, the row's). */
    const bool top_k = filters_top_k(c, p);
    const bool top_p = filters_top_p(p);
    const uint64_t k = (uint64_t)p.top_k;
    if (top_k)
        walk_segment(cnt, frac, first, last, above, [&](int b, tally ge, tally gt) {
            if (ge.cnt >= k && gt.cnt < k) {
                found[0] = b;
                mass[0] = gt.lo;
                mass[1] = ge.hi;
            }
        });
    __syncthreads();
    if (top_p) {
        /* The boundary bucket crosses tau.  The highest it can be: the smallest
         * tau against the largest weights; the lowest: the largest tau against
         * the smallest. */
        uint64_t tau_lo = sample_ceil_mul(p.top_p, mass[0]);
        const uint64_t tau_hi = sample_ceil_mul(p.top_p, mass[1]);
        tau_lo = tau_lo > 0 ? tau_lo : 1;
        walk_segment(cnt, frac, first, last, above, [&](int b, tally ge, tally gt) {
            if (ge.hi >= tau_lo && gt.hi < tau_lo)
                found[1] = b;
            if (ge.lo >= tau_hi && gt.lo < tau_hi)
                found[2] = b;
        });
    }
    __syncthreads();
    if (threadIdx.x != 0)
        return;
    /* L_p <= L_k: top-p's boundary is never below top-k's. */
    const int bk = found[0];
    int blo = top_k ? bk : found[2];
    int bhi = top_p ? found[1] : bk;
    if (bhi < blo)
        bhi = blo;
    const uint64_t theta = volatile_load(&s->theta);
    if (theta > 0 && (int)bucket_of(theta) > bhi) {
        /* Every candidate weighs less than theta: min-p alone decides. */
        s->mode = SAMPLE_MODE_KEPT;
        return;
    }
    s->blo = (uint32_t)blo;
    s->bhi = (uint32_t)bhi;
    s->above_cnt = 0; /* the gather step adds these up exactly */
    s->above_sum = 0;
    s->total = 0;
}

/* The row's last histogram block: take the row's histogram (leaving the
 * workspace zeroed for the next call) and plan the gather.  frac: where the
 * row's blocks summed fractions (histogram_chunk's frac), shared memory for
 * them; else NULL. */
__device__ static void combine_histogram(const kcall &c, int r, uint32_t *cnt, uint32_t *frac)
{
    /* HIST_AHEAD counts a thread in flight: the loop that stored each count
     * before loading the next waited on every load (6 us of the plan at B =
     * 1, 256 threads).  (Plain 16-byte loads, all of a thread's at once, were
     * faster still at B = 1 but made the chain's histogram step 3 us slower
     * at B = 64.) */
    uint32_t *g_cnt = c.hist_cnt + (size_t)r * SAMPLE_HIST_WORDS;
    uint32_t *g_frac = g_cnt + SAMPLE_BUCKETS;
    constexpr int HIST_AHEAD = (SAMPLE_BUCKETS + SAMPLE_BLOCK - 1) / SAMPLE_BLOCK;
    for (uint32_t base = 0; base < SAMPLE_BUCKETS; base += HIST_AHEAD * blockDim.x) {
        /* The fraction sums in the same round trip as the counts. */
        uint32_t v[HIST_AHEAD], f[HIST_AHEAD];
#pragma unroll
        for (int i = 0; i < HIST_AHEAD; i++) {
            const uint32_t b = base + threadIdx.x + (uint32_t)i * blockDim.x;
            v[i] = b < SAMPLE_BUCKETS ? volatile_load(&g_cnt[b]) : 0;
            f[i] = frac && b < SAMPLE_BUCKETS ? volatile_load(&g_frac[b]) : 0;
        }
#pragma unroll
        for (int i = 0; i < HIST_AHEAD; i++) {
            const uint32_t b = base + threadIdx.x + (uint32_t)i * blockDim.x;
            if (b < SAMPLE_BUCKETS) {
                cnt[b] = v[i];
                g_cnt[b] = 0;
                if (frac) {
                    frac[b] = f[i];
                    g_frac[b] = 0;
                }
            }
        }
    }
    __syncthreads();
    plan(c, r, cnt, frac);
}

/*
 * The histogram in the scan's pass, for the chain's rows of probabilities: a
 * weight's bucket is scale-free in the sense that a chunk can count its
 * elements' buckets at its own maximum's exponent E_j before the row's E is
 * known, and the row's last block moves each count to the row's bucket.
 * With d = E - E_j >= 0, a chunk's bucket b holds the x (weigher::scaled) of
 * [bucket_min(b), bucket_min(b + 1)); at the row's scale they are those
 * values times 2^-d, whose floors all equal bucket_min(b) >> d (an interval
 * [m 2^-d, (m + 1) 2^-d) with m whole holds no whole number but at its
 * start), so the row's bucket is bucket_of(bucket_min(b) >> d): b - 64 d
 * while that stays in the log-scale buckets.
 */
static_assert(SAMPLE_CHAIN_CHUNK_MAX <= 65535, "a chunk's bucket counts fit 16 bits");
static_assert(SAMPLE_BUCKETS % 8 == 0, "a chunk's counts are whole 16-byte groups");
__device__ static inline uint32_t rescaled_bucket(uint32_t b, int d)
{
    return d == 0 ? b : bucket_of(d >= 64 ? 0 : bucket_min(b) >> d);
}

/*
 * A chunk's float bucket counts (count_float_buckets) as weight bucket
 * counts at the chunk's exponent e (weight), into cnt (shared; the whole
 * block, which may read cnt on return).  top is the largest value's float
 * bucket.  A normal value p of float bucket a weighs trunc(p * 2^(40-e))
 * (sample_prob_scaled): at 64 or more its bits are p's moved by (40-e) << 23,
 * so its bucket is that of a's least value; below 64, a float bucket is at
 * most half a unit wide and its ends lie on multiples of its width, so one
 * whole number holds it; below 2^-126 it weighs 0 either way.  Needs e >=
 * SAMPLE_FLOAT_MIN_EXPONENT (-86), so that every value of weight 1 or more is
 * normal (check_exact's float_buckets; a run over every float below 2^e,
 * each e from 1 to -86, found no exception either; from e = -93 there are).
 */
__device__ static void float_to_weight_buckets(const uint32_t *float_cnt, uint32_t top,
                                               const weigher &weight, uint32_t *cnt)
{
    clear_buckets(cnt);
    for (uint32_t a = threadIdx.x; a <= top; a += blockDim.x) {
        const uint32_t n = float_cnt[a];
        if (n)
            atomicAdd(&cnt[bucket_of_scaled(weight.scaled(sample_f32_from_bits(a << 17)))], n);
    }
    __syncthreads();
}

/* A block of the chain's scan: its chunk's bucket counts at its own maximum's
 * exponent, into chunk_hist (rows that select, chunks with no fault).  own is
 * scan_step's result, which only thread 0 holds; float_cnt its count by float
 * bucket (count_float_buckets), which serves unless a value is 2 or more or
 * the maximum below 2^-86; then the block reads its chunk again. */
__device__ static void local_histogram(const kcall &c, int r, int j, const chunk_view &ch,
                                       chunk_scan own, uint32_t *cnt, const uint32_t *float_cnt)
{
    __shared__ chunk_scan mine;
    const struct sample_row_params p = row_params(c, r);
    if (p.fault != SAMPLE_ROW_OK || !row_selects(c, p))
        return;
    if (threadIdx.x == 0)
        mine = own;
    __syncthreads();
    if (mine.fault != ~0u) /* the row is invalid */
        return;
    /* An all-zero chunk counts every element in bucket 0 at any scale. */
    const float max = from_order_bits((uint32_t)(mine.best >> 32));
    const int exponent = sample_frexp_exponent(max > 0.0f ? max : 1.0f);
    const weigher weight = make_weigher(c, r, max, exponent);
    if (!float_cnt[FLOAT_OVER] && exponent >= SAMPLE_FLOAT_MIN_EXPONENT)
        float_to_weight_buckets(float_cnt, sample_f32_bits(max) >> 17, weight, cnt);
    else
        count_buckets(ch, weight, cnt, false);
    uint16_t *out = c.chunk_hist + ((size_t)r * c.nchunks + j) * SAMPLE_BUCKETS;
    for (int b = threadIdx.x; b < SAMPLE_BUCKETS; b += blockDim.x)
        out[b] = (uint16_t)cnt[b];
}

/* The row's last scanning block, after combine_scan, for a row that
 * selects: the chunks' counts moved to the row's buckets, then plan. */
__device__ static void combine_local_histograms(const kcall &c, int r, uint32_t *cnt)
{
    const struct sample_row_state *s = &c.state[r];
    __syncthreads(); /* thread 0's finish_scan wrote the row's state */
    if (volatile_load(&s->mode) != SAMPLE_MODE_SELECT)
        return;
    const int32_t exponent = volatile_load(&s->exponent);
    clear_buckets(cnt);
    /* The row's counts as 16-byte groups of eight, LOCAL_AHEAD groups a
     * thread in flight, each with its chunk's maximum. */
    constexpr int GROUPS = SAMPLE_BUCKETS / 8, LOCAL_AHEAD = 2;
    const uint4 *h = (const uint4 *)(c.chunk_hist + (size_t)r * c.nchunks * SAMPLE_BUCKETS);
    const uint64_t *part = c.part + (size_t)r * c.nchunks;
    const uint32_t groups = (uint32_t)c.nchunks * GROUPS;
    for (uint32_t base = 0; base < groups; base += LOCAL_AHEAD * blockDim.x) {
        uint4 q[LOCAL_AHEAD];
        uint64_t best[LOCAL_AHEAD];
#pragma unroll
        for (int a = 0; a < LOCAL_AHEAD; a++) {
            const uint32_t g = base + threadIdx.x + (uint32_t)a * blockDim.x;
            q[a] = g < groups ? h[g] : make_uint4(0, 0, 0, 0);
            best[a] = g < groups ? volatile_load(&part[g / GROUPS]) : 0;
        }
#pragma unroll
        for (int a = 0; a < LOCAL_AHEAD; a++) {
            const uint32_t g = base + threadIdx.x + (uint32_t)a * blockDim.x;
            const float max = from_order_bits((uint32_t)(best[a] >> 32));
            const int d = max > 0.0f ? exponent - sample_frexp_exponent(max) : 0;
            const uint32_t w[4] = {q[a].x, q[a].y, q[a].z, q[a].w};
            for (int e = 0; e < 8; e++) {
                const uint32_t n = w[e / 2] >> (16 * (e % 2)) & 0xffffu;
                if (n)
                    atomicAdd(&cnt[rescaled_bucket((g % GROUPS) * 8 + (uint32_t)e, d)], n);
            }
        }
    }
    __syncthreads();
    plan<true>(c, r, cnt, NULL); /* in the chain's scan kernel */
}

/* ---- gather and select: the exact boundary ------------------------------------ */

struct select_smem {
    uint64_t keys[SAMPLE_SORT_MAX];
    uint64_t prefix[SAMPLE_SORT_MAX]; /* inclusive prefix sums of the sorted weights */
    uint64_t buf[SCRATCH];
    uint32_t digit_cnt[256];
    split_u64 digit_sum[256];
    uint32_t count;
    uint32_t answer;
};

/* The keys of a list whose bits above `shift` are prefix's; count of them. */
struct key_set {
    uint64_t prefix;
    int shift;
    uint32_t count;
};

/* Whether a key lies in the set of keys whose bits above `shift` are prefix's. */
__device__ static inline bool in_set(uint64_t key, uint64_t prefix, int shift)
{
    return shift >= 64 || (key >> shift) == (prefix >> shift);
}

#define SET_AHEAD 4

/*
 * sm->keys[0 .. count) (distinct, count at most the block's threads) into
 * descending order, with the inclusive prefix sums of their weights, by
 * rank: a key's place is the number of keys above it, and its prefix the
 * weight of those and its own.  g threads share a key's comparisons.  For the
 * boundary slot's hundred or so keys this takes a few hundred instructions
 * where the bitonic network's 28 dependent steps took 5-7 us.
 */
#define RANK_MAX 256
__device__ static void rank_sort(uint32_t count, select_smem *sm)
{
    uint32_t g = 1;
    while (g < SAMPLE_WARP && count * g * 2 <= blockDim.x)
        g *= 2;
    const uint32_t e = threadIdx.x / g, part = threadIdx.x % g;
    uint64_t key = 0, before = 0;
    uint32_t above = 0;
    if (e < count) {
        key = sm->keys[e];
        for (uint32_t q = part; q < count; q += g) {
            const uint64_t other = sm->keys[q];
            if (other > key) {
                above++;
                before += other >> SAMPLE_INDEX_BITS;
            }
        }
    }
    /* A key's g threads are consecutive lanes from a multiple of g. */
    for (uint32_t d = g / 2; d > 0; d /= 2) {
        above += SAMPLE_SHFL_DOWN(above, d);
        before += SAMPLE_SHFL_DOWN(before, d);
    }
    __syncthreads();
    if (e < count && part == 0) {
        sm->keys[above] = key;
        sm->prefix[above] = before + (key >> SAMPLE_INDEX_BITS);
    }
    __syncthreads();
}

/* Loads the list's keys in the set (at most SAMPLE_SORT_MAX), sorts them into
 * the order of SPEC 3 and forms the prefix sums of their weights. */
__device__ static uint32_t sort_set(const uint64_t *list, uint32_t n, uint64_t prefix,
                                    int shift, select_smem *sm)
{
    if (threadIdx.x == 0)
        sm->count = 0;
    __syncthreads();
    /* SET_AHEAD keys per thread in flight; one shared counter update per warp
     * and key.  (Eight in flight, or one update per warp for all of them
     * after a warp scan, were both slower: 4.6 -> 6.1 us at B = 1.) */
    const uint32_t step = SET_AHEAD * blockDim.x;
    for (uint32_t base = 0; base < n; base += step) {
        uint64_t key[SET_AHEAD];
        for (int e = 0; e < SET_AHEAD; e++) {
            uint32_t i = base + e * blockDim.x + threadIdx.x;
            key[e] = i < n ? list[i] : 0;
        }
        for (int e = 0; e < SET_AHEAD; e++) {
            uint32_t i = base + e * blockDim.x + threadIdx.x;
            bool take = i < n && in_set(key[e], prefix, shift);
            uint64_t lanes = SAMPLE_BALLOT(take);
            if (!lanes)
                continue;
            int leader = __ffsll((long long)lanes) - 1;
            uint32_t at = 0;
            if ((int)(threadIdx.x % SAMPLE_WARP) == leader)
                at = atomicAdd(&sm->count, (uint32_t)__popcll(lanes));
            at = SAMPLE_SHFL(at, leader);
            if (take)
                sm->keys[at + __popcll(lanes & sample_lanes_below())] = key[e];
        }
    }
    __syncthreads();
    const uint32_t count = sm->count;
    if (count <= RANK_MAX && count <= blockDim.x) {
        rank_sort(count, sm);
        return count;
    }
    uint32_t size = 1;
    while (size < count)
        size *= 2;
    for (uint32_t i = count + threadIdx.x; i < size; i += blockDim.x)
        sm->keys[i] = 0; /* sorts last; weight 0 */
    __syncthreads();

    /* Bitonic sort, descending: a larger rank key comes first.  Warp w takes
     * the compare pairs q of [w * pairs, (w + 1) * pairs); in a step whose
     * distance j is at most pairs, pair q is elements i (q with a 0 inserted
     * at bit j) and i + j, all within the warp's own 2 * pairs, so only steps
     * with a larger j (and those right after them) wait for the block. */
    const uint32_t warps = blockDim.x / SAMPLE_WARP, warp = threadIdx.x / SAMPLE_WARP;
    const uint32_t half = size / 2, pairs = half > warps ? half / warps : 1;
    const uint32_t q_end = (warp + 1) * pairs < half ? (warp + 1) * pairs : half;
    bool wide = false; /* the step before was block-wide */
    for (uint32_t k = 2; k <= size; k *= 2) {
        for (uint32_t j = k / 2; j > 0; j /= 2) {
            if (wide || j > pairs)
                __syncthreads();
            else
                SAMPLE_SYNCWARP();
            wide = j > pairs;
            const uint32_t q0 = warp * pairs + threadIdx.x % SAMPLE_WARP;
            for (uint32_t q = q0; q < q_end; q += SAMPLE_WARP) {
                const uint32_t i = ((q & ~(j - 1)) << 1) | (q & (j - 1));
                const uint64_t a = sm->keys[i], b = sm->keys[i + j];
                const bool descending = (i & k) == 0;
                if (descending ? a < b : a > b) {
                    sm->keys[i] = b;
                    sm->keys[i + j] = a;
                }
            }
        }
    }
    __syncthreads();

    /* Prefix sums of the weights, each thread over a contiguous run. */
    const uint32_t per = (size + blockDim.x - 1) / blockDim.x;
    const uint32_t lo = threadIdx.x * per;
    const uint32_t hi = lo + per < size ? lo + per : size;
    uint64_t run = 0;
    for (uint32_t i = lo; i < hi; i++)
        run += sm->keys[i] >> SAMPLE_INDEX_BITS;
    run = block_exclusive_scan(run, sm->buf, NULL);
    for (uint32_t i = lo; i < hi; i++) {
        run += sm->keys[i] >> SAMPLE_INDEX_BITS;
        sm->prefix[i] = run;
    }
    __syncthreads();
    return count;
}

struct selected {
    uint64_t key;     /* the boundary token's rank key */
    uint64_t through; /* the weight of the set's tokens from the first through it */
};

/* In the sorted set: the target-th token (by count), or the first whose prefix
 * weight reaches target (by weight).  1 <= target <= the set's count or weight. */
__device__ static selected pick_sorted(uint32_t count, uint64_t target, bool by_weight,
                                       select_smem *sm)
{
    if (!by_weight) {
        uint32_t j = (uint32_t)target - 1;
        selected s = {sm->keys[j], sm->prefix[j]};
        return s;
    }
    if (threadIdx.x == 0)
        sm->answer = count - 1;
    __syncthreads();
    for (uint32_t j = threadIdx.x; j < count; j += blockDim.x)
        if (sm->prefix[j] >= target && (j == 0 || sm->prefix[j - 1] < target))
            sm->answer = j;
    __syncthreads();
    selected s = {sm->keys[sm->answer], sm->prefix[sm->answer]};
    __syncthreads();
    return s;
}

/* Where a radix narrowing over keys lo .. hi starts: the bits above the
 * returned shift are the same in every key (prefix), the rest are not. */
__device__ static inline int common_prefix(uint64_t lo, uint64_t hi, uint64_t *prefix)
{
    const int shift = lo == hi ? 0 : 64 - __clzll((long long)(lo ^ hi));
    *prefix = shift >= 64 ? 0 : hi >> shift << shift;
    return shift;
}

/* The same on a list too long to sort: narrow the set 8 key bits at a time
 * (MSB first, a count-and-weight histogram per step) until it fits.  The bits
 * every key shares are skipped first, so that no step puts every key in one
 * digit (which would also serialise the histogram's atomics). */
__device__ static selected pick_narrowing(const uint64_t *list, uint32_t n, key_set set,
                                          uint64_t target, bool by_weight, select_smem *sm)
{
    uint64_t lo = ~(uint64_t)0, hi = 0;
    for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
        uint64_t key = list[i];
        if (in_set(key, set.prefix, set.shift)) {
            lo = key < lo ? key : lo;
            hi = key > hi ? key : hi;
        }
    }
    lo = ~block_reduce(~lo, max_op(), sm->buf);
    hi = block_reduce(hi, max_op(), sm->buf);
    uint64_t prefix, above = 0;
    int shift = common_prefix(lo, hi, &prefix);
    uint32_t count = set.count;
    while (count > SAMPLE_SORT_MAX) {
        const int width = shift < 8 ? shift : 8;
        const int next = shift - width;
        const uint32_t digits = 1u << width;
        for (uint32_t d = threadIdx.x; d < 256; d += blockDim.x) {
            sm->digit_cnt[d] = 0;
            sm->digit_sum[d] = split_u64{0, 0};
        }
        __syncthreads();
        for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
            uint64_t key = list[i];
            if (in_set(key, prefix, shift)) {
                uint32_t d = (uint32_t)(key >> next) & (digits - 1);
                atomicAdd(&sm->digit_cnt[d], 1u);
                add_split(&sm->digit_sum[d], key >> SAMPLE_INDEX_BITS);
            }
        }
        __syncthreads();
        /* Totals of the digits above each digit, largest digit first. */
        const uint32_t d = digits - 1 - threadIdx.x; /* valid for threadIdx.x < digits */
        const bool mine = threadIdx.x < digits;
        uint64_t c_own = mine ? sm->digit_cnt[d] : 0;
        uint64_t w_own = mine ? split_value(sm->digit_sum[d]) : 0;
        uint64_t c_above = block_exclusive_scan(c_own, sm->buf, NULL);
        uint64_t w_above = block_exclusive_scan(w_own, sm->buf, NULL);
        if (mine) {
            uint64_t before = by_weight ? w_above : c_above;
            uint64_t own = by_weight ? w_own : c_own;
            if (before < target && target <= before + own) {
                sm->answer = d;
                sm->prefix[0] = c_above;
                sm->prefix[1] = w_above;
            }
        }
        __syncthreads();
        const uint32_t chosen = sm->answer;
        target -= by_weight ? sm->prefix[1] : sm->prefix[0];
        above += sm->prefix[1];
        prefix |= (uint64_t)chosen << next;
        count = sm->digit_cnt[chosen];
        shift = next;
        __syncthreads();
    }
    uint32_t sorted = sort_set(list, n, prefix, shift, sm);
    selected s = pick_sorted(sorted, target, by_weight, sm);
    s.through += above;
    return s;
}

/* The target-th key of a set of the list (by count), or the first whose
 * prefix weight reaches target (by weight): a sort where the set is small,
 * else narrowing first.  *sorted is the set that sm holds sorted (count 0:
 * none), so that a second pick in the same set does not sort it again. */
__device__ static selected pick(const uint64_t *list, uint32_t n, key_set set, uint64_t target,
                                bool by_weight, select_smem *sm, key_set *sorted)
{
    if (set.count > SAMPLE_SORT_MAX) {
        sorted->count = 0; /* narrowing sorts a subset in sm */
        return pick_narrowing(list, n, set, target, by_weight, sm);
    }
    if (sorted->count == 0 || sorted->prefix != set.prefix || sorted->shift != set.shift) {
        *sorted = set;
        sorted->count = sort_set(list, n, set.prefix, set.shift, sm);
    }
    return pick_sorted(sorted->count, target, by_weight, sm);
}

/*
 * The gather's exact sums over the candidate buckets blo .. bhi, where they
 * are at most SAMPLE_RANGE: SAMPLE_RANGE slots, each bucket split into 2^s
 * by its weights' next s bits below the top seven, as far as every
 * candidate bucket has that many (a bucket b >= 64 has b / 64 - 1 bits below
 * its top seven; those below 64 none).  A finer slot leaves fewer keys for
 * the last block to sort at the boundary.  A row with both top-k and top-p
 * keeps whole buckets: its two boundaries then more often share the one
 * sorted set (finer slots cost logits' top-k 50 + top-p 0.9 2-4 % at B >=
 * 64).  count 0: no slots (the range is wider).
 */
struct range_slots {
    uint32_t blo;
    int count, s;
};

__device__ static inline range_slots make_slots(const kcall &c, const struct sample_row_params &p,
                                                uint32_t blo, uint32_t bhi)
{
    range_slots rs = {blo, 0, 0};
    if (bhi - blo + 1 > SAMPLE_RANGE)
        return rs;
    const bool both = filters_top_k(c, p) && filters_top_p(p);
    const int buckets = (int)(bhi - blo + 1);
    const int width = both || blo < 64 ? 0 : (int)(blo / 64) - 1;
    while ((buckets << (rs.s + 1)) <= SAMPLE_RANGE && rs.s < width)
        rs.s++;
    rs.count = buckets << rs.s;
    return rs;
}

/* The slot of a candidate's weight float x (weigher::scaled): its bucket's,
 * and the s bits of x's fraction below bucket_of_scaled's six, which are the
 * weight's own bits where the bucket has s bits below its top seven. */
__device__ static inline uint32_t slot_of(const range_slots &rs, float x)
{
    const uint32_t sub = (sample_f32_bits(x) >> (17 - rs.s)) & ((1u << rs.s) - 1u);
    return (bucket_of_scaled(x) - rs.blo) << rs.s | sub;
}

/* The keys of slot q: their weights share the bits above the bucket's width
 * less s. */
__device__ static inline key_set slot_keys(const range_slots &rs, uint32_t q, uint32_t count)
{
    const uint32_t b = rs.blo + (q >> rs.s), sub = q & ((1u << rs.s) - 1u);
    const int width = b < 64 ? 0 : (int)(b / 64) - 1;
    const uint64_t weight = bucket_min(b) | (uint64_t)sub << (width - rs.s);
    key_set set = {weight << SAMPLE_INDEX_BITS, width - rs.s + SAMPLE_INDEX_BITS, count};
    return set;
}

/*
 * The row's last gather block: the exact kept-set boundary (SPEC 4).  Where
 * the gather summed each candidate bucket exactly (plan's range fits
 * SAMPLE_RANGE), the boundaries are found bucket by bucket first and only the
 * boundary bucket's keys are sorted; otherwise the whole list is.
 */
struct boundary {
    key_set sorted; /* the set sm->keys holds sorted (count 0: none) */
    int slot;       /* its slot, where it is one of the gather's slots; else -1 */
};

/*
 * The slots from the top, P places to each of a warp's lanes: lane l holds
 * places t = l * P + e (slot nb - 1 - t; 0 from nb on) in v[], and gets the
 * sum over the places before its first.
 */
static_assert(SAMPLE_RANGE % SAMPLE_WARP == 0, "the slots divide among a warp's lanes");
template <typename V>
__device__ static uint64_t slots_from_top(int nb, V value, uint64_t v[SAMPLE_RANGE / SAMPLE_WARP])
{
    constexpr int P = SAMPLE_RANGE / SAMPLE_WARP;
    const int lane = threadIdx.x % SAMPLE_WARP;
    uint64_t mine = 0;
#pragma unroll
    for (int e = 0; e < P; e++) {
        const int t = lane * P + e;
        v[e] = t < nb ? (uint64_t)value(nb - 1 - t) : 0;
        mine += v[e];
    }
    return warp_inclusive_sum(mine, lane) - mine;
}

/*
 * Of the slots nb - 1, nb - 2, ... from the top, the first whose value(q)
 * reaches what is left of target after the slots above it, else slot 0;
 * target less those above.  Every warp finds the same, from shared memory:
 * the first lane that holds the place says where.
 */
template <typename V> __device__ static int slot_crossing(int nb, V value, uint64_t &target)
{
    constexpr int P = SAMPLE_RANGE / SAMPLE_WARP;
    const int lane = threadIdx.x % SAMPLE_WARP;
    uint64_t v[P];
    uint64_t run = slots_from_top(nb, value, v), before = 0;
    int found = -1;
#pragma unroll
    for (int e = 0; e < P; e++) {
        const int t = lane * P + e;
        if (found < 0 && t < nb && (t == nb - 1 || run + v[e] >= target)) {
            found = t;
            before = run;
        }
        run += v[e];
    }
    /* Some lane holds slot 0, the last place, so some lane found one. */
    const int first = __ffsll((long long)SAMPLE_BALLOT(found >= 0)) - 1;
    target -= SAMPLE_SHFL(before, first);
    return nb - 1 - SAMPLE_SHFL(found, first);
}

/* The sum of value(q) over the slots above slot b, in every thread. */
template <typename V> __device__ static uint64_t slots_over(int nb, int b, V value)
{
    constexpr int P = SAMPLE_RANGE / SAMPLE_WARP;
    const int lane = threadIdx.x % SAMPLE_WARP;
    uint64_t mine = 0;
#pragma unroll
    for (int e = 0; e < P; e++) {
        const int q = lane * P + e;
        mine += q > b && q < nb ? (uint64_t)value(q) : 0;
    }
    return SAMPLE_SHFL(warp_reduce(mine, add_op()), 0);
}

__device__ static boundary select_boundary(const kcall &c, int r, select_smem *sm)
{
    __shared__ uint32_t rcnt[SAMPLE_RANGE];
    __shared__ uint64_t rsum[SAMPLE_RANGE];
    struct sample_row_state *s = &c.state[r];
    struct sample_row_params p = row_params(c, r);
    const uint64_t *list = c.cand + (size_t)r * c.vocab;
    const uint32_t n = volatile_load(&s->ncand);
    const bool top_k = filters_top_k(c, p);
    const bool top_p = filters_top_p(p);
    const range_slots rs = make_slots(c, p, volatile_load(&s->blo), volatile_load(&s->bhi));
    const int nb = rs.count;

    /* The range's exact counts and weights, leaving them zero for the next call. */
    uint32_t *g_cnt = range_counts(c, r);
    uint64_t *g_sum = range_sums(c, r);
    for (int b = threadIdx.x; b < nb; b += blockDim.x) {
        rcnt[b] = volatile_load(&g_cnt[b]);
        rsum[b] = volatile_load(&g_sum[b]);
        g_cnt[b] = 0;
        g_sum[b] = 0;
    }
    __syncthreads();

    const uint64_t above_cnt = volatile_load(&s->above_cnt);
    const uint64_t above_sum = volatile_load(&s->above_sum);
    uint64_t bound = volatile_load(&s->bound), mass_k = volatile_load(&s->total);
    key_set all = {0, 64, n}, sorted = {0, 64, 0};
    int slot = -1;
    if (top_k) {
        uint64_t target = (uint64_t)p.top_k - above_cnt, before = above_sum;
        key_set set = all;
        if (nb) {
            /* The slot holding the k-th token, from the top. */
            const int b = slot_crossing(nb, [&](int q) { return rcnt[q]; }, target);
            before += slots_over(nb, b, [&](int q) { return rsum[q]; });
            set = slot_keys(rs, (uint32_t)b, rcnt[b]);
            slot = b;
        }
        selected k = pick(list, n, set, target, false, sm, &sorted);
        mass_k = before + k.through;
        bound = k.key > bound ? k.key : bound;
    }
    if (top_p) {
        uint64_t target = sample_ceil_mul(p.top_p, mass_k) - above_sum;
        key_set set = all;
        if (nb) {
            /* The slot where the weight from the top reaches tau. */
            const int b = slot_crossing(nb, [&](int q) { return rsum[q]; }, target);
            set = slot_keys(rs, (uint32_t)b, rcnt[b]);
            slot = b;
        }
        selected q = pick(list, n, set, target, true, sm, &sorted);
        bound = q.key > bound ? q.key : bound;
    }
    if (threadIdx.x == 0) {
        s->bound = bound;
        s->ncand_done = n;
        s->ncand = 0;
        s->mode = SAMPLE_MODE_KEPT;
    }
    boundary out = {sorted, sorted.count > 0 ? slot : -1};
    return out;
}

/* Warp 0: out[q] = the weight of slots q + 1 .. SAMPLE_RANGE - 1 (sum[] in
 * shared memory, complete). */
__device__ static void slots_above(const split_u64 *sum, uint64_t *out)
{
    constexpr int P = SAMPLE_RANGE / SAMPLE_WARP;
    const int lane = threadIdx.x % SAMPLE_WARP;
    if (threadIdx.x >= SAMPLE_WARP)
        return;
    uint64_t v[P];
    uint64_t above = slots_from_top(SAMPLE_RANGE, [&](int q) { return split_value(sum[q]); }, v);
#pragma unroll
    for (int e = 0; e < P; e++) {
        out[SAMPLE_RANGE - 1 - (lane * P + e)] = above;
        above += v[e];
    }
}

/*
 * The chunk's part of the gather: the candidates' rank keys appended to the
 * row's list, and exact totals the histogram only bounded (the row's weight,
 * and the count and weight of the tokens above the candidates; where plan's
 * range fits SAMPLE_RANGE, each candidate bucket's count and weight too).
 * The first visit compares each weight's float (weigher::scaled) with the
 * candidate buckets' bounds, which are whole numbers, so it needs no bucket;
 * the candidates, a few in a hundred, are met again in the second.
 */
__device__ static void gather_chunk(const kcall &c, int r, int j, const chunk_view &ch,
                                    const weigher &weight, uint32_t *staged, uint64_t *buf)
{
    __shared__ uint32_t base;
    /* The candidate buckets' counts and weights, the block's, then added to
     * the row's: one global atomic per bucket, not per candidate. */
    __shared__ uint32_t r_cnt[SAMPLE_RANGE];
    __shared__ split_u64 r_sum[SAMPLE_RANGE];
    struct sample_row_state *s = &c.state[r];
    const uint32_t blo = volatile_load(&s->blo), bhi = volatile_load(&s->bhi);
    const range_slots rs = make_slots(c, row_params(c, r), blo, bhi);
    const bool ranged = rs.count > 0;
    /* w >= bucket_min(b) iff x >= it: a weight is its float truncated. */
    const float above_from = (float)bucket_min(bhi + 1), cand_from = (float)bucket_min(blo);
    uint32_t *g_cnt = range_counts(c, r);
    uint64_t *g_sum = range_sums(c, r);
    uint64_t above_sum = 0, total = 0;
    uint32_t above_cnt = 0, mine = 0;
    uint32_t flags = 0, seen = 0; /* the thread's candidates, for visit_flagged */
    for (int b = threadIdx.x; b < SAMPLE_RANGE; b += blockDim.x) {
        r_cnt[b] = 0;
        r_sum[b] = split_u64{0, 0};
    }
    visit(ch, [&](int, float v) {
        const float x = weight.scaled(v);
        const uint64_t w = (uint64_t)x;
        const bool above = x >= above_from, cand = !above && x >= cand_from;
        total += w;
        above_cnt += above;
        above_sum += above ? w : 0;
        mine += cand;
        flags |= (uint32_t)cand << seen;
        seen++;
    });
    /* Room in the list for the block's candidates with one atomic; each warp
     * writes its own from where its first thread's go, met again (only they
     * read again). */
    uint64_t found;
    const uint64_t at = block_exclusive_scan(mine, buf, &found);
    if (threadIdx.x == 0 && found)
        base = atomicAdd(&s->ncand, (uint32_t)found);
    __syncthreads();
    if (found) {
        uint64_t *list = c.cand + (size_t)r * c.vocab + base + SAMPLE_SHFL(at, 0);
        visit_flagged(ch, flags, staged, [&](uint32_t k, int i, float v) {
            const float x = weight.scaled(v);
            const uint64_t w = (uint64_t)x;
            list[k] = sample_rank_key(w, i);
            if (ranged) {
                const uint32_t b = slot_of(rs, x);
                atomicAdd(&r_cnt[b], 1u);
                add_split(&r_sum[b], w);
            }
        });
        __syncthreads();
        for (int b = threadIdx.x; ranged && b < SAMPLE_RANGE; b += blockDim.x) {
            if (r_cnt[b]) {
                atomicAdd(&g_cnt[b], r_cnt[b]);
                add_u64(&g_sum[b], split_value(r_sum[b]));
            }
        }
    }
    if (ranged && c.chunk_range)
        slots_above(r_sum, c.chunk_range + ((size_t)r * c.nchunks + j) * SAMPLE_RANGE);
    __shared__ uint64_t more[2][SCRATCH];
    const uint64_t cnt = block_reduce_first((uint64_t)above_cnt, add_op(), buf);
    above_sum = block_reduce_first(above_sum, add_op(), more[0]);
    total = block_reduce_first(total, add_op(), more[1]);
    if (threadIdx.x == 0) {
        add_u64(&s->above_cnt, cnt);
        add_u64(&s->above_sum, above_sum);
        add_u64(&s->total, total);
        /* every token above the candidates is kept */
        c.part[(size_t)r * c.nchunks + j] = above_sum;
    }
}

__device__ static void draw_token(const kcall &c, int r, uint64_t bound, uint64_t *buf,
                                  const uint64_t *mine = NULL);

/*
 * The kept candidates' weights (keys >= bound) added to their chunks' part[].
 * A block's candidates lie together in the list (gather_chunk), so a chunk's
 * keys are one run of it: each lane takes KEPT_AHEAD consecutive keys, the
 * warp sums runs of lanes of one chunk (a segmented scan), and the run's last
 * lane adds the run's weight.  About one atomic per warp and 32 * KEPT_AHEAD
 * keys; one per key, all on a few addresses, had been most of a flat row's
 * last block.  add_kept_sorted spares most rows this pass.
 */
#define KEPT_AHEAD 8
__device__ static void add_kept(const kcall &c, int r, uint64_t bound, uint32_t n)
{
    const uint64_t *list = c.cand + (size_t)r * c.vocab;
    uint64_t *part = c.part + (size_t)r * c.nchunks;
    const int lane = threadIdx.x % SAMPLE_WARP;
    for (uint32_t base = 0; base < n; base += KEPT_AHEAD * blockDim.x) {
        const uint32_t first = base + KEPT_AHEAD * threadIdx.x;
        uint64_t key[KEPT_AHEAD];
#pragma unroll
        for (int e = 0; e < KEPT_AHEAD; e++)
            key[e] = first + e < n ? list[first + e] : 0;
        int chunk = -1; /* past the list's end */
        uint64_t run = 0;
        for (int e = 0; e < KEPT_AHEAD; e++) {
            if (first + e >= n)
                break;
            const uint32_t i = (uint32_t)sample_rank_index(key[e]);
            const int at = (int)(i / (uint32_t)c.chunk);
            if (at != chunk) { /* a lane's keys cross a chunk's end: rare */
                if (run)
                    add_u64(&part[chunk], run);
                chunk = at;
                run = 0;
            }
            run += key[e] >= bound ? key[e] >> SAMPLE_INDEX_BITS : 0;
        }
        /* Lanes of one chunk are consecutive, so adding what a lane d below
         * holds wherever its chunk is this lane's sums the run so far. */
        for (int d = 1; d < SAMPLE_WARP; d *= 2) {
            const uint64_t up = SAMPLE_SHFL_UP(run, d);
            const int up_chunk = SAMPLE_SHFL_UP(chunk, d);
            run += lane >= d && up_chunk == chunk ? up : 0;
        }
        const int next_chunk = SAMPLE_SHFL_DOWN(chunk, 1);
        if (run && (lane == SAMPLE_WARP - 1 || next_chunk != chunk))
            add_u64(&part[chunk], run);
    }
}

/*
 * add_kept where the boundary lies in a slot whose keys sm holds sorted
 * (count of them): each chunk's kept weight is the weight of its slots above
 * that one (the gather's chunk_range) and its keys there that are kept, the
 * sorted keys down to the bound.  A few loads and atomics, not a pass over
 * the list.
 */
__device__ static void add_kept_sorted(const kcall &c, int r, uint64_t bound, int slot,
                                       uint32_t count, select_smem *sm)
{
    uint64_t *part = c.part + (size_t)r * c.nchunks;
    const uint64_t *above = c.chunk_range + (size_t)r * c.nchunks * SAMPLE_RANGE + slot;
    for (int j = threadIdx.x; j < c.nchunks; j += blockDim.x)
        part[j] = volatile_load(&part[j]) + volatile_load(&above[(size_t)j * SAMPLE_RANGE]);
    __syncthreads();
    for (uint32_t e = threadIdx.x; e < count; e += blockDim.x) {
        const uint64_t key = sm->keys[e];
        if (key < bound)
            break; /* sorted: the rest are not kept either */
        const uint32_t i = (uint32_t)sample_rank_index(key);
        add_u64(&part[i / (uint32_t)c.chunk], key >> SAMPLE_INDEX_BITS);
    }
}

/* The row's last gather block: the boundary, then (but for masks) the draw,
 * without another pass: a chunk's kept weight is its weight above the
 * candidates plus its kept candidates'. */
__device__ static void select_and_draw(const kcall &c, int r, select_smem *sm)
{
    struct sample_row_state *s = &c.state[r];
    const boundary at = select_boundary(c, r, sm);
    if (c.op == SAMPLE_OP_MASK)
        return;
    __syncthreads();
    const uint64_t bound = volatile_load(&s->bound);
    if (at.slot >= 0 && c.chunk_range && in_set(bound, at.sorted.prefix, at.sorted.shift))
        add_kept_sorted(c, r, bound, at.slot, at.sorted.count, sm);
    else
        add_kept(c, r, bound, volatile_load(&s->ncand_done));
    __threadfence();
    __syncthreads();
    draw_token(c, r, bound, sm->buf);
    if (threadIdx.x == 0)
        s->mode = c.tokens ? SAMPLE_MODE_DONE : SAMPLE_MODE_DRAWN;
}

/* ---- draw: M_K, t and the token (SPEC 5) --------------------------------------- */

/* Element i's weight if it is kept, else 0. */
__device__ static inline uint64_t kept_weight(float v, const weigher &weight, uint64_t bound,
                                              int64_t i)
{
    uint64_t w = weight(v);
    return sample_rank_key(w, i) >= bound ? w : 0;
}

/* A lane's four elements from i (v, those before end): their kept weights
 * into w (0 past end), and their sum. */
__device__ static inline uint64_t kept_four(const float v[4], const weigher &weight,
                                            uint64_t bound, int64_t i, int64_t end,
                                            uint64_t w[4])
{
    uint64_t own = 0;
    for (int e = 0; e < 4; e++) {
        w[e] = i + e < end ? kept_weight(v[e], weight, bound, i + e) : 0;
        own += w[e];
    }
    return own;
}

/* The lane whose four elements from i hold t (running: the kept weight
 * before them) writes the token, the first whose running weight exceeds t. */
__device__ static inline void take_token(const kcall &c, int r, int64_t i, const uint64_t w[4],
                                         uint64_t own, uint64_t running, uint64_t t)
{
    if (!(running <= t && t < running + own))
        return;
    for (int e = 0; e < 4; e++) {
        running += w[e];
        if (running > t) {
            c.tokens[r] = (int32_t)(i + e);
            return;
        }
    }
}

/* Lines a lane loads ahead in the draw's walks over its chunk.  More cost
 * registers the kernels do not have: 4 or 8 in the one-pass scan kernel spill
 * there (plain, H100, B = 1: 17.5 -> 21.5 / 28 us). */
#define DRAW_AHEAD 2

/* A lane's DRAW_AHEAD lines from base (elements base + a * line + 4 * lane ..
 * + 3 of line a), those before end; the rest 0. */
__device__ static inline void load_ahead(const void *row, int dtype, int64_t base, int64_t end,
                                         float v[DRAW_AHEAD][4])
{
    const int64_t line = 4 * SAMPLE_WARP, lane = threadIdx.x % SAMPLE_WARP;
#pragma unroll
    for (int a = 0; a < DRAW_AHEAD; a++)
        load4_until(row, dtype, base + a * line + 4 * lane, end, v[a]);
}

/*
 * One block, once per row, with part[j] the kept weight of chunk j: M_K, and
 * for a token operation the token (SPEC 5); row operations keep M_K for the
 * write kernel.  buf has blockDim.x entries.  Where the row has at most a
 * chunk a thread and the caller holds chunk threadIdx.x's weight (0 past the
 * last), mine points to it and part is not read.
 */
__device__ static void draw_token(const kcall &c, int r, uint64_t bound, uint64_t *buf,
                                  const uint64_t *mine)
{
    __shared__ int64_t where[2];
    struct sample_row_state *s = &c.state[r];
    const uint64_t *part = c.part + (size_t)r * c.nchunks;
    const void *row = row_data(c, r);
    const weigher weight = row_weigher(c, r);

    /* M_K, and each thread's run of chunks with the weight before it. */
    const int per = (c.nchunks + blockDim.x - 1) / blockDim.x;
    const int lo = threadIdx.x * per;
    const int hi = lo + per < c.nchunks ? lo + per : c.nchunks;
    uint64_t run = 0, total;
    if (threadIdx.x == 0)
        where[0] = where[1] = 0; /* t < M_K always finds a chunk; never left unset */
    if (mine && per == 1)
        run = lo < hi ? *mine : 0;
    else
        for (int j = lo; j < hi; j++)
            run += volatile_load(&part[j]);
    uint64_t before = block_exclusive_scan(run, buf, &total);
    if (c.tokens == NULL) {
        if (threadIdx.x == 0)
            s->mass = total;
        return;
    }
    /* t = floor(U * M_K / 2^64); its chunk is the one where the kept weight passes t. */
    const uint64_t t = sample_mulhi64(row_draw(c, r), total);
    if (per == 1) { /* run is part[lo]: no second load */
        if (lo < hi && before <= t && t < before + run) {
            where[0] = lo;
            where[1] = (int64_t)before;
        }
    } else {
        for (int j = lo; j < hi; j++) {
            uint64_t next = before + volatile_load(&part[j]);
            if (before <= t && t < next) {
                where[0] = j;
                where[1] = (int64_t)before;
            }
            before = next;
        }
    }
    __syncthreads();
    const int64_t cbegin = where[0] * c.chunk;
    const int64_t cend = chunk_end(c, (int)where[0]);
    const uint64_t t_in_chunk = t - (uint64_t)where[1];

    /* In vocabulary order inside the chunk: the first token whose running kept
     * weight exceeds t.  Each warp adds up a contiguous span, lines of four
     * elements per lane; the warp whose span holds t walks its lines again
     * with warp-wide prefix sums until it finds the line, and in it the lane
     * and the token.  A lane loads DRAW_AHEAD lines before it uses any, so
     * that a walk costs a few round trips to memory, not one per line. */
    const int warps = blockDim.x / SAMPLE_WARP, warp = threadIdx.x / SAMPLE_WARP;
    const int lane = threadIdx.x % SAMPLE_WARP, line = 4 * SAMPLE_WARP;
    const int64_t per_warp = ((cend - cbegin + warps - 1) / warps + line - 1) / line * line;
    const int64_t wlo = cbegin + warp * per_warp;
    const int64_t whi = wlo + per_warp < cend ? wlo + per_warp : cend;
    uint64_t span = 0;
    for (int64_t base = wlo; base < whi; base += DRAW_AHEAD * line) {
        float v[DRAW_AHEAD][4];
        load_ahead(row, c.dtype, base, whi, v);
#pragma unroll
        for (int a = 0; a < DRAW_AHEAD; a++) {
            const int64_t i = base + a * line + 4 * lane;
            for (int e = 0; e < 4; e++)
                span += i + e < whi ? kept_weight(v[a][e], weight, bound, i + e) : 0;
        }
    }
    for (int d = SAMPLE_WARP / 2; d > 0; d /= 2)
        span += SAMPLE_SHFL_DOWN(span, d);
    if (lane == 0)
        buf[warp] = span;
    __syncthreads();
    span = buf[warp];
    before = 0;
    for (int k = 0; k < warp; k++)
        before += buf[k];
    const int lines = (int)((per_warp + line - 1) / line);
    if (lines <= warps) {
        /* The span that holds t, a line to each warp (the lines are in L1:
         * its warp has just read them): one load and one barrier, where
         * its own warp's walk took a round trip and a scan per line. */
        __shared__ int chosen;
        __shared__ uint64_t chosen_before;
        if (lane == 0 && before <= t_in_chunk && t_in_chunk < before + span) {
            chosen = warp;
            chosen_before = before;
        }
        __syncthreads();
        const int64_t slo = cbegin + chosen * per_warp;
        const int64_t shi = slo + per_warp < cend ? slo + per_warp : cend;
        const uint64_t t_span = t_in_chunk - chosen_before;
        const int64_t i = slo + warp * line + 4 * lane;
        uint64_t w[4] = {0, 0, 0, 0}, own = 0;
        if (i < shi) {
            float v[4];
            load4_until(row, c.dtype, i, shi, v);
            own = kept_four(v, weight, bound, i, shi, w);
        }
        const uint64_t incl = warp_inclusive_sum(own, lane);
        if (lane == SAMPLE_WARP - 1)
            buf[warp] = incl; /* every thread has read buf's spans before the barrier */
        __syncthreads();
        uint64_t at = 0;
        for (int k = 0; k < warp; k++)
            at += buf[k];
        take_token(c, r, i, w, own, at + incl - own, t_span);
        return;
    }
    if (!(before <= t_in_chunk && t_in_chunk < before + span))
        return;
    for (int64_t base = wlo; base < whi; base += DRAW_AHEAD * line) {
        float v[DRAW_AHEAD][4];
        load_ahead(row, c.dtype, base, whi, v);
#pragma unroll
        for (int a = 0; a < DRAW_AHEAD; a++) {
            const int64_t i = base + a * line + 4 * lane;
            uint64_t w[4];
            const uint64_t own = kept_four(v[a], weight, bound, i, whi, w);
            const uint64_t incl = warp_inclusive_sum(own, lane);
            const uint64_t line_total = SAMPLE_SHFL(incl, SAMPLE_WARP - 1);
            if (before + line_total > t_in_chunk) { /* the same in every lane */
                take_token(c, r, i, w, own, before + incl - own, t_in_chunk);
                return;
            }
            before += line_total;
        }
    }
}

/* A chunk's kept weight, for the draw of a row without a selection. */
__device__ static void mass_chunk(const kcall &c, int r, int j, const chunk_view &ch,
                                  const weigher &weight, uint64_t bound, uint64_t *buf)
{
    uint64_t mass = 0;
    if (bound == 0) /* every token kept: no rank keys needed */
        visit(ch, [&](int, float v) { mass += weight(v); });
    else
        visit(ch, [&](int i, float v) { mass += kept_weight(v, weight, bound, i); });
    mass = block_reduce_first(mass, add_op(), buf);
    if (threadIdx.x == 0)
        c.part[(size_t)r * c.nchunks + j] = mass;
}

/* ---- one pass: the scan and the mass together ------------------------------------ */

/*
 * A row of probabilities that only needs a token drawn from all its weights
 * (no top-k, top-p or min-p) is read once: each block finds its chunk's
 * maximum and exponent e, and sums its weights at e, floor(p * 2^(40-e)),
 * while it holds the chunk in registers.  At the row's exponent E >= e a
 * weight is floor(w / 2^d), d = E - e (a floor of a floor), so the chunk's
 * mass at E is (S - R_d) / 2^d exactly, R_d the sum of the weights' low d
 * bits: the block counts, per bit b below SAMPLE_LOW_BITS, the weights with
 * bit b set (low_planes), and R_d = sum over b < d of count_b * 2^b.
 * Weights at e are below 2^40, so a chunk with d >= 40 has mass 0; one with
 * SAMPLE_LOW_BITS < d < 40 (its maximum 2^20 below the row's: rare) is read
 * again by the row's last block, which then draws.  No block waits for
 * another, so a call whose rows are all one-pass is one launch of
 * sample_k_scan_mass at any batch size.  With per-row parameters the chain's
 * scan decides row by row; the fused kernel takes such rows the usual way.
 */
__device__ static inline bool one_pass(const kcall &c, int r)
{
    if (c.kind != SAMPLE_PROBS || c.op != SAMPLE_OP_FROM_PROBS)
        return false;
    const struct sample_row_params p = row_params(c, r);
    return !row_selects(c, p) && !uses_min_p(c, p);
}

/*
 * Per thread, how many of its weights have bit b set, for every b below 32,
 * bit-sliced: bit b of plane j is bit j of that count.  A thread adds at most
 * 32 weights (4 * LINES), so six planes hold any count.  The weights' low
 * words go through a tree of carry-save adders, two three-input logic
 * operations a weight (a SWAR counter per 5-bit group took about 20), and
 * since the planes hold the low words' column sums, sum_j plane_j * 2^j is
 * the sum of the low words: the thread adds only the high words itself.
 *
 * add_line takes line l's four words: a carry of weight 2^j (j >= 2) waits
 * in wait[j] for the next one, and the pair goes through one more adder.
 * l is a constant in an unrolled loop, so which branch runs is known when
 * it compiles; finish() adds what still waits.
 */
#define LOW_PLANES 6
struct low_planes {
    uint32_t p[LOW_PLANES], wait[LOW_PLANES];

    __device__ static void csa(uint32_t &sum, uint32_t &carry, uint32_t a, uint32_t b,
                               uint32_t c)
    {
        sum = a ^ b ^ c;
        carry = (a & b) | (c & (a ^ b));
    }

    __device__ void add_line(int l, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3)
    {
        uint32_t c1a, c1b, carry;
        csa(p[0], c1a, p[0], a0, a1);
        csa(p[0], c1b, p[0], a2, a3);
        csa(p[1], carry, p[1], c1a, c1b);
#pragma unroll
        for (int j = 2; j < LOW_PLANES; j++) {
            if (!(l >> (j - 2) & 1)) {
                wait[j] = carry;
                return;
            }
            csa(p[j], carry, p[j], wait[j], carry);
            wait[j] = 0;
        }
    }

    __device__ void finish()
    {
        uint32_t carry = 0;
#pragma unroll
        for (int j = 2; j < LOW_PLANES; j++)
            csa(p[j], carry, p[j], wait[j], carry);
    }

    /* The sum of the low words. */
    __device__ uint64_t low_sum() const
    {
        uint64_t s = 0;
#pragma unroll
        for (int j = 0; j < LOW_PLANES; j++)
            s += (uint64_t)p[j] << j;
        return s;
    }

    /* The counts of bits 5g .. 5g+4, in five 6-bit fields: bit i of plane j
     * goes to bit 6i + j (one multiply puts the 5-bit group's copies 5 bits
     * apart, so that copy i's bit i lands at 6i; nothing carries). */
    __device__ uint32_t fields(int g) const
    {
        uint32_t f = 0;
#pragma unroll
        for (int j = 0; j < LOW_PLANES; j++)
            f |= ((p[j] >> (5 * g) & 31u) * (0x108421u << j)) & (0x1041041u << j);
        return f;
    }
};

/* The sum over a warp's lanes, in lane 0. */
__device__ static inline uint32_t warp_sum(uint32_t v)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    return __reduce_add_sync(0xffffffffu, v);
#else
    for (int d = SAMPLE_WARP / 2; d > 0; d /= 2)
        v += SAMPLE_SHFL_DOWN(v, d);
    return v;
#endif
}

/* The block's counts of bits 0 .. SAMPLE_LOW_BITS-1 into low_s (zeroed, and a
 * barrier passed, before).  A warp's count of one bit is at most 64 lanes
 * times 32, twelve bits: fields 0 and 2 of a group, 12 bits apart, share one
 * warp sum, fields 1 and 3 another, field 4 a third. */
__device__ static void add_low_counts(const low_planes &n, uint32_t *low_s)
{
    static_assert(SAMPLE_LOW_BITS % 5 == 0, "five bits a group");
#pragma unroll
    for (int g = 0; g < SAMPLE_LOW_BITS / 5; g++) {
        const uint32_t f = n.fields(g);
        const uint32_t even = warp_sum(f & 0x3F03Fu);
        const uint32_t odd = warp_sum(f >> 6 & 0x3F03Fu);
        const uint32_t last = warp_sum(f >> 24);
        if (threadIdx.x % SAMPLE_WARP == 0) {
            atomicAdd(&low_s[5 * g], even & 0xFFFu);
            atomicAdd(&low_s[5 * g + 1], odd & 0xFFFu);
            atomicAdd(&low_s[5 * g + 2], even >> 12);
            atomicAdd(&low_s[5 * g + 3], odd >> 12);
            atomicAdd(&low_s[5 * g + 4], last);
        }
    }
}

/*
 * A one-pass block's part of the scan, from top, the block's largest bit
 * pattern of p + 0 (which makes -0 +0): a NaN, an infinity or a negative
 * value is at least that of +infinity; below it, the patterns of
 * non-negative floats are in their order.  Leaves part and part_fault for
 * combine_scan (the maximum's index is not needed: no argmax here) and
 * returns whether the chunk holds a fault; each(acc) then shows acc the
 * chunk's elements, so that it finds the first fault as the scan does.
 */
template <typename Each>
__device__ static bool one_pass_part(const kcall &c, size_t at, uint32_t top, Each each,
                                     uint32_t *scratch32)
{
    if (top >= 0x7f800000u) {
        scan_acc acc = {c.kind, -INFINITY, -1, ~0u};
        each(acc);
        const uint32_t first_fault = block_reduce(acc.first_fault, min_op(), scratch32);
        if (threadIdx.x == 0) {
            c.part[at] = 0;
            c.part_fault[at] = first_fault;
        }
        return true;
    }
    if (threadIdx.x == 0) {
        c.part[at] = (uint64_t)order_bits(sample_f32_from_bits(top)) << 32;
        c.part_fault[at] = ~0u;
    }
    return false;
}

/* A block's chunk of a one-pass row: the scan's part and part_fault, and the
 * chunk's sample_chunk_mass. */
template <int BLOCK, int LINES>
__device__ static void scan_mass_step(const kcall &c, int r, int j, int begin, int end,
                                      const float (&v)[LINES][4], uint64_t *scratch64,
                                      uint32_t *scratch32)
{
    static_assert(4 * LINES <= 32, "low_planes' six planes");
    __shared__ uint32_t low_s[SAMPLE_LOW_BITS];
    const size_t at = (size_t)r * c.nchunks + j;
    if (threadIdx.x < SAMPLE_LOW_BITS)
        low_s[threadIdx.x] = 0;

    uint32_t top = 0;
#pragma unroll
    for (int l = 0; l < LINES; l++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const uint32_t u = sample_f32_bits(v[l][e] + 0.0f);
            top = u > top ? u : top;
        }
    top = block_reduce(top, max_op(), scratch32);
    auto each = [&](scan_acc &acc) {
#pragma unroll
        for (int l = 0; l < LINES; l++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int i = begin + 4 * ((int)threadIdx.x + l * BLOCK) + e;
                if (i < end)
                    acc(i, v[l][e]);
            }
    };
    if (one_pass_part(c, at, top, each, scratch32))
        return;

    const float max = sample_f32_from_bits(top);
    struct sample_chunk_mass *m = &c.mass[at];
    if (max == 0.0f) {
        if (threadIdx.x == 0)
            m->sum = 0;
        return;
    }
    const int exponent = sample_frexp_exponent(max);
    float scale[2];
    sample_prob_scale(exponent, scale);
    /* Lines past end hold +0, weight 0: no test for them. */
    low_planes low = {};
    uint32_t high = 0;
#pragma unroll
    for (int l = 0; l < LINES; l++) {
        uint64_t w[4];
#pragma unroll
        for (int e = 0; e < 4; e++) {
            w[e] = sample_prob_weight_scaled(v[l][e], scale);
            high += (uint32_t)(w[e] >> 32);
        }
        low.add_line(l, (uint32_t)w[0], (uint32_t)w[1], (uint32_t)w[2], (uint32_t)w[3]);
    }
    low.finish();
    add_low_counts(low, low_s);
    uint64_t sum = ((uint64_t)high << 32) + low.low_sum();
    sum = block_reduce(sum, add_op(), scratch64); /* its barriers order low_s */
    if (threadIdx.x < SAMPLE_LOW_BITS)
        m->low[threadIdx.x] = low_s[threadIdx.x];
    if (threadIdx.x == 0) {
        m->sum = sum;
        m->exponent = exponent;
    }
}

/* The row's last block, after combine_scan left the row KEPT: each chunk's
 * mass at the row's exponent into part, then the draw. */
__device__ static void mass_and_draw(const kcall &c, int r, uint64_t *buf)
{
    struct sample_row_state *s = &c.state[r];
    const int E = s->exponent;
    uint64_t *part = c.part + (size_t)r * c.nchunks;
    const struct sample_chunk_mass *mass = c.mass + (size_t)r * c.nchunks;
    const uint64_t again = ~(uint64_t)0; /* no chunk's mass: that is below 2^58 */
    bool reread = false;
    uint64_t mine = 0; /* chunk threadIdx.x's mass at E */
    for (int j = threadIdx.x; j < c.nchunks; j += blockDim.x) {
        /* Every field at once, one round trip: loads that each waited on
         * the one before took d + 2. */
        const uint64_t sum = volatile_load(&mass[j].sum);
        const int exponent = volatile_load(&mass[j].exponent);
        uint32_t low[SAMPLE_LOW_BITS];
#pragma unroll
        for (int b = 0; b < SAMPLE_LOW_BITS; b++)
            low[b] = volatile_load(&mass[j].low[b]);
        const int d = sum ? E - exponent : 40;
        uint64_t at_E = 0;
        if (d <= SAMPLE_LOW_BITS) {
            uint64_t below = 0;
#pragma unroll
            for (int b = 0; b < SAMPLE_LOW_BITS; b++)
                below += b < d ? (uint64_t)low[b] << b : 0;
            at_E = (sum - below) >> d;
        } else if (d < 40) {
            at_E = again;
            reread = true;
        }
        part[j] = at_E;
        mine = at_E;
    }
    reread = __syncthreads_or(reread);
    if (reread) {
        const weigher weight = row_weigher(c, r);
        for (int j = 0; j < c.nchunks; j++) {
            if (volatile_load(&part[j]) != again)
                continue;
            const chunk_view ch = {row_data(c, r), c.dtype, j * c.chunk, chunk_end(c, j), NULL};
            mass_chunk(c, r, j, ch, weight, 0, buf);
            __syncthreads(); /* buf again */
        }
    }
    __syncthreads();
    /* A chunk read again has its mass in part only. */
    draw_token(c, r, 0, buf, reread ? NULL : &mine);
    if (threadIdx.x == 0)
        s->mode = SAMPLE_MODE_DONE;
}

/* Block (r, j)'s whole part of a one-pass row. */
template <int BLOCK, int LINES>
__device__ static void run_one_pass(const kcall &c, int r, int j, uint64_t *scratch64,
                                    uint32_t *scratch32)
{
    const int begin = j * c.chunk, end = chunk_end(c, j);
    float v[LINES][4];
    load_lines<BLOCK, LINES>(row_data(c, r), c.dtype, begin, end, v);
    scan_mass_step<BLOCK, LINES>(c, r, j, begin, end, v, scratch64, scratch32);
    if (!arrive(c, r, MEET_SCAN))
        return;
    combine_scan(c, r, scratch64, scratch32);
    __syncthreads();
    if (volatile_load(&c.state[r].mode) == SAMPLE_MODE_KEPT)
        mass_and_draw(c, r, scratch64);
}

/* ---- one pass for a small top-k ------------------------------------------------ */

/*
 * A row of probabilities sampled with top-k, k <= SAMPLE_TOPK_MAX (then top-p
 * and min-p if asked), is read once too.  Order a row's elements by p-key,
 * (the bits of p, ~index): larger p first, equal p by smaller index.  Weights
 * never reorder values (floor(p * 2^(40-E)) is non-decreasing in p), so each
 * block keeps its chunk's k largest p-keys (block_top_k) without knowing E,
 * and the row's last block takes the k largest of those lists.  That is the
 * top-k of SPEC 4.1 unless weights tie where the p-keys do not: where the k-th
 * value's unit in the last place is worth at least 1 at E (it lies at most 16
 * octaves below the row's maximum), every value at or above it has an integer
 * p * 2^(40-E), so weights there tie only where values do, and every value
 * below it weighs less.  Otherwise (a row so peaked that the k-th token is
 * 2^16 below the top) the tokens of weight w_k are found again in index order
 * (topk_ties), in the chunks whose lists hold that weight.  The kept set then
 * has at most k tokens, so top-p, min-p and the draw take them from shared
 * memory: no second pass over the row.
 */

/* Candidates a block ranks at once. */
#define TOPK_CAP 256
/* Entries per thread: a chunk's elements, or the last block's list entries
 * (SAMPLE_TOPK_MAX per chunk, at most SAMPLE_TOPK_CHUNKS chunks).  Their
 * upper 32 bits wait in shared memory (in registers they would spill). */
#define TOPK_R (4 * SAMPLE_ONCE_LINES)
static_assert(SAMPLE_TOPK_MAX * SAMPLE_TOPK_CHUNKS == TOPK_R * SAMPLE_ONCE_BLOCK &&
                  (SAMPLE_ONCE_BLOCK & (SAMPLE_ONCE_BLOCK - 1)) == 0,
              "the last block holds every list entry");

struct topk_smem {
    uint32_t bits[TOPK_R * SAMPLE_ONCE_BLOCK]; /* thread t's entry e at e * SAMPLE_ONCE_BLOCK + t */
    uint64_t keys[TOPK_CAP];              /* the candidates */
    uint64_t best[SAMPLE_TOPK_MAX];       /* the last block: the k largest slot keys */
    uint64_t w[SAMPLE_TOPK_MAX];          /* the kept set: weights and indices */
    uint64_t kept[SAMPLE_TOPK_MAX];
    uint64_t through[SAMPLE_TOPK_MAX];    /* the weight of the list up to each */
    uint32_t index[SAMPLE_TOPK_MAX];
    uint32_t digit[256];
    uint64_t scan[SCRATCH];
    uint32_t bound[SAMPLE_ONCE_BLOCK / 32];
    uint32_t flag[SAMPLE_TOPK_CHUNKS];
    uint64_t sum;
    uint32_t answer;
    uint32_t count;
    row_view row;                         /* the last block's copy of the row's state */
    kcall call; /* the last block's copy of the kernel's argument */
};

__device__ static inline uint64_t p_key(uint32_t bits, int i)
{
    return ((uint64_t)bits << 32) | (uint32_t)~(uint32_t)i;
}

/* The largest over a warp's lanes, in every lane (as warp_sum, REDUX on sm_80+). */
__device__ static inline uint32_t warp_max(uint32_t v)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    return __reduce_max_sync(0xffffffffu, v);
#else
    for (int d = SAMPLE_WARP / 2; d > 0; d /= 2) {
        const uint32_t o = SAMPLE_SHFL_DOWN(v, d);
        v = o > v ? o : v;
    }
    return SAMPLE_SHFL(v, 0);
#endif
}

/* The element of a top-k block's entry e: line e / 4, its element e % 4 (as
 * load_lines lays a chunk out). */
__device__ static inline int once_index(int begin, int e)
{
    return begin + 4 * ((int)threadIdx.x + (e / 4) * SAMPLE_ONCE_BLOCK) + e % 4;
}

/* Where block (r, j) leaves its list: SAMPLE_TOPK_MAX slots per chunk. */
__device__ static inline uint64_t *topk_list(const kcall &c, int r, int j)
{
    return c.cand + ((size_t)r * c.nchunks + j) * SAMPLE_TOPK_MAX;
}

/* The entries of chunk j's list: min(k, the chunk's elements). */
__device__ static inline int topk_list_size(int vocab, int chunk, int j, int k)
{
    const int len = vocab - j * chunk < chunk ? vocab - j * chunk : chunk;
    return len < k ? len : k;
}

/* Where topk_narrow finds a thread's entries (see block_top_k) again: the
 * chunk's values in the row, or the chunks' lists in cand. */
struct chunk_keys {
    const void *row;
    int dtype, begin, end;

    __device__ bool get(int e, uint64_t &x) const
    {
        const int i = once_index(begin, e);
        if (i >= end)
            return false;
        x = p_key(sample_f32_bits(sample_load(row, dtype, i) + 0.0f), i);
        return true;
    }
};

/* The last block's entry e of this thread: a slot of the lists, a different
 * slot of a different list for each e and each thread (37 and 11 are odd, so
 * each e maps the threads onto a line of slots one to one).  Lists are
 * sorted, so giving thread t slot t of every list would make some threads'
 * largest keys all top slots and others' all bottom ones, and block_top_k's
 * bound would let most keys through. */
__device__ static inline int topk_entry(int e)
{
    return e * SAMPLE_ONCE_BLOCK + ((37 * (int)threadIdx.x + 11 * e) & (SAMPLE_ONCE_BLOCK - 1));
}

/* The last block ranks list entries by their slot keys: an entry's value
 * bits above, the complement of its slot q (chunk * SAMPLE_TOPK_MAX + place)
 * below.  That is the order of the p-keys: of equal values, the one in the
 * earlier chunk, or earlier in one chunk's (descending) list, has the smaller
 * index.  So the merge needs only the entries' upper halves, and the k
 * winners' indices are read once it is done. */
__device__ static inline uint64_t slot_key(uint32_t bits, int q)
{
    return ((uint64_t)bits << 32) | (uint32_t)~(uint32_t)q;
}

struct list_keys {
    const uint64_t *lists;
    int k;
    uint32_t last;       /* the last list: nchunks - 1 */
    uint32_t full, tail; /* entries of the lists before it, and of it */

    __device__ list_keys(const kcall &c, int r, int top_k)
        : lists(topk_list(c, r, 0)), k(top_k), last((uint32_t)c.nchunks - 1),
          full((uint32_t)topk_list_size(c.vocab, c.chunk, 0, top_k)),
          tail((uint32_t)topk_list_size(c.vocab, c.chunk, c.nchunks - 1, top_k))
    {
    }

    /* Whether slot q (list q / SAMPLE_TOPK_MAX, place q % it) holds an entry. */
    __device__ bool holds(int q) const
    {
        const uint32_t j = (uint32_t)q / SAMPLE_TOPK_MAX, at = (uint32_t)q % SAMPLE_TOPK_MAX;
        return j < last ? at < full : j == last && at < tail;
    }

    /* Entry e's slot, or -1 where that slot holds nothing. */
    __device__ int slot(int e) const
    {
        const int q = topk_entry(e);
        return holds(q) ? q : -1;
    }

    /* Entry q's value bits and index (its p-key's halves: GPUs are little-endian). */
    __device__ uint32_t bits(int q) const { return volatile_load((const uint32_t *)&lists[q] + 1); }
    __device__ uint32_t index(int q) const { return ~volatile_load((const uint32_t *)&lists[q]); }

    __device__ bool get(int e, uint64_t &x) const
    {
        const int q = slot(e);
        if (q < 0)
            return false;
        x = slot_key(bits(q), q);
        return true;
    }
};

/*
 * The fallback of block_top_k where too many keys pass its first bound: a
 * radix narrowing (8 bits at a time, the bits every key shares skipped) to a
 * key lo with k <= (keys >= lo) <= TOPK_CAP.  Keys are distinct, so a set of
 * one key ends it.  It reads the keys from memory, not from the caller's
 * registers, so that those stay registers on the usual path.
 */
template <typename Src>
__device__ static uint64_t topk_narrow(const Src &src, int k, topk_smem *sm)
{
    uint64_t mn = ~(uint64_t)0, mx = 0, x;
    uint32_t mine = 0;
    for (int e = 0; e < TOPK_R; e++)
        if (src.get(e, x)) {
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
            mine++;
        }
    mn = ~block_reduce(~mn, max_op(), sm->scan);
    mx = block_reduce(mx, max_op(), sm->scan);
    uint64_t count = block_reduce((uint64_t)mine, add_op(), sm->scan);
    uint64_t prefix, above = 0, target = (uint64_t)k;
    int shift = common_prefix(mn, mx, &prefix);
    while (above + count > TOPK_CAP) {
        const int width = shift < 8 ? shift : 8;
        const int next = shift - width;
        for (int d = threadIdx.x; d < 256; d += blockDim.x)
            sm->digit[d] = 0;
        __syncthreads();
        for (int e = 0; e < TOPK_R; e++)
            if (src.get(e, x) && in_set(x, prefix, shift))
                atomicAdd(&sm->digit[(x >> next) & ((1u << width) - 1)], 1u);
        __syncthreads();
        if (threadIdx.x == 0) { /* rare: a serial walk from the largest digit */
            uint64_t run = 0;
            int d = (1 << width) - 1;
            while (run + sm->digit[d] < target)
                run += sm->digit[d--];
            sm->answer = (uint32_t)d;
            sm->sum = run;
        }
        __syncthreads();
        const uint32_t d = sm->answer;
        above += sm->sum;
        target -= sm->sum;
        count = sm->digit[d];
        prefix |= (uint64_t)d << next;
        shift = next;
        __syncthreads();
    }
    return prefix;
}

__device__ static __noinline__ uint64_t narrow_chunk(chunk_keys src, int k, topk_smem *sm)
{
    return topk_narrow(src, k, sm);
}

__device__ static __noinline__ uint64_t narrow_lists(list_keys src, int k, topk_smem *sm)
{
    return topk_narrow(src, k, sm);
}

/* Appends key(e) for each bit e of pass to sm->keys (those past TOPK_CAP
 * are only counted): one shared atomic per warp, each lane's keys at its
 * offset in the warp's run. */
template <typename Key>
__device__ static inline void append_keys(uint32_t pass, int lane, Key key, topk_smem *sm)
{
    const uint32_t n = __popc(pass), incl = warp_inclusive_sum(n, lane);
    uint32_t at = 0;
    if (lane == SAMPLE_WARP - 1 && incl)
        at = atomicAdd(&sm->count, incl);
    at = SAMPLE_SHFL(at, SAMPLE_WARP - 1) + incl - n;
    for (; pass; pass &= pass - 1, at++)
        if (at < TOPK_CAP)
            sm->keys[at] = key(__ffs(pass) - 1);
}

/*
 * The k (<= SAMPLE_TOPK_MAX) largest of the distinct keys the block's threads
 * hold (all of them where fewer), in descending order into out.
 * A thread's entry e is a key where bit e of have is set: sm->bits[e *
 * SAMPLE_ONCE_BLOCK + threadIdx.x] its upper 32 bits (0 where not set), top their
 * largest, key(e) the whole key; narrow() is topk_narrow over the same keys.
 */
template <typename Key, typename Narrow>
__device__ static void block_top_k(uint32_t have, uint32_t top, int k, Key key, Narrow narrow,
                                   topk_smem *sm, uint64_t *out)
{
    const uint32_t *hi = sm->bits + threadIdx.x;
    const int R = TOPK_R, stride = SAMPLE_ONCE_BLOCK;
    const int lane = threadIdx.x % SAMPLE_WARP, warp = threadIdx.x / SAMPLE_WARP;
    const int warps = SAMPLE_ONCE_BLOCK / SAMPLE_WARP;

    /* A bound with at least k keys' upper bits at or above it: in each warp
     * the ceil(k / warps)-th largest of the threads' largest, the least of
     * those.  Typically a few dozen keys more than k pass it. */
    const int j = (k + warps - 1) / warps;
    int ge = 0;
    for (int l = 0; l < SAMPLE_WARP; l++)
        ge += SAMPLE_SHFL(top, l) >= top;
    const uint32_t wb = warp_max(ge >= j ? top : 0);
    if (lane == 0)
        sm->bound[warp] = wb;
    if (threadIdx.x == 0)
        sm->count = 0;
    __syncthreads();
    uint32_t b = sm->bound[0];
    for (int w = 1; w < warps; w++)
        b = sm->bound[w] < b ? sm->bound[w] : b;

    /* The candidates (keys >= b << 32) into sm->keys in any order: few, so
     * one shared counter serves.  Where more than TOPK_CAP pass, narrow()
     * finds a higher lower end, and the append runs again. */
    uint32_t pass = 0;
#pragma unroll
    for (int e = 0; e < R; e++)
        pass |= (uint32_t)(hi[e * stride] >= b) << e;
    append_keys(pass & have, lane, key, sm);
    __syncthreads();
    uint32_t total = sm->count;
    if (total > TOPK_CAP) {
        const uint64_t lo = narrow();
        if (threadIdx.x == 0)
            sm->count = 0;
        __syncthreads();
        pass = 0;
#pragma unroll
        for (int e = 0; e < R; e++)
            pass |= (uint32_t)((have >> e & 1) && key(e) >= lo) << e;
        append_keys(pass, lane, key, sm); /* at most TOPK_CAP */
        __syncthreads();
        total = sm->count;
    }
    const int m = (int)total;
    for (int i = threadIdx.x; i < m; i += blockDim.x) {
        const uint64_t x = sm->keys[i];
        int rank = 0;
        for (int q = 0; q < m; q++)
            rank += sm->keys[q] > x;
        if (rank < k)
            out[rank] = x;
    }
    __syncthreads();
}

/*
 * The tie case of the last block (see above): best[0 .. a) weigh more than
 * w_k and stay; the rest of the k become the first tokens of weight w_k in
 * vocabulary order, found in the chunks whose lists hold that weight (a chunk
 * whose list does not cannot hide one).  The list entries' upper halves are
 * still in sm->bits, where topk_finish loaded them.
 */
__device__ static __noinline__ void topk_ties(const kcall &c, int r, const list_keys &src,
                                              const weigher &weight, topk_smem *sm)
{
    const int k = src.k;
    const uint64_t wk = sm->w[k - 1];
    const int a = __syncthreads_count(threadIdx.x < (unsigned)k && sm->w[threadIdx.x] > wk);
    const int need = k - a;
    for (int j = threadIdx.x; j < c.nchunks; j += blockDim.x)
        sm->flag[j] = 0;
    __syncthreads();
#pragma unroll 4
    for (int e = 0; e < TOPK_R; e++) {
        const int q = src.slot(e);
        if (q >= 0 &&
            weight(sample_f32_from_bits(sm->bits[e * SAMPLE_ONCE_BLOCK + threadIdx.x])) == wk)
            sm->flag[q / SAMPLE_TOPK_MAX] = 1;
    }
    __syncthreads();
    const void *row = row_data(c, r);
    int got = 0;
    for (int j = 0; j < c.nchunks && got < need; j++) {
        if (!sm->flag[j])
            continue;
        const int end = chunk_end(c, j);
        for (int base = j * c.chunk; base < end && got < need; base += 4 * blockDim.x) {
            const int i = base + 4 * (int)threadIdx.x;
            float v[4];
            load4_until(row, c.dtype, i, end, v);
            bool hit[4];
            uint64_t hits = 0;
            for (int e = 0; e < 4; e++) {
                hit[e] = i + e < end && weight(v[e]) == wk;
                hits += hit[e];
            }
            uint64_t total;
            uint64_t pos = got + block_exclusive_scan(hits, sm->scan, &total);
            for (int e = 0; e < 4; e++)
                if (hit[e]) {
                    if (pos < (uint64_t)need) {
                        sm->index[a + pos] = (uint32_t)(i + e);
                        sm->w[a + pos] = wk;
                    }
                    pos++;
                }
            got += (int)total;
        }
        __syncthreads();
    }
    __syncthreads();
}

/*
 * The row's last block: the scan's combine (the row's validity and E), the
 * row's k largest values from the chunks' lists, the exact top-k (topk_ties
 * where weights tie below what the p-keys tell), then top-p, min-p and the
 * draw over them.
 */
__device__ static __noinline__ void topk_finish(const kcall &c, int r, topk_smem *sm)
{
    struct sample_row_state *s = &c.state[r];
    const struct sample_row_params p = row_params(c, r);
    const int k = p.top_k;
    const list_keys src(c, r, k);
    const int t = threadIdx.x, lane = t % SAMPLE_WARP;

    /* The scan's combine (at most SAMPLE_TOPK_CHUNKS parts: warp 0 alone)
     * and the lists' loads in flight together: the row is not yet known to
     * be valid, so the entries may be stale, and are used only where it is. */
    uint64_t best = 0;
    uint32_t first_fault = ~0u;
    if (t < SAMPLE_WARP)
        scan_parts_upto<SAMPLE_TOPK_CHUNKS / SAMPLE_WARP>(c, r, lane, SAMPLE_WARP, best,
                                                          first_fault);

    /* The entries' value bits, sixteen loads in flight before any is used:
     * the last block waits for one L2 round trip per sixteen entries, not
     * one per few. */
    uint32_t have = 0, top = 0;
    constexpr int G = 16;
    static_assert(TOPK_R % G == 0, "whole groups");
#pragma unroll
    for (int e0 = 0; e0 < TOPK_R; e0 += G) {
        uint32_t h[G];
#pragma unroll
        for (int i = 0; i < G; i++) {
            const int q = src.slot(e0 + i);
            h[i] = q >= 0 ? src.bits(q) : 0;
            have |= (uint32_t)(q >= 0) << (e0 + i);
        }
        if (e0 == 0 && t < SAMPLE_WARP) { /* the row, while the entries are on their way */
            best = warp_reduce(best, max_op());
            first_fault = warp_reduce(first_fault, min_op());
            if (t == 0)
                finish_scan(c, r, best, first_fault, &sm->row);
        }
#pragma unroll
        for (int i = 0; i < G; i++) {
            sm->bits[(e0 + i) * SAMPLE_ONCE_BLOCK + threadIdx.x] = h[i];
            top = h[i] > top ? h[i] : top;
        }
    }
    __syncthreads();
    if (sm->row.mode != SAMPLE_MODE_SELECT)
        return;
    auto key = [&](int e) { return slot_key(sm->bits[e * SAMPLE_ONCE_BLOCK + t], topk_entry(e)); };
    block_top_k(have, top, k, key, [&]() { return narrow_lists(src, k, sm); }, sm,
                sm->best); /* k of them: k < V */

    /* The k tokens' weights, and the weight of the list up to each (a
     * warp's part here, the warps before it below). */
    const weigher weight = make_weigher(c, r, sm->row.max, sm->row.exponent);
    uint64_t w = 0;
    uint32_t id = 0;
    if (t < k) {
        const uint64_t x = sm->best[t];
        id = src.index((int)~(uint32_t)x);
        w = weight(sample_f32_from_bits((uint32_t)(x >> 32)));
        sm->index[t] = id;
        sm->w[t] = w;
    }
    const uint64_t incl = warp_inclusive_sum(w, lane);
    if (lane == SAMPLE_WARP - 1)
        sm->scan[t / SAMPLE_WARP] = incl;
    __syncthreads();
    /* The unit in the last place of the k-th value, at E: 2^(ulp - 150 + 40 - E).
     * Where it is at least 1, weights are exact multiples of the values, so
     * equal weights are equal values. */
    const uint32_t kbits = (uint32_t)(sm->best[k - 1] >> 32);
    const int ulp = (int)(kbits >> 23) > 1 ? (int)(kbits >> 23) : 1;
    const bool ties = ulp - 150 + 40 - sm->row.exponent < 0;

    /* SPEC 4 over the k tokens: rank order is weight, then index.  Without
     * ties that is the order of the list (values descending, then indices
     * ascending); with them each token counts the weight ranked before it
     * itself. */
    uint64_t before = incl - w, mass_k = 0;
    if (ties) {
        topk_ties(c, r, src, weight, sm);
        w = t < k ? sm->w[t] : 0;
        id = t < k ? sm->index[t] : 0;
        before = 0;
        if (t < k) {
            /* Branch-free, both loads unconditional: the loop pipelines. */
#pragma unroll 4
            for (int q = 0; q < k; q++) {
                const uint64_t wq = sm->w[q];
                const uint32_t iq = sm->index[q];
                before += (wq > w) | ((wq == w) & (iq < id)) ? wq : 0;
            }
        }
        mass_k = block_reduce(w, add_op(), sm->scan);
    } else {
        for (int q = 0; q < SAMPLE_ONCE_BLOCK / SAMPLE_WARP; q++) {
            const uint64_t part = sm->scan[q];
            before += q < t / SAMPLE_WARP ? part : 0;
            mass_k += part;
        }
    }
    const bool kept_p = !filters_top_p(p) || before < sample_ceil_mul(p.top_p, mass_k);
    const uint64_t kw = t < k && kept_p && w >= sm->row.theta ? w : 0;
    if (t < k) {
        sm->kept[t] = kw;
        sm->through[t] = before + w;
    }
    /* K is a prefix in rank order: M_K is its last token's before + w.
     * Without ties the tokens of positive kept weight are the list's first
     * kept_n, and the draw's sums need look no further. */
    const int kept_n = __syncthreads_count(kw != 0);
    const int n = ties ? k : kept_n;
    const uint64_t mass = ties ? block_reduce(kw ? before + w : 0, max_op(), sm->scan)
                               : sm->through[kept_n - 1];
    /* SPEC 5: the kept tokens in vocabulary order. */
    const uint64_t draw = sample_mulhi64(row_draw(c, r), mass);
    if (kw) {
        uint64_t through = 0;
#pragma unroll 4
        for (int q = 0; q < n; q++) {
            const uint32_t iq = sm->index[q];
            const uint64_t kq = sm->kept[q];
            through += iq <= id ? kq : 0;
        }
        if (through > draw && through - kw <= draw)
            c.tokens[r] = (int32_t)id;
    }
    if (t == 0)
        s->mode = SAMPLE_MODE_DONE;
}

/* Block (r, j) of a top-k row: the scan's part, and the chunk's list. */
__device__ static void run_topk(const kcall &c, int r, int j, topk_smem *sm)
{
    const int begin = j * c.chunk, end = chunk_end(c, j);
    const size_t at = (size_t)r * c.nchunks + j;
    float v[SAMPLE_ONCE_LINES][4];
    load_lines<SAMPLE_ONCE_BLOCK, SAMPLE_ONCE_LINES>(row_data(c, r), c.dtype, begin, end, v);

    /* As the one-pass scan: the largest bit pattern of p + 0 finds faults. */
    uint32_t have = ~0u, top = 0;
    uint32_t *hi = sm->bits + threadIdx.x;
    if (end - begin == TOPK_R * SAMPLE_ONCE_BLOCK) { /* a whole chunk: no bounds to test */
#pragma unroll
        for (int e = 0; e < TOPK_R; e++) {
            const uint32_t u = sample_f32_bits(v[e / 4][e % 4] + 0.0f);
            hi[e * SAMPLE_ONCE_BLOCK] = u;
            top = u > top ? u : top;
        }
    } else {
        have = 0;
#pragma unroll
        for (int e = 0; e < TOPK_R; e++) {
            const int i = once_index(begin, e);
            const uint32_t u = i < end ? sample_f32_bits(v[e / 4][e % 4] + 0.0f) : 0;
            hi[e * SAMPLE_ONCE_BLOCK] = u;
            top = u > top ? u : top;
            have |= (uint32_t)(i < end) << e;
        }
    }
    const uint32_t block_top = block_reduce(top, max_op(), (uint32_t *)sm->scan);
    auto each = [&](scan_acc &acc) { /* p + 0 is p but for -0: the same faults */
#pragma unroll
        for (int e = 0; e < TOPK_R; e++)
            if (have >> e & 1)
                acc(once_index(begin, e), sample_f32_from_bits(hi[e * SAMPLE_ONCE_BLOCK]));
    };
    if (!one_pass_part(c, at, block_top, each, (uint32_t *)sm->scan)) {
        auto key = [&](int e) {
            const int i = once_index(begin, e);
            return p_key(hi[e * SAMPLE_ONCE_BLOCK], i);
        };
        const int k = row_params(c, r).top_k;
        const chunk_keys src = {row_data(c, r), c.dtype, begin, end};
        block_top_k(have, top, k, key, [&]() { return narrow_chunk(src, k, sm); }, sm,
                    topk_list(c, r, j));
    }
    /* topk_finish is a call of its own (its registers would spill here); it
     * takes the argument from shared memory, since a reference to the
     * kernel's parameter would make every thread copy it to local memory. */
    if (arrive(c, r, MEET_SCAN, [&]() { sm->call = c; }))
        topk_finish(sm->call, r, sm);
}

/* Calls whose rows all sample from probabilities with top-k <= SAMPLE_TOPK_MAX
 * (the host checks), at most SAMPLE_TOPK_CHUNKS chunks of at most
 * 4 * SAMPLE_ONCE_BLOCK * SAMPLE_ONCE_LINES: one launch at any batch size. */
extern "C" __global__ void __launch_bounds__(SAMPLE_ONCE_BLOCK, 8) sample_k_topk(kcall c)
{
    __shared__ topk_smem sm;
    run_topk(c, blockIdx.y, blockIdx.x, &sm);
}

/* ---- the fused kernel ----------------------------------------------------------- */


/* Everything block (row r, chunk j) does for a call, after its ticket; FRAC:
 * whether top-p rows sum fractions in the histogram (sample_k_fused_frac). */
template <bool FRAC>
__device__ static void run_chunk(const kcall &c, int r, int j, float *held, select_smem *sm,
                                 uint32_t *cnt, uint64_t *scratch64, uint32_t *scratch32)
{
    struct sample_row_state *s = &c.state[r];
    const int begin = j * c.chunk, end = chunk_end(c, j);
    chunk_view ch = {row_data(c, r), c.dtype, begin, end, NULL};

    /* The host keeps the fused kernel's chunks within SAMPLE_CHUNK_MAX. */
    scan_step(c, r, j, ch, held, scratch64, scratch32);
    ch.held = held;
    if (arrive(c, r, MEET_SCAN)) {
        combine_scan(c, r, scratch64, scratch32);
        release(c, r, MEET_SCAN);
    } else {
        wait_release(c, r, MEET_SCAN);
    }

    uint32_t mode = volatile_load(&s->mode);
    if (mode == SAMPLE_MODE_INVALID || mode == SAMPLE_MODE_DONE)
        return;
    const weigher weight = row_weigher(c, r);
    if (mode == SAMPLE_MODE_SELECT) {
        const bool frac = FRAC && sums_fractions(c, r);
        histogram_chunk(c, r, ch, weight, cnt, frac);
        if (arrive(c, r, MEET_HISTOGRAM)) {
            /* The last block keeps the row's fraction sums in held: past its
             * chunk where they fit, else over it, and then it reads its
             * chunk from the row again. */
            uint32_t *sums = NULL;
            if (frac) {
                const bool room = c.chunk <= SAMPLE_FRAC_CHUNK_MAX;
                sums = (uint32_t *)(held + (room ? c.chunk : 0));
                if (!room)
                    ch.held = NULL;
            }
            combine_histogram(c, r, cnt, sums);
            release(c, r, MEET_HISTOGRAM);
        } else {
            wait_release(c, r, MEET_HISTOGRAM);
        }
        mode = volatile_load(&s->mode);
    }
    if (mode == SAMPLE_MODE_SELECT) {
        gather_chunk(c, r, j, ch, weight, cnt, scratch64); /* cnt: free since the release */
        if (arrive(c, r, MEET_GATHER))
            select_and_draw(c, r, sm); /* held is sm's memory: no longer read */
        return;
    }
    if (c.op == SAMPLE_OP_MASK)
        return;
    const uint64_t bound = volatile_load(&s->bound);
    mass_chunk(c, r, j, ch, weight, bound, scratch64);
    if (arrive(c, r, MEET_MASS))
        draw_token(c, r, bound, sm->buf);
}

/* The whole call but the row-valued output: one block per (row, chunk), taken
 * from a ticket (see the top of this file). */
template <bool FRAC> __device__ static void run_fused(const kcall &c)
{
    __shared__ union {
        float4 held[SAMPLE_CHUNK_MAX / 4];
        select_smem sm;
    } big;
    __shared__ __align__(16) uint32_t cnt[SAMPLE_BUCKETS];
    __shared__ uint64_t scratch64[SCRATCH];
    __shared__ uint32_t scratch32[SCRATCH];
    __shared__ uint32_t ticket;

    if (threadIdx.x == 0)
        ticket = atomicAdd(&c.grid[0], 1u);
    __syncthreads();
    const uint32_t t = ticket;
    run_chunk<FRAC>(c, (int)(t / (uint32_t)c.nchunks), (int)(t % (uint32_t)c.nchunks),
                    (float *)big.held, &big.sm, cnt, scratch64, scratch32);
    /* The last block out leaves the tickets at 0 for the next launch. */
    __syncthreads();
    if (threadIdx.x == 0 && atomicAdd(&c.grid[1], 1u) == gridDim.x - 1) {
        c.grid[0] = 0;
        c.grid[1] = 0;
    }
}

extern "C" __global__ void __launch_bounds__(SAMPLE_FUSED_BLOCK, 4) sample_k_fused(kcall c)
{
    run_fused<false>(c);
}

/* The same for calls whose rows may be top-p alone (the host decides): their
 * histogram also sums fractions (bucket_weight), which narrows the gather's
 * candidates on rows dense at the boundary.  A kernel of its own, so that
 * the other calls keep the lighter code and its registers. */
extern "C" __global__ void __launch_bounds__(SAMPLE_FUSED_BLOCK, 4) sample_k_fused_frac(kcall c)
{
    run_fused<true>(c);
}

/* ---- the chain: one kernel per step ------------------------------------------ */

/*
 * For grids larger than the device holds at once, the same steps as one
 * kernel each, a block's (chunk, row) its index: no block waits, and the last
 * block of a row at each step does what the fused kernel's does.
 */
__device__ static inline chunk_view indexed_chunk(const kcall &c)
{
    const int begin = blockIdx.x * c.chunk, end = chunk_end(c, blockIdx.x);
    chunk_view ch = {row_data(c, blockIdx.y), c.dtype, begin, end, NULL};
    return ch;
}

/* The chain's scan; with HIST (sample_k_scan_count, which the host launches
 * for rows of probabilities in slices larger than the L2 cache, where it
 * allocates chunk_hist) the histogram step too, from the float bucket counts
 * of the scan's own read (see local_histogram), and the row's last block
 * plans the gather.  Two kernels, since one with both loops spilled 52
 * bytes.  Four blocks a processor (32 registers): a batch of 64 rows of
 * 128256 is one wave. */
template <bool HIST> __device__ static void run_scan(const kcall &c)
{
    __shared__ uint64_t scratch64[SCRATCH];
    __shared__ uint32_t scratch32[SCRATCH];
    __shared__ __align__(16) uint32_t cnt[HIST ? SAMPLE_BUCKETS : 1];
    __shared__ uint32_t float_cnt[HIST ? SAMPLE_FLOAT_BUCKETS + 1 : 1];
    const int r = blockIdx.y;
    const chunk_view ch = indexed_chunk(c);
    if (HIST)
        clear_buckets(float_cnt, SAMPLE_FLOAT_BUCKETS + 1);
    const chunk_scan own =
        scan_step<HIST>(c, r, blockIdx.x, ch, NULL, scratch64, scratch32, float_cnt);
    if (HIST)
        local_histogram(c, r, blockIdx.x, ch, own, cnt, float_cnt);
    if (arrive(c, r, MEET_SCAN)) {
        combine_scan(c, r, scratch64, scratch32);
        if (HIST)
            combine_local_histograms(c, r, cnt);
    }
}

extern "C" __global__ void __launch_bounds__(SAMPLE_BLOCK, 4) sample_k_scan(kcall c)
{
    run_scan<false>(c);
}

extern "C" __global__ void __launch_bounds__(SAMPLE_BLOCK, 4) sample_k_scan_count(kcall c)
{
    run_scan<true>(c);
}

/* The scan where a row may be one-pass: its own kernel, since the one-pass
 * registers would slow the plain scan, and with smaller blocks, so that more
 * of them wait on memory at once. */
extern "C" __global__ void __launch_bounds__(SAMPLE_MASS_BLOCK, 1024 / SAMPLE_MASS_BLOCK)
sample_k_scan_mass(kcall c)
{
    __shared__ uint64_t scratch64[SCRATCH];
    __shared__ uint32_t scratch32[SCRATCH];
    const int r = blockIdx.y;
    if (one_pass(c, r)) {
        run_one_pass<SAMPLE_MASS_BLOCK, SAMPLE_ONCE_LINES>(c, r, blockIdx.x, scratch64,
                                                           scratch32);
        return;
    }
    scan_step(c, r, blockIdx.x, indexed_chunk(c), NULL, scratch64, scratch32);
    if (arrive(c, r, MEET_SCAN))
        combine_scan(c, r, scratch64, scratch32);
}

/* Four blocks a processor (32 registers, where it took 34 and so three): its
 * blocks mostly wait on their loads, and a fourth has more of them in flight
 * (logits' top-k 50 + top-p 0.9 at B = 256 on an H100: 276 -> 272 us).  No
 * fraction sums here (see bucket_weight): they would need 40 registers. */
extern "C" __global__ void __launch_bounds__(SAMPLE_BLOCK, 4) sample_k_histogram(kcall c)
{
    __shared__ __align__(16) uint32_t cnt[SAMPLE_BUCKETS];
    const int r = blockIdx.y;
    if (c.state[r].mode != SAMPLE_MODE_SELECT)
        return;
    histogram_chunk(c, r, indexed_chunk(c), row_weigher(c, r), cnt, false);
    if (arrive(c, r, MEET_HISTOGRAM))
        combine_histogram(c, r, cnt, NULL);
}

static_assert(SAMPLE_BUCKETS >= 8 * SAMPLE_FUSED_BLOCK && SAMPLE_SORT_MAX * 2 >= 8 * SAMPLE_BLOCK,
              "visit_flagged's lists fit the histogram's counts (fused) and the sort's keys");
extern "C" __global__ void __launch_bounds__(SAMPLE_BLOCK, 3) sample_k_gather(kcall c)
{
    __shared__ select_smem sm;
    const int r = blockIdx.y;
    if (c.state[r].mode != SAMPLE_MODE_SELECT)
        return;
    gather_chunk(c, r, blockIdx.x, indexed_chunk(c), row_weigher(c, r), (uint32_t *)sm.keys,
                 sm.buf);
    if (arrive(c, r, MEET_GATHER))
        select_and_draw(c, r, &sm);
}

extern "C" __global__ void __launch_bounds__(SAMPLE_BLOCK, 3) sample_k_draw(kcall c)
{
    __shared__ uint64_t buf[SCRATCH];
    const int r = blockIdx.y;
    const struct sample_row_state *s = &c.state[r];
    if (s->mode != SAMPLE_MODE_KEPT)
        return;
    mass_chunk(c, r, blockIdx.x, indexed_chunk(c), row_weigher(c, r), s->bound, buf);
    if (arrive(c, r, MEET_MASS))
        draw_token(c, r, s->bound, buf);
}

/* ---- write: row-valued results (SPEC 6) ---------------------------------------- */

extern "C" __global__ void __launch_bounds__(SAMPLE_BLOCK) sample_k_write(kcall c)
{
    const int r = blockIdx.y;
    const struct sample_row_state *s = &c.state[r];
    const void *row = row_data(c, r);
    float *out = c.out + (size_t)r * (size_t)c.out_stride;
    const int begin = blockIdx.x * c.chunk, end = chunk_end(c, blockIdx.x);

    if (s->mode != SAMPLE_MODE_KEPT && s->mode != SAMPLE_MODE_DRAWN) {
        for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x)
            out[i] = NAN;
        return;
    }
    const weigher weight = row_weigher(c, r);
    const uint64_t bound = s->bound;
    const double mass = (double)s->mass;
    const bool mask = c.op == SAMPLE_OP_MASK;
    for_each_value(row, c.dtype, begin, end, [&](int i, float v) {
        uint64_t w = weight(v);
        bool kept = sample_rank_key(w, i) >= bound;
        if (mask)
            out[i] = kept ? v : -INFINITY;
        else
            out[i] = kept ? (float)((double)w / mass) : 0.0f;
    });
}
