/*
 * topk.c - SPEC 4 top-k for small k without sorting: a streaming filter.
 *
 * The list gathers every token whose weight is above a threshold that rises as
 * the chunk is read.  When the list is full it is cut to its first k tokens in
 * the order of SPEC 3, and the threshold becomes the k-th token's weight w_k:
 * a later token with weight <= w_k has a larger index than those k tokens,
 * which all weigh at least w_k, so it ranks after them and cannot be among the
 * first k.  The list therefore always holds the chunk's first k tokens.
 */
#include "config.h"

#include <math.h>

#include "openmp.h"

/* Cuts the list to its first k tokens; returns their smallest weight. */
static float keep_first(struct omp_list *list, int64_t k, struct omp_list *tmp,
                        struct omp_scratch *scratch)
{
    struct omp_prefix p = omp_select(list, OMP_COUNT, (uint64_t)k, tmp, scratch);
    int64_t n = 0;
    for (int64_t j = 0; j < list->n; j++) {
        if (sample_rank_key((uint64_t)list->w[j], list->idx[j]) >= p.key) {
            list->idx[n] = list->idx[j];
            list->w[n] = list->w[j];
            n++;
        }
    }
    list->n = n;
    return (float)(p.key >> SAMPLE_INDEX_BITS);
}

/* Sampled values of a chunk, and the rank among them of the starting threshold. */
#define START_SAMPLES 1024
#define START_RANK 8

/*
 * A starting threshold for a long chunk: the START_RANK-th largest weight of
 * a sample, which about START_RANK / START_SAMPLES of the chunk reach (so a
 * few hundred tokens when k is small); 0 when not worth it.  It only saves
 * work: whether the chunk has k tokens at or above it is checked after.
 */
static float start_threshold(const float *x, int64_t n, float scale, int64_t k)
{
    if (n < 16 * START_SAMPLES || k * START_SAMPLES > n * START_RANK / 4)
        return 0.0f;
    int64_t step = n / START_SAMPLES;
    float top[START_RANK]; /* the largest sampled weights, falling */
    int have = 0;
    for (int64_t i = step / 2; i < n; i += step) {
        float w = floorf(x[i] * scale) + 0.0f;
        if (have == START_RANK && !(w > top[START_RANK - 1]))
            continue;
        int j = have < START_RANK ? have++ : START_RANK - 1;
        for (; j > 0 && top[j - 1] < w; j--)
            top[j] = top[j - 1];
        top[j] = w;
    }
    return have == START_RANK ? top[START_RANK - 1] : 0.0f;
}

/* Collects every token >= lo into the list, cutting it to the first k each
 * time it fills and raising lo to just above the k-th weight. */
static void collect_from(const float *x, int64_t n, int64_t base, float scale, int64_t k,
                         float lo, struct omp_list *list, int64_t cap, struct omp_list *tmp,
                         struct omp_scratch *scratch)
{
    int64_t j = 0, end;
    list->n = 0;
    for (;;) {
        omp_collect(x + j, n - j, scale, lo, INFINITY, base + j, list, cap, &end);
        j += end;
        if (j >= n)
            return;
        lo = nextafterf(keep_first(list, k, tmp, scratch), INFINITY);
    }
}

void omp_topk_candidates(const float *x, int64_t n, int64_t base, float scale, int64_t k,
                         struct omp_list *list, int64_t cap, struct omp_list *tmp,
                         struct omp_scratch *scratch)
{
    /* The list holds every token >= lo, cut to the first k when full.  A
     * starting lo > 0 is right when k tokens reach it: the first k then all
     * weigh at least lo.  Else the chunk is read again from lo = 0, which
     * keeps every weight until the list first fills. */
    float start = start_threshold(x, n, scale, k);
    if (start > 0.0f) {
        collect_from(x, n, base, scale, k, start, list, cap, tmp, scratch);
        if (list->n >= k)
            return;
    }
    collect_from(x, n, base, scale, k, 0.0f, list, cap, tmp, scratch);
}
