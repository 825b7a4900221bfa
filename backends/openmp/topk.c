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

void omp_topk_candidates(const float *x, int64_t n, int64_t base, float scale, int64_t k,
                         struct omp_list *list, int64_t cap, struct omp_list *tmp,
                         struct omp_scratch *scratch)
{
    float lo = 0.0f; /* keeps every weight until the list first fills */
    int64_t j = 0, end;
    list->n = 0;
    for (;;) {
        omp_collect(x + j, n - j, scale, lo, INFINITY, base + j, list, cap, &end);
        j += end;
        if (j >= n)
            return;
        /* The list is full: keep w > w_k from now on. */
        lo = nextafterf(keep_first(list, k, tmp, scratch), INFINITY);
    }
}
