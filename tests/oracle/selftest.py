#!/usr/bin/env python3
"""Checks the oracle (spec.py) against published vectors, exact references and
hand-worked examples.  Prints 'N passed, M failed'; exits non-zero on a failure.

    python3 tests/oracle/selftest.py
"""

import math
import os
import random
import struct
import sys
from fractions import Fraction

sys.dont_write_bytecode = True      # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec  # noqa: E402

passed = 0
failed = 0


def check(name, cond, detail=''):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print('FAIL: %s %s' % (name, detail))


F = spec.f32_from_bits
B = spec.f32_bits

# ---------------------------------------------------------------------------
# Philox4x32-10 known answers.  These are the three "philox4x32 10" lines of
# Random123's known-answer file tests/kat_vectors (D. E. Shaw Research,
# github.com/DEShawResearch/random123); columns: counter[4] key[2] -> output[4].

KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]
for ctr, key, out in KAT:
    got = spec.philox4x32_10(*ctr, *key)
    check('philox kat %08x' % ctr[0], got == out, [hex(x) for x in got])

# draw_u64 puts offset in counter words 0-1, subsequence in 2-3, seed in the key.
x = spec.philox4x32_10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0)
check('draw_u64 layout',
      spec.draw_u64(0x299f31d0a4093822, 0x85a308d3243f6a88, 0x0370734413198a2e)
      == x[0] + (x[1] << 32))


# ---------------------------------------------------------------------------
# Exact references built on Fraction, written independently of spec.py's
# integer code, to check rounding, fma and the float32 operations.

def ref_round_f32(fr):
    """The float32 nearest to the rational fr, ties to even (inf on overflow)."""
    if fr == 0:
        return 0.0
    sign = -1.0 if fr < 0 else 1.0
    a = abs(fr)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    q = max(e - 23, -149)
    n = a / Fraction(2) ** q
    r = n.numerator // n.denominator
    rem = n - r
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and r % 2 == 1):
        r += 1
    if Fraction(r) * Fraction(2) ** q >= Fraction(2) ** 128:
        return sign * math.inf
    return sign * float(Fraction(r) * Fraction(2) ** q)


def ref_fma(a, b, c):
    exact = Fraction(a) * Fraction(b) + Fraction(c)
    if exact == 0:
        return a * b + c          # IEEE zero signs; a*b is exact in double
    return ref_round_f32(exact)


def naive_fma(a, b, c):
    """What double-then-round gives: wrong when the double lands on a float32 tie."""
    return spec.round_f32(a * b + c)


def same(x, y):
    return B(x) == B(y)


rng = random.Random(20240601)


def rand_f32(lo_exp=-30, hi_exp=30):
    """A random float32 with a random sign, exponent in [lo_exp, hi_exp]."""
    m = rng.getrandbits(24) | (1 << 23)
    return spec.round_f32(math.ldexp(m, rng.randint(lo_exp, hi_exp) - 23) * rng.choice((1, -1)))


def rand_bits_f32():
    while True:
        x = F(rng.getrandbits(32))
        if math.isfinite(x):
            return x


# round_f32 (struct packing) against the Fraction reference.
bad = 0
cases = [2.0 ** -150, 2.0 ** -150 * 1.0000001, 2.0 ** -149 * 1.5, 2.0 ** -149 * 2.5,
         3.4028235677973366e+38, 3.4028235677973366e+38 * (1 + 2 ** -25),
         3.4028235677973366e+38 * (1 + 2 ** -24), 1 + 2 ** -24, 1 + 3 * 2 ** -24]
for _ in range(3000):
    cases.append(struct.unpack('<d', struct.pack('<Q', rng.getrandbits(64)))[0])
    cases.append(math.ldexp(rng.random(), rng.randint(-160, 130)))
for c in cases:
    if not math.isfinite(c):
        continue
    if not same(spec.round_f32(c), ref_round_f32(Fraction(c))):
        bad += 1
check('round_f32 vs exact reference (%d values)' % len(cases), bad == 0, bad)

