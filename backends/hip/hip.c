/*
 * hip.c - the hip backend: a loadable module that runs kernels/sample.hip.
 *
 * libsample opens this module with dlopen and takes its one export,
 * sample_backend_hip_entry().  A call runs in slices of rows that fit the
 * workspace; each slice is one launch of the fused kernel or a chain of
 * kernels, one per step, on one stream (see sample.hip).  Host-memory calls
 * are staged through the context's device workspace and synchronised.
 * Device-memory calls run on the caller's stream and return once enqueued;
 * with no stream they use the context's own and synchronise, so that invalid
 * rows can be reported like host calls.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gpu.h"
#include "kernel_abi.h"
#include "loader.h"

/* The candidate lists (8 bytes per element) of one slice stay under this. */
#define SLICE_CAND_BYTES ((size_t)512 << 20)
#define MAX_GRID_Y 65535
/* A chunk is whole lines of 4 elements per thread of either block size, at
 * least one line of the larger, so that a row's blocks meet few at a time. */
#define CHUNK_STEP (SAMPLE_BLOCK * 4)
#define CHUNK_MIN CHUNK_STEP
/* The fused kernel's blocks that fit on one processor (its shared memory and
 * registers allow 4 on an H100), and the chain's aim. */
#define FUSED_BLOCKS_PER_PROCESSOR 4
#define CHAIN_BLOCKS_PER_PROCESSOR 2
/* sample_k_scan_count's blocks a processor (its launch bound) and the shared
 * memory each holds, nearly all of it its float and weight bucket counts.
 * Where that many do not fit a processor (AMD's CDNA has 64 KB of LDS a
 * compute unit), the chain counts buckets in its histogram kernel instead. */
#define SCAN_COUNT_BLOCKS 4
#define SCAN_COUNT_SHARED ((int64_t)(SAMPLE_FLOAT_BUCKETS + 1 + SAMPLE_BUCKETS) * 4)
/* A chain grid of at least this many blocks per processor runs in several
 * waves (its kernels fit 3 or 4 blocks a processor at once); see many_waves. */
#define CHAIN_MANY_WAVES 8

struct region {
    void *ptr;
    size_t size;
};

struct hip_state {
    int device;
    const struct hip_kernels *kernels;
    void *stream;
    int dirty; /* a failed call may have left counters set: zero them first */
    uint32_t epoch; /* the last fused launch's */
    struct region input, output, params, state, report, part_fault, part, mass, hist_cnt, cand,
        chunk_hist, chunk_range, grid;
    struct sample_row_params *host_params;
    struct sample_row_report *host_report;
    size_t host_rows;
};

static int device_failure(struct sample_call *call, const char *what, int rc)
{
    snprintf(call->message, sizeof call->message, "%s: %s", what, gpu_error(rc));
    return gpu_is_out_of_memory(rc) ? SAMPLE_ERR_NO_MEMORY : SAMPLE_ERR_DEVICE;
}

#define TRY(call_, what, expr)                                                                 \
    do {                                                                                       \
        int rc_ = (expr);                                                                      \
        if (rc_)                                                                               \
            return device_failure((call_), (what), rc_);                                       \
    } while (0)

/* Grows a device region to at least size bytes; zeroed ones start at zero. */
static int reserve(struct region *r, size_t size, int zeroed, void *stream)
{
    if (size <= r->size)
        return 0;
    int rc = gpu_free(r->ptr);
    r->ptr = NULL;
    r->size = 0;
    if (rc)
        return rc;
    rc = gpu_malloc(&r->ptr, size);
    if (rc)
        return rc;
    r->size = size;
    return zeroed ? gpu_memset(r->ptr, 0, size, stream) : 0;
}

static int reserve_host(struct hip_state *s, size_t rows)
{
    if (rows <= s->host_rows)
        return SAMPLE_OK;
    void *p = realloc(s->host_params, rows * sizeof *s->host_params);
    if (p)
        s->host_params = p;
    void *q = realloc(s->host_report, rows * sizeof *s->host_report);
    if (q)
        s->host_report = q;
    if (!p || !q)
        return SAMPLE_ERR_NO_MEMORY;
    s->host_rows = rows;
    return SAMPLE_OK;
}

static int takes_tokens(enum sample_op op)
{
    return op <= SAMPLE_OP_ARGMAX;
}

static int has_row_arrays(const sample_params *p)
{
    return p->temperatures || p->top_ks || p->top_ps || p->min_ps || p->seeds || p->offsets;
}

