/*
 * openmp.h - the pieces of the OpenMP backend.
 *
 * The backend computes SPEC.md without sorting a row.  Every weight is held as
 * a float: w_i is an integer below 2^40 with at most 24 significant bits, so a
 * float holds it exactly, and w_i = floorf(x_i * scale) for the row's source
 * x (probabilities scaled by 2^(40-E), or precomputed logit weights with scale
 * 1).  Comparisons of weights are float comparisons; sums of weights are
 * exact integer sums.
 *
 * The kept set K is every token whose rank key is at least a boundary key
 * (SPEC 3, sample_rank_key).  The boundary is found by selecting on a short
 * list of tokens: the top-k candidates of a streaming filter, or the tokens
 * whose weight falls in a bracket estimated from a sample of the row and
 * checked exactly.  A row is cut into chunks, one per thread of a team; each
 * pass over a chunk leaves integer partial results that are merged exactly.
 */
#ifndef SAMPLE_OPENMP_H
#define SAMPLE_OPENMP_H

#include <math.h>
#include <stdint.h>

#include "backend.h"

/*
 * Vectorised loops get an AVX-512 and an AVX2+FMA version chosen at load time.
 * The choice is an ifunc resolver, which runs before a sanitizer's runtime is
 * ready (the program crashes while loading), so sanitizer builds take the
 * default version.  gcc gives the resolver default visibility whatever
 * -fvisibility says, hence the explicit hidden.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define OMP_KERNEL                                                                       \
    __attribute__((visibility("hidden"),                                                \
                   target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define OMP_KERNEL
#endif

/* Tokens per block of the draw's mass table; chunk boundaries are multiples of it. */
#define OMP_BLOCK 1024
/* Top-k up to this uses the streaming candidate filter; larger k selects by bracket. */
#define OMP_SMALL_K 2048
/* Rows shorter than this are never split across threads. */
#define OMP_SPLIT_MIN 16384

/* A list of tokens in vocabulary order, with their weights. */
struct omp_list {
    int32_t *idx;
    float *w;
    int64_t n;
};

/* A prefix of the order of SPEC 3: its last key and its mass. */
struct omp_prefix {
    uint64_t key;
    uint64_t mass;
};

/* The smallest float >= w (w <= 2^41): float weights >= it are exactly those >= w. */
static inline float omp_weight_ceil(uint64_t w)
{
    float f = (float)w;
    return (uint64_t)f < w ? nextafterf(f, INFINITY) : f;
}

/*
 * A boundary key (SPEC 3, sample_rank_key) as a float weight and an index: a
 * token's key is at least the boundary exactly when w > wb, or w == wb and
 * i <= imax.  The boundary's weight is a token's, or min-p's theta with no
 * index part: a theta that no float equals becomes the next float up, which
 * then takes every index.
 */
struct omp_cut {
    float wb;
    int32_t imax;
};

static inline struct omp_cut omp_cut_of(uint64_t boundary)
{
    struct omp_cut c;
    c.wb = omp_weight_ceil(boundary >> SAMPLE_INDEX_BITS);
    c.imax = (int32_t)sample_rank_index(boundary);
    return c;
}

/* Exact sums over a chunk: all weights, and those at or above a threshold. */
struct omp_sums {
    uint64_t total;
    uint64_t mass_hi, count_hi;
};

/* ---- kernels.c: the vectorised loops over one chunk of n values ------------ */

/* Probabilities: nonzero if a value is NaN, infinite or negative; the largest
 * bits; the sum of the values, approximately (as omp_approx_sum). */
int omp_scan_probs(const float *x, int64_t n, int32_t *max_bits, double *sum);
/* The sum of n values >= 0, approximately (in no fixed order). */
double omp_approx_sum(const float *x, int64_t n);
/* Logits: nonzero if a value is NaN or +inf; the largest value as an ordered key. */
int omp_scan_logits(const float *x, int64_t n, int32_t *max_key);
/* The first j with x[j] == v, or n. */
int64_t omp_first_equal(const float *x, int64_t n, float v);
/* SPEC 2.2 for T > 0: w[j] = the weight of logit x[j], as a float. */
void omp_logit_weights(const float *x, int64_t n, float mx, float t, float *w);
/* Exact sums of weights (all, and >= hi), and the mass >= hi of each block. */
void omp_sums(const float *x, int64_t n, float scale, float hi, struct omp_sums *s,
              uint64_t *blocks);
