/*
 * kept.c - SPEC 4: the kept set of top-k, top-p and min-p.
 *
 * The rank keys are sorted into the order of SPEC 3 (largest first); the kept
 * set is then a prefix of L keys, and K is every token whose key is at least
 * the L-th key.  Sorting is the plainest way to see the order; the other
 * backends select the boundary without it.
 */
#include "config.h"

#include <string.h>

#include "scalar.h"

/* Sort n keys into descending order: LSD radix sort, 8 bits a pass. */
static void sort_descending(uint64_t *keys, uint64_t *tmp, int64_t n)
{
    uint64_t *src = keys, *dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        int64_t start[256] = {0};
        for (int64_t i = 0; i < n; i++)
            start[255 - ((src[i] >> shift) & 255)]++;
        if (start[255 - ((src[0] >> shift) & 255)] == n)
            continue; /* every key has the same digit here */
        int64_t sum = 0;
        for (int d = 0; d < 256; d++) {
            int64_t c = start[d];
            start[d] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++)
            dst[start[255 - ((src[i] >> shift) & 255)]++] = src[i];
        uint64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != keys)
        memcpy(keys, src, (size_t)n * sizeof *keys);
}

static uint64_t key_weight(uint64_t key)
{
    return key >> SAMPLE_INDEX_BITS;
}

struct scalar_kept scalar_kept_set(const uint64_t *w, int64_t vocab, int32_t k, float p,
                                   float q, uint64_t *keys, uint64_t *tmp)
{
    struct scalar_kept kept = {0, 0};
    if ((k == 0 || k >= vocab) && p == 1.0f && q == 0.0f) {
        for (int64_t i = 0; i < vocab; i++)
            kept.mass += w[i];
        return kept; /* every key is >= 0 */
    }

    for (int64_t i = 0; i < vocab; i++)
        keys[i] = sample_rank_key(w[i], i);
    sort_descending(keys, tmp, vocab);

    /* top-k */
    int64_t len = (k == 0 || k >= vocab) ? vocab : k;
    uint64_t mass_k = 0;
    for (int64_t j = 0; j < len; j++)
        mass_k += key_weight(keys[j]);

    /* top-p: the shortest prefix whose mass reaches tau = ceil(P * M_k) */
    if (p != 1.0f) {
        uint64_t tau = sample_ceil_mul(p, mass_k), sum = 0;
        int64_t j = 0;
        while (sum < tau)
            sum += key_weight(keys[j++]);
        len = j;
    }

    /* min-p: the tokens whose weight reaches theta = ceil(Q * w_max) */
    if (q != 0.0f) {
        uint64_t theta = sample_ceil_mul(q, key_weight(keys[0]));
        int64_t j = 0;
        while (j < len && key_weight(keys[j]) >= theta)
            j++;
        len = j;
    }

    kept.boundary = keys[len - 1];
    for (int64_t j = 0; j < len; j++)
        kept.mass += key_weight(keys[j]);
    return kept;
}
