/*
 * kernel_abi.h - what the hip backend's host side and its kernels share: the
 * one argument every kernel takes, and the per-row state they leave in the
 * device workspace.  Plain C with fixed-size fields, so that a C host and a
 * C++ kernel compiler lay it out the same; bump SAMPLE_KERNEL_ABI with any change
 * (the host refuses code objects whose sample_kernel_abi differs).
 */
#ifndef SAMPLE_KERNEL_ABI_H
#define SAMPLE_KERNEL_ABI_H

#include <stdint.h>

#define SAMPLE_KERNEL_ABI 12

/* Threads per block: the fused kernel's, and the other kernels'; multiples of
 * 64 and of 32. */
#define SAMPLE_FUSED_BLOCK 256
#define SAMPLE_BLOCK 512
/* Most elements per block (a chunk), in every kernel: what the fused
 * kernel's block holds in shared memory. */
#define SAMPLE_CHUNK_MAX 8192
/* Most elements per block in the chain's kernels, which read their chunks
 * from the row (a larger chunk spreads each block's fixed work wider). */
#define SAMPLE_CHAIN_CHUNK_MAX 16384
/* Log-scale weight buckets of the first selection pass (see sample.hip). */
#define SAMPLE_BUCKETS 2304
/* Float buckets (a value's bits >> 17, below 2) that sample_k_scan_count
 * counts a chunk of probabilities in (see count_float_buckets). */
#define SAMPLE_FLOAT_BUCKETS 8192
/* The least exponent e of a chunk's maximum (2^(e-1) <= max < 2^e) at which
 * those counts give the weight buckets exactly (check_exact's float_buckets
 * tests it); below it the chunk is read again. */
#define SAMPLE_FLOAT_MIN_EXPONENT (-86)
/* A row's histogram in the workspace: the buckets' counts, then the sums of
 * their weights' next bits (see bucket_weight in sample.hip). */
#define SAMPLE_HIST_WORDS (2 * SAMPLE_BUCKETS)
/* The largest chunk beside which a fused block has room for a row's
 * fraction sums in shared memory (sample_k_fused_frac). */
#define SAMPLE_FRAC_CHUNK_MAX (SAMPLE_CHUNK_MAX - SAMPLE_BUCKETS)
/* Candidate buckets whose exact counts and weights the gather adds up. */
#define SAMPLE_RANGE 64
/* The one-pass scan kernel (sample_k_scan_mass): threads per block, and lines
 * of four elements per thread; its chunks are at most 4 * their product. */
#define SAMPLE_ONCE_BLOCK 128
#define SAMPLE_ONCE_LINES 8
/* Threads per block of the one-pass scan kernel (sample_k_scan_mass), each
 * with SAMPLE_ONCE_LINES lines of four elements: twice the top-k kernel's,
 * so that half as many blocks pay each block's fixed work (plain, H100, B =
 * 256: 86 -> 84 us; V = 256000: 144 -> 136). */
#define SAMPLE_MASS_BLOCK 256
/* Low weight bits a chunk counts for the one-pass mass (see sample.hip). */
#define SAMPLE_LOW_BITS 20
/* The one-pass top-k kernel (sample_k_topk): the largest k it takes, and the
 * most chunks a row may have there (each leaves a list of SAMPLE_TOPK_MAX
 * slots in cand, and the row's last block holds them all). */
#define SAMPLE_TOPK_MAX 64
#define SAMPLE_TOPK_CHUNKS 64
/* Most candidates one block sorts in shared memory. */
#define SAMPLE_SORT_MAX 2048

/* What a row still needs after the scan. */
enum sample_row_mode {
    SAMPLE_MODE_INVALID = 1,   /* token -1 written, or the row is filled with NaN */
    SAMPLE_MODE_DONE = 2,      /* greedy or argmax: the token is written */
    SAMPLE_MODE_SELECT = 3,    /* top-k or top-p: the kept set's boundary is not known yet */
    SAMPLE_MODE_KEPT = 4,      /* the kept set is {i : rank_key(w_i, i) >= bound} */
    SAMPLE_MODE_DRAWN = 5      /* kept set and M_K known (renorm after a gather) */
};

/* Parameters of one row, when the call has per-row arrays (else hip_call.uni). */
struct sample_row_params {
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
    uint64_t draw;             /* U of SPEC 5, computed on the host */
    uint32_t fault;            /* a sample_row_fault of the parameters, or 0 */
    uint32_t pad;
};