/* The exact mass of weights >= hi, for each block of OMP_BLOCK values. */
void omp_block_masses(const float *x, int64_t n, float scale, float hi, uint64_t *mass);
/* Row outputs for the kept tokens of cut (indices from base). */
void omp_write_renorm(const float *x, int64_t n, float scale, int64_t base, struct omp_cut cut,
                      double mass, float *out);
void omp_write_mask(const float *x, const float *values, int64_t n, int64_t base,
                    struct omp_cut cut, float *out);
/* The mass of the kept tokens of cut among n listed tokens. */
uint64_t omp_list_mass(const int32_t *idx, const float *w, int64_t n, struct omp_cut cut);
/* The first j at which the running mass of the kept tokens of cut among x[0..n)
 * (indices from base) exceeds *t; n if none does, *t then less their mass. */
int64_t omp_kept_search(const float *x, int64_t n, float scale, int64_t base,
                        struct omp_cut cut, uint64_t *t);
/* float16 / bfloat16 to float32. */
void omp_widen(const uint16_t *h, int64_t n, int dtype, float *x);

/* ---- collect.c: listing the tokens of a chunk in a range of weights ------- */

/* Appends to list (base + j, w_j) for each j in 0 .. n-1 in order with
 * lo <= w_j < hi, while list->n < room; *end is the first j not examined (n
 * when all were).  Returns list->n. */
int64_t omp_collect(const float *x, int64_t n, float scale, float lo, float hi, int64_t base,
                    struct omp_list *list, int64_t room, int64_t *end);

/* One bracket pass over a chunk: the sums of omp_sums (the mass at or above hi
 * of each block into blocks) and every token with lo <= w < hi into list,
 * which has room for n more (how many of each block into listed). */
struct omp_pass {
    struct omp_sums sums;
    uint64_t *blocks;
    int32_t *listed;
    struct omp_list *list;
};
void omp_pass(const float *x, int64_t n, float scale, float lo, float hi, int64_t base,
              struct omp_pass *ps);

/* ---- select.c: exact selection on a list, and brackets from a sample -------- */

enum omp_measure { OMP_COUNT, OMP_MASS };

/* Histograms of one thread: the radix of omp_select, the sample of omp_bracket. */
#define OMP_RADIX 2048
#define OMP_BUCKETS (41 * 64 + 3)
/* At most about this many values of a row are sampled (fewer than twice as many). */
#define OMP_SAMPLES 4096
struct omp_scratch {
    uint64_t radix_count[OMP_RADIX], radix_mass[OMP_RADIX];
    float sample_w[2 * OMP_SAMPLES];
    int32_t sample_d[2 * OMP_SAMPLES];
    uint32_t hist_count[OMP_BUCKETS];
    uint64_t hist_mass[OMP_BUCKETS];
    double sample_count[OMP_BUCKETS], sample_mass[OMP_BUCKETS], sample_square[OMP_BUCKETS];
};

/* The shortest prefix (SPEC 3 order) of the list whose count or mass reaches
 * target (which the list's total must reach); tmp holds list->n entries. */
struct omp_prefix omp_select(const struct omp_list *list, enum omp_measure by,
                             uint64_t target, struct omp_list *tmp,
                             struct omp_scratch *scratch);

/* Weights [lo, hi) that likely hold the token where the count or mass from the
 * top first reaches goal, estimated from a sample of the row; total is the
 * row's mass (for OMP_MASS), to a relative error far below the margins. */
void omp_bracket(const float *x, int64_t vocab, float scale, enum omp_measure by,
                 double goal, double total, float *lo, float *hi,
                 struct omp_scratch *scratch);