# Hand-worked fma cases where double-then-round is wrong.
#  1. c = 2^24 (even significand), a = 1 + 2^-12, b = 1 - 4095*2^-24:
#     a*b = 1 + 2^-24 - 4095*2^-36 = 1 + 2^-36, so a*b + c = 2^24 + 1 + 2^-36,
#     just above the midpoint 2^24 + 1 of 2^24 and 2^24 + 2: fma = 2^24 + 2.
#     In double the 2^-36 is lost (ulp 2^-28), the tie goes to even: 2^24.
a, b, c = 1 + 2.0 ** -12, 1 - 4095 * 2.0 ** -24, 2.0 ** 24
check('fma above-tie', spec.fma_f32(a, b, c) == 2.0 ** 24 + 2)
check('fma above-tie: naive is wrong', naive_fma(a, b, c) == 2.0 ** 24)
#  2. c = 1 + 2^-23 (odd significand), a = 2^-24 * (1 + 2^-20), b = 1 - 2^-20:
#     a*b = 2^-24 - 2^-64; sum = 1 + 2^-23 + 2^-24 - 2^-64, just below the midpoint
#     of 1 + 2^-23 and 1 + 2^-22: fma = 1 + 2^-23.  Double: the midpoint, which
#     ties to the even 1 + 2^-22.
a, b, c = 2.0 ** -24 * (1 + 2.0 ** -20), 1 - 2.0 ** -20, 1 + 2.0 ** -23
check('fma below-tie', spec.fma_f32(a, b, c) == 1 + 2.0 ** -23)
check('fma below-tie: naive is wrong', naive_fma(a, b, c) == 1 + 2.0 ** -22)
#  3. the same with signs flipped.
check('fma below-tie negative', spec.fma_f32(-a, b, -c) == -(1 + 2.0 ** -23))
#  4. c = 2^24 + 2 (odd), a*b = (1 + 2^-23)(1 - 2^-23) = 1 - 2^-46:
#     2^24 + 3 - 2^-46 -> 2^24 + 2 (double would give the tie 2^24 + 3 -> 2^24 + 4).
a, b, c = 1 + 2.0 ** -23, 1 - 2.0 ** -23, 2.0 ** 24 + 2
check('fma below-tie 2', spec.fma_f32(a, b, c) == 2.0 ** 24 + 2)
check('fma below-tie 2: naive is wrong', naive_fma(a, b, c) == 2.0 ** 24 + 4)
#  5. exact cancellation gives +0; (-0)*x + (-0) = -0; subnormal result.
check('fma cancel +0', B(spec.fma_f32(3.0, 2.0, -6.0)) == 0)
check('fma -0', B(spec.fma_f32(-0.0, 5.0, -0.0)) == 0x80000000)
check('fma subnormal', spec.fma_f32(2.0 ** -75, 2.0 ** -74, 0.0) == 2.0 ** -149)
check('fma subnormal tie to even 0',
      B(spec.fma_f32(2.0 ** -75, 2.0 ** -75, 0.0)) == 0)          # 2^-150: tie -> 0
check('fma subnormal above tie',
      spec.fma_f32(2.0 ** -75, 2.0 ** -75 * (1 + 2.0 ** -23), 0.0) == 2.0 ** -149)
check('fma overflow', spec.fma_f32(F(0x7f7fffff), 2.0, 0.0) == math.inf)

# fma against the exact reference on random triples, many near cancellation.
bad = 0
naive_differs = 0
for i in range(20000):
    kind = i % 5
    if kind == 0:
        a, b, c = rand_bits_f32(), rand_bits_f32(), rand_bits_f32()
    elif kind == 1:
        a, b, c = rand_f32(), rand_f32(), rand_f32()
    elif kind == 2:                    # c ~ -a*b: heavy cancellation
        a, b = rand_f32(-10, 10), rand_f32(-10, 10)
        c = spec.round_f32(-a * b * (1 + rng.choice((0, 2.0 ** -24, -2.0 ** -24, 2.0 ** -22))))
    elif kind == 3:                    # sexp-like magnitudes
        a, b, c = rand_f32(-20, 0), rand_f32(-30, 0), rand_f32(-30, 1)
    else:
        # a*b within 2^-29 (relative) of half an ulp of c: near-ties.
        # (1 + i 2^-23)(1 - 2i 2^-24) = 1 - 2 i^2 2^-47 (just below) for i < 362;
        # (1 + 2^-12)(1 - 4095 2^-24) = 1 + 2^-36 (just above).
        c = rand_f32(-20, 20)
        half_ulp = math.ldexp(1.0, math.frexp(c)[1] - 25)
        i = rng.randrange(1, 362)
        i, j = rng.choice(((i, 2 * i), (2048, 4095)))
        a = half_ulp * (1 + i * 2.0 ** -23) * rng.choice((1, -1))
        b = 1 - j * 2.0 ** -24
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        continue
    exact = ref_fma(a, b, c)
    if not math.isfinite(exact):
        continue
    if not same(spec.fma_f32(a, b, c), exact):
        bad += 1
    if not same(naive_fma(a, b, c), exact):
        naive_differs += 1
