"""An independent, pure-Python implementation of libsample's semantics (SPEC.md v1).

This is the test oracle: it is written from SPEC.md and tests/corpus/FORMAT.md
alone, never from the C sources, so that the corpus it writes can catch bugs in
them.  Standard library only.  Everything is exact:

  * float32 values are held in Python floats (doubles), which hold every
    float32 exactly.  A single float32 +, -, * or / is done in double and then
    rounded once to float32; that equals the correctly rounded float32 result
    because double has 53 >= 2*24 + 2 bits (double rounding is innocuous for
    these operations: S. Figueroa, "When is double rounding innocuous?", 1995).
  * fma is NOT done that way (rounding a*b+c to double first can move it onto a
    float32 tie): it is computed on exact integers and rounded once.
  * probability mass (weights, sums, tau, theta, the draw) is Python int.

Section numbers below are SPEC.md's.
"""

import math
import struct

INF = math.inf
MAX_VOCAB = 1 << 23
W_ONE = 1 << 40            # the weight of z = 0, a logit at the maximum

# ---------------------------------------------------------------------------
# float32 / float16 / bfloat16 bit patterns

_F32 = struct.Struct('<f')
_U32 = struct.Struct('<I')
_F16 = struct.Struct('<e')
_U16 = struct.Struct('<H')

DTYPES = {'f32': 0, 'f16': 1, 'bf16': 2}


def f32_from_bits(bits):
    return _F32.unpack(_U32.pack(bits))[0]


def round_f32(x):
    """A double rounded to the nearest float32, ties to even; overflow gives inf.

    struct's 'f' packing is C's (float)x, which rounds to nearest even; it
    raises OverflowError exactly when that rounding gives an infinity from a
    finite value."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(INF, x)


def is_f32(x):
    return x != x or round_f32(x) == x


def f32_bits(x):
    """The bit pattern of a float32 value (x must be one; NaN gives 7fc00000)."""
    if x != x:
        return 0x7FC00000
    assert round_f32(x) == x, 'not a float32 value: %r' % (x,)
    return _U32.unpack(_F32.pack(x))[0]


def f16_from_bits(bits):
    return _F16.unpack(_U16.pack(bits))[0]


def bf16_from_bits(bits):
    return f32_from_bits(bits << 16)


def decode(dtype, bits):
    """An element of the given dtype, converted (exactly) to float32."""
    if dtype == 'f32':
        return f32_from_bits(bits)
    if dtype == 'f16':
        return f16_from_bits(bits)
    return bf16_from_bits(bits)


def encode(dtype, x):
    """The dtype's bit pattern of x, which must be exactly representable."""
    if dtype == 'f32':
        return f32_bits(x)
    if dtype == 'f16':
        if x != x:
            return 0x7E00
        bits = _U16.unpack(_F16.pack(x))[0]       # may raise OverflowError
        assert f16_from_bits(bits) == x, 'not a float16 value: %r' % (x,)
        return bits
    if x != x:
        return 0x7FC0
    b = f32_bits(x)
    assert b & 0xFFFF == 0, 'not a bfloat16 value: %r' % (x,)
    return b >> 16


# ---------------------------------------------------------------------------
# Single float32 operations (round to nearest even)

def f32_mul(a, b):
    return round_f32(a * b)        # the double product of two float32 is exact


def f32_sub(a, b):
    return round_f32(a - b)        # innocuous double rounding (see top)


def f32_div(a, b):
    return round_f32(a / b)        # innocuous double rounding (see top)


def _split(x):
    """x (finite, nonzero) = n * 2**e exactly, n an integer."""
    m, e = math.frexp(x)
    return int(m * 9007199254740992.0), e - 53   # m * 2**53 is an integer


def round_scaled_f32(n, e):
    """The float32 nearest to the exact value n * 2**e (n an int != 0), ties to even."""
    neg = n < 0
    if neg:
        n = -n
    q = max(e + n.bit_length() - 24, -149)        # exponent of the float32 ulp
    if q > e:
        sh = q - e
        r = n >> sh
        rem = n - (r << sh)
        half = 1 << (sh - 1)
        if rem > half or (rem == half and r & 1):
            r += 1
    else:
        r = n << (e - q)
    if r.bit_length() + q > 128:                   # >= 2**128 after rounding
        res = INF
    else:
        res = math.ldexp(r, q)                     # exact: r < 2**25
    return -res if neg else res


