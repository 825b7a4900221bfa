/*
 * kernels.c - the loops that touch every value of a chunk, written so that the
 * compiler vectorises them (each has an AVX-512, an AVX2+FMA and a baseline
 * version, see OMP_KERNEL).  Searches test a group of values at once and stop
 * at the first group with a hit.  Sums of weights are exact: a weight w < 2^41
 * is split into h = floor(w / 2^20) and l = w - h * 2^20, both exact, whose
 * int32 sums over a block of OMP_BLOCK values cannot overflow.
 */
#include "config.h"

#include <math.h>

#include "openmp.h"

/* Reads a float's bits in place (a plain uint32_t would break aliasing rules). */
typedef uint32_t omp_bits __attribute__((may_alias));

/* Values tested at once by the searches. */
#define GROUP 64

/* Independent float accumulators of an approximate sum (no reassociation
 * needed), in four arrays read in turn so that no vector add waits on the
 * one before (written out: the vectoriser keeps only such plain arrays in
 * registers). */
#define LANES 16

#define TWO20 1048576.0f
#define TWO40 1099511627776.0f

static inline float weight(float x, float scale)
{
    return floorf(x * scale) + 0.0f; /* + 0 turns -0 into +0 */
}

static double lanes_sum(const float *l0, const float *l1, const float *l2, const float *l3)
{
    double sum = 0;
    for (int q = 0; q < LANES; q++)
        sum += (l0[q] + l1[q]) + (l2[q] + l3[q]);
    return sum;
}

/* Whether the bits u are not those of a valid probability: +0 ... FLT_MAX, or
 * -0 (0x80000000, the smallest as an int32). */
static inline uint32_t bad_prob(uint32_t u)
{
    return (u >= 0x7f800000u) & (u != 0x80000000u);
}

static inline int32_t max32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

/* The row's approximate mass comes with the scan: one read of the row less. */
OMP_KERNEL int omp_scan_probs(const float *x, int64_t n, int32_t *max_bits, double *sum)
{
    const omp_bits *u = (const omp_bits *)x;
    uint32_t bad[LANES] = {0};
    int32_t m[LANES];
    float l0[LANES] = {0}, l1[LANES] = {0}, l2[LANES] = {0}, l3[LANES] = {0};
    for (int q = 0; q < LANES; q++)
        m[q] = INT32_MIN;
    int64_t j = 0;
    for (; j + 4 * LANES <= n; j += 4 * LANES) {
        for (int q = 0; q < LANES; q++) {
            const omp_bits *v = u + j + q;
            bad[q] |= bad_prob(v[0]) | bad_prob(v[LANES]) | bad_prob(v[2 * LANES]) |
                      bad_prob(v[3 * LANES]);
            m[q] = max32(m[q], max32(max32((int32_t)v[0], (int32_t)v[LANES]),
                                     max32((int32_t)v[2 * LANES], (int32_t)v[3 * LANES])));
            l0[q] += x[j + q];
            l1[q] += x[j + LANES + q];
            l2[q] += x[j + 2 * LANES + q];
            l3[q] += x[j + 3 * LANES + q];
        }
    }
    for (; j < n; j++) {
        bad[0] |= bad_prob(u[j]);
        m[0] = max32(m[0], (int32_t)u[j]);
        l0[0] += x[j];
    }
    for (int q = 1; q < LANES; q++) {
        bad[0] |= bad[q];
        m[0] = max32(m[0], m[q]);
    }
    *max_bits = m[0];
    *sum = lanes_sum(l0, l1, l2, l3);
    return (int)bad[0];
}

OMP_KERNEL double omp_approx_sum(const float *x, int64_t n)
{
    float l0[LANES] = {0}, l1[LANES] = {0}, l2[LANES] = {0}, l3[LANES] = {0};
    int64_t j = 0;
    for (; j + 4 * LANES <= n; j += 4 * LANES) {
        for (int q = 0; q < LANES; q++) {
            l0[q] += x[j + q];
            l1[q] += x[j + LANES + q];
            l2[q] += x[j + 2 * LANES + q];
            l3[q] += x[j + 3 * LANES + q];
        }
    }
    for (; j < n; j++)
        l0[0] += x[j];
    return lanes_sum(l0, l1, l2, l3);
}

OMP_KERNEL int omp_scan_logits(const float *x, int64_t n, int32_t *max_key)
{
    const omp_bits *u = (const omp_bits *)x;
    int bad = 0;
    int32_t m = INT32_MIN;
    for (int64_t j = 0; j < n; j++) {
        uint32_t a = u[j] & 0x7fffffffu;
        bad |= (a > 0x7f800000u) | (u[j] == 0x7f800000u); /* NaN or +inf */
        int32_t s = (int32_t)u[j];
        int32_t key = s ^ ((s >> 31) & 0x7fffffff); /* ordered like the floats */
        m = key > m ? key : m;
    }
    *max_key = m;
    return bad;
}

OMP_KERNEL int64_t omp_first_equal(const float *x, int64_t n, float v)
{
    int64_t j = 0;
    for (; j + GROUP <= n; j += GROUP) {
        int hit = 0;
        for (int q = 0; q < GROUP; q++)
            hit |= x[j + q] == v;
        if (hit)
            break;
    }
    for (; j < n; j++)
        if (x[j] == v)
            return j;
    return n;
}