/* Whether the call's shared top-k removes anything (SPEC 4.1). */
static int filters_top_k(const struct sample_call *call)
{
    return call->params->top_k > 0 && call->params->top_k < call->input->vocab;
}

/* Whether any row may need the top-k / top-p selection. */
static int may_select(const struct sample_call *call)
{
    const sample_params *p = call->params;
    if (call->op == SAMPLE_OP_ARGMAX || call->op == SAMPLE_OP_SOFTMAX)
        return 0;
    return p->top_ks || p->top_ps || filters_top_k(call) || p->top_p < 1.0f;
}

/* Whether some row may be one-pass (sample.hip): probabilities to a token with
 * no filter; with per-row parameters each row decides on the device. */
static int one_pass_scan(const struct sample_call *call)
{
    const sample_params *p = call->params;
    if (call->kind != SAMPLE_PROBS || call->op != SAMPLE_OP_FROM_PROBS)
        return 0;
    return has_row_arrays(p) || (!may_select(call) && !(p->min_p > 0.0f));
}

/* Whether the fused kernel's histogram sums fractions too
 * (sample_k_fused_frac in sample.hip): for calls that are top-p alone.  On
 * rows dense at top-p's boundary that narrows the candidates from thousands
 * to a few hundred.  Other calls take sample_k_fused, which has no such
 * code. */
static int sums_fractions(const struct sample_call *call)
{
    const sample_params *p = call->params;
    return !has_row_arrays(p) && may_select(call) && !filters_top_k(call) && p->top_p < 1.0f;
}

/* The one-pass kernels' chunks, SAMPLE_ONCE_LINES lines of four per thread:
 * the top-k kernel's, and the most the one-pass scan takes. */
#define ONCE_CHUNK (4 * SAMPLE_ONCE_BLOCK * SAMPLE_ONCE_LINES)
#define MASS_CHUNK (4 * SAMPLE_MASS_BLOCK * SAMPLE_ONCE_LINES)

/* Whether every row of [row0, row0 + rows) is one-pass top-k (sample.hip):
 * probabilities to a token, 1 <= k <= SAMPLE_TOPK_MAX and k < V in each row
 * (the kernel reads each row's parameters; a row whose other parameters are
 * out of range is reported invalid there, as elsewhere), and a row's lists
 * fit the last block (at most SAMPLE_TOPK_CHUNKS chunks of ONCE_CHUNK). */
static int topk_scan(const struct sample_call *call, int64_t row0, int rows)
{
    const sample_params *p = call->params;
    const int64_t vocab = call->input->vocab;
    if (call->kind != SAMPLE_PROBS || call->op != SAMPLE_OP_FROM_PROBS ||
        (vocab + ONCE_CHUNK - 1) / ONCE_CHUNK > SAMPLE_TOPK_CHUNKS)
        return 0;
    for (int i = 0; i < (p->top_ks ? rows : 1); i++) {
        const int64_t k = sample_row_top_k(p, row0 + i);
        if (k < 1 || k > SAMPLE_TOPK_MAX || k >= vocab)
            return 0;
    }
    return 1;
}

/* ---- memory checks for device-pointer calls -------------------------------- */

/*
 * A pointer must be memory of the kind the tensor says: device memory of this
 * device covering `bytes` (where the runtime reports allocation sizes), or
 * anything but device memory, which the host cannot read.
 */
static int check_pointer(const struct hip_state *s, struct sample_call *call, const void *ptr,
                         int want_device, size_t bytes, const char *what)
{
    int kind, device;
    size_t available;
    int rc = gpu_pointer_info(ptr, &kind, &device, &available);
    if (rc)
        return device_failure(call, "checking a pointer", rc);
    if (!want_device) {
        if (kind != GPU_POINTER_DEVICE)
            return SAMPLE_OK;
        snprintf(call->message, sizeof call->message,
                 "%s is device memory, but the tensor's memory is SAMPLE_HOST", what);
    } else if (kind == GPU_POINTER_HOST) {
        snprintf(call->message, sizeof call->message,
                 "%s is not device memory, but the tensor's memory is SAMPLE_DEVICE", what);
    } else if (device >= 0 && device != s->device) {
        snprintf(call->message, sizeof call->message,
                 "%s is memory of device %d, not the context's device %d", what, device,
                 s->device);
    } else if (available && available < bytes) {
        snprintf(call->message, sizeof call->message,
                 "%s: the allocation holds %zu bytes from there, the call needs %zu", what,
                 available, bytes);
    } else {
        return SAMPLE_OK;
    }
    return SAMPLE_ERR_ARGUMENT;
}

