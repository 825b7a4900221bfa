/*
 * draw.c - SPEC 5: inverse-CDF sampling over the kept set in vocabulary order.
 *
 * The kept set is every token whose rank key is at least the boundary.  When
 * it is a short list the draw walks the list; otherwise the kept mass of each
 * block of OMP_BLOCK tokens is known, and only the block where the running
 * mass passes t is scanned.
 */
#include "config.h"

#include <math.h>

#include "openmp.h"

uint64_t omp_list_mass(const struct omp_list *list, uint64_t boundary)
{
    uint64_t mass = 0;
    for (int64_t j = 0; j < list->n; j++) {
        uint64_t w = (uint64_t)list->w[j];
        if (sample_rank_key(w, list->idx[j]) >= boundary)
            mass += w;
    }
    return mass;
}

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
                        uint64_t boundary, uint64_t t)
{
    int64_t b = 0;
    while (t >= blocks[b]) {
        t -= blocks[b];
        b++;
    }
    int64_t end = (b + 1) * OMP_BLOCK < vocab ? (b + 1) * OMP_BLOCK : vocab;
    uint64_t sum = 0;
    for (int64_t i = b * OMP_BLOCK; i < end; i++) {
        uint64_t w = (uint64_t)floorf(x[i] * scale);
        if (sample_rank_key(w, i) < boundary)
            continue;
        sum += w;
        if (sum > t)
            return (int32_t)i;
    }
    return -1; /* unreachable: block b's kept mass exceeds t */
}
