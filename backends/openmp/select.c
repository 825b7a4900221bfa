/*
 * select.c - exact selection of a prefix of the order of SPEC 3 on a list of
 * tokens, and brackets of weights estimated from a sample of a row.
 *
 * Selection is a radix select on the bits of the float weights (monotone in
 * the weight, as the weights are >= 0): a histogram of count and mass per
 * bucket, the bucket where the measure from the top reaches the target, and
 * again inside that bucket until one weight is left; equal weights are then
 * taken in vocabulary order, which is the list's order.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "openmp.h"

/* Buckets of a radix step: about a quarter as many as tokens, within OMP_RADIX. */
static int radix_bits(int64_t n)
{
    int bits = 0;
    while (bits < 11 && ((int64_t)4 << bits) < n)
        bits++;
    return bits > 4 ? bits : 4;
}

static inline uint32_t wbits(float w)
{
    return sample_f32_bits(w) & 0x7fffffffu; /* -0 is 0 */
}

static int bit_length(uint32_t v)
{
    int n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

OMP_KERNEL struct omp_prefix omp_select(const struct omp_list *list, enum omp_measure by,
                             uint64_t target, struct omp_list *tmp, struct omp_scratch *scratch)
{
    uint64_t *count = scratch->radix_count, *mass = scratch->radix_mass;
    const struct omp_list *src = list;
    uint64_t above_count = 0, above_mass = 0;

    for (;;) {
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int64_t j = 0; j < src->n; j++) {
            uint32_t b = wbits(src->w[j]);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
        if (lo == hi) {
            /* One weight left: take tokens in vocabulary order until the target. */
            uint64_t w = (uint64_t)src->w[0];
            uint64_t need = by == OMP_COUNT ? target - above_count : target - above_mass;
            uint64_t take = by == OMP_COUNT ? need : (need + w - 1) / w;
            take = take < (uint64_t)src->n ? take : (uint64_t)src->n; /* target is reachable */
            struct omp_prefix p;
            p.key = sample_rank_key(w, src->idx[take - 1]);
            p.mass = above_mass + take * w;
            return p;
        }
        int shift = bit_length(hi - lo) - radix_bits(src->n);
        shift = shift > 0 ? shift : 0;
        int top = (int)((hi - lo) >> shift);
        memset(mass, 0, sizeof(uint64_t) * (size_t)(top + 1));
        if (by == OMP_COUNT) {
            memset(count, 0, sizeof(uint64_t) * (size_t)(top + 1));
            for (int64_t j = 0; j < src->n; j++) {
                uint32_t d = (wbits(src->w[j]) - lo) >> shift;
                count[d]++;
                mass[d] += (uint64_t)src->w[j];
            }
        } else {
            /* by mass, no count: one store less per token */
            for (int64_t j = 0; j < src->n; j++)
                mass[(wbits(src->w[j]) - lo) >> shift] += (uint64_t)src->w[j];
        }
        int d = top;
        for (;; d--) {
            uint64_t reached = by == OMP_COUNT ? above_count + count[d] : above_mass + mass[d];
            if (reached >= target || d == 0)
                break;
            above_count += by == OMP_COUNT ? count[d] : 0;
            above_mass += mass[d];
        }
        /* Keep the bucket that reaches the target: its weights are those in
         * [floor(d), floor(d + 1)), floor(d) the float whose bits are lo +
         * d * 2^shift.  From the list into tmp by omp_collect (vectorised; it
         * lists positions in the list, made token ids after), then in place. */
        if (src == list) {
            int64_t end;
            tmp->n = 0;
            omp_collect(list->w, list->n, 1.0f, sample_f32_from_bits(lo + ((uint32_t)d << shift)),
                        sample_f32_from_bits(lo + ((uint32_t)(d + 1) << shift)), 0, tmp,
                        INT64_MAX, &end);
            for (int64_t j = 0; j < tmp->n; j++)
                tmp->idx[j] = list->idx[tmp->idx[j]];
        } else {
            int64_t n = 0;
            for (int64_t j = 0; j < src->n; j++) {
                if (((wbits(src->w[j]) - lo) >> shift) == (uint32_t)d) {
                    tmp->idx[n] = src->idx[j];
                    tmp->w[n] = src->w[j];
                    n++;
                }
            }
            tmp->n = n;
        }
        src = tmp;
    }
}

/* ---- brackets ------------------------------------------------------------ */

/* Sample buckets: 2^SUB_BITS per octave of the weight, bucket 0 for weight 0. */
#define SUB_BITS 6
/* Margins are this many standard deviations of the estimate. */
#define SIGMAS 3.0

static int bucket_of(float w)
{
    int d = (int)((sample_f32_bits(w) >> (23 - SUB_BITS)) - (127u << SUB_BITS)) + 1;
    return w < 1.0f ? 0 : d;
}

/* The smallest weight of bucket d. */
static float bucket_floor(int d)
{
    if (d <= 0)
        return 0.0f;
    return sample_f32_from_bits((uint32_t)(d - 1 + (127 << SUB_BITS)) << (23 - SUB_BITS));
}

/* The estimate of the measure of the weights >= bucket_floor(d).  A count is
 * the sampled share of the row.  A mass is the exact total less the scaled
 * sampled mass below: the heavy tokens above, which a sample misses or
 * overweights, then add no error.  It falls as d rises. */
static double estimate(const struct omp_scratch *h, int d, enum omp_measure by, double ratio,
                       double n, double vocab, double total)
{
    if (by == OMP_COUNT)
        return (n - h->sample_count[d]) / n * vocab;
    return total - ratio * h->sample_mass[d];
}

/* The margin of estimate(d). */
static double margin(const struct omp_scratch *h, int d, enum omp_measure by, double ratio,
                     double n, double vocab)
{
    if (by == OMP_COUNT) {
        double q = (n - h->sample_count[d]) / n; /* the share at or above */
        return SIGMAS * vocab * sqrt(q * (1 - q) / n) + 2 * ratio;
    }
    return SIGMAS * ratio * sqrt(h->sample_square[d]) + 2 * ratio * bucket_floor(d + 1);
}

OMP_KERNEL void omp_bracket(const float *x, int64_t vocab, float scale, enum omp_measure by,
                            double goal, double total, float *lo, float *hi,
                            struct omp_scratch *h)
{
    /* A longer sample narrows the bracket as its square root: worth it on a
     * long row, whose bracket holds more tokens (measured: V / 32, at most
     * OMP_SAMPLES, at least 512). */
    int64_t want = vocab / 32 < OMP_SAMPLES ? vocab / 32 : OMP_SAMPLES;
    want = want > 512 ? want : 512;
    int64_t step = vocab / want > 1 ? vocab / want : 1;
    int64_t taken = (vocab - 1 - step / 2) / step + 1; /* under 2 * OMP_SAMPLES */
    double n = (double)taken;
    int first = OMP_BUCKETS, last = 0;

    /* The weights and their buckets first, a loop that vectorises; then the
     * histograms (integer adds, the quickest to repeat on one address), which
     * are all zero between calls. */
    for (int64_t j = 0; j < taken; j++) {
        float w = floorf(x[step / 2 + j * step] * scale);
        int d = bucket_of(w) + 1;
        h->sample_w[j] = w;
        h->sample_d[j] = d;
        first = d < first ? d : first;
        last = d > last ? d : last;
    }
    for (int64_t j = 0; j < taken; j++) {
        h->hist_count[h->sample_d[j]]++;
        h->hist_mass[h->sample_d[j]] += (uint64_t)h->sample_w[j];
    }
    /* Entry d now holds the samples below bucket d (for first <= d <= last + 1).
     * Their squares are bounded with each weight as its bucket's top (the
     * next bucket's floor, 1.6% up at most): a slightly wider margin, for one
     * sum less per sample. */
    double count = 0, mass = 0, square = 0; /* in registers: no wait on a store */
    for (int d = first; d <= last + 1; d++) {
        double top = bucket_floor(d);
        square += h->hist_count[d] * top * top;
        count += h->hist_count[d];
        mass += (double)h->hist_mass[d];
        h->hist_count[d] = 0;
        h->hist_mass[d] = 0;
        h->sample_square[d] = square;
        h->sample_count[d] = count;
        h->sample_mass[d] = mass;
    }

    /* hi: the lowest floor with the measure above it surely short of the goal;
     * lo: the highest floor with the measure above it surely enough.  The
     * estimate falls as the floor rises and the margins are >= 0, so with d0
     * the last floor whose estimate reaches the goal, hi is the first floor
     * above d0, and lo the first at or below it, far enough from the goal. */
    double ratio = (double)step, v = (double)vocab;
    int d0 = first - 1, past = last + 2; /* estimate(d) >= goal up to d0, < goal from past */
    while (past - d0 > 1) {
        int mid = d0 + (past - d0) / 2;
        if (estimate(h, mid, by, ratio, n, v, total) >= goal)
            d0 = mid;
        else
            past = mid;
    }
    int low = -1, high = -1;
    for (int d = d0 + 1; d <= last + 1 && low < 0; d++)
        if (estimate(h, d, by, ratio, n, v, total) + margin(h, d, by, ratio, n, v) < goal)
            low = d;
    for (int d = d0; d >= first && high < 0; d--)
        if (estimate(h, d, by, ratio, n, v, total) - margin(h, d, by, ratio, n, v) >= goal)
            high = d;
    *hi = low >= 0 ? bucket_floor(low) : INFINITY;
    *lo = high >= 0 && bucket_floor(high) < *hi ? bucket_floor(high) : 0.0f;
}
