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

/* Independent float accumulators of an approximate sum (no reassociation needed). */
#define LANES 16

#define TWO20 1048576.0f
#define TWO40 1099511627776.0f

static inline float weight(float x, float scale)
{
    return floorf(x * scale) + 0.0f; /* + 0 turns -0 into +0 */
}

static double lane_sum(const float *lane)
{
    double sum = 0;
    for (int q = 0; q < LANES; q++)
        sum += lane[q];
    return sum;
}

OMP_KERNEL int omp_scan_probs(const float *x, int64_t n, int32_t *max_bits)
{
    const omp_bits *u = (const omp_bits *)x;
    int bad = 0;
    int32_t m = INT32_MIN;
    for (int64_t j = 0; j < n; j++) {
        /* valid: +0 ... FLT_MAX, or -0 (0x80000000, smallest as an int32) */
        bad |= (u[j] >= 0x7f800000u) & (u[j] != 0x80000000u);
        int32_t s = (int32_t)u[j];
        m = s > m ? s : m;
    }
    *max_bits = m;
    return bad;
}

OMP_KERNEL double omp_approx_sum(const float *x, int64_t n)
{
    float lane[LANES] = {0};
    int64_t j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int q = 0; q < LANES; q++)
            lane[q] += x[j + q];
    for (; j < n; j++)
        lane[0] += x[j];
    return lane_sum(lane);
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

OMP_KERNEL void omp_sums2(const float *x, int64_t n, float scale, float heavy, float hi,
                          struct omp_sums *s, struct omp_sums *sh, uint64_t *blocks)
{
    struct omp_sums r = {0, 0, 0}, q = {0, 0, 0};
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t end = n - b < OMP_BLOCK ? n - b : OMP_BLOCK;
        int32_t th = 0, tl = 0, hh = 0, hl = 0, hc = 0, vh = 0, vl = 0, vc = 0;
        for (int64_t j = b; j < b + end; j++) {
            float w = floorf(x[j] * scale);
            int32_t h = high20(w), l = low20(w);
            int32_t above = w >= hi, big = w >= heavy;
            th += h;
            tl += l;
            hh += above ? h : 0;
            hl += above ? l : 0;
            hc += above;
            vh += big ? h : 0;
            vl += big ? l : 0;
            vc += big;
        }
        uint64_t block_hi = ((uint64_t)hh << 20) + (uint64_t)hl;
        blocks[b / OMP_BLOCK] = block_hi;
        r.total += ((uint64_t)th << 20) + (uint64_t)tl;
        r.mass_hi += block_hi;
        r.count_hi += (uint64_t)hc;
        q.mass_hi += ((uint64_t)vh << 20) + (uint64_t)vl;
        q.count_hi += (uint64_t)vc;
    }
    q.total = r.total;
    *s = r;
    *sh = q;
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

OMP_KERNEL void omp_write_renorm(const float *x, int64_t n, float scale, float wb,
                                 int64_t base, int64_t imax, double mass, float *out)
{
    for (int64_t j = 0; j < n; j++) {
        float w = weight(x[j], scale);
        int keep = (w > wb) | ((w == wb) & (base + j <= imax));
        out[j] = keep ? (float)((double)w / mass) : 0.0f;
    }
}

OMP_KERNEL void omp_write_mask(const float *x, const float *values, int64_t n, float wb,
                               int64_t base, int64_t imax, float *out)
{
    for (int64_t j = 0; j < n; j++) {
        int keep = (x[j] > wb) | ((x[j] == wb) & (base + j <= imax));
        out[j] = keep ? values[j] : -INFINITY;
    }
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
