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
/* The h and l parts of 16 weights (see kernels.c), as int32 lanes. */
AVX512 static inline void split20(__m512 w, __m512i *h, __m512i *l)
{
    __m512 f = _mm512_roundscale_ps(_mm512_mul_ps(w, _mm512_set1_ps(1.0f / 1048576.0f)),
                                    _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    *h = _mm512_cvttps_epi32(f);
    *l = _mm512_cvttps_epi32(_mm512_fnmadd_ps(f, _mm512_set1_ps(1048576.0f), w));
}

AVX512 static inline uint64_t lanes_sum(__m512i h, __m512i l)
{
    return ((uint64_t)(uint32_t)_mm512_reduce_add_epi32(h) << 20) +
           (uint64_t)(uint32_t)_mm512_reduce_add_epi32(l);
}

AVX512 static void pass_avx512(const float *x, int64_t n, float scale, float heavy,
                               float lo, float hi, int64_t base, struct omp_pass *ps)
{
    __m512 vs = _mm512_set1_ps(scale), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    __m512 vheavy = _mm512_set1_ps(heavy);
    __m512i step = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    struct omp_sums r = {0, 0, 0}, q = {0, 0, 0};
    struct omp_list *list = ps->list, *hl = ps->heavy_list;
    int64_t j = 0;
    for (int64_t b = 0; b < n; b += OMP_BLOCK) {
        int64_t end = n - b < OMP_BLOCK ? n - b : OMP_BLOCK;
        __m512i th = _mm512_setzero_si512(), tl = th, hh = th, hlo = th, vh = th, vl = th;
        uint64_t hc = 0, vc = 0;
        for (j = b; j + 16 <= b + end; j += 16) {
            __m512 w = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x + j), vs),
                                            _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
            w = _mm512_add_ps(w, _mm512_setzero_ps());
            __m512i h, l;
            split20(w, &h, &l);
            __mmask16 above = _mm512_cmp_ps_mask(w, vhi, _CMP_GE_OQ);
            __mmask16 big = _mm512_cmp_ps_mask(w, vheavy, _CMP_GE_OQ);
            __mmask16 in = _mm512_cmp_ps_mask(w, vlo, _CMP_GE_OQ) & ~above;
            th = _mm512_add_epi32(th, h);
            tl = _mm512_add_epi32(tl, l);
            hh = _mm512_mask_add_epi32(hh, above, hh, h);
            hlo = _mm512_mask_add_epi32(hlo, above, hlo, l);
            vh = _mm512_mask_add_epi32(vh, big, vh, h);
            vl = _mm512_mask_add_epi32(vl, big, vl, l);
            hc += (uint64_t)__builtin_popcount(above);
            vc += (uint64_t)__builtin_popcount(big);
            if (in) {
                if (ps->room - list->n >= 16) {
                    __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(base + j)), step);
                    _mm512_storeu_si512(list->idx + list->n, _mm512_maskz_compress_epi32(in, idx));
                    _mm512_storeu_ps(list->w + list->n, _mm512_maskz_compress_ps(in, w));
                    list->n += __builtin_popcount(in);
                } else {
                    ps->full = 1;
                }
            }
            if (big && hl) {
                if (ps->heavy_room - hl->n >= 16) {
                    __m512i idx = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(base + j)), step);
                    _mm512_storeu_si512(hl->idx + hl->n, _mm512_maskz_compress_epi32(big, idx));
                    _mm512_storeu_ps(hl->w + hl->n, _mm512_maskz_compress_ps(big, w));
                    hl->n += __builtin_popcount(big);
                } else {
                    ps->heavy_full = 1;
                }
            }
        }
        uint64_t block_hi = lanes_sum(hh, hlo), block_heavy = lanes_sum(vh, vl);
        uint64_t block_total = lanes_sum(th, tl);
        for (; j < b + end; j++) {
            float w = floorf(x[j] * scale) + 0.0f;
            uint64_t u = (uint64_t)w;
            block_total += u;
            if (w >= hi) {
                block_hi += u;
                hc++;
            } else if (w >= lo) {
                if (list->n < ps->room) {
                    list->idx[list->n] = (int32_t)(base + j);
                    list->w[list->n] = w;
                    list->n++;
                } else {
                    ps->full = 1;
                }
            }
            if (w >= heavy) {
                block_heavy += u;
                vc++;
                if (hl) {
                    if (hl->n < ps->heavy_room) {
                        hl->idx[hl->n] = (int32_t)(base + j);
                        hl->w[hl->n] = w;
                        hl->n++;
                    } else {
                        ps->heavy_full = 1;
                    }
                }
            }
        }
        ps->blocks[b / OMP_BLOCK] = block_hi;
        r.total += block_total;
        r.mass_hi += block_hi;
        r.count_hi += hc;
        q.mass_hi += block_heavy;
        q.count_hi += vc;
    }
    q.total = r.total;
    ps->sums = r;
    ps->heavy = q;
    _mm256_zeroupper(); /* the scalar code after it must not pay for dirty upper halves */
}
#endif

/* Without AVX-512: the sums, then the lists, each a pass of its own. */
static void pass_generic(const float *x, int64_t n, float scale, float heavy, float lo,
                         float hi, int64_t base, struct omp_pass *ps)
{
    int64_t end;
    omp_sums2(x, n, scale, heavy, hi, &ps->sums, &ps->heavy, ps->blocks);
    omp_collect(x, n, scale, lo, hi, base, ps->list, ps->room, &end);
    ps->full = end < n;
    if (ps->heavy_list) {
        omp_collect(x, n, scale, heavy, INFINITY, base, ps->heavy_list, ps->heavy_room, &end);
        ps->heavy_full = end < n;
    }
}

void omp_pass(const float *x, int64_t n, float scale, float heavy, float lo, float hi,
              int64_t base, struct omp_pass *ps)
{
    ps->full = ps->heavy_full = 0;
#ifdef HAVE_AVX512_COLLECT
    static int avx512 = -1;
    int have = __atomic_load_n(&avx512, __ATOMIC_RELAXED);
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
        __atomic_store_n(&avx512, have, __ATOMIC_RELAXED);
    }
    if (have) {
        pass_avx512(x, n, scale, heavy, lo, hi, base, ps);
        return;
    }
#endif
    pass_generic(x, n, scale, heavy, lo, hi, base, ps);
}

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