/* Per-row state in the workspace.  The counters return to 0 after each kernel. */
struct sample_row_state {
    uint32_t mode;
    uint32_t counter[4];       /* blocks arrived, per meeting point of the row's blocks */
    uint32_t flag[2];          /* the call's epoch once the last block released the others */
    uint32_t ncand;            /* candidates gathered (0 between calls) */
    uint32_t ncand_done;       /* the last gather's count, for its draw */
    int32_t exponent;          /* E of SPEC 2.1 */
    float max;                 /* probabilities: max p; logits: max finite l */
    uint32_t blo, bhi;         /* candidate buckets */
    uint64_t above_cnt;        /* tokens in buckets above bhi (summed by gather) */
    uint64_t above_sum;        /* their weight */
    uint64_t total;            /* W: the row's weight (summed by gather) */
    uint64_t theta;            /* min-p's threshold weight, or 0 */
    uint64_t bound;            /* rank keys >= bound are kept */
    uint64_t mass;             /* M_K */
};

/* A chunk's weights at its own maximum's exponent, for rows whose mass the
 * scan finds (probabilities, no selection, no min-p). */
struct sample_chunk_mass {
    uint64_t sum;              /* sum of floor(p * 2^(40 - exponent)), or 0 */
    int32_t exponent;          /* E of the chunk's maximum (where sum is not 0) */
    uint32_t low[SAMPLE_LOW_BITS]; /* weights with bit b set */
    uint32_t pad;
};

/* Why a row is invalid, for the host's report. */
struct sample_row_report {
    uint32_t fault;            /* a sample_row_fault */
    int32_t index;             /* the element, or -1 */
};

/* The argument of every kernel, passed by value. */
struct sample_kernel_call {
    const void *input;
    int64_t stride;            /* elements between rows */
    int32_t *tokens;           /* token operations, else NULL */
    float *out;                /* row operations, else NULL */
    int64_t out_stride;
    int32_t batch;
    int32_t vocab;
    int32_t dtype;             /* 0 f32, 1 f16, 2 bf16 */
    int32_t kind;              /* 0 probabilities, 1 logits */
    int32_t op;                /* an enum sample_op */
    int32_t chunk;             /* elements per block; a multiple of 4 * SAMPLE_BLOCK */
    int32_t nchunks;           /* blocks per row (fused: at most the processors) */
    uint32_t epoch;            /* fused: this launch's number, never 0, for the flags */
    uint32_t uni_fault;        /* the parameters' fault when rows is NULL */
    struct sample_row_params uni; /* every row's parameters when rows is NULL */
    uint64_t seed, offset;     /* the draw when rows is NULL: subsequence = row0 + row */
    int64_t row0;              /* the slice's first row in the caller's batch */
    const struct sample_row_params *rows;
    uint32_t *grid;            /* fused: [2] tickets taken, blocks done; 0 between */
    struct sample_row_state *state;     /* [batch] */
    struct sample_row_report *report;   /* [batch] */
    uint32_t *part_fault;      /* [batch][nchunks]: (index << 4) | fault, or ~0 */
    uint64_t *part;            /* [batch][nchunks]: the scan's max, then the draw's sums */
    struct sample_chunk_mass *mass;     /* [batch][nchunks], one-pass rows */
    uint32_t *hist_cnt;        /* [batch][SAMPLE_HIST_WORDS]: counts and fraction sums,
                                  then (in the counts' place) the candidate buckets'
                                  exact counts and weights; 0 between calls */
    uint64_t *cand;            /* [batch][vocab] rank keys; sample_k_topk:
                                  [batch][nchunks][SAMPLE_TOPK_MAX] p-keys */
    uint16_t *chunk_hist;      /* sample_k_scan_count (the chain's scan of
                                  probabilities that select, in slices larger
                                  than L2): [batch][nchunks][SAMPLE_BUCKETS]
                                  counts at each chunk's own maximum's
                                  exponent; else NULL */
    uint64_t *chunk_range;     /* rows that select: [batch][nchunks][SAMPLE_RANGE], each
                                  chunk's candidates' weight in the slots above each slot */
};

#endif /* SAMPLE_KERNEL_ABI_H */