static size_t extent(int64_t rows, int64_t stride, int64_t vocab, size_t elem)
{
    return ((size_t)(rows - 1) * (size_t)stride + (size_t)vocab) * elem;
}

static int check_pointers(const struct hip_state *s, struct sample_call *call)
{
    const sample_tensor *in = call->input;
    size_t elem = in->dtype == SAMPLE_F32 ? 4 : 2;
    const void *out = takes_tokens(call->op) ? (const void *)call->tokens : (const void *)call->out;
    size_t out_bytes = takes_tokens(call->op)
                           ? (size_t)in->batch * sizeof(int32_t)
                           : extent(in->batch, call->out_stride, in->vocab, sizeof(float));
    const int device = in->memory == SAMPLE_DEVICE;
    int status = check_pointer(s, call, in->data, device,
                               extent(in->batch, call->stride, in->vocab, elem),
                               "the tensor's data");
    return status ? status : check_pointer(s, call, out, device, out_bytes, "the output");
}

/* ---- one slice of rows ------------------------------------------------------ */

/* Elements per block: about `per` blocks per processor over the slice, whole
 * lines, at least CHUNK_MIN and at most `most` (a multiple of CHUNK_STEP). */
static int64_t choose_chunk(int64_t vocab, int64_t rows, int processors, int per, int64_t most)
{
    const int64_t procs = processors > 0 ? processors : 1;
    int64_t chunk = (vocab * rows + per * procs - 1) / (per * procs);
    chunk = chunk < CHUNK_MIN ? CHUNK_MIN : chunk > most ? most : chunk;
    return (chunk + CHUNK_STEP - 1) / CHUNK_STEP * CHUNK_STEP;
}

/* Whether the chain's grid of rows x nchunks blocks (of SAMPLE_CHUNK_MAX)
 * runs in several waves: then the chain takes larger chunks. */
static int many_waves(const struct hip_kernels *kn, int64_t rows, int64_t nchunks)
{
    return rows * nchunks >= CHAIN_MANY_WAVES * (int64_t)kn->processors;
}

static int launch(struct sample_call *call, void *fn, const char *name, int grid_x, int grid_y,
                  int threads, struct sample_kernel_call *k, void *stream)
{
    TRY(call, name,
        gpu_launch(fn, (unsigned)grid_x, (unsigned)grid_y, (unsigned)threads, k, stream));
    return SAMPLE_OK;
}

/* Whether the fused kernel runs a slice: where its blocks fit on the device at
 * once (more would wait for each other in turn), and a row's blocks are at
 * most one per processor (those wait for each other, so they must be able to
 * run at once wherever the kernel fits). */
static int fits_fused(const struct hip_kernels *kn, int64_t rows, int64_t nchunks)
{
    return rows * nchunks <= (int64_t)FUSED_BLOCKS_PER_PROCESSOR * kn->processors &&
           nchunks <= kn->processors;
}

/* The kernels of a slice: one launch of the fused kernel, or the chain, one
 * kernel per step. */
