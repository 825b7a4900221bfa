#!/usr/bin/env python3
"""Writes the shared test corpus (tests/corpus/FORMAT.md) from the oracle spec.py.

    python3 tests/oracle/gen_corpus.py tests/corpus

Deterministic: the same bytes on every run (fixed random.Random seeds, no
dependence on hash order or the clock).  Large rows are given as generators,
never listed; their row results as FNV-1a hashes.
"""

import math
import os
import random
import sys
import time

sys.dont_write_bytecode = True      # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec  # noqa: E402

F = spec.f32_from_bits
INF = math.inf
NAN = math.nan
FLT_MAX = F(0x7F7FFFFF)
FLT_TRUE_MIN = F(0x00000001)
FLT_MIN = F(0x00800000)
MAX_VOCAB = spec.MAX_VOCAB


class Bits(int):
    """A value given by its raw bit pattern (in the case's dtype, or float32 for
    parameters) instead of as a number: NaN payloads, signalling NaNs."""


def f32(x):
    """The float32 nearest to x (for writing parameters such as 0.9)."""
    return spec.round_f32(x)


def up(x):
    """The next float32 above x (x >= 0)."""
    return F(spec.f32_bits(x) + 1)


def down(x):
    """The next float32 below x (x > 0)."""
    return F(spec.f32_bits(x) - 1)


# ---------------------------------------------------------------------------
# FORMAT.md's generators

GEN_WORD2 = 0x73616D70
SIG_BITS = {'f32': 24, 'f16': 11, 'bf16': 8}