check('fma vs exact reference (20000 triples)', bad == 0, bad)
# the near-tie family must reach cases that double-then-round gets wrong
check('fma random near-ties defeat double rounding', naive_differs > 100, naive_differs)

# single float32 operations against the exact reference
bad = 0
for _ in range(5000):
    a, b = rand_bits_f32(), rand_bits_f32()
    for got, exact in ((spec.f32_sub(a, b), Fraction(a) - Fraction(b)),
                       (spec.f32_mul(a, b), Fraction(a) * Fraction(b))):
        if exact != 0 and not same(got, ref_round_f32(exact)):
            bad += 1
    if b != 0 and not same(spec.f32_div(a, b), ref_round_f32(Fraction(a) / Fraction(b))):
        bad += 1
check('f32 sub/mul/div vs exact reference', bad == 0, bad)
check('f32_sub overflow to -inf', spec.f32_sub(-F(0x7f7fffff), F(0x7f7fffff)) == -math.inf)

# rint: ties to even, sign of zero kept
check('rint', [spec.rint(v) for v in (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.3, 3.7)]
      == [0.0, 2.0, 2.0, -0.0, -2.0, -2.0, -0.0, 4.0])
check('rint -0.3 is -0', math.copysign(1, spec.rint(-0.3)) == -1)

# ---------------------------------------------------------------------------
# 16-bit formats

check('f16 1.0', spec.f16_from_bits(0x3C00) == 1.0)
check('f16 max', spec.f16_from_bits(0x7BFF) == 65504.0)
check('f16 min subnormal', spec.f16_from_bits(0x0001) == 2.0 ** -24)
check('f16 -inf', spec.f16_from_bits(0xFC00) == -math.inf)
check('f16 -0', B(spec.f16_from_bits(0x8000)) == 0x80000000)
check('f16 nan', math.isnan(spec.f16_from_bits(0x7E00)))
check('f16 -2.5', spec.f16_from_bits(0xC100) == -2.5)
check('bf16 1.0', spec.bf16_from_bits(0x3F80) == 1.0)
check('bf16 min subnormal', spec.bf16_from_bits(0x0001) == 2.0 ** -133)
check('bf16 -inf', spec.bf16_from_bits(0xFF80) == -math.inf)
check('bf16 max', B(spec.bf16_from_bits(0x7F7F)) == 0x7F7F0000)
check('encode roundtrip f16', spec.encode('f16', -2.5) == 0xC100)
check('encode roundtrip bf16', spec.encode('bf16', 1.0) == 0x3F80)

# ---------------------------------------------------------------------------
# sexp

check('sexp(0) == 1', spec.sexp(0.0) == 1.0)
check('sexp(-0) == 1', spec.sexp(-0.0) == 1.0)
worst = 0.0
zs = [-64.0, F(0xC27FFFFF), -2.0 ** -149, -1e-30, -1e-7, -0.5, -1.0, -math.log(2)]
zs += [-64.0 * i / 5000 for i in range(5001)]
zs += [-rng.random() * 64 for _ in range(20000)]
zs += [-math.ldexp(rng.random(), -rng.randint(0, 140)) for _ in range(2000)]
for z in zs:
    z = spec.round_f32(z)
    e = spec.sexp(z)
    rel = abs(e - math.exp(z)) / math.exp(z)
    worst = max(worst, rel)
check('sexp relative error < 1e-7 (%d z in [-64, 0])' % len(zs), worst < 1e-7, worst)
print('sexp worst relative error: %.3g' % worst)
# z with f32(z * L2E) exactly on a half integer: rint must tie to even.
ties = 0
for n in range(-92, 0):
    t = n + 0.5
    z0 = spec.round_f32(t / spec.L2E)
    for d in range(-3, 4):
        z = F(B(z0) + d)
        if -64 <= z <= 0 and spec.f32_mul(z, spec.L2E) == t:
            ties += 1
            e = spec.sexp(z)
            if abs(e - math.exp(z)) / math.exp(z) >= 1e-7:
                worst = 1