def fma_f32(a, b, c):
    """fma on float32 values: a*b + c with one rounding to float32."""
    if a == 0.0 or b == 0.0 or c == 0.0:
        # a*b is exact in double (48-bit significand, no under/overflow for
        # float32 inputs), so a sum with a zero operand rounds only once; this
        # also gets the IEEE sign of an exact zero right.
        return round_f32(a * b + c)
    na, ea = _split(a)
    nb, eb = _split(b)
    nc, ec = _split(c)
    np_, ep = na * nb, ea + eb
    if ep < ec:
        n, e = np_ + (nc << (ec - ep)), ep
    else:
        n, e = (np_ << (ep - ec)) + nc, ec
    if n == 0:
        return 0.0                                  # exact cancellation: +0 (ties to even)
    return round_scaled_f32(n, e)


def rint(x):
    """Round to the nearest integer, ties to even, keeping the sign of a zero."""
    r = float(round(x))            # Python's round() of a float is ties-to-even
    return math.copysign(r, x) if r == 0.0 else r


# ---------------------------------------------------------------------------
# 2.2  sexp

L2E = f32_from_bits(0x3FB8AA3B)
LN2_HI = f32_from_bits(0x3F317200)
LN2_LO = f32_from_bits(0x35BFBE8E)
C0 = 1.0
C1 = 1.0
C2 = 0.5
C3 = f32_from_bits(0x3E2AAAAB)
C4 = f32_from_bits(0x3D2AAAAB)
C5 = f32_from_bits(0x3C088889)
C6 = f32_from_bits(0x3AB60B61)
C7 = f32_from_bits(0x39500D01)


def sexp(z):
    """SPEC 2.2's float32 exp for -64 <= z <= 0, as its exact sequence of operations."""
    assert -64.0 <= z <= 0.0, z
    k = rint(f32_mul(z, L2E))
    nk = -k
    r = fma_f32(nk, LN2_HI, z)
    r = fma_f32(nk, LN2_LO, r)
    p = C7
    p = fma_f32(p, r, C6)
    p = fma_f32(p, r, C5)
    p = fma_f32(p, r, C4)
    p = fma_f32(p, r, C3)
    p = fma_f32(p, r, C2)
    p = fma_f32(p, r, C1)
    p = fma_f32(p, r, C0)
    e = math.ldexp(p, int(k))
    assert is_f32(e)                                # ldexpf is exact here
    return e


def weight_of_e(e):
    return min(int(math.ldexp(e, 40)), W_ONE)      # min(floor(e * 2^40), 2^40)


_z_weight_cache = {}


def weight_of_z(z):
    """The weight of a token with scaled logit z (z <= 0, may be -inf)."""
    if z < -64.0:
        return 0
    w = _z_weight_cache.get(z)
    if w is None:
        w = weight_of_e(sexp(z))
        if len(_z_weight_cache) < 1 << 20:
            _z_weight_cache[z] = w
    return w


# ---------------------------------------------------------------------------
# 2.1 / 2.2  rows to weights

def probs_valid(p):
    m = 0.0
    for x in p:
        if not (0.0 <= x < INF):       # NaN, negative, +inf
            return False
        if x > m:
            m = x
    return m > 0.0


def probs_weights(p):
    """w_i = floor(p_i * 2^(40-E)) with 2^(E-1) <= max p < 2^E (row must be valid)."""
    E = math.frexp(max(p))[1]
    scale = 2.0 ** (40 - E)            # a power of two: p_i * scale is exact
    return [int(x * scale) for x in p]


def prob_weight(m, p):
    """The weight of probability p in a row whose maximum is m."""
    E = math.frexp(m)[1]
    return int(p * 2.0 ** (40 - E))


def logits_valid(l):
    finite = False
    for x in l:
        if x != x or x == INF:
            return False
        if x != -INF:
            finite = True
    return finite


def logits_max(l):
    return max(x for x in l if x != -INF)


def logits_weights(l, T):
    """Weights of a valid logit row at temperature T > 0 (finite)."""
    mx = logits_max(l)
    w = []
    for x in l:
        if x == -INF:
            w.append(0)
        else:
            w.append(weight_of_z(f32_div(f32_sub(x, mx), T)))
    return w


# ---------------------------------------------------------------------------
# 3, 4  the order and the filters