static int launch_slice(struct hip_state *s, struct sample_call *call,
                        struct sample_kernel_call *k, int fused, int topk, void *stream)
{
    const struct hip_kernels *kn = s->kernels;
    const sample_params *p = call->params;
    const int rows = k->batch, nchunks = k->nchunks, threads = SAMPLE_BLOCK;
    int status;
    if (topk) {
        status = launch(call, kn->topk, "launching the top-k kernel", nchunks, rows,
                        SAMPLE_ONCE_BLOCK, k, stream);
    } else if (fused) {
        /* Flags left by an earlier launch hold its epoch, never this one's. */
        s->epoch = s->epoch + 1 ? s->epoch + 1 : 1;
        k->epoch = s->epoch;
        status = launch(call, sums_fractions(call) ? kn->fused_frac : kn->fused,
                        "launching the kernel", nchunks * rows, 1, SAMPLE_FUSED_BLOCK, k, stream);
    } else {
        const int select = may_select(call);
        /* The gather draws for the rows it selects; a separate draw pass is
         * needed only where a row may skip the selection (per-row parameters,
         * or min-p deciding alone). */
        const int drawn_by_gather = select && !has_row_arrays(p) && p->min_p == 0.0f;
        /* The scan draws for rows of probabilities with no filter at all. */
        const int one_pass = one_pass_scan(call);
        const int drawn_by_scan = one_pass && !has_row_arrays(p);
        const int draw = call->op != SAMPLE_OP_ARGMAX && call->op != SAMPLE_OP_MASK &&
                         !drawn_by_gather && !drawn_by_scan;
        /* The chain's scan of probabilities counts the buckets as it reads
         * (sample_k_scan_count); see chunk_hist below. */
        void *scan = one_pass ? kn->scan_mass : k->chunk_hist ? kn->scan_count : kn->scan;
        status = launch(call, scan, "launching the scan kernel", nchunks, rows,
                        one_pass ? SAMPLE_MASS_BLOCK : threads, k, stream);
        if (!status && select && !k->chunk_hist) /* else the scan counted the buckets */
            status = launch(call, kn->histogram, "launching the histogram kernel", nchunks,
                            rows, threads, k, stream);
        if (!status && select)
            status = launch(call, kn->gather, "launching the gather kernel", nchunks, rows,
                            threads, k, stream);
        if (!status && draw)
            status = launch(call, kn->draw, "launching the draw kernel", nchunks, rows, threads,
                            k, stream);
    }
    if (!status && !takes_tokens(call->op))
        status = launch(call, kn->write, "launching the write kernel", nchunks, rows, threads, k,
                        stream);
    return status;
}

