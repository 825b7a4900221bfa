/*
 * collect.c - listing the tokens of a chunk whose weight lies in [lo, hi).
 *
 * This is the inner loop of the top-k filter, of the selection's first cut
 * and of the bracket pass (which on CPUs with AVX-512 is one fused loop, also
 * here), where hits may be rare (a risen top-k threshold) or dense (a bracket
 * of a flat row).  On CPUs with AVX-512 each 16 values are tested with two
 * compares and their hits compressed into the list with no branch per value;
 * elsewhere a group of values is tested at once and only a group with a hit
 * is scanned.  The version is chosen once, on first use.  Both stop early,
 * before a group of 64 values, when the list has room for fewer.
 */
#include "config.h"

#include <math.h>

#include "openmp.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_AVX512_COLLECT 1
#include <immintrin.h>
#endif

#define GROUP 64

static inline float weight(float x, float scale)
{
    return floorf(x * scale) + 0.0f; /* + 0 turns -0 into +0 */
}

/* The values j .. n-1, one at a time, while there is room. */
static int64_t collect_tail(const float *x, int64_t j, int64_t n, float scale, float lo,
                            float hi, int64_t base, struct omp_list *list, int64_t room,
                            int64_t *end)
{
    for (; j < n && list->n < room; j++) {
        float w = weight(x[j], scale);
        if (w >= lo && w < hi) {
            list->idx[list->n] = (int32_t)(base + j);
            list->w[list->n] = w;
            list->n++;
        }
    }
    *end = j;
    return list->n;
}

static int64_t collect_groups(const float *x, int64_t n, float scale, float lo,
                                         float hi, int64_t base, struct omp_list *list,
                                         int64_t room, int64_t *end)
{
    int64_t j = 0;
    for (; j + GROUP <= n; j += GROUP) {
        if (room - list->n < GROUP) {
            *end = j;
            return list->n;
        }
        int hit = 0;
        for (int q = 0; q < GROUP; q++) {
            float w = floorf(x[j + q] * scale);
            hit |= (w >= lo) & (w < hi);
        }
        if (hit)
            collect_tail(x, j, j + GROUP, scale, lo, hi, base, list, room, end);
    }
    return collect_tail(x, j, n, scale, lo, hi, base, list, room, end);
}

#ifdef HAVE_AVX512_COLLECT
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,popcnt")))

/* The hits of 16 values as a bit mask, and their weights (-0 made +0). */
AVX512 static inline __mmask16 in_range(const float *x, __m512 scale, __m512 lo, __m512 hi,
                                        __m512 *w)
{
    __m512 v = _mm512_mul_ps(_mm512_loadu_ps(x), scale);
    v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    *w = _mm512_add_ps(v, _mm512_setzero_ps());
    return _mm512_cmp_ps_mask(*w, lo, _CMP_GE_OQ) & _mm512_cmp_ps_mask(*w, hi, _CMP_LT_OQ);
}

AVX512 static void store_hits(__mmask16 m, __m512 w, int64_t at, struct omp_list *list)
{
    __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int32_t)at),
                                   _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                     12, 13, 14, 15));
    /* Compress in registers, then store all 16 lanes: the list has room for them. */
    _mm512_storeu_si512(list->idx + list->n, _mm512_maskz_compress_epi32(m, idx));
    _mm512_storeu_ps(list->w + list->n, _mm512_maskz_compress_ps(m, w));
    list->n += __builtin_popcount(m);
}

AVX512 static int64_t collect_avx512(const float *x, int64_t n, float scale, float lo,
                                     float hi, int64_t base, struct omp_list *list,
                                     int64_t room, int64_t *end)
{
    __m512 vs = _mm512_set1_ps(scale), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    int64_t j = 0;
    for (; j + 64 <= n; j += 64) {
        if (room - list->n < 64) {
            *end = j;
            _mm256_zeroupper(); /* see pass_avx512 */
            return list->n;
        }
        __m512 w0, w1, w2, w3;
        __mmask16 m0 = in_range(x + j, vs, vlo, vhi, &w0);
        __mmask16 m1 = in_range(x + j + 16, vs, vlo, vhi, &w1);
        __mmask16 m2 = in_range(x + j + 32, vs, vlo, vhi, &w2);
        __mmask16 m3 = in_range(x + j + 48, vs, vlo, vhi, &w3);
        if (!(m0 | m1 | m2 | m3))
            continue;
        if (m0)
            store_hits(m0, w0, base + j, list);
        if (m1)
            store_hits(m1, w1, base + j + 16, list);
        if (m2)
            store_hits(m2, w2, base + j + 32, list);
        if (m3)
            store_hits(m3, w3, base + j + 48, list);
    }
    _mm256_zeroupper(); /* see pass_avx512 */
    return collect_tail(x, j, n, scale, lo, hi, base, list, room, end);
}
#endif

#ifdef HAVE_AVX512_COLLECT
/*
 * The pass compares y = x * scale, not its floor w, with the bounds made
 * integers: for an integer t, w >= t exactly when y >= t.  A weight is below
 * 2^41, so it converts to int64 exactly (truncation is the floor, as y >= 0),
 * and the sums are plain int64 lane sums.  Only listed values are floored.
 * y is fma(x, scale, +0): the same exact product, but -0 made +0, so that the
 * bits of y are ordered as y is and one unsigned compare of bits(y) - bits(lo)
 * tests lo <= y < hi.  The loop is bound by its vector operations: each one
 * saved counts.
 */