check('sexp on rint ties', worst < 1e-7 and ties > 0, ties)
# weights: e = 1 -> 2^40; e = 0.5 -> 2^39; weights floor to zero below ~ -27.7
check('weight z = 0', spec.weight_of_z(0.0) == 1 << 40)
check('weight z = -64', spec.weight_of_z(-64.0) == 0)
check('weight z < -64', spec.weight_of_z(-64.00001) == 0 and spec.weight_of_z(-math.inf) == 0)
check('weight z = -27', spec.weight_of_z(-27.0) == int(spec.sexp(-27.0) * 2.0 ** 40) > 0)
w = spec.weight_of_z(spec.round_f32(-math.log(2)))
check('weight z = -ln2 ~ 2^39', abs(w - (1 << 39)) < (1 << 39) * 2e-7, w)

# ---------------------------------------------------------------------------
# 2.1: weights from probabilities
# p = [0.5, 0.25, 0.25, 0, -0.0]: m = 0.5 = 2^-1 -> E = 0 (2^-1 <= m < 2^0):
# w = floor(p * 2^40) = [2^39, 2^38, 2^38, 0, 0].
check('probs weights', spec.probs_weights([0.5, 0.25, 0.25, 0.0, -0.0])
      == [1 << 39, 1 << 38, 1 << 38, 0, 0])
# m = 3 -> E = 2, w = floor(p * 2^38): 3 -> 3*2^38; 2^-40 -> floor(2^-2) = 0.
check('probs weights floor to 0', spec.probs_weights([3.0, 2.0 ** -40, 2.0 ** -38])
      == [3 << 38, 0, 1])
# m = 1.0 exactly: E = 1, w_max = 2^39 (the smallest w_max possible).
check('probs weight of m = 1', spec.prob_weight(1.0, 1.0) == 1 << 39)
# m = largest float below 1: E = 0, w_max = floor((1 - 2^-24) * 2^40) = 2^40 - 2^16.
check('probs weight of m < 1', spec.prob_weight(F(0x3F7FFFFF), F(0x3F7FFFFF))
      == (1 << 40) - (1 << 16))
# subnormal max: m = 2^-149 -> E = -148, w = 2^-149 * 2^188 = 2^39.
check('probs weight subnormal', spec.prob_weight(2.0 ** -149, 2.0 ** -149) == 1 << 39)
check('probs valid', spec.probs_valid([0.0, -0.0, 1.0]) and not spec.probs_valid([0.0, -0.0])
      and not spec.probs_valid([1.0, math.nan]) and not spec.probs_valid([1.0, -1e-45])
      and not spec.probs_valid([math.inf, 1.0]))
check('logits valid', spec.logits_valid([-math.inf, 0.0]) and not spec.logits_valid([-math.inf])
      and not spec.logits_valid([0.0, math.inf]) and not spec.logits_valid([math.nan, 1.0]))

# ---------------------------------------------------------------------------
# 4: filters.  Weights (abstract ints) [4, 3, 2, 1]: order 0,1,2,3; S = 4, 7, 9, 10.
w = [4, 3, 2, 1]


def members(w, K):
    return [i for i, x in enumerate(w) if K.contains(i, x)]