static int run_slice(struct hip_state *s, struct sample_call *call, int64_t row0, int rows,
                     void *stream, int staged)
{
    const sample_tensor *in = call->input;
    const sample_params *p = call->params;
    const struct hip_kernels *kn = s->kernels;
    const size_t elem = in->dtype == SAMPLE_F32 ? 4 : 2;
    const int vocab = (int)in->vocab;
    const int tokens = takes_tokens(call->op);
    const int select = may_select(call);

    /* Chunks: the fused kernel's where the slice fits it, else the chain's.
     * Rows all read once need neither: their blocks never wait for each
     * other, so the scan alone runs them, in the fused kernel's many small
     * chunks (at most MASS_CHUNK), at any batch size.  The top-k kernel
     * always takes ONCE_CHUNK: fewer lists for the last block to merge. */
    const int topk = topk_scan(call, row0, rows);
    const int once = topk || (one_pass_scan(call) && !has_row_arrays(p));
    int64_t chunk = choose_chunk(vocab, rows, kn->processors, FUSED_BLOCKS_PER_PROCESSOR,
                                 SAMPLE_CHUNK_MAX);
    const int fused = !once && fits_fused(kn, rows, (vocab + chunk - 1) / chunk);
    if (!fused && !once) {
        /* The chain's chunks are at most SAMPLE_CHUNK_MAX where that makes
         * one or two waves (a larger chunk then leaves processors idle at
         * the end and lengthens the draw's walk: min-p at B = 64, V =
         * 128256, 48 -> 52 us), and up to SAMPLE_CHAIN_CHUNK_MAX past that,
         * where each block's fixed work spread wider pays (top-p at B =
         * 256, V = 128256: 334 -> 316 us). */
        chunk = choose_chunk(vocab, rows, kn->processors, CHAIN_BLOCKS_PER_PROCESSOR,
                             SAMPLE_CHUNK_MAX);
        if (many_waves(kn, rows, (vocab + chunk - 1) / chunk))
            chunk = choose_chunk(vocab, rows, kn->processors, CHAIN_BLOCKS_PER_PROCESSOR,
                                 SAMPLE_CHAIN_CHUNK_MAX);
    }
    if (topk)
        chunk = ONCE_CHUNK;
    else if (!fused && one_pass_scan(call) && chunk > MASS_CHUNK)
        chunk = MASS_CHUNK;
    const int nchunks = (int)((vocab + chunk - 1) / chunk);

    struct sample_kernel_call k;
    memset(&k, 0, sizeof k);
    k.batch = rows;
    k.vocab = vocab;
    k.dtype = (int32_t)in->dtype;
    k.kind = (int32_t)call->kind;
    k.op = (int32_t)call->op;
    k.chunk = (int32_t)chunk;
    k.nchunks = nchunks;
    k.row0 = row0;

    const size_t n = (size_t)rows;
    TRY(call, "allocating the workspace", reserve(&s->grid, 2 * sizeof(uint32_t), 1, stream));
    TRY(call, "allocating the workspace",
        reserve(&s->state, n * sizeof(struct sample_row_state), 1, stream));
    TRY(call, "allocating the workspace",
        reserve(&s->report, n * sizeof(struct sample_row_report), 0, stream));
    TRY(call, "allocating the workspace",
        reserve(&s->part_fault, n * nchunks * sizeof(uint32_t), 0, stream));
    TRY(call, "allocating the workspace",
        reserve(&s->part, n * nchunks * sizeof(uint64_t), 0, stream));
    if (one_pass_scan(call) && !topk) /* the top-k kernel keeps no chunk mass */
        TRY(call, "allocating the workspace",
            reserve(&s->mass, n * nchunks * sizeof(struct sample_chunk_mass), 0, stream));
    if (topk) {
        TRY(call, "allocating the candidate lists",
            reserve(&s->cand, n * (size_t)nchunks * SAMPLE_TOPK_MAX * sizeof(uint64_t), 0,
                    stream));
    } else if (select) {
        TRY(call, "allocating the workspace",
            reserve(&s->hist_cnt, n * SAMPLE_HIST_WORDS * sizeof(uint32_t), 1, stream));
        TRY(call, "allocating the candidate lists",
            reserve(&s->cand, n * (size_t)vocab * sizeof(uint64_t), 0, stream));
        TRY(call, "allocating the workspace",
            reserve(&s->chunk_range, n * nchunks * SAMPLE_RANGE * sizeof(uint64_t), 0, stream));
        k.chunk_range = s->chunk_range.ptr;
        /* The chain's scan of probabilities counts each chunk's buckets at
         * the chunk's own scale as it reads the chunk (sample_k_scan_count),
         * a kernel fewer.  That pays where the slice is larger than the L2
         * cache.  Where it fits, the histogram kernel reads it again from
         * L2, and the scan's heavier last block costs more than that saves
         * (on an H100, top-p at V = 128256: B = 64 106 -> 110 us, B = 128
         * 162 -> 148).  Logits' weights need the row's maximum first, so
         * their histogram is always a step of its own. */
        if (!fused && call->kind == SAMPLE_PROBS && !one_pass_scan(call) &&
            (int64_t)rows * vocab * (int64_t)elem > kn->l2_bytes &&
            kn->shared_per_processor >= SCAN_COUNT_BLOCKS * SCAN_COUNT_SHARED) {
            TRY(call, "allocating the workspace",
                reserve(&s->chunk_hist, n * nchunks * SAMPLE_BUCKETS * sizeof(uint16_t), 0,
                        stream));
            k.chunk_hist = s->chunk_hist.ptr;
        }
    }
    if (s->dirty) {
        TRY(call, "clearing the workspace", gpu_memset(s->state.ptr, 0, s->state.size, stream));
        TRY(call, "clearing the workspace", gpu_memset(s->grid.ptr, 0, s->grid.size, stream));
        if (s->hist_cnt.ptr)
            TRY(call, "clearing the workspace",
                gpu_memset(s->hist_cnt.ptr, 0, s->hist_cnt.size, stream));
        s->dirty = 0;
    }
    k.state = s->state.ptr;
    k.report = s->report.ptr;
    k.part_fault = s->part_fault.ptr;
    k.part = s->part.ptr;
    k.mass = s->mass.ptr;
    k.hist_cnt = s->hist_cnt.ptr;
    k.cand = s->cand.ptr;
    k.grid = s->grid.ptr;

    /* Input and output: the caller's device memory, or staged copies. */
    const char *src = (const char *)in->data + (size_t)row0 * (size_t)call->stride * elem;
    if (staged) {
        TRY(call, "allocating the workspace",
            reserve(&s->input, n * (size_t)vocab * elem, 0, stream));
        TRY(call, "copying the input to the device",
            gpu_copy_2d(s->input.ptr, (size_t)vocab * elem, src, (size_t)call->stride * elem,
                        (size_t)vocab * elem, n, 1, stream));
        k.input = s->input.ptr;
        k.stride = vocab;
        size_t out_bytes = tokens ? n * sizeof(int32_t) : n * (size_t)vocab * sizeof(float);
        TRY(call, "allocating the workspace", reserve(&s->output, out_bytes, 0, stream));
        if (tokens)
            k.tokens = s->output.ptr;
        else
            k.out = s->output.ptr;
        k.out_stride = vocab;
    } else {
        k.input = src;
        k.stride = call->stride;
        if (tokens)
            k.tokens = call->tokens + row0;
        else
            k.out = call->out + (size_t)row0 * (size_t)call->out_stride;
        k.out_stride = call->out_stride;
    }

    /* Parameters: one set for every row, or a row array made here. */
    if (has_row_arrays(p)) {
        for (int i = 0; i < rows; i++) {
            int64_t r = row0 + i;
            struct sample_row_params *rp = &s->host_params[i];
            rp->temperature = sample_row_temperature(p, r);
            rp->top_k = sample_row_top_k(p, r);
            rp->top_p = sample_row_top_p(p, r);
            rp->min_p = sample_row_min_p(p, r);
            rp->draw = sample_row_draw(p, r);
            rp->fault = (uint32_t)sample_row_param_fault(call, r);
            rp->pad = 0;
        }
        TRY(call, "allocating the workspace",
            reserve(&s->params, n * sizeof(struct sample_row_params), 0, stream));
        /* From pageable memory: the runtime has taken the bytes when this returns. */
        TRY(call, "copying row parameters",
            gpu_copy_to_device(s->params.ptr, s->host_params,
                               n * sizeof(struct sample_row_params), stream));
        k.rows = s->params.ptr;
    } else {
        k.uni.temperature = p->temperature;
        k.uni.top_k = p->top_k;
        k.uni.top_p = p->top_p;
        k.uni.min_p = p->min_p;
        k.uni_fault = (uint32_t)sample_row_param_fault(call, row0);
        k.seed = p->seed;
        k.offset = p->offset;
    }

    int status = launch_slice(s, call, &k, fused, topk, stream);
    if (status)
        return status;

    if (staged) {
        if (tokens)
            TRY(call, "copying tokens to the host",
                gpu_copy_to_host(call->tokens + row0, s->output.ptr, n * sizeof(int32_t),
                                 stream));
        else
            TRY(call, "copying rows to the host",
                gpu_copy_2d(call->out + (size_t)row0 * (size_t)call->out_stride,
                            (size_t)call->out_stride * sizeof(float), s->output.ptr,
                            (size_t)vocab * sizeof(float), (size_t)vocab * sizeof(float), n, 0,
                            stream));
    }
    return SAMPLE_OK;
}

