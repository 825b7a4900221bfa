/*
 * collect.c - listing the tokens of a chunk whose weight lies in [lo, hi).
 *
 * This is the inner loop of the top-k filter and of the bracket pass, where
 * hits may be rare (a risen top-k threshold) or dense (a bracket of a flat
 * row).  On CPUs with AVX-512 each 16 values are tested with two compares and
 * their hits compressed into the list with no branch per value; elsewhere a
 * group of values is tested at once and only a group with a hit is scanned.
 * The version is chosen once, on first use.  Both
 * stop early, before a group of 64 values, when the list has room for fewer.
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
    return collect_tail(x, j, n, scale, lo, hi, base, list, room, end);
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

int64_t omp_collect(const float *x, int64_t n, float scale, float lo, float hi, int64_t base,
                    struct omp_list *list, int64_t room, int64_t *end)
{
    static collect_fn *impl;
    collect_fn *f = __atomic_load_n(&impl, __ATOMIC_RELAXED);
    if (!f) {
        f = choose();
        __atomic_store_n(&impl, f, __ATOMIC_RELAXED);
    }
    return f(x, n, scale, lo, hi, base, list, room, end);
}