/* ---- topk.c: the streaming top-k candidate filter -------------------------- */

/* Appends to list every token of x[0..n) (indices from base) that may be among
 * the first k of the order; list and tmp hold cap >= 2k + 64 entries. */
void omp_topk_candidates(const float *x, int64_t n, int64_t base, float scale, int64_t k,
                         struct omp_list *list, int64_t cap, struct omp_list *tmp,
                         struct omp_scratch *scratch);

/* ---- draw.c: the draw and the kept set ------------------------------------- */

/* SPEC 5 over the kept tokens of a list (key >= boundary), given M_K. */
int32_t omp_draw_list(const struct omp_list *list, uint64_t boundary, uint64_t mass,
                      uint64_t u);
/* SPEC 5 over a row: find the block where the kept mass passes t, then scan
 * it.  A block's kept mass is blocks[b], and with a list also that of its
 * listed[b] tokens in the list (which come in block order). */
int32_t omp_draw_blocks(const float *x, int64_t vocab, float scale, const uint64_t *blocks,
                        const int32_t *listed, const struct omp_list *list, uint64_t boundary,
                        uint64_t t);

/* ---- row.c: one row, computed by a team of threads ------------------------ */

/* Threads of one row: id in 0 .. n-1. */
struct omp_team {
    int id;
    int n;
};

/* One thread's results of a pass over its chunk (slots are far apart in memory,
 * so threads writing their own share no cache line). */
struct omp_part {
    int bad;
    int32_t max;               /* float bits (probabilities) or ordered key (logits) */
    int64_t first;             /* the first index equal to the maximum, or -1 */
    double approx;             /* the chunk's mass, approximately */
    struct omp_sums sums;
};

/* What one thread owns; grown to the largest V seen, never shrunk. */
struct omp_slot {
    struct omp_part part;
    struct omp_list list, tmp; /* V entries each */
    float *wide;               /* a float16 / bfloat16 row as float32 */
    float *weights;            /* a row's weights, when not computed on the fly */
    uint64_t *blocks;          /* kept mass per block of OMP_BLOCK tokens */
    int32_t *listed;           /* per block: its tokens in the last bracket pass's list */
    struct omp_scratch scratch;
};

/* What the team decides about its row (thread 0 writes, after a barrier all read). */
struct omp_row {
    enum sample_row_fault fault;
    int64_t bad_index;
    int done;                  /* the row's result is written */
    const float *x;            /* the row as float32 */
    float max;
    int fill;                  /* weights go to slot 0's array: 0, or the kind that fills it */
    int exponent;              /* E of SPEC 2.1 */
    const float *src;          /* the weights are floorf(src[i] * scale) */
    float scale;
    uint64_t wmax;
    float lo, hi;              /* the current bracket of weights */
    int settled;               /* the bracket held the target */
    struct omp_prefix prefix;  /* the last selection */
    struct omp_list merged;    /* the team's lists, in vocabulary order */
    uint64_t total;            /* the row's mass */
    double approx;             /* the row's mass, approximately (floats summed) */
    uint64_t boundary, mass;   /* K and M_K */
    int from_list;             /* K is within row->merged (else: slots[0].blocks) */
    int with_list;             /* else K's tokens inside the last bracket are in row->merged */
};

/* The backend's per-context state. */
struct omp_state {
    int threads;
    int64_t vocab;             /* the slots' capacity */
    struct omp_slot *slots;    /* one per thread */
    struct omp_list merged;    /* V entries: the lists of a split row */
    struct omp_row row;        /* the split row being computed */
    int64_t batch;             /* the fault arrays' capacity */
    enum sample_row_fault *faults;
    int64_t *fault_index;
};

/* Row r of the call, by the team; slots[0] is the team's shared storage and
 * slots[team.id] the thread's own. */
void omp_row_run(struct omp_state *s, struct sample_call *c, int64_t r, struct omp_team team,
                 struct omp_row *row, struct omp_slot *slots);

#endif /* SAMPLE_OPENMP_H */