check('no filter', members(w, spec.kept_set(w, 0, 1.0, 0.0)) == [0, 1, 2, 3])
check('top-k 2', members(w, spec.kept_set(w, 2, 1.0, 0.0)) == [0, 1])
check('top-k V+1', members(w, spec.kept_set(w, 5, 1.0, 0.0)) == [0, 1, 2, 3])
# P = 0.5: tau = ceil(5) = 5; S_1 = 4 < 5 <= S_2 = 7 -> first 2.
check('top-p 0.5', members(w, spec.kept_set(w, 0, 0.5, 0.0)) == [0, 1])
# P = float32(0.4) = 13421773 / 2^25 is a bit above 0.4: P*10 = 4.00000006 -> tau = 5,
# so two tokens, although "0.4 * 10 = 4 = S_1" in decimal.
P04 = F(0x3ECCCCCD)
check('top-p f32(0.4) tau', spec.ceil_mul(P04, 10) == 5)
check('top-p f32(0.4)', members(w, spec.kept_set(w, 0, P04, 0.0)) == [0, 1])
# the float32 below it, 0.39999998: P*10 < 4 -> tau = 4 = S_1 -> one token.
check('top-p below 0.4', members(w, spec.kept_set(w, 0, F(0x3ECCCCCC), 0.0)) == [0])
# top-p after top-k 3: M_k = 9, P = 0.5 -> tau = ceil(4.5) = 5 -> two tokens.
check('top-k then top-p', spec.kept_set(w, 3, 0.5, 0.0).mass == 7)
# min-p: Q = 0.5, w_max = 4 -> theta = 2 -> w >= 2: three tokens; Q = 0.5000001 -> theta = 3.
check('min-p theta exact', members(w, spec.kept_set(w, 0, 1.0, 0.5)) == [0, 1, 2])
check('min-p above', members(w, spec.kept_set(w, 0, 1.0, F(0x3F000001))) == [0, 1])
check('min-p -0.0 keeps all', members(w, spec.kept_set(w, 0, 1.0, -0.0)) == [0, 1, 2, 3])
# Ties straddling the top-k boundary: w = [1, 3, 3, 3, 2]; order 1,2,3,4,0; k = 2 -> {1, 2}.
w = [1, 3, 3, 3, 2]
check('top-k tie', members(w, spec.kept_set(w, 2, 1.0, 0.0)) == [1, 2])
# top-p inside the tied group: M = 12, P = 0.5 -> tau = 6 = S_2 -> {1, 2}.
check('top-p tie', members(w, spec.kept_set(w, 0, 0.5, 0.0)) == [1, 2])
# P = 2^-149 (smallest subnormal): tau = 1 -> one token, the first of the tie.
check('top-p tiny', members(w, spec.kept_set(w, 0, 2.0 ** -149, 0.0)) == [1])
# zero weights are kept by top-k when k reaches them: w = [0, 5, 0], k = 2 -> {1, 0}.
w = [0, 5, 0]
check('top-k keeps a zero weight', members(w, spec.kept_set(w, 2, 1.0, 0.0)) == [0, 1])
# P = 1 disables top-p even with zero weights trailing; P just below 1 drops them.
check('top-p 1 keeps zeros', members(w, spec.kept_set(w, 0, 1.0, 0.0)) == [0, 1, 2])
check('top-p <1 drops zeros', members(w, spec.kept_set(w, 0, F(0x3F7FFFFF), 0.0)) == [1])

# kept_set against a literal, slow reading of section 4 on random rows full of ties.
def brute_kept(w, k, P, Q):
    order = sorted(range(len(w)), key=lambda i: (-w[i], i))
    S = [0]
    for i in order:
        S.append(S[-1] + w[i])
    V = len(w)
    L_k = V if k == 0 or k >= V else k
    M_k = S[L_k]
    if P == 1.0:
        L_p = L_k
    else:
        tau = math.ceil(Fraction(P) * M_k)
        L_p = min(L for L in range(1, L_k + 1) if S[L] >= tau)
    theta = math.ceil(Fraction(Q) * w[order[0]])
    L_m = sum(1 for x in w if x >= theta)
    L = min(L_k, L_p, L_m)
    return sorted(order[:L]), S[L]


bad = 0
for trial in range(3000):
    V = rng.randint(1, 12)
    w = [rng.choice((0, 1, 2, 3, 5, 8, 1 << 40, (1 << 40) - 1)) for _ in range(V)]
    if max(w) == 0:
        w[rng.randrange(V)] = 7
    k = rng.choice((0, 1, 2, V - 1, V, V + 1, rng.randint(0, V)))
    P = rng.choice((1.0, 0.5, 0.25, 0.75, F(0x3ECCCCCD), 2.0 ** -149, spec.round_f32(rng.random()) or 1.0))
    Q = rng.choice((0.0, 0.5, 0.25, 0.999, spec.round_f32(rng.random())))
    K = spec.kept_set(w, k, P, Q)
    want, mass = brute_kept(w, k, P, Q)
    if members(w, K) != want or K.mass != mass or K.count != len(want):
        bad += 1
check('kept_set vs literal reading (3000 rows)', bad == 0, bad)