def ceil_mul(f, n):
    """ceil(f * n) exactly, for a float f >= 0 (any binary fraction) and an int n >= 0."""
    num, den = f.as_integer_ratio()
    return -((-num * n) // den)


class Kept:
    """The kept set K: the first L tokens in the order (weight desc, index asc).

    Token i is in K iff w_i > wb, or w_i == wb and i <= bi, where (wb, bi) is
    the L-th token in the order.  mass = M_K."""

    __slots__ = ('wb', 'bi', 'mass', 'count')

    def __init__(self, wb, bi, mass, count):
        self.wb, self.bi, self.mass, self.count = wb, bi, mass, count

    def contains(self, i, w_i):
        return w_i > self.wb or (w_i == self.wb and i <= self.bi)


def kept_set(w, k, P, Q):
    V = len(w)
    s = sorted(w, reverse=True)        # the weights in the order; ties resolved below
    # top-k
    L_k = V if (k == 0 or k >= V) else k
    # top-p
    if P == 1.0:
        L_p = L_k
    else:
        M_k = sum(s[:L_k])
        tau = ceil_mul(P, M_k)
        acc = 0
        L_p = L_k
        for i in range(L_k):
            acc += s[i]
            if acc >= tau:
                L_p = i + 1
                break
    # min-p: tokens with w_i >= theta, a prefix of the order
    theta = ceil_mul(Q, s[0])
    lo, hi = 0, V                      # L_m = number of s[i] >= theta (s descending)
    while lo < hi:
        mid = (lo + hi) // 2
        if s[mid] >= theta:
            lo = mid + 1
        else:
            hi = mid
    L_m = lo
    L = min(L_k, L_p, L_m)
    assert L >= 1
    wb = s[L - 1]
    lo, hi = 0, L - 1                  # first position in the order with weight wb
    while lo < hi:
        mid = (lo + hi) // 2
        if s[mid] > wb:
            lo = mid + 1
        else:
            hi = mid
    first = lo
    need = L - first                   # tokens of weight wb in K: the smallest indices
    bi = -1
    for i, x in enumerate(w):
        if x == wb:
            need -= 1
            if need == 0:
                bi = i
                break
    mass = sum(s[:L])
    assert mass > 0
    return Kept(wb, bi, mass, L)


# ---------------------------------------------------------------------------
# 5  Philox4x32-10 and the draw

_M = 0xFFFFFFFF


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 (Salmon et al., SC'11): counter (c0..c3), key (k0, k1)."""
    for _ in range(10):
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & _M, (p0 >> 32) ^ c3 ^ k1, p0 & _M
        k0 = (k0 + 0x9E3779B9) & _M
        k1 = (k1 + 0xBB67AE85) & _M
    return c0, c1, c2, c3


def draw_u64(seed, offset, subseq):
    x0, x1, _, _ = philox4x32_10(offset & _M, offset >> 32, subseq & _M, subseq >> 32,
                                 seed & _M, seed >> 32)
    return x0 | (x1 << 32)


def select(w, K, U):
    """The token: smallest i in K with sum_{j in K, j <= i} w_j > floor(U * M_K / 2^64)."""
    t = (U * K.mass) >> 64
    acc = 0
    wb, bi = K.wb, K.bi
    for i, x in enumerate(w):
        if x > wb or (x == wb and i <= bi):
            acc += x
            if acc > t:
                return i
    raise AssertionError('no token selected')


# ---------------------------------------------------------------------------
# 6  the other operations

def argmax(values):
    """Smallest index of the maximum (numeric comparison: -0.0 == 0.0)."""
    best = 0
    bv = values[0]
    for i, x in enumerate(values):
        if x > bv:
            best, bv = i, x
    return best


def renorm_row(w, K):
    d = float(K.mass)                  # rounds to nearest, ties to even
    return [round_f32(float(x) / d) if K.contains(i, x) else 0.0 for i, x in enumerate(w)]


def mask_row(l, w, K):
    return [l[i] if K.contains(i, x) else -INF for i, x in enumerate(w)]


def softmax_row(w):
    d = float(sum(w))
    return [round_f32(float(x) / d) for x in w]


# ---------------------------------------------------------------------------
# Parameter ranges (4, last paragraph; 6 for T on mask/softmax)

def k_ok(k):
    return k >= 0


def p_ok(P):
    return 0.0 < P <= 1.0              # False for NaN


def q_ok(Q):
    return 0.0 <= Q < 1.0              # False for NaN; -0.0 is in range


def t_ok(T, zero_ok):
    if not (0.0 <= T < INF):           # NaN, negative, +inf
        return False
    return zero_ok or T > 0.0


# Which parameters each operation takes (FORMAT.md's table).
OPS = {
    'probs':         {'k', 'P', 'Q', 'seed', 'offset'},
    'logits':        {'T', 'k', 'P', 'Q', 'seed', 'offset'},
    'renorm':        {'k', 'P', 'Q'},
    'mask':          {'T', 'k', 'P', 'Q'},
    'softmax':       {'T'},
    'argmax_probs':  set(),
    'argmax_logits': set(),
}
TOKEN_OPS = {'probs', 'logits', 'argmax_probs', 'argmax_logits'}
ROW_OPS = {'renorm', 'mask', 'softmax'}


def row_streams(B, seed, offset, seeds, offsets):
    """(seed, offset, subseq) of each row (5).  seeds/offsets: per-row lists or None.

    One seed for the call: row r uses subsequence r.  Per-row seeds: subsequence 0.
    Per-row offsets alone keep subsequence r; per-row seeds alone use the one offset."""
    out = []
    for r in range(B):
        if seeds is not None:
            out.append((seeds[r], offsets[r] if offsets is not None else offset, 0))
        else:
            out.append((seed, offsets[r] if offsets is not None else offset, r))
    return out


def evaluate_row(op, row, T, k, P, Q, stream):
    """One row: returns None for an invalid row, else a token (int) or V floats."""
    if op in ('probs', 'renorm', 'argmax_probs'):
        if not probs_valid(row):
            return None
    else:
        if not logits_valid(row):
            return None
    if op == 'argmax_probs' or op == 'argmax_logits':
        return argmax(row)
    if op != 'softmax':
        if not (k_ok(k) and p_ok(P) and q_ok(Q)):
            return None
    if op in ('logits', 'mask', 'softmax'):
        if not t_ok(T, zero_ok=(op == 'logits')):
            return None
        if op == 'logits' and T == 0.0:
            return argmax(row)         # greedy: no draw, filters do not matter
        w = logits_weights(row, T)
    else:
        w = probs_weights(row)
    if op == 'softmax':
        return softmax_row(w)
    K = kept_set(w, k, P, Q)
    if op == 'renorm':
        return renorm_row(w, K)
    if op == 'mask':
        return mask_row(row, w, K)
    return select(w, K, draw_u64(*stream))


def evaluate(op, rows, T, k, P, Q, streams):
    """A whole call after its arguments passed.  rows: B lists of float32 values;
    T, k, P, Q, streams: per-row lists.  Returns (status, first_invalid, results)."""
    results = []
    first_invalid = None
    for r, row in enumerate(rows):
        res = evaluate_row(op, row, T[r], k[r], P[r], Q[r], streams[r])
        if res is None and first_invalid is None:
            first_invalid = r
        results.append(res)
    status = 'OK' if first_invalid is None else 'ERR_INVALID_ROWS'
    return status, first_invalid, results


# ---------------------------------------------------------------------------
# 7 and FORMAT.md: the argument checks, in order

NULL_FAULTS = ('null_tensor', 'null_data', 'null_output', 'null_params')
SIZE_FAULTS = ('tensor_size', 'params_size')


def argument_status(op, dtype_raw, B, V, stride, out_stride, faults, nonneutral):
    """The status of the argument checks, or None when they all pass.

    faults: {name: N} from 'fault' lines; nonneutral: the set of parameter names
    (T, k, P, Q, seed, offset) set to a non-neutral value or given per row."""
    if any(f in faults for f in NULL_FAULTS):
        return 'ERR_NULL'
    if any(f in faults for f in SIZE_FAULTS):
        return 'ERR_STRUCT_SIZE'
    if not 0 <= dtype_raw <= 2:
        return 'ERR_FLAGS'
    if faults.get('memory', 0) >= 2 or faults.get('reserved', 0) != 0 \
            or faults.get('flags', 0) != 0 or not 0 <= faults.get('kind', 0) <= 1:
        return 'ERR_FLAGS'
    if B < 0 or V < 1 or V > MAX_VOCAB:
        return 'ERR_SHAPE'
    if stride < 0 or 0 < stride < V:
        return 'ERR_SHAPE'
    if op in ROW_OPS and (out_stride < 0 or 0 < out_stride < V):
        return 'ERR_SHAPE'
    esize = 4 if dtype_raw == 0 else 2
    if B * (stride or V) * esize > (1 << 63) - 1:
        return 'ERR_SHAPE'
    if nonneutral - OPS[op]:
        return 'ERR_ARGUMENT'
    return None


def fnv1a64(data):
    """FNV-1a, 64 bits, of a bytes object."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def fnv1a64_f32(values):
    """FNV-1a 64 of float32 values' bit patterns, each as 4 little-endian bytes."""
    bits = [f32_bits(x) for x in values]
    return fnv1a64(struct.pack('<%dI' % len(bits), *bits))