OMP_KERNEL void omp_logit_weights(const float *x, int64_t n, float mx, float t, float *w)
{
    for (int64_t j = 0; j < n; j++) {
        float z = (x[j] - mx) / t;
        /* lanes with z < -64 are discarded; clamping keeps their k in range */
        float e = sample_sexp_scaled(z < -64.0f ? -64.0f : z, 40);
        e = floorf(e);
        e = e < TWO40 ? e : TWO40;
        w[j] = z < -64.0f ? 0.0f : e;
    }
}

/* h and l of a weight, see the top of the file. */
static inline int32_t high20(float w)
{
    return (int32_t)floorf(w * (1.0f / TWO20));
}
static inline int32_t low20(float w)
{
    return (int32_t)(w - floorf(w * (1.0f / TWO20)) * TWO20);
}

OMP_KERNEL void omp_sums(const float *x, int64_t n, float scale, float hi, struct omp_sums *s,
                         uint64_t *blocks)
{
    struct omp_sums r = {0, 0, 0};
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t end = n - b < OMP_BLOCK ? n - b : OMP_BLOCK;
        int32_t th = 0, tl = 0, hh = 0, hl = 0, hc = 0;
        for (int64_t j = b; j < b + end; j++) {
            float w = floorf(x[j] * scale);
            int32_t h = high20(w), l = low20(w);
            int32_t above = w >= hi;
            th += h;
            tl += l;
            hh += above ? h : 0;
            hl += above ? l : 0;
            hc += above;
        }
        uint64_t block_hi = ((uint64_t)hh << 20) + (uint64_t)hl;
        blocks[b / OMP_BLOCK] = block_hi;
        r.total += ((uint64_t)th << 20) + (uint64_t)tl;
        r.mass_hi += block_hi;
        r.count_hi += (uint64_t)hc;
    }
    *s = r;
}

OMP_KERNEL void omp_block_masses(const float *x, int64_t n, float scale, float hi,
                                 uint64_t *mass)
{
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t end = n - b < OMP_BLOCK ? n - b : OMP_BLOCK;
        int32_t sh = 0, sl = 0;
        for (int64_t j = b; j < b + end; j++) {
            float w = floorf(x[j] * scale);
            int32_t keep = w >= hi;
            sh += keep ? high20(w) : 0;
            sl += keep ? low20(w) : 0;
        }
        mass[b / OMP_BLOCK] = ((uint64_t)sh << 20) + (uint64_t)sl;
    }
}

/* Whether token i of weight w is kept (see omp_cut). */
static inline int kept(float w, int64_t i, struct omp_cut cut)
{
    return (w > cut.wb) | ((w == cut.wb) & (i <= cut.imax));
}

OMP_KERNEL void omp_write_renorm(const float *x, int64_t n, float scale, int64_t base,
                                 struct omp_cut cut, double mass, float *out)
{
    for (int64_t j = 0; j < n; j++) {
        float w = weight(x[j], scale);
        out[j] = kept(w, base + j, cut) ? (float)((double)w / mass) : 0.0f;
    }
}

OMP_KERNEL void omp_write_mask(const float *x, const float *values, int64_t n, int64_t base,
                               struct omp_cut cut, float *out)
{
    for (int64_t j = 0; j < n; j++)
        out[j] = kept(x[j], base + j, cut) ? values[j] : -INFINITY;
}

OMP_KERNEL uint64_t omp_list_mass(const int32_t *idx, const float *w, int64_t n,
                                  struct omp_cut cut)
{
    uint64_t mass = 0;
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t end = n - b < OMP_BLOCK ? n : b + OMP_BLOCK;
        int32_t sh = 0, sl = 0;
        for (int64_t j = b; j < end; j++) {
            int keep = kept(w[j], idx[j], cut);
            sh += keep ? high20(w[j]) : 0;
            sl += keep ? low20(w[j]) : 0;
        }
        mass += ((uint64_t)sh << 20) + (uint64_t)sl;
    }
    return mass;
}

/* A group's mass first: only the group where the running mass passes t is
 * scanned one token at a time. */
OMP_KERNEL int64_t omp_kept_search(const float *x, int64_t n, float scale, int64_t base,
                                   struct omp_cut cut, uint64_t *t)
{
    uint64_t left = *t;
    int64_t j = 0;
    for (; j + GROUP <= n; j += GROUP) {
        int32_t sh = 0, sl = 0;
        for (int q = 0; q < GROUP; q++) {
            float w = weight(x[j + q], scale);
            int keep = kept(w, base + j + q, cut);
            sh += keep ? high20(w) : 0;
            sl += keep ? low20(w) : 0;
        }
        uint64_t mass = ((uint64_t)sh << 20) + (uint64_t)sl;
        if (left < mass)
            break;
        left -= mass;
    }
    for (; j < n; j++) {
        float w = weight(x[j], scale);
        if (!kept(w, base + j, cut))
            continue;
        if (left < (uint64_t)w)
            break;
        left -= (uint64_t)w;
    }
    *t = left;
    return j;
}

OMP_KERNEL void omp_widen(const uint16_t *h, int64_t n, int dtype, float *x)
{
    if (dtype == SAMPLE_BF16) {
        for (int64_t j = 0; j < n; j++)
            x[j] = sample_bf16_to_f32(h[j]);
        return;
    }
    for (int64_t j = 0; j < n; j++)
        x[j] = sample_f16_to_f32(h[j]);
}