/* After a synchronised slice: record its invalid rows in the call. */
static int collect_faults(struct hip_state *s, struct sample_call *call, int64_t row0, int rows,
                          void *stream)
{
    TRY(call, "copying row reports to the host",
        gpu_copy_to_host(s->host_report, s->report.ptr,
                         (size_t)rows * sizeof(struct sample_row_report), stream));
    TRY(call, "running the kernels", gpu_stream_sync(stream));
    for (int i = 0; i < rows; i++)
        if (s->host_report[i].fault != SAMPLE_ROW_OK)
            sample_call_row_fault(call, row0 + i,
                                  (enum sample_row_fault)s->host_report[i].fault,
                                  s->host_report[i].index);
    return SAMPLE_OK;
}

static int run_call(struct hip_state *s, struct sample_call *call)
{
    const sample_tensor *in = call->input;
    const int staged = in->memory == SAMPLE_HOST;
    void *stream = !staged && call->params->stream ? call->params->stream : s->stream;
    const int report = stream == s->stream;

    int status = check_pointers(s, call);
    if (status)
        return status;
    int64_t slice = (int64_t)(SLICE_CAND_BYTES / ((size_t)in->vocab * sizeof(uint64_t)));
    slice = slice < 1 ? 1 : slice > MAX_GRID_Y ? MAX_GRID_Y : slice;
    slice = slice < in->batch ? slice : in->batch;
    if (reserve_host(s, (size_t)slice) != SAMPLE_OK) {
        snprintf(call->message, sizeof call->message, "out of host memory");
        return SAMPLE_ERR_NO_MEMORY;
    }
    for (int64_t row0 = 0; row0 < in->batch; row0 += slice) {
        int rows = (int)(in->batch - row0 < slice ? in->batch - row0 : slice);
        status = run_slice(s, call, row0, rows, stream, staged);
        if (!status && report)
            status = collect_faults(s, call, row0, rows, stream);
        if (status)
            return status;
    }
    return SAMPLE_OK;
}

