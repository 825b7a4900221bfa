/*
 * sample_exact.h - the exact-arithmetic pieces of SPEC.md, written once.
 *
 * Every backend includes this header, and so do the GPU kernels: each helper is
 * a static inline function usable on host and device.  Whatever is computed here
 * is defined to the bit by SPEC.md, so nothing here may be contracted, fused or
 * approximated: compile with -ffp-contract=off (nvcc: -fmad=false).
 */
#ifndef SAMPLE_EXACT_H
#define SAMPLE_EXACT_H

#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define SAMPLE_HD __host__ __device__ static inline
#else
#define SAMPLE_HD static inline
#include <math.h>
#endif

/* 2^40: the weight of a logit equal to the row maximum. */
#define SAMPLE_W_ONE ((uint64_t)1 << 40)
/* Keys pack (weight, index) so that a larger key comes first in the order of SPEC 3. */
#define SAMPLE_INDEX_BITS 23
#define SAMPLE_INDEX_MASK (((uint64_t)1 << SAMPLE_INDEX_BITS) - 1)

SAMPLE_HD uint32_t sample_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

SAMPLE_HD float sample_f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* binary16 to binary32: exact, since every binary16 value is a binary32 value. */
SAMPLE_HD float sample_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f)
        return sample_f32_from_bits(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0)
            return sample_f32_from_bits(sign);
        /* Subnormal: renormalise; the value is man * 2^-24. */
        exp = 127 - 15 + 1;
        while (!(man & 0x400u)) {
            man <<= 1;
            exp--;
        }
        return sample_f32_from_bits(sign | (exp << 23) | ((man & 0x3ffu) << 13));
    }
    return sample_f32_from_bits(sign | ((exp + 127 - 15) << 23) | (man << 13));
}

SAMPLE_HD float sample_bf16_to_f32(uint16_t b)
{
    return sample_f32_from_bits((uint32_t)b << 16);
}

/* Element i of a row of dtype 0 (f32), 1 (f16) or 2 (bf16), as float32. */
SAMPLE_HD float sample_load(const void *row, int dtype, int64_t i)
{
    if (dtype == 0)
        return ((const float *)row)[i];
    if (dtype == 1)
        return sample_f16_to_f32(((const uint16_t *)row)[i]);
    return sample_bf16_to_f32(((const uint16_t *)row)[i]);
}

