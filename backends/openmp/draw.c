/*
 * draw.c - SPEC 5: inverse-CDF sampling over the kept set in vocabulary order.
 *
 * The kept set is every token whose rank key is at least the boundary.  When
 * it is a short list the draw walks the list; otherwise the kept mass of each
 * block of OMP_BLOCK tokens is known (or that of its tokens above a bracket,
 * and its listed tokens inside it), and only the block where the running mass
 * passes t is scanned.
 */
#include "config.h"

#include <math.h>

#include "openmp.h"

int32_t omp_draw_list(const struct omp_list *list, uint64_t boundary, uint64_t mass,
                      uint64_t u)
{
    uint64_t t = sample_mulhi64(u, mass), sum = 0;
    for (int64_t j = 0; j < list->n; j++) {
        uint64_t w = (uint64_t)list->w[j];
        if (sample_rank_key(w, list->idx[j]) < boundary)
            continue;
        sum += w;
        if (sum > t)
            return list->idx[j];
    }
    return -1; /* unreachable: the kept weights sum to M_K > t */
}

int32_t omp_draw_blocks(const float *x, int64_t vocab, float scale, const uint64_t *blocks,
                        const int32_t *listed, const struct omp_list *list, uint64_t boundary,
                        uint64_t t)
{
    struct omp_cut cut = omp_cut_of(boundary);
    int64_t b = 0, j = 0;
    for (;; b++) {
        uint64_t mass = blocks[b];
        if (listed) {
            mass += omp_list_mass(list->idx + j, list->w + j, listed[b], cut);
            j += listed[b];
        }
        if (t < mass)
            break;
        t -= mass;
    }
    int64_t a = b * OMP_BLOCK, n = vocab - a < OMP_BLOCK ? vocab - a : OMP_BLOCK;
    return (int32_t)(a + omp_kept_search(x + a, n, scale, a, cut, &t)); /* block b holds it */
}