def gen_row(gen, seed, args, dtype, r, V):
    """Row r of generator gen: V float32 values (each exactly a value of dtype)."""
    m = SIG_BITS[dtype]
    sh = 32 - m
    k0, k1 = seed & 0xFFFFFFFF, seed >> 32
    if gen == 'const':
        v = spec.decode(dtype, args[0])
        return [v] * V
    if gen == 'logits_uniform':
        scale = 2.0 ** args[0]
        half = 1 << (m - 1)

        def value(x, j):
            return ((x >> sh) - half) * scale
    elif gen == 'logits_bell':
        scale = 2.0 ** args[0]

        def value(x, j):
            return ((x & 63) + ((x >> 6) & 63) + ((x >> 12) & 63) + ((x >> 18) & 63) - 126) * scale
    elif gen == 'probs_uniform':
        scale = 2.0 ** -m

        def value(x, j):
            return (x >> sh) * scale
    elif gen == 'probs_wide':
        D = 14 if dtype == 'f16' else 64
        top = 1 << (m - 1)

        def value(x, j):
            return math.ldexp((x >> sh) | top, -m - (x & 63) % D)
    elif gen == 'probs_steps':
        S = args[0]
        assert dtype != 'f16' and 0 <= S <= 13
        top = 1 << (m - 1)

        def value(x, j):
            return math.ldexp((x >> sh) | top, -m - (x & 31) - S * ((j // 2048) % 8))
    elif gen == 'probs_ties':
        Q = args[0]
        assert 1 <= Q <= 16

        def value(x, j):
            return (x % Q) * 0.0625
    else:
        raise ValueError(gen)
    philox = spec.philox4x32_10
    out = []
    append = out.append
    for q in range((V + 3) // 4):  # value(x, j): element j's word x
        for i, x in enumerate(philox(q, r, GEN_WORD2, 0, k0, k1)[:min(4, V - 4 * q)]):
            append(value(x, 4 * q + i))
    # the oracle asserts that every generated value is exact in the dtype
    if dtype == 'f32':
        rf = spec.round_f32
        assert all(rf(v) == v for v in out), (gen, args, dtype)
    else:
        for v in set(out):
            spec.encode(dtype, v)
    return out


# ---------------------------------------------------------------------------
# A case and its evaluation

PARAMS = (('T', 'temperature'), ('k', 'top_k'), ('P', 'top_p'), ('Q', 'min_p'),
          ('seed', 'seed'), ('offset', 'offset'))
NEUTRAL = {'T': 0x3F800000, 'k': 0, 'P': 0x3F800000, 'Q': 0, 'seed': 0, 'offset': 0}
FLOAT_PARAMS = ('T', 'P', 'Q')


def pbits(x):
    """A float parameter's float32 bit pattern (x a number or Bits)."""
    if isinstance(x, Bits):
        return int(x)
    return spec.f32_bits(f32(x))


def ebits(dtype, x):
    """An element's bit pattern in dtype (x a number, exact in f16/bf16, or Bits)."""
    if isinstance(x, Bits):
        return int(x)
    if dtype == 'f32':
        x = f32(x)          # decimal literals in f32 rows: their nearest float32
    return spec.encode(dtype, x)


def hexe(dtype, bits):
    return ('%08x' if dtype == 'f32' else '%04x') % bits


class Case:
    def __init__(self, name, op, B, V, dtype='f32', stride=0, out_stride=0, raw_dtype=None,
                 note=None, **params):
        assert op in spec.OPS, op
        self.name, self.op, self.B, self.V = name, op, B, V
        self.dtype, self.stride, self.out_stride = dtype, stride, out_stride
        self.raw_dtype = raw_dtype
        self.note = note
        self.gens = []
        self.rows = {}
        self.sets = []
        self.faults = []
        self.params = {}
        for key, value in params.items():
            self.param(key, value)

    def gen(self, gen, seed, *args):
        self.gens.append((gen, seed, args))
        return self

    def row(self, r, values):
        assert len(values) == self.V
        self.rows[r] = [ebits(self.dtype, x) for x in values]
        return self

    def all_rows(self, values):
        for r in range(self.B):
            self.row(r, values)
        return self

    def set(self, r, j, x):
        self.sets.append((r, j, ebits(self.dtype, x)))
        return self

    def param(self, key, value):
        """key in T, k, P, Q, seed, offset; a list is a per-row array."""
        assert key in NEUTRAL, key
        if key in FLOAT_PARAMS:
            value = [pbits(x) for x in value] if isinstance(value, list) else pbits(value)
        self.params[key] = value
        return self

    def fault(self, name, n=None):
        self.faults.append((name, n))
        return self

    # -- evaluation ---------------------------------------------------------

    def dtype_raw(self):
        return self.raw_dtype if self.raw_dtype is not None else spec.DTYPES[self.dtype]

    def nonneutral(self):
        return {key for key, v in self.params.items() if isinstance(v, list) or v != NEUTRAL[key]}

    def value_rows(self):
        """The B rows as float32 values (after gen, row and set lines)."""
        rows = []
        for r in range(self.B):
            vals = None
            for gen, seed, args in self.gens:
                vals = gen_row(gen, seed, args, self.dtype, r, self.V)
            if r in self.rows:
                vals = [spec.decode(self.dtype, b) for b in self.rows[r]]
            assert vals is not None, '%s: row %d has no values' % (self.name, r)
            rows.append(vals)
        for r, j, b in self.sets:
            rows[r][j] = spec.decode(self.dtype, b)
        return rows

    def per_row(self, key):
        v = self.params.get(key, NEUTRAL[key])
        vals = v if isinstance(v, list) else [v] * self.B
        if key in FLOAT_PARAMS:
            vals = [F(b) for b in vals]
        return vals

    def evaluate(self):
        """(status, first_invalid, results): results are tokens or rows, None if invalid."""
        for key, v in self.params.items():
            if isinstance(v, list):
                assert len(v) == self.B, (self.name, key)
        faults = {name: (n if n is not None else 0) for name, n in self.faults}
        status = spec.argument_status(self.op, self.dtype_raw(), self.B, self.V, self.stride,
                                      self.out_stride, faults, self.nonneutral())
        if status is not None:
            return status, None, None
        if self.B == 0:
            return 'OK', None, []
        seeds = self.params.get('seed')
        offsets = self.params.get('offset')
        streams = spec.row_streams(self.B,
                                   0 if isinstance(seeds, list) else seeds or 0,
                                   0 if isinstance(offsets, list) else offsets or 0,
                                   seeds if isinstance(seeds, list) else None,
                                   offsets if isinstance(offsets, list) else None)
        return spec.evaluate(self.op, self.value_rows(), self.per_row('T'), self.per_row('k'),
                             self.per_row('P'), self.per_row('Q'), streams)

    # -- output -------------------------------------------------------------

    def render(self):
        status, first_invalid, results = self.evaluate()
        out = []
        if self.note:
            for line in self.note.split('\n'):
                out.append('# ' + line)
        out.append('case ' + self.name)
        out.append('op ' + self.op)
        if self.raw_dtype is not None:
            out.append('dtype raw %d' % self.raw_dtype)
        elif self.dtype != 'f32':
            out.append('dtype ' + self.dtype)
        out.append('shape %d %d %d' % (self.B, self.V, self.stride))
        if self.out_stride:
            out.append('out_stride %d' % self.out_stride)
        for gen, seed, args in self.gens:
            words = ['gen', gen, str(seed)]
            for a in args:
                words.append(hexe(self.dtype, a) if gen == 'const' else str(a))
            out.append(' '.join(words))
        for r in sorted(self.rows):
            out.append('row %d %s' % (r, ' '.join(hexe(self.dtype, b) for b in self.rows[r])))
        for r, j, b in self.sets:
            out.append('set %d %d %s' % (r, j, hexe(self.dtype, b)))
        for key, word in PARAMS:
            if key not in self.params:
                continue
            v = self.params[key]
            fmt = (lambda b: '%08x' % b) if key in FLOAT_PARAMS else str
            if isinstance(v, list):
                out.append('%s rows %s' % (word, ' '.join(fmt(b) for b in v)))
            else:
                out.append('%s %s' % (word, fmt(v)))
        for name, n in self.faults:
            out.append('fault %s' % name if n is None else 'fault %s %d' % (name, n))
        out.append('expect status ' + status)
        if status == 'ERR_INVALID_ROWS':
            out.append('expect first_invalid %d' % first_invalid)
        if results and self.op in spec.TOKEN_OPS:
            out.append('expect tokens ' + ' '.join(str(-1 if t is None else t) for t in results))
        elif results:
            for r, res in enumerate(results):
                if res is None:
                    out.append('expect row %d nan' % r)
                elif self.V <= 64:
                    out.append('expect row %d %s' % (r, ' '.join('%08x' % spec.f32_bits(x)
                                                                   for x in res)))
                else:
                    out.append('expect rowhash %d %016x' % (r, spec.fnv1a64_f32(res)))
        out.append('end')
        return '\n'.join(out) + '\n'


def tokens(case):
    """Evaluate a case now (for the generator's own consistency asserts)."""
    return case.evaluate()[2]


# ---------------------------------------------------------------------------
# Small helpers for building rows

def logit_row(values):
    return [f32(x) if not isinstance(x, Bits) else x for x in values]


def kept_of(row_out):
    """Indices with a nonzero renorm output (the kept set, for asserts)."""
    return [i for i, x in enumerate(row_out) if x != 0.0]


# ---------------------------------------------------------------------------
# philox.corpus, sexp.corpus, weights.corpus

KAT = [
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0)),
]


def philox_lines():
    rng = random.Random(1001)
    inputs = list(KAT)
    # draws: counter (offset lo, offset hi, row lo, row hi), key (seed lo, seed hi)
    for seed, offset, sub in ((0, 0, 0), (0, 0, 1), (1, 0, 0), (0, 1, 0), (2 ** 64 - 1, 2 ** 64 - 1, 0),
                              (0x123456789abcdef0, 2 ** 32 + 5, 7), (42, 1000, 3)):
        inputs.append(((offset & 0xFFFFFFFF, offset >> 32, sub, 0), (seed & 0xFFFFFFFF, seed >> 32)))
    # generators: counter (J div 4, R, 0x73616d70, 0)
    for q, r, seed in ((0, 0, 0), (1, 0, 7), (0, 3, 7), (64000, 1, 11), (2 ** 21 - 1, 0, 99)):
        inputs.append(((q, r, GEN_WORD2, 0), (seed & 0xFFFFFFFF, seed >> 32)))
    for _ in range(80):
        inputs.append((tuple(rng.getrandbits(32) for _ in range(4)),
                       tuple(rng.getrandbits(32) for _ in range(2))))
    lines = []
    for ctr, key in dict.fromkeys(inputs):      # without repeats, in order
        out = spec.philox4x32_10(*ctr, *key)
        lines.append('philox ' + ' '.join('%08x' % w for w in ctr + key + out))
    return lines


def sexp_zs():
    rng = random.Random(1002)
    zs = [0.0, -0.0, -64.0, F(0xC27FFFFF), -FLT_TRUE_MIN, F(0x807FFFFF), -FLT_MIN,
          -2.0 ** -24, -2.0 ** -25, -0.5, -1.0, -2.0, -10.0, -27.0, -32.0, -63.0]
    zs += [f32(-math.log(2) * i) for i in range(1, 93)]
    zs += [-i * 2.0 ** -26 for i in range(1, 65)]
    # z with f32(z * L2E) on or next to a half integer: rint ties to even
    for n in range(-92, 0):
        z0 = f32((n + 0.5) / spec.L2E)
        for d in range(-3, 4):
            z = F(spec.f32_bits(z0) + d)
            if -64.0 <= z <= 0.0:
                zs.append(z)
    # where the weight floor(e * 2^40) goes from 1 to 0 (z near -40 ln 2)
    lo, hi = spec.f32_bits(-27.0), spec.f32_bits(-28.0)   # negative: larger bits = smaller z
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if spec.weight_of_e(spec.sexp(F(mid))) >= 1:
            lo = mid
        else:
            hi = mid
    zs += [F(b) for b in range(lo - 3, hi + 4)]
    zs += [f32(-rng.random() * 64) for _ in range(800)]
    zs += [f32(-rng.random()) for _ in range(300)]
    zs += [-math.ldexp(1.0 + rng.getrandbits(23) * 2.0 ** -23, -rng.randint(1, 149))
           for _ in range(200)]
    seen = set()
    out = []
    for z in zs:
        z = f32(z)
        b = spec.f32_bits(z)
        if b not in seen and -64.0 <= z <= 0.0:
            seen.add(b)
            out.append(z)
    return out


def sexp_lines():
    lines = []
    for z in sexp_zs():
        e = spec.sexp(z)
        lines.append('sexp %08x %08x %d' % (spec.f32_bits(z), spec.f32_bits(e), spec.weight_of_e(e)))
    return lines


def weight_lines():
    rng = random.Random(1003)
    ms = [1.0, 0.5, 0.75, F(0x3F7FFFFF), F(0x3F800001), 2.0, 3.0, FLT_TRUE_MIN, 3 * FLT_TRUE_MIN,
          F(0x007FFFFF), FLT_MIN, FLT_MAX, 2.0 ** 127, f32(1e-30), f32(1e30), f32(0.1),
          65504.0, 2.0 ** -24, 2.0 ** -133, f32(1 / 3), 1.5, 2.0 ** 39, 2.0 ** 40, 2.0 ** -40]
    for _ in range(20):
        ms.append(F(rng.randrange(1, 0x7F800000)))
    lines = []
    for m in ms:
        E = math.frexp(m)[1]
        ps = [m, 0.0, -0.0, f32(m / 2), down(m), f32(m * 0.999), f32(m / 3)]
        # p = 2^(E-40) has weight 1, below it weight 0 (when representable)
        for e in (E - 40, E - 41):
            p = math.ldexp(1.0, e)
            if p >= FLT_TRUE_MIN:
                ps += [p, down(p), up(p)]
        ps += [f32(m * rng.random()) for _ in range(4)]
        ps.append(FLT_TRUE_MIN)
        for p in ps:
            if p <= m:
                lines.append('pweight %08x %08x %d' % (spec.f32_bits(m), spec.f32_bits(p),
                                                       spec.prob_weight(m, p)))
    return lines


# ---------------------------------------------------------------------------
# Case files

def probs_cases():
    C = []
    # p = [0.5, 0.25, 0.25, 0]: w = [2^39, 2^38, 2^38, 0]
    base = [0.5, 0.25, 0.25, 0.0]
    C.append(Case('basic', 'probs', 1, 4, note='p = [0.5, 0.25, 0.25, 0]: w = [2^39, 2^38, 2^38, 0]')
             .row(0, base))
    for s in (0, 1, 2, 3, 12345, 2 ** 32, 2 ** 64 - 1):
        C.append(Case('basic_seed_%d' % s, 'probs', 1, 4, seed=s).row(0, base))
    for o in (1, 2, 2 ** 32, 2 ** 32 + 1, 2 ** 64 - 1):
        C.append(Case('basic_offset_%d' % o, 'probs', 1, 4, seed=77, offset=o).row(0, base))
    C.append(Case('unnormalised', 'probs', 2, 5, seed=5,
                  note='rows need not sum to 1').row(0, [3.0, 1.0, 7.5, 0.0, 2.0])
             .row(1, [1e-20, 3e-21, 0.0, 7e-20, 1e-25]))
    C.append(Case('v1', 'probs', 3, 1, seed=9).row(0, [0.3]).row(1, [FLT_TRUE_MIN]).row(2, [FLT_MAX]))
    C.append(Case('one_nonzero', 'probs', 2, 6, seed=3).row(0, [0, 0, 0, 0, 0, 0.001])
             .row(1, [-0.0, 2.0 ** -149, -0.0, 0.0, 0.0, 0.0]))
    C.append(Case('negzero_valid', 'probs', 1, 4, seed=4,
                  note='-0.0 counts as 0').row(0, [-0.0, 0.5, -0.0, 0.5]))
    C.append(Case('tiny_floor_zero', 'probs', 1, 5, seed=8,
                  note='p far below the max: weights floor to 0 and are never drawn')
             .row(0, [1.0, 2.0 ** -41, 2.0 ** -40, F(0x00000001), 2.0 ** -39]))
    # wide dynamic range, generated
    C.append(Case('wide_f32', 'probs', 6, 40, seed=11).gen('probs_wide', 21))
    C.append(Case('uniform_f32', 'probs', 6, 33, seed=12).gen('probs_uniform', 22))
    C.append(Case('ties_f32', 'probs', 6, 19, seed=13).gen('probs_ties', 23, 3))
    # strides with padding
    C.append(Case('stride', 'probs', 4, 10, stride=13, seed=14).gen('probs_uniform', 24))
    C.append(Case('stride_plus1', 'probs', 3, 7, stride=8, seed=15, k=3).gen('probs_wide', 25))
    # one seed: identical rows differ by subsequence
    c = Case('one_seed_subseq', 'probs', 8, 16, seed=2024, offset=3,
             note='one seed: identical flat rows, row r uses subsequence r')
    c.gen('const', 0, 0x3D800000)
    C.append(c)
    assert len(set(tokens(c))) > 1
    # per-row seeds: the same row at several positions gives the same token
    rowA = [0.1, 0.2, 0.05, 0.3, 0.15, 0.2]
    rowB = [0.6, 0.0, 0.1, 0.1, 0.1, 0.1]
    c = Case('per_row_seed_same_row', 'probs', 5, 6, seed=[99, 5, 99, 6, 99],
             offset=[17, 1, 17, 2, 17],
             note='rows 0, 2, 4 are the same row with the same seed and offset: same token')
    c.row(0, rowA).row(1, rowB).row(2, rowA).row(3, rowB).row(4, rowA)
    C.append(c)
    t = tokens(c)
    assert t[0] == t[2] == t[4]
    c1 = Case('per_row_seed_alone', 'probs', 1, 6, seed=[99], offset=[17],
              note='the row of per_row_seed_same_row alone: the same token again').row(0, rowA)
    C.append(c1)
    assert tokens(c1)[0] == t[0]
    c2 = Case('one_seed_equiv', 'probs', 1, 6, seed=99, offset=17,
              note='one seed, row 0: subsequence 0, so the same stream as per-row seed 99')
    C.append(c2.row(0, rowA))
    assert tokens(c2)[0] == t[0]
    # per-row seeds only (one offset), per-row offsets only (one seed, subsequence r)
    C.append(Case('per_row_seeds_only', 'probs', 4, 8, seed=[1, 2, 3, 2 ** 63], offset=10)
             .gen('const', 0, 0x3F800000))
    C.append(Case('per_row_offsets_only', 'probs', 4, 8, seed=31, offset=[0, 1, 2 ** 33, 5])
             .gen('const', 0, 0x3F800000))
    # successive offsets walk the stream
    for o in range(6):
        C.append(Case('offset_walk_%d' % o, 'probs', 2, 12, seed=123456789, offset=o)
                 .gen('probs_uniform', 31))
    # per-row filter parameters
    C.append(Case('per_row_params', 'probs', 4, 12, seed=41, k=[0, 1, 3, 12],
                  P=[1.0, 0.5, 0.9, 0.3], Q=[0.0, 0.0, 0.2, 0.5]).gen('probs_uniform', 32))
    # f16 / bf16
    C.append(Case('f16', 'probs', 3, 20, dtype='f16', seed=42, P=0.8).gen('probs_wide', 33))
    C.append(Case('bf16', 'probs', 3, 20, dtype='bf16', seed=43, k=5).gen('probs_wide', 34))
    return C


def logits_cases():
    C = []
    l4 = logit_row([1.0, 3.0, -INF, 2.0])
    C.append(Case('basic', 'logits', 1, 4, seed=1).row(0, l4))
    C.append(Case('t1_explicit', 'logits', 1, 4, seed=1, T=1.0).row(0, l4))
    for i, T in enumerate((0.5, 2.0, 0.7, 1.3, 10.0)):
        C.append(Case('temp_%d' % i, 'logits', 3, 16, seed=2 + i, T=T).gen('logits_bell', 50 + i, -2))
    # greedy
    g = logit_row([-INF, 3.0, 5.0, 5.0, -INF, 4.0])
    C.append(Case('greedy_ties', 'logits', 1, 6, T=0.0,
                  note='T = 0: smallest index of the maximum; no draw').row(0, g))
    C.append(Case('greedy_filters_ignored', 'logits', 1, 6, T=0.0, k=1, P=0.01, Q=0.99,
                  seed=5).row(0, g))
    C.append(Case('greedy_negzero', 'logits', 2, 3, T=0.0,
                  note='-0.0 == +0.0: the first of them is the maximum')
             .row(0, [-0.0, 0.0, -1.0]).row(1, [-INF, 0.0, -0.0]))
    C.append(Case('greedy_t_negzero', 'logits', 1, 4, T=-0.0,
                  note='T = -0.0 is not < 0 and equals 0: greedy').row(0, [1.0, 2.0, 2.0, 0.0]))
    C.append(Case('greedy_all_neg_inf_but_one', 'logits', 1, 5, T=0.0)
             .row(0, [-INF, -INF, -INF, -1e30, -INF]))
    C.append(Case('greedy_f16', 'logits', 3, 24, dtype='f16', T=0.0).gen('logits_bell', 51, -3))
    # tiny temperature: only the maximum ties get weight
    tl = logit_row([1.0, 3.0, 3.0, 2.0, 3.0, F(0x403FFFFF)])
    for s in range(4):
        C.append(Case('t_tiny_%d' % s, 'logits', 1, 6, T=1e-30, seed=s,
                      note='T = 1e-30: z = -inf or < -64 except at the maximum (3 ties)').row(0, tl))
    C.append(Case('t_subnormal', 'logits', 1, 6, T=Bits(1), seed=7).row(0, tl))
    C.append(Case('t_small_near_max', 'logits', 1, 3, T=1e-8, seed=8,
                  note='1 - 2^-24 below the max with T = 1e-8: z = -5.96, a real weight')
             .row(0, [1.0, F(0x3F7FFFFF), 0.0]))
    # huge temperature
    C.append(Case('t_huge', 'logits', 2, 8, T=1e30, seed=9).gen('logits_uniform', 60, -18))
    C.append(Case('t_huge_big_logits', 'logits', 1, 5, T=1e30, seed=10)
             .row(0, logit_row([0.0, -1e30, -3e30, 1e31, -6e31])))
    C.append(Case('t_flt_max', 'logits', 1, 3, T=FLT_MAX, seed=11,
                  note='FLT_MAX - 0: z = -1/1 in range')
             .row(0, [FLT_MAX, 0.0, f32(-1e38)]))
    C.append(Case('sub_overflow', 'logits', 1, 3, T=FLT_MAX, seed=12,
                  note='-FLT_MAX - FLT_MAX overflows to -inf in float32: weight 0\n'
                       '(the real quotient is -2, which would give a weight)')
             .row(0, [FLT_MAX, -FLT_MAX, 0.0]))
    # -inf and z < -64
    C.append(Case('neg_inf_all_but_one', 'logits', 3, 5, seed=13)
             .row(0, [-INF, -INF, 5.0, -INF, -INF]).row(1, [-INF] * 4 + [FLT_MAX])
             .row(2, [-FLT_MAX] + [-INF] * 4))
    C.append(Case('z_cutoff', 'logits', 1, 8, seed=14,
                  note='z = -64 exactly, just below, far below; weights of z < -27.7 floor to 0')
             .row(0, [0.0, -64.0, F(0xC2800001), -100.0, -1e38, -27.0, -28.0, -FLT_MAX]))
    for s in range(3):
        C.append(Case('z_cutoff_draw_%d' % s, 'logits', 1, 6, seed=100 + s, T=0.5)
                 .row(0, [-20.0, -13.5, -14.0, -13.8, -13.0, -30.0]))
    # filters with logits
    C.append(Case('filters', 'logits', 4, 32, seed=15, T=0.8, k=[5, 0, 32, 1],
                  P=[0.9, 0.5, 1.0, 0.9], Q=[0.0, 0.1, 0.05, 0.0]).gen('logits_bell', 52, -2))
    # per-row temperatures, including greedy rows among sampled ones
    C.append(Case('per_row_t', 'logits', 5, 16, seed=16, T=[0.0, 1.0, 0.5, 0.0, 2.0])
             .gen('logits_uniform', 53, -20))
    C.append(Case('per_row_seeds', 'logits', 4, 16, seed=[1, 1, 2, 1], offset=[9, 9, 9, 10])
             .all_rows(logit_row([0.25 * i for i in range(16)])))
    t = tokens(C[-1])
    assert t[0] == t[1]
    # strides
    C.append(Case('stride', 'logits', 3, 9, stride=16, seed=17, T=0.9).gen('logits_bell', 54, -1))
    C.append(Case('uniform_many', 'logits', 6, 50, seed=18, T=1.1).gen('logits_uniform', 55, -19))
    # dtypes
    C.append(Case('f16', 'logits', 3, 30, dtype='f16', seed=19, T=0.6).gen('logits_uniform', 56, -7))
    C.append(Case('bf16', 'logits', 3, 30, dtype='bf16', seed=20, T=0.6, P=0.9)
             .gen('logits_uniform', 57, -3))
    return C


def filter_cases():
    """Top-k, top-p, min-p edges.  renorm shows the kept set exactly; probs draws from it."""
    C = []
    # p sums to 1, max 0.5 (E = 0): w = p * 2^40, M = 2^40.  Order: 1, 3, 2, 0, 4.
    # S = 0.5, 0.75, 0.875, 0.9375, 1 (times 2^40)
    p = [0.0625, 0.5, 0.125, 0.25, 0.0625]
    expect = {
        'p_half': (0.5, [1]),
        'p_on_s2': (0.75, [1, 3]),
        'p_above_s2': (up(0.75), [1, 2, 3]),
        'p_below_s2': (down(0.75), [1, 3]),
        'p_on_s3': (0.875, [1, 2, 3]),
        'p_above_s3': (up(0.875), [0, 1, 2, 3]),
        'p_on_s4': (0.9375, [0, 1, 2, 3]),
        'p_above_s4': (up(0.9375), [0, 1, 2, 3, 4]),
        'p_one': (1.0, [0, 1, 2, 3, 4]),
        'p_below_one': (down(1.0), [0, 1, 2, 3, 4]),
        'p_2m40': (2.0 ** -40, [1]),
        'p_subnormal': (FLT_TRUE_MIN, [1]),
    }
    for name, (P, kept) in expect.items():
        c = Case('renorm_' + name, 'renorm', 1, 5, P=P,
                 note='P * M = S_L exactly on a cumulative boundary, or one float above/below'
                 if name.startswith('p_on_') else None).row(0, p)
        C.append(c)
        got = kept_of(tokens(c)[0])
        assert got == kept, (name, got)
        for s in range(2):
            C.append(Case('probs_%s_%d' % (name, s), 'probs', 1, 5, P=P, seed=300 + s).row(0, p))
    # tied groups straddling the boundaries: max 0.25 (E = -1), w = p * 2^41
    t = [0.25, 0.125, 0.25, 0.25, 0.125, 0.25, 0.0625]
    # order: 0, 2, 3, 5, 1, 4, 6; w: 2^39 x4, 2^38 x2, 2^37
    for k, kept in ((0, [0, 1, 2, 3, 4, 5, 6]), (1, [0]), (2, [0, 2]), (3, [0, 2, 3]),
                    (5, [0, 1, 2, 3, 5]), (6, [0, 1, 2, 3, 4, 5]), (7, [0, 1, 2, 3, 4, 5, 6]),
                    (8, [0, 1, 2, 3, 4, 5, 6]), (2 ** 31 - 1, [0, 1, 2, 3, 4, 5, 6])):
        c = Case('renorm_tie_k%d' % k, 'renorm', 1, 7, k=k,
                 note='k = %d in a row of tied weights: ties go to the smaller index' % k).row(0, t)
        C.append(c)
        assert kept_of(tokens(c)[0]) == kept, k
        C.append(Case('probs_tie_k%d' % k, 'probs', 2, 7, k=k, seed=400 + k).all_rows(t))
    # top-k 4 -> M_k = 2^41; P = 0.5 -> tau = 2^40 = S_2 exactly
    for P, kept in ((0.5, [0, 2]), (up(0.5), [0, 2, 3]), (0.75, [0, 2, 3]), (down(0.75), [0, 2, 3]),
                    (up(0.75), [0, 2, 3, 5])):
        c = Case('renorm_tie_k4_p%08x' % spec.f32_bits(P), 'renorm', 1, 7, k=4, P=P,
                 note='top-k 4 then top-p: P * M_k = S_L inside a tied group').row(0, t)
        C.append(c)
        assert kept_of(tokens(c)[0]) == kept, P
    # min-p: w_max = 2^39, Q = 0.5 -> theta = 2^38 = weight of p = 0.125 (kept)
    for Q, kept in ((0.0, [0, 1, 2, 3, 4, 5, 6]), (-0.0, [0, 1, 2, 3, 4, 5, 6]),
                    (0.25, [0, 1, 2, 3, 4, 5, 6]), (up(0.25), [0, 1, 2, 3, 4, 5]),
                    (0.5, [0, 1, 2, 3, 4, 5]), (up(0.5), [0, 2, 3, 5]), (down(1.0), [0, 2, 3, 5])):
        c = Case('renorm_minp_%08x' % spec.f32_bits(Q), 'renorm', 1, 7, Q=Q,
                 note='min-p: theta = ceil(Q * w_max) equal to a weight, or just above').row(0, t)
        C.append(c)
        assert kept_of(tokens(c)[0]) == kept, Q
        C.append(Case('probs_minp_%08x' % spec.f32_bits(Q), 'probs', 1, 7, Q=Q, seed=77).row(0, t))
    # w_max not a power of two: p max 0.75 -> w_max = 3 * 2^38; Q = 0.5 -> theta = 3 * 2^37
    c = Case('renorm_minp_theta_odd', 'renorm', 1, 4, Q=0.5,
             note='w_max = 3*2^38, theta = 3*2^37 = weight of 0.375').row(0, [0.75, 0.375, F(0x3EBFFFFF), 0.5])
    C.append(c)
    assert kept_of(tokens(c)[0]) == [0, 1, 3]
    # all three filters at once, L = min(L_k, L_p, L_m), each one binding in turn
    g = Case('all_three_a', 'renorm', 3, 24, k=[3, 20, 20], P=[0.99, 0.3, 0.99], Q=[0.0, 0.0, 0.6])
    C.append(g.gen('probs_uniform', 61))
    C.append(Case('all_three_b', 'probs', 3, 24, seed=62, k=[3, 20, 20], P=[0.99, 0.3, 0.99],
                  Q=[0.0, 0.0, 0.6]).gen('probs_uniform', 61))
    # top-p keeps trailing zero weights only when P = 1; top-k keeps zero weights
    z = [0.0, 0.5, 0.0, 0.5, 0.0]
    # and min-p with the smallest subnormal Q has theta = 1: it drops exactly the zero weights
    for name, kw in (('zeros_p1', {}), ('zeros_p_below1', {'P': down(1.0)}), ('zeros_k4', {'k': 4}),
                     ('zeros_q_subnormal', {'Q': FLT_TRUE_MIN})):
        C.append(Case('renorm_' + name, 'renorm', 1, 5, **kw).row(0, z))
        C.append(Case('mask_' + name, 'mask', 1, 5, **kw)
                 .row(0, [-INF, 0.0, -100.0, 0.0, -30.0]))
    # k = 0, 1, V-1, V, V+1 on probs, logits and mask
    for k in (0, 1, 9, 10, 11):
        C.append(Case('probs_k%d' % k, 'probs', 3, 10, k=k, seed=500 + k).gen('probs_ties', 63, 4))
        C.append(Case('logits_k%d' % k, 'logits', 3, 10, k=k, seed=510 + k, T=0.5)
                 .gen('logits_bell', 64, -2))
        C.append(Case('mask_k%d' % k, 'mask', 2, 10, k=k).gen('logits_bell', 65, -2))
    # top-p boundaries on logits: exact weights 2^40 and 2^39-ish via z = 0
    C.append(Case('mask_tie_logits', 'mask', 1, 6, k=2,
                  note='equal logits straddling the top-k boundary')
             .row(0, [1.0, 2.0, 2.0, 0.5, 2.0, 2.0]))
    C.append(Case('mask_p_tie_logits', 'mask', 1, 6, P=0.5,
                  note='4 equal weights 2^40: tau = 2^41 = S_2').row(0, [1.0, 2.0, 2.0, 0.5, 2.0, 2.0]))
    for s in range(3):
        C.append(Case('logits_p_tie_%d' % s, 'logits', 1, 6, P=0.5, seed=600 + s)
                 .row(0, [1.0, 2.0, 2.0, 0.5, 2.0, 2.0]))
    C.append(Case('p_tiny_logits', 'logits', 2, 12, P=2.0 ** -40, seed=71, T=2.0)
             .gen('logits_bell', 66, -1))
    C.append(Case('q_near_one', 'probs', 2, 12, Q=down(1.0), seed=72).gen('probs_ties', 67, 5))
    return C


def renorm_cases():
    C = []
    C.append(Case('basic', 'renorm', 1, 4, k=2, note='2/3 and 1/3').row(0, [0.5, 0.25, 0.25, 0.0]))
    C.append(Case('no_filter', 'renorm', 3, 17).gen('probs_uniform', 70))
    C.append(Case('thirds', 'renorm', 1, 3).row(0, [1.0, 1.0, 1.0]))
    C.append(Case('v1', 'renorm', 2, 1).row(0, [0.25]).row(1, [FLT_TRUE_MIN]))
    C.append(Case('stride_out_stride', 'renorm', 3, 10, stride=12, out_stride=11, k=4, P=0.8)
             .gen('probs_wide', 71))
    C.append(Case('out_stride_only', 'renorm', 2, 7, out_stride=9, Q=0.3).gen('probs_uniform', 72))
    C.append(Case('per_row', 'renorm', 4, 20, k=[0, 3, 10, 21], P=[0.5, 1.0, 0.7, 0.95],
                  Q=[0.1, 0.0, 0.0, 0.3]).gen('probs_ties', 73, 7))
    C.append(Case('wide', 'renorm', 3, 64, P=0.999).gen('probs_wide', 74))
    C.append(Case('v65_hash', 'renorm', 2, 65, k=30).gen('probs_uniform', 75))
    C.append(Case('v200_hash', 'renorm', 2, 200, stride=201, out_stride=205, P=0.9)
             .gen('probs_wide', 76))
    C.append(Case('f16', 'renorm', 2, 30, dtype='f16', k=10).gen('probs_wide', 77))
    C.append(Case('bf16', 'renorm', 2, 30, dtype='bf16', P=0.6).gen('probs_uniform', 78))
    C.append(Case('unnormalised_big', 'renorm', 1, 4, note='max FLT_MAX: E = 128')
             .row(0, [FLT_MAX, f32(1e38), 1.0, 2.0 ** 100]))
    C.append(Case('subnormal_row', 'renorm', 1, 4, note='all subnormal: E = -147')
             .row(0, [FLT_TRUE_MIN, 2 * FLT_TRUE_MIN, 3 * FLT_TRUE_MIN, 0.0]))
    return C


def mask_cases():
    C = []
    C.append(Case('basic', 'mask', 1, 4, k=2).row(0, [1.0, 3.0, -INF, 2.0]))
    C.append(Case('keeps_values', 'mask', 1, 6, P=0.9,
                  note='kept logits are written as given, -0.0 included')
             .row(0, [-0.0, 0.0, F(0x3F800001), -INF, -1e30, F(0x80000001)]))
    C.append(Case('t_scaled', 'mask', 3, 24, T=0.3, P=0.8).gen('logits_bell', 80, -2))
    C.append(Case('t_huge', 'mask', 1, 8, T=1e30, k=3).gen('logits_uniform', 81, -18))
    C.append(Case('t_tiny', 'mask', 1, 6, T=1e-30, P=0.5, note='only the maximum ties have weight')
             .row(0, [1.0, 3.0, 3.0, 2.0, 3.0, 3.0]))
    C.append(Case('t_subnormal_q', 'mask', 1, 6, T=Bits(1), Q=0.5).row(0, [1.0, 3.0, 3.0, 2.0, 3.0, 3.0]))
    C.append(Case('z_cutoff_kept', 'mask', 1, 5, k=5,
                  note='k = V keeps tokens whose weight is 0; they keep their logits')
             .row(0, [0.0, -100.0, -INF, -64.0, -1e38]))
    C.append(Case('min_p', 'mask', 2, 20, Q=0.2, T=1.5).gen('logits_uniform', 82, -20))
    C.append(Case('per_row_t', 'mask', 3, 12, T=[0.5, 1.0, 4.0], P=0.7).gen('logits_bell', 83, -1))
    C.append(Case('stride_out', 'mask', 2, 9, stride=10, out_stride=12, k=4).gen('logits_bell', 84, -3))
    C.append(Case('sub_overflow', 'mask', 1, 3, T=FLT_MAX, k=2,
                  note='-FLT_MAX - FLT_MAX = -inf: weight 0, after the 0.0 logit')
             .row(0, [FLT_MAX, -FLT_MAX, 0.0]))
    C.append(Case('v100_hash', 'mask', 2, 100, T=0.9, P=0.95, k=40).gen('logits_uniform', 85, -19))
    C.append(Case('f16', 'mask', 2, 16, dtype='f16', P=0.9).gen('logits_uniform', 86, -8))
    C.append(Case('bf16', 'mask', 2, 16, dtype='bf16', k=6, T=0.7).gen('logits_bell', 87, -2))
    C.append(Case('v1', 'mask', 1, 1, k=1).row(0, [5.0]))
    return C


def softmax_cases():
    C = []
    C.append(Case('basic', 'softmax', 1, 3).row(0, [0.0, 0.0, -INF]))
    C.append(Case('t1_explicit', 'softmax', 1, 4, T=1.0).row(0, [1.0, 2.0, 3.0, 4.0]))
    C.append(Case('temps', 'softmax', 4, 20, T=[0.25, 1.0, 3.0, 100.0]).gen('logits_bell', 90, -2))
    C.append(Case('t_tiny', 'softmax', 1, 5, T=1e-30).row(0, [1.0, 3.0, 3.0, 2.0, -INF]))
    C.append(Case('t_subnormal', 'softmax', 1, 3, T=Bits(1)).row(0, [0.0, -FLT_TRUE_MIN, 0.0]))
    C.append(Case('t_huge', 'softmax', 1, 6, T=1e30).row(0, logit_row([0, -1e30, -3e30, 1e31, -INF, 5e30])))
    C.append(Case('t_flt_max', 'softmax', 1, 3, T=FLT_MAX).row(0, [FLT_MAX, -FLT_MAX, 0.0]))
    C.append(Case('z_cutoff', 'softmax', 1, 6).row(0, [0.0, -64.0, F(0xC2800001), -27.0, -28.0, -10.0]))
    C.append(Case('v1', 'softmax', 2, 1).row(0, [3.0]).row(1, [-1e30]))
    C.append(Case('stride_out', 'softmax', 3, 13, stride=14, out_stride=20, T=0.6)
             .gen('logits_uniform', 91, -20))
    C.append(Case('v300_hash', 'softmax', 2, 300, T=0.8).gen('logits_uniform', 92, -19))
    C.append(Case('f16', 'softmax', 2, 24, dtype='f16', T=1.7).gen('logits_uniform', 93, -7))
    C.append(Case('bf16', 'softmax', 2, 24, dtype='bf16').gen('logits_bell', 94, -2))
    return C


def argmax_cases():
    C = []
    C.append(Case('probs_basic', 'argmax_probs', 1, 5).row(0, [0.1, 0.4, 0.2, 0.4, 0.0]))
    C.append(Case('probs_negzero', 'argmax_probs', 1, 4).row(0, [-0.0, 0.0, FLT_TRUE_MIN, 0.0]))
    C.append(Case('probs_gen', 'argmax_probs', 5, 37, stride=40).gen('probs_ties', 100, 6))
    C.append(Case('probs_invalid', 'argmax_probs', 5, 3)
             .row(0, [0.0, -0.0, 0.0]).row(1, [0.5, NAN, 0.5]).row(2, [1.0, -1.0, 0.0])
             .row(3, [INF, 1.0, 0.0]).row(4, [0.0, 2.0, 2.0]))
    C.append(Case('logits_basic', 'argmax_logits', 1, 5).row(0, [-INF, 2.0, -1.0, 2.0, -INF]))
    C.append(Case('logits_negzero', 'argmax_logits', 2, 3).row(0, [-0.0, 0.0, -5.0])
             .row(1, [-1.0, -0.0, 0.0]))
    C.append(Case('logits_invalid', 'argmax_logits', 5, 3)
             .row(0, [-INF, -INF, -INF]).row(1, [0.0, INF, 1.0]).row(2, [NAN, 0.0, 1.0])
             .row(3, [-FLT_MAX, -INF, -INF]).row(4, [1.0, -INF, Bits(0xFFC00000)]))
    C.append(Case('logits_gen', 'argmax_logits', 4, 50).gen('logits_bell', 101, -1))
    C.append(Case('v1', 'argmax_logits', 2, 1).row(0, [-3.0]).row(1, [-INF]))
    C.append(Case('probs_f16', 'argmax_probs', 3, 20, dtype='f16').gen('probs_wide', 102))
    C.append(Case('logits_bf16', 'argmax_logits', 3, 20, dtype='bf16', stride=21)
             .gen('logits_uniform', 103, -3))
    C.append(Case('logits_f16_max', 'argmax_logits', 1, 4, dtype='f16')
             .row(0, [65504.0, -65504.0, 65504.0, -INF]))
    return C


def dtype_cases():
    C = []
    # f16: subnormals, max, -inf; bf16: subnormals, large values
    C.append(Case('f16_probs_subnormal', 'renorm', 1, 4, dtype='f16',
                  note='f16 subnormals 2^-24, 2^-23, 3*2^-24: E = -21')
             .row(0, [2.0 ** -24, 2.0 ** -23, 3 * 2.0 ** -24, 0.0]))
    C.append(Case('f16_probs_max', 'renorm', 1, 3, dtype='f16').row(0, [65504.0, 1.0, 2.0 ** -24]))
    C.append(Case('bf16_probs_subnormal', 'renorm', 1, 3, dtype='bf16')
             .row(0, [2.0 ** -133, 2.0 ** -132, 0.0]))
    C.append(Case('bf16_probs_big', 'renorm', 1, 3, dtype='bf16')
             .row(0, [spec.bf16_from_bits(0x7F7F), 1.0, 2.0 ** 120]))
    C.append(Case('f16_logits_edges', 'softmax', 1, 5, dtype='f16')
             .row(0, [65504.0, -65504.0, -INF, 65472.0, 65440.0]))
    C.append(Case('bf16_logits_edges', 'mask', 1, 4, dtype='bf16', k=3)
             .row(0, [spec.bf16_from_bits(0x7F7F), -spec.bf16_from_bits(0x7F7F), -INF, 0.0]))
    for dt in ('f32', 'f16', 'bf16'):
        E = {'f32': -20, 'f16': -7, 'bf16': -3}[dt]
        C.append(Case('%s_probs' % dt, 'probs', 4, 25, dtype=dt, seed=110, k=10, P=0.9)
                 .gen('probs_uniform', 111))
        C.append(Case('%s_probs_wide' % dt, 'probs', 4, 25, dtype=dt, seed=112, Q=0.01)
                 .gen('probs_wide', 113))
        C.append(Case('%s_probs_ties' % dt, 'probs', 4, 25, dtype=dt, seed=114).gen('probs_ties', 115, 9))
        C.append(Case('%s_logits' % dt, 'logits', 4, 25, dtype=dt, seed=116, T=0.7, P=0.95)
                 .gen('logits_uniform', 117, E))
        C.append(Case('%s_logits_bell' % dt, 'logits', 4, 25, dtype=dt, seed=118, k=7)
                 .gen('logits_bell', 119, -2))
        C.append(Case('%s_renorm' % dt, 'renorm', 2, 25, dtype=dt, stride=27, out_stride=26, P=0.8)
                 .gen('probs_wide', 120))
        C.append(Case('%s_mask' % dt, 'mask', 2, 25, dtype=dt, stride=30, Q=0.1)
                 .gen('logits_uniform', 121, E))
        C.append(Case('%s_softmax' % dt, 'softmax', 2, 25, dtype=dt, T=1.5).gen('logits_bell', 122, -2))
        C.append(Case('%s_argmax_probs' % dt, 'argmax_probs', 2, 25, dtype=dt).gen('probs_ties', 123, 5))
        C.append(Case('%s_argmax_logits' % dt, 'argmax_logits', 2, 25, dtype=dt)
                 .gen('logits_uniform', 124, E))
        C.append(Case('%s_const' % dt, 'probs', 3, 9, dtype=dt, seed=125)
                 .gen('const', 0, spec.encode(dt, 0.5)))
    return C


def invalid_cases():
    C = []
    ok = [0.25, 0.5, 0.25, 0.0]
    c = Case('probs_rows', 'probs', 9, 4, seed=130,
             note='invalid probability rows among valid ones')
    c.row(0, ok).row(1, [0.25, NAN, 0.25, 0.0]).row(2, ok).row(3, [0.25, INF, 0.0, 0.0])
    c.row(4, [0.25, -FLT_TRUE_MIN, 0.5, 0.0]).row(5, [-0.0, -0.0, 0.0, 0.0]).row(6, [0.0] * 4)
    c.row(7, [-0.0, 0.5, -0.0, 0.5]).row(8, [Bits(0x7F800001), 0.1, 0.1, 0.1])
    C.append(c)
    C.append(Case('probs_first_row0', 'probs', 3, 4, seed=131).row(0, [NAN] * 4).row(1, ok)
             .row(2, [-1.0, 0.5, 0.5, 0.5]))
    C.append(Case('probs_last_row', 'probs', 3, 4, seed=132).row(0, ok).row(1, ok)
             .row(2, [0.5, 0.5, 0.5, -INF]))
    lg = [0.5, 1.5, -INF, 0.0]
    c = Case('logits_rows', 'logits', 8, 4, seed=133)
    c.row(0, lg).row(1, [-INF] * 4).row(2, [0.0, NAN, 0.0, 0.0]).row(3, [0.0, INF, 0.0, 0.0])
    c.row(4, lg).row(5, [-INF, -INF, -FLT_MAX, -INF]).row(6, [Bits(0xFFC00000), 0.0, 0.0, 0.0])
    c.row(7, [-0.0, -INF, -0.0, -INF])
    C.append(c)
    C.append(Case('logits_greedy_rows', 'logits', 4, 4, T=0.0, seed=134)
             .row(0, [-INF] * 4).row(1, lg).row(2, [INF, 0.0, 0.0, 0.0]).row(3, lg))
    # parameters out of range, per row
    n = 8
    g = ('probs_uniform', 135)
    C.append(Case('bad_k', 'probs', 4, n, seed=136, k=[1, -1, 0, -2 ** 31]).gen(*g))
    C.append(Case('bad_p', 'probs', 7, n, seed=137,
                  P=[0.5, NAN, 0.0, -0.0, up(1.0), -0.5, Bits(0xFFC00000)]).gen(*g))
    C.append(Case('bad_p_edges_valid', 'probs', 3, n, seed=138, P=[FLT_TRUE_MIN, 1.0, down(1.0)]).gen(*g))
    C.append(Case('bad_p_inf', 'probs', 2, n, seed=139, P=[INF, 1.0]).gen(*g))
    C.append(Case('bad_q', 'probs', 7, n, seed=140,
                  Q=[0.5, NAN, 1.0, -FLT_TRUE_MIN, INF, -0.0, 2.0]).gen(*g))
    C.append(Case('bad_q_scalar', 'probs', 2, n, seed=141, Q=1.0).gen(*g))
    C.append(Case('bad_p_scalar', 'renorm', 2, n, P=0.0).gen(*g))
    C.append(Case('bad_k_scalar', 'renorm', 2, n, k=-5).gen(*g))
    lgen = ('logits_bell', 142, -2)
    C.append(Case('bad_t', 'logits', 7, n, seed=143,
                  T=[1.0, NAN, -1.0, INF, -INF, 0.0, FLT_MAX]).gen(*lgen))
    C.append(Case('bad_t_neg_subnormal', 'logits', 2, n, seed=144, T=[-FLT_TRUE_MIN, 0.5]).gen(*lgen))
    C.append(Case('greedy_bad_params', 'logits', 4, n, seed=145, T=0.0, k=[0, -1, 0, 0],
                  P=[1.0, 1.0, 0.0, 1.0], Q=[0.0, 0.0, 0.0, 1.0],
                  note='T = 0 does not use k, P, Q, but out-of-range ones still make a row invalid')
             .gen(*lgen))
    C.append(Case('mask_t0', 'mask', 3, n, T=[0.5, 0.0, -0.0], note='T = 0 is out of range for mask')
             .gen(*lgen))
    C.append(Case('mask_bad', 'mask', 5, n, T=[INF, 1.0, 1.0, 1.0, NAN], k=[0, -1, 0, 0, 0],
                  P=[1.0, 1.0, 2.0, 1.0, 1.0]).gen(*lgen).set(3, 2, NAN))
    C.append(Case('softmax_t0', 'softmax', 4, n, T=[0.0, 1.0, -0.0, INF]).gen(*lgen))
    C.append(Case('softmax_rows', 'softmax', 3, n).gen(*lgen).set(0, 3, INF).set(2, 0, NAN))
    C.append(Case('renorm_rows', 'renorm', 4, n, P=0.9).gen(*g).set(1, 0, -1.0).set(3, 7, NAN))
    C.append(Case('renorm_all_zero', 'renorm', 2, 3).row(0, [0.0, -0.0, 0.0]).row(1, [0.0, 1.0, 0.0]))
    C.append(Case('f16_rows', 'probs', 4, 6, dtype='f16', seed=146).gen('probs_uniform', 147)
             .set(1, 2, Bits(0x7C00)).set(2, 0, Bits(0xFC01)).set(3, 5, -2.0 ** -24))
    C.append(Case('bf16_rows', 'logits', 4, 6, dtype='bf16', seed=148).gen('logits_bell', 149, -1)
             .set(0, 1, Bits(0x7F80)).set(2, 3, Bits(0x7FC1)))
    C.append(Case('all_invalid', 'probs', 3, 2, seed=150).gen('const', 0, 0x7FC00000))
    return C


def args_cases():
    """Argument faults: each alone with a valid remainder, then a few in pairs to check
    the order of the checks (FORMAT.md)."""
    C = []
    ops = ('probs', 'logits', 'renorm', 'mask', 'softmax', 'argmax_probs', 'argmax_logits')

    def base(name, op, B=2, V=8, **kw):
        c = Case(name, op, B, V, **kw)
        if B >= 0 and 1 <= V <= 1 << 20 and 0 <= c.stride <= 1 << 20 and B * max(V, c.stride) < 1 << 20:
            c.gen('probs_uniform' if op in ('probs', 'renorm', 'argmax_probs') else 'logits_bell',
                  160, *(() if op in ('probs', 'renorm', 'argmax_probs') else (-2,)))
        return c

    for op in ops:
        C.append(base('ok_%s' % op, op))
        C.append(base('b0_%s' % op, op, B=0, note='B = 0 with everything else valid: OK'))
        for f in ('null_tensor', 'null_data', 'null_output'):
            C.append(base('%s_%s' % (f, op), op).fault(f))
        if not op.startswith('argmax'):
            C.append(base('null_params_%s' % op, op).fault('null_params'))
            C.append(base('params_size_%s' % op, op).fault('params_size', 0))
            C.append(base('params_size_big_%s' % op, op).fault('params_size', 4096))
            C.append(base('flags_%s' % op, op).fault('flags', 1))
            C.append(base('flags_high_%s' % op, op).fault('flags', 2 ** 31))
        else:
            C.append(base('kind_%s' % op, op).fault('kind', 2))
            C.append(base('kind_max_%s' % op, op).fault('kind', 2 ** 32 - 1))
        C.append(base('tensor_size_%s' % op, op).fault('tensor_size', 0))
        C.append(base('tensor_size_big_%s' % op, op).fault('tensor_size', 4096))
        C.append(base('dtype3_%s' % op, op, raw_dtype=3))
        C.append(base('dtype_max_%s' % op, op, raw_dtype=2 ** 32 - 1))
        C.append(base('memory2_%s' % op, op).fault('memory', 2))
        C.append(base('reserved_%s' % op, op).fault('reserved', 1))
        C.append(base('v0_%s' % op, op, V=0))
        C.append(base('v_neg_%s' % op, op, V=-1))
        C.append(base('v_max_plus1_%s' % op, op, B=1, V=MAX_VOCAB + 1))
        C.append(base('b_neg_%s' % op, op, B=-1))
        C.append(base('stride_lt_v_%s' % op, op, stride=7))
        C.append(base('stride_neg_%s' % op, op, stride=-8))
        C.append(base('stride_overflow_%s' % op, op, B=8, stride=2 ** 61,
                      note='B * stride * 4 = 2^66 does not fit in 63 bits'))
        if op in spec.ROW_OPS:
            C.append(base('out_stride_lt_v_%s' % op, op, out_stride=7))
            C.append(base('out_stride_neg_%s' % op, op, out_stride=-1))
            C.append(base('out_stride_ok_%s' % op, op, out_stride=8))
    # size overflow at the edge: B * stride * esize = 2^63 fails; 2^63 - 4 passes the
    # shape check (the case then stops at ERR_ARGUMENT, so nothing is allocated)
    C.append(base('size_2p63_f32', 'probs', B=2, stride=2 ** 60))
    C.append(base('size_2p63_f16', 'probs', B=1, stride=2 ** 62, dtype='f16'))
    C.append(base('size_2p63m4_f32', 'probs', B=1, stride=2 ** 61 - 1, T=0.5,
                  note='2^63 - 4 bytes passes the shape check; a temperature on probs is ERR_ARGUMENT'))
    C.append(base('size_2p63m2_bf16', 'renorm', B=1, stride=2 ** 62 - 1, dtype='bf16', seed=1))
    C.append(base('b_huge', 'logits', B=2 ** 62, V=8, note='B * V * 4 overflows'))
    C.append(base('v_max_b_big', 'probs', B=2 ** 40, V=MAX_VOCAB))
    # ERR_ARGUMENT: a parameter the operation does not take
    unused = {
        'probs': [('T', 0.5), ('T', [1.0, 1.0]), ('T', NAN), ('T', 0.0)],
        'logits': [],
        'renorm': [('T', 2.0), ('seed', 1), ('offset', 1), ('seed', [0, 0]), ('offset', [0, 0]),
                   ('T', 0.0)],
        'mask': [('seed', 5), ('offset', 2 ** 63), ('seed', [1, 2]), ('offset', [0, 0])],
        'softmax': [('k', 1), ('k', -1), ('P', 0.5), ('P', 0.0), ('Q', 0.5), ('k', [0, 0]),
                    ('P', [1.0, 1.0]), ('Q', [0.0, 0.0]), ('seed', 3), ('offset', [0, 0])],
    }
    for op, lst in unused.items():
        for i, (key, value) in enumerate(lst):
            C.append(base('argument_%s_%d' % (op, i), op, **{key: value}))
    # neutral values written explicitly are fine
    C.append(base('neutral_explicit_softmax', 'softmax', k=0, P=1.0, Q=0.0, seed=0, offset=0))
    C.append(base('neutral_explicit_renorm', 'renorm', T=1.0, seed=0, offset=0))
    C.append(base('b0_argument', 'softmax', B=0, k=3,
                  note='B = 0 does not skip the argument checks'))
    C.append(base('b0_shape', 'probs', B=0, V=0))
    # order of the checks: the first failing class is the status
    C.append(base('order_null_before_size', 'probs').fault('null_data').fault('tensor_size', 0))
    C.append(base('order_null_before_shape', 'renorm', V=0).fault('null_output'))
    C.append(base('order_size_before_flags', 'logits', raw_dtype=9).fault('params_size', 1))
    C.append(base('order_flags_before_shape', 'probs', B=-1).fault('reserved', 3))
    C.append(base('order_dtype_before_shape', 'mask', stride=3, raw_dtype=5))
    C.append(base('order_shape_before_argument', 'softmax', V=MAX_VOCAB + 1, k=2, B=1))
    C.append(base('order_shape_before_argument_b', 'probs', B=-1, T=2.0))
    C.append(base('order_kind_before_shape', 'argmax_logits', V=0).fault('kind', 7))
    return C


def large_cases():
    C = []
    V = 256000
    C.append(Case('logits_256k', 'logits', 3, V, seed=2 ** 40 + 7, offset=11, T=[0.8, 0.0, 1.2],
                  k=[50, 0, 0], P=[0.9, 1.0, 0.95], Q=[0.0, 0.0, 0.02])
             .gen('logits_bell', 170, -3))
    C.append(Case('logits_256k_uniform', 'logits', 2, V, seed=[5, 6], offset=[1, 2], T=0.7,
                  P=0.8).gen('logits_uniform', 171, -20))
    C.append(Case('logits_256k_f16', 'logits', 1, V, dtype='f16', seed=172, T=1.0, k=1000)
             .gen('logits_uniform', 173, -7))
    C.append(Case('probs_256k', 'probs', 2, V, stride=V + 3, seed=174, P=0.5, Q=0.001)
             .gen('probs_wide', 175))
    C.append(Case('renorm_256k', 'renorm', 1, V, k=1000, P=0.8).gen('probs_uniform', 176))
    C.append(Case('renorm_256k_big_mass', 'renorm', 1, V,
                  note='M_K ~ 2^57 with its low bits set: double(M_K) rounds')
             .gen('probs_uniform', 183).set(0, 5, 3 * 2.0 ** -40).set(0, 9, 2.0 ** -38))
    C.append(Case('mask_256k', 'mask', 1, V, T=0.7, P=0.9, out_stride=V + 1).gen('logits_bell', 177, -3))
    C.append(Case('softmax_256k', 'softmax', 1, V, dtype='bf16', T=1.3,
                  note='W ~ 2^54 with its low bits set: double(W) rounds')
             .gen('logits_uniform', 178, -3))
    C.append(Case('argmax_256k', 'argmax_logits', 2, V, dtype='f16').gen('logits_bell', 179, -2))
    # Rows of probabilities with no filter, read once by the hip backend: the
    # maxima of blocks of 2048 lie 0 to 49 octaves apart (7 per block), and
    # the weights below each block's maximum lose bits there.
    C.append(Case('steps_2p16', 'probs', 3, 2 ** 16, seed=184, offset=[0, 5, 2 ** 40])
             .gen('probs_steps', 185, 7))
    C.append(Case('steps_2p16_b70', 'probs', 70, 2 ** 16, seed=186,
                  note='70 rows: a batch too large for the one-launch kernel on most GPUs')
             .gen('probs_steps', 187, 7))
    C.append(Case('steps_2p16_b70_rows', 'probs', 70, 2 ** 16, seed=193,
                  k=[0 if r % 3 else 40 for r in range(70)],
                  Q=[0.0 if r % 5 else 0.01 for r in range(70)],
                  note='per-row filters: rows with none are read once, the others are not')
             .gen('probs_steps', 194, 7))
    C.append(Case('steps_bf16', 'probs', 2, 30000, dtype='bf16', seed=188)
             .gen('probs_steps', 189, 13))
    C.append(Case('steps_faults', 'probs', 3, 2 ** 16, seed=190,
                  note='a NaN before a negative value, +inf, -0 (valid)')
             .gen('probs_steps', 191, 7)
             .set(0, 50000, -1.0).set(0, 40000, NAN).set(1, 3000, INF)
             .set(2, 0, -0.0).set(2, 20000, -0.0))
    C.append(Case('zeros_2p16', 'probs', 2, 2 ** 16, seed=192, note='every weight 0')
             .gen('const', 0, 0x00000000).set(1, 60000, 2.0 ** -149))
    # Top-k up to 64 from probabilities: the hip backend reads these rows once
    # (each block keeps its chunk's k largest values; the last block merges).
    C.append(Case('topk_2p16', 'probs', 3, 2 ** 16, seed=195, k=50, P=0.9,
                  note='top-k + top-p: the maxima of blocks of 2048 lie 0 to 21 octaves apart')
             .gen('probs_steps', 196, 3))
    C.append(Case('topk_256k', 'probs', 2, V, seed=197, offset=3, k=64, P=0.95, Q=0.002)
             .gen('probs_wide', 198))
    C.append(Case('topk_b70', 'probs', 70, 4096 + 13, seed=199, k=20, P=0.7,
                  note='70 rows in one launch; the last chunk holds fewer than k values')
             .gen('probs_steps', 200, 1))
    C.append(Case('topk_equal', 'probs', 2, 9000, seed=201, k=33, Q=0.5,
                  note='16 distinct values: equal probabilities, ranked by index')
             .gen('probs_ties', 202, 16))
    C.append(Case('topk_bf16', 'probs', 2, 30000, dtype='bf16', seed=203, k=7, P=0.6)
             .gen('probs_steps', 204, 13))
    C.append(Case('topk_faults', 'probs', 2, 2 ** 16, seed=205, k=40,
                  note='a negative value in row 0 (invalid); row 1 valid')
             .gen('probs_steps', 206, 2).set(0, 61000, -0.5))
    C.append(Case('topk_rows', 'probs', 6, 30000, seed=[7, 8, 9, 10, 11, 12],
                  offset=[0, 1, 2, 3, 4, 2 ** 33], k=[1, 7, 64, 33, 50, 20],
                  P=[1.0, 0.5, 0.9, 0.95, 1.5, 0.8], Q=[0.0, 0.1, 0.0, 0.01, 0.0, 0.2],
                  note='per-row parameters, every k in 1 .. 64 (one top-k launch on the GPU);\n'
                  "row 4's top-p is out of range")
             .gen('probs_steps', 207, 2))
    C.append(topk_ties_case())
    C.append(Case('probs_2p23', 'probs', 1, MAX_VOCAB, seed=180, offset=1, k=6000000, P=0.75, Q=0.3,
                  note='the largest vocabulary: 2^23 values; top-p binds (L_p < L_m < L_k)')
             .gen('probs_uniform', 181))
    return C


def topk_ties_case():
    """Weights that tie where values do not: 0.5 everywhere, ten values just
    above 0.5 at 50000.., and 2^19 at 40000.  At E = 20 every 0.5 weighs 2^19
    and so do the ten (their extra is at most 10/16 of a unit), so top-k 50 keeps the
    spike and indices 0 .. 48 (equal weights by index), not the ten larger
    values."""
    V, k, spike = 2 ** 16, 50, 40000
    case = Case('topk_floor_ties', 'probs', 1, V, k=k,
                note='weights that tie where values do not: top-k 50 keeps the spike and\n'
                'indices 0 .. 48 (0.5), not the ten values just above 0.5 at 50000 ..')
    case.gen('const', 0, 0x3F000000).set(0, spike, 2.0 ** 19)
    for q in range(10):
        case.set(0, 50000 + q, F(0x3F000001 + q))
    w = spec.probs_weights(case.value_rows()[0])
    K = spec.kept_set(w, k, 1.0, 0.0)
    assert (K.wb, K.bi) == (w[0], k - 2)
    # In the draw indices 0 .. 48 come first; the seed lands on 39 .. 48, which
    # a top-k that kept the ten larger values instead would not hold.
    lo, hi = sum(w[:39]), sum(w[:k - 1])
    seed = next(s for s in range(1 << 24)
                if lo <= (spec.draw_u64(s, 0, 0) * K.mass) >> 64 < hi)
    return case.param('seed', seed)


def random_cases(count=260):
    rng = random.Random(190)
    C = []
    prob_ops = ('probs', 'renorm', 'argmax_probs')
    for i in range(count):
        op = rng.choice(('probs', 'probs', 'logits', 'logits', 'logits', 'renorm', 'mask', 'softmax',
                         'argmax_probs', 'argmax_logits'))
        dt = rng.choice(('f32', 'f32', 'f16', 'bf16'))
        B = rng.randint(1, 5)
        V = rng.choice((1, 2, 3, rng.randint(4, 40), rng.randint(4, 64), rng.randint(65, 130)))
        stride = rng.choice((0, 0, V, V + rng.randint(1, 5)))
        out_stride = rng.choice((0, 0, V + rng.randint(0, 3))) if op in spec.ROW_OPS else 0
        kw = {}
        takes = spec.OPS[op]

        def pick(gen_one, per_row_chance=0.3):
            if rng.random() < per_row_chance:
                return [gen_one() for _ in range(B)]
            return gen_one()

        if 'k' in takes and rng.random() < 0.6:
            kw['k'] = pick(lambda: rng.choice((0, 1, 2, V - 1, V, V + 1, rng.randint(1, max(1, V)))))
            if isinstance(kw['k'], int):
                kw['k'] = max(kw['k'], 0)
            else:
                kw['k'] = [max(x, 0) for x in kw['k']]
        if 'P' in takes and rng.random() < 0.6:
            kw['P'] = pick(lambda: rng.choice((1.0, f32(rng.uniform(0.05, 1.0)), 0.5, FLT_TRUE_MIN,
                                               f32(rng.uniform(0.8, 1.0)))))
        if 'Q' in takes and rng.random() < 0.5:
            kw['Q'] = pick(lambda: rng.choice((0.0, f32(rng.uniform(0.0, 0.6)), 0.5, f32(0.05))))
        if 'T' in takes and rng.random() < 0.8:
            lo = 0.0 if op == 'logits' else None
            kw['T'] = pick(lambda: rng.choice((1.0, f32(rng.uniform(0.05, 3.0)), f32(rng.uniform(0.3, 1.5)),
                                               lo if lo is not None else 0.7, 1e-30, 1e30)))
        if 'seed' in takes:
            if rng.random() < 0.3:
                kw['seed'] = [rng.getrandbits(64) for _ in range(B)]
            elif rng.random() < 0.7:
                kw['seed'] = rng.getrandbits(rng.choice((8, 32, 64)))
            if rng.random() < 0.3:
                kw['offset'] = [rng.getrandbits(rng.choice((4, 40))) for _ in range(B)]
            elif rng.random() < 0.5:
                kw['offset'] = rng.getrandbits(rng.choice((4, 33, 64)))
        c = Case('r%03d_%s' % (i, op), op, B, V, dtype=dt, stride=stride, out_stride=out_stride, **kw)
        gseed = rng.getrandbits(32)
        if op in prob_ops:
            g = rng.choice(('probs_uniform', 'probs_wide', 'probs_ties'))
            c.gen(g, gseed, *((rng.randint(1, 16),) if g == 'probs_ties' else ()))
        else:
            g = rng.choice(('logits_uniform', 'logits_bell'))
            if g == 'logits_bell':
                E = rng.randint(-5, 0)
            else:
                E = {'f32': rng.randint(-23, -17), 'f16': rng.randint(-10, -5),
                     'bf16': rng.randint(-6, -1)}[dt]
            c.gen(g, gseed, E)
        # a few special values
        for _ in range(rng.choice((0, 0, 1, 2))):
            r, j = rng.randrange(B), rng.randrange(V)
            if op in prob_ops:
                x = rng.choice((0.0, -0.0, 0.0, 0.5, NAN, -1.0, INF))
            else:
                x = rng.choice((-INF, -INF, 0.0, -0.0, NAN, INF, 1.0))
            c.set(r, j, x)
        C.append(c)
    return C


FILES = [
    ('probs', 'sample_from_probs: draws, seeds, offsets, subsequences, strides', probs_cases),
    ('logits', 'sample_from_logits: temperatures (0, tiny, huge), -inf, z < -64', logits_cases),
    ('filters', 'top-k, top-p, min-p edges: ties at the boundaries, exact tau/theta', filter_cases),
    ('renorm', 'sample_renorm_probs', renorm_cases),
    ('mask', 'sample_mask_logits', mask_cases),
    ('softmax', 'sample_softmax', softmax_cases),
    ('argmax', 'sample_argmax on probabilities and logits', argmax_cases),
    ('dtypes', 'every operation on f32, f16 and bf16', dtype_cases),
    ('invalid', 'invalid rows among valid ones, parameters out of range per row', invalid_cases),
    ('args', 'argument faults and the order of the argument checks', args_cases),
    ('large', 'V = 256000 and V = 2^23 (generated rows); rows read once', large_cases),
    ('random', 'random small cases (fixed seed)', random_cases),
]

HEADER = ('# Written by tests/oracle/gen_corpus.py from SPEC.md (version 1); do not edit.\n'
          '# Format: tests/corpus/FORMAT.md.  %s\n')


def write(path, text):
    with open(path, 'w', newline='\n') as f:
        f.write(text)


def main(argv):
    if len(argv) < 2:
        print('usage: gen_corpus.py OUTDIR', file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    report = []
    t0 = time.time()
    for name, what, lines_fn in (('philox', 'Philox4x32-10: counter, key, output '
                                  '(the first three: Random123 kat_vectors)', philox_lines),
                                 ('sexp', 'sexp(z) and its weight', sexp_lines),
                                 ('weights', 'weights from probabilities', weight_lines)):
        t = time.time()
        lines = lines_fn()
        write(os.path.join(outdir, name + '.corpus'), HEADER % what + '\n'.join(lines) + '\n')
        report.append((name, len(lines), time.time() - t))
    only = set(argv[2:])
    for name, what, cases_fn in FILES:
        if only and name not in only:
            continue
        t = time.time()
        cases = cases_fn()
        names = [c.name for c in cases]
        assert len(set(names)) == len(names), 'duplicate case names in ' + name
        text = HEADER % what + ''.join(c.render() for c in cases)
        write(os.path.join(outdir, name + '.corpus'), text)
        report.append((name, len(cases), time.time() - t))
    for name, n, dt in report:
        size = os.path.getsize(os.path.join(outdir, name + '.corpus'))
        print('%-10s %5d %s %9d bytes %7.1f s' % (name + '.corpus', n,
                                                  'lines' if name in ('philox', 'sexp', 'weights')
                                                  else 'cases', size, dt))
    print('total %.1f s' % (time.time() - t0))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