static int hip_run(void *state, struct sample_call *call)
{
    struct hip_state *s = state;
    int rc = gpu_enter(s->device);
    if (rc)
        return device_failure(call, "entering the device", rc);
    int status = run_call(s, call);
    if (status == SAMPLE_ERR_DEVICE || status == SAMPLE_ERR_NO_MEMORY)
        s->dirty = 1;
    gpu_leave();
    return status;
}

/* ---- the context ------------------------------------------------------------ */

static int hip_probe(const char **why)
{
    int count = 0;
    if (gpu_load(why))
        return 0;
    int rc = gpu_device_count(&count);
    if (rc || count == 0) {
        *why = rc ? gpu_error(rc) : "the runtime loaded but found no GPU";
        return 0;
    }
    *why = "";
    return 1;
}

/* The device: the options' index, else SAMPLE_DEVICE, else 0. */
static int choose_device(const sample_options *options, int *device, char *msg, size_t msglen)
{
    int count = 0;
    int rc = gpu_device_count(&count);
    if (rc) {
        snprintf(msg, msglen, "counting devices: %s", gpu_error(rc));
        return SAMPLE_ERR_DEVICE;
    }
    *device = options->device;
    if (*device < 0) {
        const char *env = getenv("SAMPLE_DEVICE");
        char *end = NULL;
        long v = env && *env ? strtol(env, &end, 10) : 0;
        if (env && *env && (*end != '\0' || v < 0 || v > 1 << 20)) {
            snprintf(msg, msglen, "SAMPLE_DEVICE=\"%s\" is not a device index", env);
            return SAMPLE_ERR_RANGE;
        }
        *device = (int)v;
    }
    if (*device >= count) {
        snprintf(msg, msglen, "device %d does not exist (%d device%s)", *device, count,
                 count == 1 ? "" : "s");
        return SAMPLE_ERR_RANGE;
    }
    return SAMPLE_OK;
}

static void hip_close(void *state)
{
    struct hip_state *s = state;
    if (!s)
        return;
    if (gpu_enter(s->device) == 0) {
        struct region *regions[] = {&s->input, &s->output, &s->params, &s->state, &s->report,
                                    &s->part_fault, &s->part, &s->mass, &s->hist_cnt, &s->cand,
                                    &s->chunk_hist, &s->chunk_range, &s->grid};
        if (s->stream)
            gpu_stream_sync(s->stream);
        for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
            gpu_free(regions[i]->ptr);
        if (s->stream)
            gpu_stream_destroy(s->stream);
        gpu_leave();
    }
    free(s->host_params);
    free(s->host_report);
    free(s);
}

static int hip_open(const sample_options *options, void **state, char *msg, size_t msglen)
{
    struct hip_state *s = calloc(1, sizeof *s);
    if (!s)
        return SAMPLE_ERR_NO_MEMORY;
    int status = choose_device(options, &s->device, msg, msglen);
    if (status) {
        free(s);
        return status;
    }
    int rc = gpu_enter(s->device);
    if (rc) {
        snprintf(msg, msglen, "device %d: %s", s->device, gpu_error(rc));
        free(s);
        return SAMPLE_ERR_DEVICE;
    }
    status = hip_kernels_get(s->device, &s->kernels, msg, msglen);
    if (!status && (rc = gpu_stream_create(&s->stream)) != 0) {
        snprintf(msg, msglen, "creating a stream: %s", gpu_error(rc));
        status = SAMPLE_ERR_DEVICE;
    }
    gpu_leave();
    if (status) {
        hip_close(s);
        return status;
    }
    *state = s;
    return SAMPLE_OK;
}

static const struct sample_backend hip_backend = {
    SAMPLE_BACKEND_ABI,             /* abi */
    sizeof(struct sample_backend),  /* size */
    "hip",                          /* name */
    SAMPLE_SUPPORTS_DEVICE_MEMORY,  /* supports: device pointers and streams */
    hip_probe,                      /* probe: a runtime and a GPU */
    hip_open,                       /* open: a device, its kernels, a stream */
    hip_close,                      /* close */
    hip_run,                        /* run */
};

/* The module's one export: its table, if libsample speaks the same backend ABI. */
__attribute__((visibility("default"))) const struct sample_backend *
sample_backend_hip_entry(uint32_t abi);

const struct sample_backend *sample_backend_hip_entry(uint32_t abi)
{
    return abi == SAMPLE_BACKEND_ABI ? &hip_backend : NULL;
}