# Over U spread evenly across [0, 2^64), token frequencies match w_i / M_K
# (within one step): w = [3, 0, 5, 8], nothing filtered, M = 16.
w = [3, 0, 5, 8]
K = spec.kept_set(w, 0, 1.0, 0.0)
N = 4096
counts = [0] * 4
for j in range(N):
    counts[spec.select(w, K, (j << 64) // N)] += 1
check('draw frequencies', counts == [N * 3 // 16, 0, N * 5 // 16, N * 8 // 16], counts)

# ---------------------------------------------------------------------------
# 5: the draw.  w = [2^39, 2^38, 2^38, 0] (p = [0.5, 0.25, 0.25, 0]), k = 2 -> K = {0, 1},
# M_K = 3 * 2^38.  U = 2^63 -> t = 1.5 * 2^38 < 2^39 = cum(0) -> token 0.
# U = 2^64 - 1 -> t = M_K - 1 -> token 1 (cum(1) = M_K > t).
# U = 0 -> t = 0 -> token 0.
w = spec.probs_weights([0.5, 0.25, 0.25, 0.0])
K = spec.kept_set(w, 2, 1.0, 0.0)
check('draw mass', K.mass == 3 << 38)
check('draw U=2^63', spec.select(w, K, 1 << 63) == 0)
check('draw U=max', spec.select(w, K, (1 << 64) - 1) == 1)
check('draw U=0', spec.select(w, K, 0) == 0)
# Boundary: t = 2^39 - 1 still token 0, t = 2^39 token 1.  t = floor(U * 3*2^38 / 2^64),
# t >= 2^39 iff U >= 2^64 * 2/3, i.e. U >= ceil(2^65 / 3).
u1 = -(-(1 << 65) // 3)
check('draw boundary below', spec.select(w, K, u1 - 1) == 0)
check('draw boundary at', spec.select(w, K, u1) == 1)
# Vocabulary order, not rank order: w = [1, 5, 2] all kept, M = 8.  t = 0 -> token 0
# (cum 1 > 0), t = 1 -> token 1, t = 6 -> token 1, t = 7 -> token 2.
w = [1, 5, 2]
K = spec.kept_set(w, 0, 1.0, 0.0)
for t, tok in ((0, 0), (1, 1), (5, 1), (6, 2), (7, 2)):
    U = -(-(t << 64) // 8)          # smallest U with floor(U * 8 / 2^64) = t
    check('draw vocab order t=%d' % t, spec.select(w, K, U) == tok)
# logits [0, 0, -inf], T = 1: w = [2^40, 2^40, 0], M = 2^41.  U = 2^63 -> t = 2^40:
# token 0's cum 2^40 is not > t -> token 1.  U = 2^63 - 1 -> t = 2^40 - 1 -> token 0.
w = spec.logits_weights([0.0, 0.0, -math.inf], 1.0)
check('logit weights', w == [1 << 40, 1 << 40, 0])
K = spec.kept_set(w, 0, 1.0, 0.0)
check('logit draw t=2^40', spec.select(w, K, 1 << 63) == 1)
check('logit draw t=2^40-1', spec.select(w, K, (1 << 63) - 1) == 0)

# ---------------------------------------------------------------------------
# 6: renorm, mask, softmax, argmax
# renorm of [0.5, 0.25, 0.25, 0] with k = 2: 2^39 / (3*2^38) = 2/3 -> 0x3f2aaaab,
# 1/3 -> 0x3eaaaaab, the rest 0.
w = spec.probs_weights([0.5, 0.25, 0.25, 0.0])
out = spec.renorm_row(w, spec.kept_set(w, 2, 1.0, 0.0))
check('renorm', [B(x) for x in out] == [0x3F2AAAAB, 0x3EAAAAAB, 0, 0])
# softmax at T = 1 of [0, 0, -inf]: [0.5, 0.5, 0].
out = spec.softmax_row(spec.logits_weights([0.0, 0.0, -math.inf], 1.0))
check('softmax', out == [0.5, 0.5, 0.0])
# mask of logits [1, 3, -inf, 2] with k = 2 keeps 1 and 3 (values kept exactly).
l = [1.0, 3.0, -math.inf, 2.0]
w = spec.logits_weights(l, 1.0)
check('mask', spec.mask_row(l, w, spec.kept_set(w, 2, 1.0, 0.0))
      == [-math.inf, 3.0, -math.inf, 2.0])
check('argmax ties', spec.argmax([1.0, 3.0, 3.0, -math.inf]) == 1)
check('argmax -0 == 0', spec.argmax([-0.0, 0.0]) == 0 and spec.argmax([-1.0, -0.0, 0.0]) == 1)
# double(M_K) rounds to nearest even: M = 2^54 + 1 -> 2^54, so w = 2^40 gives 2^-14.
check('double(M) rounds', spec.round_f32(float(1 << 40) / float((1 << 54) + 1)) == 2.0 ** -14)

# ---------------------------------------------------------------------------
# evaluate: rows, parameters, invalid rows
st, fi, res = spec.evaluate('probs', [[0.5, 0.5], [math.nan, 1.0], [1.0, 0.0]],
                            [1.0] * 3, [0] * 3, [1.0] * 3, [0.0] * 3,
                            spec.row_streams(3, 0, 0, None, None))
check('invalid rows', st == 'ERR_INVALID_ROWS' and fi == 1 and res[1] is None and res[2] == 0)
st, fi, res = spec.evaluate('logits', [[0.0, 5.0, 5.0]], [0.0], [-1], [1.0], [0.0],
                            spec.row_streams(1, 0, 0, None, None))
check('greedy row with bad k is invalid', fi == 0)
st, fi, res = spec.evaluate('logits', [[0.0, 5.0, 5.0]], [-0.0], [0], [1.0], [0.0],
                            spec.row_streams(1, 0, 0, None, None))
check('greedy T=-0.0', st == 'OK' and res == [1])
st, fi, res = spec.evaluate('softmax', [[0.0, 5.0]], [0.0], [0], [1.0], [0.0],
                            spec.row_streams(1, 0, 0, None, None))
check('softmax T=0 invalid', fi == 0)
check('streams one seed', spec.row_streams(2, 7, 9, None, None) == [(7, 9, 0), (7, 9, 1)])
check('streams per-row', spec.row_streams(2, 7, 9, [1, 2], [3, 4]) == [(1, 3, 0), (2, 4, 0)])
check('streams offsets only', spec.row_streams(2, 7, 9, None, [3, 4]) == [(7, 3, 0), (7, 4, 1)])
check('streams seeds only', spec.row_streams(2, 7, 9, [1, 2], None) == [(1, 9, 0), (2, 9, 0)])

# argument checks and their order
A = spec.argument_status
check('args ok', A('probs', 0, 2, 4, 0, 0, {}, set()) is None)
check('args null first', A('probs', 7, -1, 0, 0, 0, {'null_data': 0, 'tensor_size': 0}, {'T'})
      == 'ERR_NULL')
check('args size before flags', A('probs', 7, 1, 4, 0, 0, {'params_size': 0}, set())
      == 'ERR_STRUCT_SIZE')
check('args flags before shape', A('probs', 3, -1, 4, 0, 0, {}, set()) == 'ERR_FLAGS')
check('args shape before argument', A('probs', 0, 1, 0, 0, 0, {}, {'T'}) == 'ERR_SHAPE')
check('args argument', A('renorm', 0, 1, 4, 0, 0, {}, {'seed'}) == 'ERR_ARGUMENT')
check('args overflow', A('probs', 0, 8, 4, 1 << 61, 0, {}, set()) == 'ERR_SHAPE')
check('args 2^63-4 fits', A('probs', 0, 1, 4, (1 << 61) - 1, 0, {}, set()) is None)
check('args 2^63 overflows', A('probs', 1, 1, 4, 1 << 62, 0, {}, set()) == 'ERR_SHAPE')
check('args out_stride', A('softmax', 0, 1, 4, 0, 3, {}, set()) == 'ERR_SHAPE')
check('args out_stride ignored by tokens', A('probs', 0, 1, 4, 0, 3, {}, set()) is None)

# FNV-1a 64 published values: "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c.
check('fnv1a64 empty', spec.fnv1a64(b'') == 0xCBF29CE484222325)
check('fnv1a64 a', spec.fnv1a64(b'a') == 0xAF63DC4C8601EC8C)
check('fnv1a64 f32', spec.fnv1a64_f32([1.0]) == spec.fnv1a64(b'\x00\x00\x80\x3f'))

print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