/* High 64 bits of the 128-bit product a * b. */
SAMPLE_HD uint64_t sample_mulhi64(uint64_t a, uint64_t b)
{
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
    return __umul64hi(a, b);
#elif defined(__SIZEOF_INT128__)
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

/*
 * ceil(x * m) for a float x in [0, 1] and an integer m < 2^64, exactly.
 * x = mant * 2^-s with s >= 23 (x <= 1), so x * m = mant * m / 2^s, mant * m < 2^88.
 * Used for top-p's tau = ceil(P * M_k) and min-p's theta = ceil(Q * w_max).
 */
SAMPLE_HD uint64_t sample_ceil_mul(float x, uint64_t m)
{
    uint32_t bits = sample_f32_bits(x);
    uint32_t be = bits >> 23, mant = bits & 0x7fffffu;
    int s;
    if (be == 0) {
        s = 149;
    } else {
        mant |= 0x800000u;
        s = 150 - (int)be;
    }
    if (mant == 0 || m == 0)
        return 0;
    /* 128-bit product hi:lo = mant * m. */
    uint64_t lo = (uint64_t)mant * (uint32_t)m;
    uint64_t mid = (uint64_t)mant * (m >> 32);
    uint64_t lo_hi = (lo >> 32) + (uint32_t)mid;
    uint64_t hi = (mid >> 32) + (lo_hi >> 32);
    lo = (lo_hi << 32) | (uint32_t)lo;
    if (s >= 128)
        return 1; /* 0 < product < 2^88 < 2^s */
    uint64_t q, rem;
    if (s >= 64) {
        q = hi >> (s - 64);
        rem = lo | (s > 64 ? hi & (((uint64_t)1 << (s - 64)) - 1) : 0);
    } else {
        q = (lo >> s) | (hi << (64 - s));
        rem = lo & (((uint64_t)1 << s) - 1);
    }
    return q + (rem != 0);
}

/* ---- Philox4x32-10 (Salmon et al., SC'11) ------------------------------ */

SAMPLE_HD void sample_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2],
                                    uint32_t out[4])
{
    uint32_t c0 = ctr_in[0], c1 = ctr_in[1], c2 = ctr_in[2], c3 = ctr_in[3];
    uint32_t k0 = key_in[0], k1 = key_in[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* The 64-bit number U of SPEC 5 for (seed, offset, subsequence). */
SAMPLE_HD uint64_t sample_draw_u64(uint64_t seed, uint64_t offset, uint64_t subseq)
{
    uint32_t ctr[4] = {(uint32_t)offset, (uint32_t)(offset >> 32), (uint32_t)subseq,
                       (uint32_t)(subseq >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t x[4];
    sample_philox4x32_10(ctr, key, x);
    return (uint64_t)x[0] | ((uint64_t)x[1] << 32);
}

/* ---- Row validity (SPEC 2 and 4) ------------------------------------------ */

/* Why a row is invalid; the first invalid row's reason is reported to the caller. */
enum sample_row_fault {
    SAMPLE_ROW_OK = 0,
    SAMPLE_ROW_NAN,            /* a value is NaN */
    SAMPLE_ROW_INFINITE,       /* a probability is infinite, or a logit is +inf */
    SAMPLE_ROW_NEGATIVE,       /* a probability is negative */
    SAMPLE_ROW_ALL_ZERO,       /* every probability is zero */
    SAMPLE_ROW_NO_FINITE,      /* no logit is finite */
    SAMPLE_ROW_BAD_TOP_K,      /* k < 0 */
    SAMPLE_ROW_BAD_TOP_P,      /* P NaN, <= 0 or > 1 */
    SAMPLE_ROW_BAD_MIN_P,      /* Q NaN, < 0 or >= 1 */
    SAMPLE_ROW_BAD_TEMPERATURE /* T NaN, < 0, +inf; or 0 where a row of values is asked for */
};

/* SPEC 2.1: what is wrong with one probability (-0.0 counts as 0). */
SAMPLE_HD enum sample_row_fault sample_prob_fault(float p)
{
    if (p != p)
        return SAMPLE_ROW_NAN;
    if (p == INFINITY)
        return SAMPLE_ROW_INFINITE;
    return p < 0.0f ? SAMPLE_ROW_NEGATIVE : SAMPLE_ROW_OK;
}

/* SPEC 2.2: what is wrong with one logit (-inf is a masked token, not a fault). */
SAMPLE_HD enum sample_row_fault sample_logit_fault(float l)
{
    if (l != l)
        return SAMPLE_ROW_NAN;
    return l == INFINITY ? SAMPLE_ROW_INFINITE : SAMPLE_ROW_OK;
}

/* ---- Weights (SPEC 2) ---------------------------------------------------- */

/* E with 2^(E-1) <= m < 2^E for a finite m > 0 (frexp's exponent). */
SAMPLE_HD int sample_frexp_exponent(float m)
{
    uint32_t bits = sample_f32_bits(m) & 0x7fffffffu;
    uint32_t be = bits >> 23;
    if (be != 0)
        return (int)be - 126;
    int len = 0;
    for (uint32_t f = bits; f; f >>= 1)
        len++;
    return len - 149;
}

/*
 * SPEC 2.1's scale 2^(40-E) as two normal floats s[0] * s[1], for the E of a
 * finite maximum > 0 (-148 <= E <= 128, so -88 <= 40-E <= 188).
 */
SAMPLE_HD void sample_prob_scale(int E, float s[2])
{
    const int k = 40 - E;
    const int k0 = k < 127 ? k : 127;
    s[0] = sample_f32_from_bits((uint32_t)(k0 + 127) << 23);
    s[1] = sample_f32_from_bits((uint32_t)(k - k0 + 127) << 23);
}

/*
 * SPEC 2.1: floor(|p| * 2^(40-E)) with s from sample_prob_scale(E), for p
 * finite and below 2^E.  Scaling by a power of two is exact unless the product
 * falls below 2^-126, where the floor is 0 either way; the product is below
 * 2^40, so converting it to an integer (truncation) is the floor.
 * sample_prob_scaled is that product, the float whose truncation is the weight.
 */
SAMPLE_HD float sample_prob_scaled(float p, const float s[2])
{
    return fabsf(p) * s[0] * s[1];
}

SAMPLE_HD uint64_t sample_prob_weight_scaled(float p, const float s[2])
{
    return (uint64_t)sample_prob_scaled(p, s);
}

/* SPEC 2.1: the weight of probability p in a row whose maximum has exponent E. */
SAMPLE_HD uint64_t sample_prob_weight(float p, int E)
{
    float s[2];
    sample_prob_scale(E, s);
    return sample_prob_weight_scaled(p, s);
}

/*
 * SPEC 2.2: sexp(z) for -64 <= z <= 0 is p * 2^k; this returns p and sets *k,
 * exactly the spec's sequence of float steps.
 */
SAMPLE_HD float sample_sexp_reduced(float z, float *k)
{
    const float l2e = sample_f32_from_bits(0x3FB8AA3Bu);
    const float ln2_hi = sample_f32_from_bits(0x3F317200u);
    const float ln2_lo = sample_f32_from_bits(0x35BFBE8Eu);
    float kf = rintf(z * l2e);
    float r = fmaf(-kf, ln2_hi, z);
    r = fmaf(-kf, ln2_lo, r);
    float p = sample_f32_from_bits(0x39500D01u);
    p = fmaf(p, r, sample_f32_from_bits(0x3AB60B61u));
    p = fmaf(p, r, sample_f32_from_bits(0x3C088889u));
    p = fmaf(p, r, sample_f32_from_bits(0x3D2AAAABu));
    p = fmaf(p, r, sample_f32_from_bits(0x3E2AAAABu));
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    *k = kf;
    return p;
}

/* SPEC 2.2: sexp(z) for -64 <= z <= 0. */
SAMPLE_HD float sample_sexp(float z)
{
    float k;
    float p = sample_sexp_reduced(z, &k);
    return ldexpf(p, (int)k);
}

/*
 * sexp(z) * 2^s for -64 <= z <= 0 and 0 <= s <= 64, with no library call, so that
 * loops of it vectorise.  The same bits as ldexpf(sample_sexp(z), s): k >= -93 and
 * p is in (0.7, 1.5), so p * 2^(k+s) is a normal float and multiplying p by the
 * normal power of two 2^(k+s) is exact, as ldexpf is.
 */
SAMPLE_HD float sample_sexp_scaled(float z, int s)
{
    float k;
    float p = sample_sexp_reduced(z, &k);
    return p * sample_f32_from_bits((uint32_t)((int)k + s + 127) << 23);
}

/*
 * SPEC 2.2, T > 0: the weight of a logit l (not NaN, not +inf) given the row
 * maximum mx, as a float x whose truncation is the weight: 0, or
 * min(sexp(z) * 2^40, 2^40).  sexp(z) * 2^40 is a normal float below 2^41, so
 * truncating it is the floor, and the floor of the smaller of it and the
 * integer 2^40 is the smaller of its floor and 2^40.
 */
SAMPLE_HD float sample_logit_scaled(float l, float mx, float t)
{
    if (l == -INFINITY)
        return 0.0f;
    float diff = l - mx;
    float z = diff / t;
    if (z < -64.0f)
        return 0.0f;
    float x = sample_sexp_scaled(z, 40);
    return x < 0x1p40f ? x : 0x1p40f;
}

/* SPEC 2.2, T > 0: the weight of a logit l (not NaN, not +inf) given the row maximum mx. */
SAMPLE_HD uint64_t sample_logit_weight(float l, float mx, float t)
{
    return (uint64_t)sample_logit_scaled(l, mx, t);
}

/* The order of SPEC 3 as one integer: a larger key ranks first; keys are distinct. */
SAMPLE_HD uint64_t sample_rank_key(uint64_t w, int64_t i)
{
    return (w << SAMPLE_INDEX_BITS) | (SAMPLE_INDEX_MASK - (uint64_t)i);
}

/* The token index of a rank key (sample_rank_key inverted). */
SAMPLE_HD int64_t sample_rank_index(uint64_t key)
{
    return (int64_t)(SAMPLE_INDEX_MASK - (key & SAMPLE_INDEX_MASK));
}

#endif /* SAMPLE_EXACT_H */