AVX512 static void pass_avx512(const float *x, int64_t n, float scale, float lo, float hi,
                               int64_t base, struct omp_pass *ps)
{
    __m512 vs = _mm512_set1_ps(scale), vhi = _mm512_set1_ps(ceilf(hi)), zero = _mm512_setzero_ps();
    uint32_t lo_bits = sample_f32_bits(ceilf(lo)), hi_bits = sample_f32_bits(ceilf(hi));
    __m512i vlo = _mm512_set1_epi32((int32_t)lo_bits);
    __m512i width = _mm512_set1_epi32((int32_t)(hi_bits - lo_bits));
    struct omp_sums r = {0, 0, 0};
    struct omp_list *list = ps->list;
    int64_t j = 0;
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t end = n - b < OMP_BLOCK ? n - b : OMP_BLOCK;
        /* two accumulators of the mass above, so that no add waits on another */
        __m512i total = _mm512_setzero_si512(), above0 = total, above1 = total;
        uint64_t count = 0;
        int64_t start = list->n;
        for (j = b; j + 16 <= b + end; j += 16) {
            __m512 y = _mm512_fmadd_ps(_mm512_loadu_ps(x + j), vs, zero);
            __m512i w0 = _mm512_cvttps_epi64(_mm512_castps512_ps256(y));
            __m512i w1 = _mm512_cvttps_epi64(_mm512_extractf32x8_ps(y, 1));
            __mmask16 up = _mm512_cmp_ps_mask(y, vhi, _CMP_GE_OQ);
            __mmask16 in =
                _mm512_cmplt_epu32_mask(_mm512_sub_epi32(_mm512_castps_si512(y), vlo), width);
            total = _mm512_add_epi64(total, _mm512_add_epi64(w0, w1));
            above0 = _mm512_mask_add_epi64(above0, (__mmask8)up, above0, w0);
            above1 = _mm512_mask_add_epi64(above1, (__mmask8)(up >> 8), above1, w1);
            count += (uint64_t)__builtin_popcount(up);
            if (in) {
                store_hits(in, _mm512_roundscale_ps(y, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                           base + j, list);
            }
        }
        uint64_t block_hi = (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(above0, above1));
        uint64_t block_total = (uint64_t)_mm512_reduce_add_epi64(total);
        for (; j < b + end; j++) {
            float w = weight(x[j], scale);
            uint64_t u = (uint64_t)w;
            block_total += u;
            if (w >= hi) {
                block_hi += u;
                count++;
            } else if (w >= lo) {
                list->idx[list->n] = (int32_t)(base + j);
                list->w[list->n] = w;
                list->n++;
            }
        }
        ps->blocks[b / OMP_BLOCK] = block_hi;
        ps->listed[b / OMP_BLOCK] = (int32_t)(list->n - start);
        r.total += block_total;
        r.mass_hi += block_hi;
        r.count_hi += count;
    }
    ps->sums = r;
    _mm256_zeroupper(); /* the scalar code after it must not pay for dirty upper halves */
}
#endif

typedef int64_t collect_fn(const float *x, int64_t n, float scale, float lo, float hi,
                           int64_t base, struct omp_list *list, int64_t room, int64_t *end);

/* The version for this CPU, chosen on first use (not by an ifunc: a resolver
 * runs before sanitizers are set up, and may not touch their instrumented data). */
static collect_fn *choose(void)
{
#ifdef HAVE_AVX512_COLLECT
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return collect_avx512;
#endif
    return collect_groups;
}

/* choose(), once. */
static collect_fn *chosen(void)
{
    static collect_fn *impl;
    collect_fn *f = __atomic_load_n(&impl, __ATOMIC_RELAXED);
    if (!f) {
        f = choose();
        __atomic_store_n(&impl, f, __ATOMIC_RELAXED);
    }
    return f;
}

int64_t omp_collect(const float *x, int64_t n, float scale, float lo, float hi, int64_t base,
                    struct omp_list *list, int64_t room, int64_t *end)
{
    return chosen()(x, n, scale, lo, hi, base, list, room, end);
}

void omp_pass(const float *x, int64_t n, float scale, float lo, float hi, int64_t base,
              struct omp_pass *ps)
{
#ifdef HAVE_AVX512_COLLECT
    if (chosen() == collect_avx512) {
        pass_avx512(x, n, scale, lo, hi, base, ps);
        return;
    }
#endif
    /* Without AVX-512: the sums, then the list, each a pass of its own. */
    omp_sums(x, n, scale, hi, &ps->sums, ps->blocks);
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t m = n - b < OMP_BLOCK ? n - b : OMP_BLOCK, start = ps->list->n, end;
        omp_collect(x + b, m, scale, lo, hi, base + b, ps->list, start + m, &end);
        ps->listed[b / OMP_BLOCK] = (int32_t)(ps->list->n - start);
    }
}
