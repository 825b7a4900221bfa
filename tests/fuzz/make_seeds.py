#!/usr/bin/env python3
"""Writes the seed corpora and hand-made regression inputs of tests/fuzz.

    python3 tests/fuzz/make_seeds.py            # from the repository root

Deterministic: the same files on every run.  The byte layout of an API input
is README.md's (and fuzz_api.c's); change all three together.  Inputs that
libFuzzer found (crashes, once fixed) are saved by hand into */regressions
under their own names and are never touched here: this script only writes
files whose names start with 'seed-' (corpus) or 'edge-' (regressions).
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

OPS = ['probs', 'logits', 'renorm', 'mask', 'softmax', 'argmax_probs', 'argmax_logits', 'misc']
DTYPES = {'f32': 0, 'f16': 1, 'bf16': 2}

# fuzz_api.c's special[] table: selector = index + 1
SPECIAL = ['+0', '-0', '1', '-1', 'nan', '-nan', 'snan', '+inf', '-inf', 'minsub', 'maxsub',
           'fltmin', 'fltmax', '-fltmax', '0.5', '1-ulp', '1+ulp', '2^-24', '65504', '64',
           '-64', '0.1', '0.9', '2', '2^-32', '2^32', '-minsub', '2^-14']
NSPECIAL = len(SPECIAL)

GENS = {'probs': 0, 'logits': 1, 'wide': 2, 'ties': 3, 'const': 4, 'raw': 5, 'masked': 6,
        'sparse': 7, 'bell': 8}

FAULTS = {'null_ctx': 0, 'null_tensor': 1, 'null_data': 2, 'null_output': 3,
          'null_params': 4, 'tensor_size': 5, 'params_size': 6, 'dtype': 7, 'memory': 8,
          'reserved': 9, 'flags': 10, 'kind': 11, 'tensor_size_small': 12, 'device': 13}

STRIDES = {'V-1': 0xff, '-1': 0xfe, 'min': 0xfd, 'max': 0xfc}


def u8(x):
    return struct.pack('<B', x)


def u16(x):
    return struct.pack('<H', x)


def u32(x):
    return struct.pack('<I', x & 0xffffffff)


def u64(x):
    return struct.pack('<Q', x & 0xffffffffffffffff)


def fsel(x, neutral=None):
    """A float selector: None -> 0 (neutral), a SPECIAL name, a fraction in (0, 1]
    as ('frac', n) with n in 1..211, or a raw float."""
    if x is None:
        return u8(0)
    if isinstance(x, str):
        return u8(SPECIAL.index(x) + 1)
    if isinstance(x, tuple) and x[0] == 'frac':
        return u8(NSPECIAL + x[1])
    if isinstance(x, tuple) and x[0] == 'bits':
        return u8(0xf0) + u32(x[1])
    return u8(0xf0) + struct.pack('<f', x)


def ksel(k):
    if 0 <= k < 0xf0:
        return u8(k)
    return u8(0xf0) + u32(k)


def stride_sel(s):
    if s is None:
        return u8(0)
    if isinstance(s, str):
        return u8(STRIDES[s])
    return u8(s)       # padding s % 8 (s in 1 .. 0xfb)


def fault(f):
    if f is None:
        return u8(0)
    name, value = (f, None) if isinstance(f, str) else f
    code = FAULTS[name]
    out = u8(0x80 | code)
    if 5 <= code <= 11:
        out += u32(value)
    return out


def api(op, dtype='f32', B=1, V=8, stride=None, out_stride=None, T=None, k=0, P=None,
        Q=None, seed=None, faults=(None, None), gen='probs', gen_param=0, gen_seed=1,
        rows=None, pokes=(), wild=None):
    """One API input.  rows: {'T': [...], 'k': [...], 'P': [...], 'Q': [...],
    'seeds': [...], 'offsets': [...]} per-row arrays; pokes: (position, value)
    with value a float selector argument (or ('raw16', bits) / ('raw32', bits))."""
    out = u8(OPS.index(op)) + u8(DTYPES[dtype])
    if wild is not None:
        b, v, s, os_ = wild
        out += u8(0x80) + u64(b) + u64(v) + u64(s) + u64(os_)
    else:
        assert 0 <= B <= 32 and 1 <= V <= 65536
        out += u8(B) + u16(V - 1) + stride_sel(stride) + stride_sel(out_stride)
    rows = rows or {}
    flags = 0
    for bit, name in enumerate(['T', 'k', 'P', 'Q', 'seeds', 'offsets']):
        if name in rows:
            flags |= 1 << bit
    out += u8(flags) + fsel(T) + ksel(k) + fsel(P) + fsel(Q)
    if seed is None:
        out += u8(0)
    else:
        out += u8(1) + u64(seed[0]) + u64(seed[1])
    out += fault(faults[0]) + fault(faults[1])
    out += u8(GENS[gen]) + u8(gen_param) + u64(gen_seed)
    if wild is None:
        for r in range(B):
            if 'T' in rows:
                out += fsel(rows['T'][r])
            if 'k' in rows:
                out += ksel(rows['k'][r])
            if 'P' in rows:
                out += fsel(rows['P'][r])
            if 'Q' in rows:
                out += fsel(rows['Q'][r])
            if 'seeds' in rows:
                out += u64(rows['seeds'][r])
            if 'offsets' in rows:
                out += u64(rows['offsets'][r])
        for pos, value in pokes:
            out += u32(pos)
            if isinstance(value, tuple) and value[0] == 'raw16':
                out += u8(0xf0) + u16(value[1])
            elif isinstance(value, tuple) and value[0] == 'raw32':
                out += u8(0xf0) + u32(value[1])
            elif value == 0:
                out += u8(0)
            else:
                out += fsel(value)
    return out


def misc(sub, payload=b''):
    return u8(OPS.index('misc')) + u8(sub) + payload


def api_seeds():
    s = {}
    # every operation on every dtype, plain
    for op in OPS[:7]:
        logits = op in ('logits', 'mask', 'softmax', 'argmax_logits')
        for dt in DTYPES:
            s['%s-%s-plain' % (op, dt)] = api(op, dt, B=3, V=40,
                                              gen='logits' if logits else 'probs',
                                              gen_param=4, gen_seed=7)
    # filters on the four operations that take them
    for op in ('probs', 'logits', 'renorm', 'mask'):
        g = 'bell' if op in ('logits', 'mask') else 'wide'
        s[op + '-topk1'] = api(op, B=4, V=100, k=1, gen=g, gen_param=3)
        s[op + '-topk5'] = api(op, B=4, V=100, k=5, gen='ties', gen_param=5)
        s[op + '-topp'] = api(op, B=4, V=100, P=0.9, gen=g, gen_param=2)
        s[op + '-topp-tiny'] = api(op, B=2, V=64, P='2^-24', gen=g, gen_param=1)
        s[op + '-topp-1-ulp'] = api(op, B=2, V=64, P='1-ulp', gen='ties', gen_param=3)
        s[op + '-minp'] = api(op, B=4, V=100, Q=0.1, gen=g, gen_param=5)
        s[op + '-minp-high'] = api(op, B=2, V=100, Q='1-ulp', gen='ties', gen_param=2)
        s[op + '-all-filters'] = api(op, 'bf16', B=5, V=300, k=40, P=0.5, Q=0.05, gen=g,
                                     gen_param=6, seed=(123, 4))
        s[op + '-per-row-filters'] = api(
            op, B=5, V=50, gen=g, gen_param=4,
            rows={'k': [0, 1, 2, 3, 0xffffffff], 'P': [None, 0.5, '1-ulp', 'nan', '-0'],
                  'Q': [None, 0.2, '-0', '1', 'nan']})
    # temperatures
    for t in ['+0', '-0', 0.5, 2.0, 'minsub', 'fltmax', '1-ulp', '2^-32', 'nan', '+inf',
              '-inf', '-1', '65504']:
        name = t if isinstance(t, str) else repr(t)
        s['logits-T-' + name] = api('logits', B=2, V=64, T=t, gen='logits', gen_param=0)
        s['mask-T-' + name] = api('mask', 'f16', B=2, V=64, T=t, k=4, gen='bell')
        s['softmax-T-' + name] = api('softmax', B=2, V=64, T=t, gen='logits', gen_param=20)
    s['logits-per-row-T'] = api('logits', B=6, V=33, gen='logits', gen_param=3,
                                rows={'T': ['+0', 0.25, 'nan', '-0', 'minsub', '+inf']})
    s['logits-per-row-seeds'] = api('logits', B=4, V=200, gen='bell', seed=(99, 5),
                                    rows={'seeds': [1, 2 ** 64 - 1, 0, 2 ** 32],
                                          'offsets': [0, 1, 2 ** 63, 2 ** 32 - 1]})
    s['probs-per-row-offsets'] = api('probs', B=4, V=200, gen='wide', gen_param=30,
                                     seed=(5, 6), rows={'offsets': [9, 8, 7, 6]})
    s['probs-per-row-seeds-only'] = api('probs', 'f16', B=3, V=20, gen='probs',
                                        rows={'seeds': [3, 3, 3]})
    # hostile values
    s['probs-nan-inf-neg'] = api('probs', B=6, V=16, gen='probs',
                                 pokes=[(0, 'nan'), (17, '+inf'), (34, '-1'), (51, '-0'),
                                        (68, '-minsub'), (85, '-inf')])
    s['probs-all-zero'] = api('probs', B=2, V=16, gen='const', gen_param=0)
    s['probs-minus-zero'] = api('probs', 'f16', B=2, V=16, gen='const', gen_param=1,
                                pokes=[(3, 'minsub')])
    s['probs-subnormal-max'] = api('probs', B=2, V=64, gen='const', gen_param=9,
                                   pokes=[(5, 'maxsub'), (70, 'minsub')])
    s['renorm-subnormal'] = api('renorm', B=2, V=64, gen='wide', gen_param=200)
    s['logits-all-minus-inf'] = api('logits', B=3, V=16, gen='const', gen_param=8,
                                    pokes=[(40, 'fltmax')])
    s['logits-fltmax-span'] = api('logits', B=2, V=16, gen='const', gen_param=13,
                                  pokes=[(0, 'fltmax'), (17, 'fltmax')])
    s['logits-masked'] = api('logits', 'bf16', B=4, V=500, gen='masked', gen_param=2, P=0.7)
    s['logits-raw-bits'] = api('logits', B=4, V=100, gen='raw')
    s['probs-raw-bits'] = api('probs', B=4, V=100, gen='raw')
    s['f16-raw-nan'] = api('argmax_logits', 'f16', B=2, V=8, gen='bell',
                           pokes=[(1, ('raw16', 0x7c01)), (9, ('raw16', 0xfc00))])
    s['bf16-raw-nan'] = api('argmax_probs', 'bf16', B=2, V=8, gen='probs',
                            pokes=[(1, ('raw16', 0x7f81)), (9, ('raw16', 0x8000))])
    s['argmax-ties'] = api('argmax_probs', B=3, V=64, gen='ties', gen_param=1)
    s['softmax-sparse'] = api('softmax', B=2, V=1000, gen='masked', gen_param=31)
    s['renorm-sparse'] = api('renorm', B=3, V=1000, gen='sparse', k=3)
    # strides and padding
    s['probs-stride-pad'] = api('probs', B=5, V=30, stride=3, gen='probs', k=2)
    s['renorm-out-stride'] = api('renorm', 'f16', B=4, V=30, stride=5, out_stride=7,
                                 gen='wide', P=0.5)
    s['mask-out-stride'] = api('mask', B=4, V=30, out_stride=1, gen='bell', Q=0.3)
    s['softmax-out-stride-V-1'] = api('softmax', B=2, V=30, out_stride='V-1', gen='logits')
    s['probs-stride-V-1'] = api('probs', B=2, V=30, stride='V-1')
    s['probs-stride-neg'] = api('probs', B=2, V=30, stride='-1')
    s['probs-stride-min'] = api('probs', B=2, V=30, stride='min')
    s['probs-stride-max'] = api('probs', B=2, V=30, stride='max')
    s['probs-stride-max-B0'] = api('probs', B=0, V=30, stride='max')
    s['probs-B0'] = api('probs', B=0, V=30)
    s['renorm-B0'] = api('renorm', B=0, V=30, out_stride='max')
    s['probs-V1'] = api('probs', B=8, V=1, gen='probs')
    s['logits-V1'] = api('logits', B=8, V=1, gen='logits', T=0.3, k=1)
    # sizes that take other code paths (the OpenMP row split, big buffers)
    s['probs-V16384'] = api('probs', B=1, V=16384, gen='wide', gen_param=10, k=1000, P=0.9)
    s['logits-V65536'] = api('logits', B=1, V=65536, gen='bell', P=0.95, Q=0.01)
    s['mask-V20000'] = api('mask', 'bf16', B=1, V=20000, gen='logits', gen_param=12, k=3000)
    s['renorm-V17000-B3'] = api('renorm', 'f16', B=3, V=17000, gen='probs', P=0.5)
    s['softmax-V40000'] = api('softmax', B=1, V=40000, gen='masked', gen_param=2)
    s['probs-B32'] = api('probs', B=32, V=2048, gen='ties', gen_param=7, k=9, P=0.8, Q=0.01)
    # argument faults, alone and in pairs
    for name in FAULTS:
        value = {'tensor_size': 0, 'params_size': 8, 'dtype': 3, 'memory': 2, 'reserved': 1,
                 'flags': 1, 'kind': 2}.get(name)
        f = name if value is None else (name, value)
        for op in ('probs', 'renorm', 'argmax_logits'):
            s['fault-%s-%s' % (name, op)] = api(op, B=2, V=8, faults=(f, None))
    s['fault-pair-size-null'] = api('logits', faults=(('tensor_size', 1), 'null_output'))
    s['fault-pair-flags-shape'] = api('mask', stride='-1', faults=(('flags', 4), None))
    s['fault-pair-device-unused'] = api('renorm', T=0.5, faults=('device', None))
    s['fault-device-only'] = api('probs', B=2, V=8, faults=('device', None))
    s['unused-T-probs'] = api('probs', T='nan')
    s['unused-seed-renorm'] = api('renorm', seed=(1, 0))
    s['unused-offset-mask'] = api('mask', seed=(0, 1))
    s['unused-filters-softmax'] = api('softmax', k=0, P='nan')
    s['unused-minus-zero-ok'] = api('softmax', Q='-0')
    s['unused-per-row-T-renorm'] = api('renorm', B=2, rows={'T': [None, None]})
    # the calls that take no tensor
    for code in (0, 6, 13, 14, -1, 2 ** 31 - 1, -2 ** 31):
        s['misc-strerror-%d' % code] = misc(0, u32(code))
    for idx in range(8):
        s['misc-backend-info-%d' % idx] = misc(1, u8(idx) + u8(0) + u8(0))
    s['misc-backend-info-size'] = misc(1, u8(2) + u8(1) + u8(0) + u32(12))
    s['misc-backend-info-null'] = misc(1, u8(2) + u8(0) + u8(1))
    s['misc-backend-info-raw'] = misc(1, u8(0xf0) + u8(0) + u8(0) + u32(2 ** 31 - 1))
    for bsel, name in enumerate(['null', 'empty', 'scalar', 'openmp', 'hip', 'auto', 'AUTO',
                                 'Scalar', 'OpenMP', 'bogus', 'scalar-space', 'scalarx',
                                 'sc', 'HIP']):
        s['misc-create-' + name] = misc(2, u8(0) + u8(bsel) + u8(2) + u8(3))
    s['misc-create-size'] = misc(2, u8(1) + u32(4) + u8(2) + u8(2) + u8(0))
    s['misc-create-flags'] = misc(2, u8(2) + u32(1) + u8(2) + u8(2) + u8(0))
    s['misc-create-device'] = misc(2, u8(0) + u8(2) + u8(0) + u8(0))
    s['misc-create-threads-neg'] = misc(2, u8(0) + u8(3) + u8(2) + u8(0x81))
    s['misc-create-threads-raw'] = misc(2, u8(0) + u8(3) + u8(2) + u8(0xf0) + u32(4096))
    s['misc-create-null-out'] = misc(2, u8(4) + u8(2) + u8(2) + u8(0))
    s['misc-create-null-options'] = misc(2, u8(8) + u8(2) + u8(2) + u8(0))
    s['misc-create-raw-name'] = misc(2, u8(0) + u8(0xf0) + u8(6) + b'OPENMP' + u8(2) + u8(1))
    s['misc-create-raw-nul'] = misc(2, u8(0) + u8(0xf0) + u8(7) + b'sca\0lar' + u8(2) + u8(1))
    s['misc-null-tolerance'] = misc(3, u32(7) + u64(2 ** 63))
    return s


I64_MAX = 2 ** 63 - 1


def api_edges():
    """Shapes at the limits (wild mode: any 64-bit B, V, strides).  A call
    whose arguments pass with B > 0 is never made in wild mode: these are the
    ones that must fail, and the B = 0 / boundary ones that pass untouched."""
    e = {}
    M = 2 ** 23
    e['edge-V-max-plus-1'] = api('probs', wild=(1, M + 1, 0, 0))
    e['edge-V-0'] = api('logits', wild=(1, 0, 0, 0))
    e['edge-V-neg'] = api('renorm', wild=(1, -1, 0, 0))
    e['edge-V-i64max'] = api('argmax_probs', wild=(1, I64_MAX, 0, 0))
    e['edge-B-neg'] = api('probs', wild=(-1, 8, 0, 0))
    e['edge-B-i64min'] = api('mask', wild=(-2 ** 63, 8, 0, 0))
    e['edge-B0-huge-stride'] = api('probs', wild=(0, 8, I64_MAX, 0))
    e['edge-B0-V-max'] = api('softmax', wild=(0, M, 0, 0))
    # B * stride * elem around 2^63
    e['edge-f32-stride-2^61'] = api('probs', wild=(1, 8, 2 ** 61, 0))            # 2^63: no
    e['edge-f16-stride-2^62'] = api('probs', 'f16', wild=(1, 8, 2 ** 62, 0))     # 2^63: no
    e['edge-bf16-B2-stride-2^61'] = api('logits', 'bf16', wild=(2, 8, 2 ** 61, 0))
    e['edge-f32-B3-wrap64'] = api('probs', wild=(3, 8, 0x5555555555555556, 0))   # wraps 2^64
    e['edge-f32-B4-stride-2^62'] = api('probs', wild=(4, 8, 2 ** 62, 0))        # 2^66 -> 0 mod 2^64
    e['edge-f32-B-2^32-stride-2^32'] = api('probs', wild=(2 ** 32, 8, 2 ** 32, 0))
    e['edge-B-2^61-tokens'] = api('probs', 'f16', wild=(2 ** 61, 1, 0, 0))      # B*4 = 2^63
    e['edge-B-2^62-f16'] = api('argmax_probs', 'f16', wild=(2 ** 62, 1, 0, 0))
    e['edge-out-stride-2^61'] = api('renorm', wild=(1, 8, 0, 2 ** 61))
    e['edge-out-stride-B2'] = api('mask', wild=(2, 8, 0, 2 ** 60))              # 2^63
    e['edge-out-stride-neg'] = api('softmax', wild=(1, 8, 0, -8))
    e['edge-out-stride-small'] = api('renorm', wild=(1, 8, 0, 7))
    e['edge-stride-i64max-B2'] = api('argmax_logits', wild=(2, 8, I64_MAX, 0))
    e['edge-V-max-B-huge'] = api('probs', 'f16', wild=(2 ** 40, M, 0, 0))
    e['edge-shape-and-null'] = api('probs', wild=(1, M + 1, 0, 0), faults=('null_data', None))
    e['edge-shape-and-flags'] = api('probs', wild=(1, M + 1, 0, 0), faults=(('reserved', 1), None))
    e['edge-shape-and-unused'] = api('renorm', wild=(-1, 8, 0, 0), T=2.0)
    return e


# ---- .npy inputs -------------------------------------------------------------

def npy(descr="'<f4'", fortran='False', shape='(4,)', data=b'', version=(1, 0),
        header=None, pad=True, hlen=None):
    if header is None:
        header = "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    h = header.encode('latin-1')
    pre = 10 if version[0] == 1 else 12
    if pad:
        total = pre + len(h) + 1
        h += b' ' * ((-total) % 64) + b'\n'
    n = len(h) if hlen is None else hlen
    out = b'\x93NUMPY' + bytes(version)
    out += struct.pack('<H', n) if version[0] == 1 else struct.pack('<I', n)
    return out + h + data


def f32s(*xs):
    return struct.pack('<%df' % len(xs), *xs)


def npy_seeds():
    s = {}
    row = f32s(0.1, 0.2, 0.3, 0.4)
    s['v1-f4-1d'] = npy(data=row)
    s['v2-f4-1d'] = npy(data=row, version=(2, 0))
    s['v3-f4-1d'] = npy(data=row, version=(3, 0))
    s['v1-f2-2d'] = npy("'<f2'", shape='(2, 3)', data=struct.pack('<6H', 0x3c00, 0, 0x7e00,
                                                                  0x3800, 0x3400, 0xfc00))
    s['v1-f4-2d'] = npy(shape='(2, 2)', data=f32s(1, 2, float('-inf'), 0))
    s['v1-f4-B0'] = npy(shape='(0, 5)')
    s['v1-native'] = npy("'=f4'", data=row)
    s['v1-notapplicable'] = npy("'|f2'", shape='(1,)', data=b'\x00\x3c')
    s['v1-double-quotes'] = npy(header='{"descr": "<f4", "fortran_order": False, '
                                       '"shape": (4,)}', data=row)
    s['v1-no-trailing-comma'] = npy(header="{'descr':'<f4','fortran_order':False,"
                                           "'shape':(4,)}", data=row)
    s['v1-key-order'] = npy(header="{'shape': (1, 4), 'fortran_order': False, "
                                   "'descr': '<f4'}", data=row)
    s['v1-extra-bytes'] = npy(data=row + b'trailing')
    s['v1-nan-inf'] = npy(data=f32s(float('nan'), float('inf'), -1.0, -0.0))
    s['v1-V-max-header'] = npy(shape='(8388608,)')                   # truncated data
    s['v1-V-max-plus-1'] = npy(shape='(8388609,)')
    s['v1-huge-B'] = npy(shape='(9223372036854775807, 8388608)')
    s['v1-dim-overflow'] = npy(shape='(99999999999999999999, 1)')
    s['v1-3d'] = npy(shape='(1, 1, 4)', data=row)
    s['v1-0d'] = npy(shape='()', data=row[:4])
    s['v1-V0'] = npy(shape='(0,)')
    s['v1-fortran'] = npy(fortran='True', shape='(2, 2)', data=row)
    s['v1-f8'] = npy("'<f8'", data=row * 2)
    s['v1-big-endian'] = npy("'>f4'", data=row)
    s['v1-descr-long'] = npy("'<f4\x01\x1b[31m'", data=row)
    s['v1-descr-escape'] = npy("'<f\\4'", data=row)
    s['v1-unknown-key'] = npy(header="{'descr': '<f4', 'fortran_order': False, "
                                     "'shape': (4,), 'x': 1}", data=row)
    s['v1-dup-key'] = npy(header="{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                                 "'shape': (4,)}", data=row)
    s['v1-missing-shape'] = npy(header="{'descr': '<f4', 'fortran_order': False}", data=row)
    s['v1-truncated-data'] = npy(data=row[:15])
    s['v1-truncated-header'] = npy(data=b'', hlen=1000)[:40]
    s['v1-header-len-huge'] = npy(hlen=0xffff)
    s['v2-header-len-huge'] = npy(version=(2, 0), hlen=0xffffffff)
    s['v1-bad-version'] = npy(version=(4, 0), data=row)
    s['v1-minor'] = npy(version=(1, 1), data=row)
    s['bad-magic'] = b'\x93NUMPZ\x01\x00' + b'\x00' * 8
    s['magic-only'] = b'\x93NUMPY'
    s['empty'] = b''
    s['one-byte'] = b'\x93'
    s['preamble-v2-short'] = b'\x93NUMPY\x02\x00\x10\x00'
    s['unterminated-dict'] = npy(header="{'descr': '<f4', 'fortran_order': False, "
                                        "'shape': (4,", pad=False)
    s['unterminated-string'] = npy(header="{'descr: ", pad=False)
    s['garbage-after-dict'] = npy(header="{'descr': '<f4', 'fortran_order': False, "
                                         "'shape': (4,), } x", data=row)
    s['bool-bad'] = npy(header="{'descr': '<f4', 'fortran_order': Fals, 'shape': (4,)}")
    s['shape-bad'] = npy(header="{'descr': '<f4', 'fortran_order': False, 'shape': (4,,)}")
    s['shape-negative'] = npy(shape='(-4,)', data=row)
    s['tabs-newlines'] = npy(header="{\t'descr'\n:\r'<f4' ,'fortran_order':False,"
                                    "'shape':( 1 , 4 , )\t}", data=row)
    return s


def npy_edges():
    """Reader inputs at the edges of the checks: each must be refused cleanly."""
    e = {}
    e['edge-header-len-past-end'] = npy(hlen=0xffff)
    e['edge-v2-header-len-4g'] = npy(version=(2, 0), hlen=0xffffffff)
    e['edge-v3-header-len-past-1m'] = npy(version=(3, 0), hlen=(1 << 20) + 1) + b' ' * 64
    e['edge-dim-int64-overflow'] = npy(shape='(9223372036854775808,)')
    e['edge-dim-int64-max'] = npy(shape='(9223372036854775807,)')
    e['edge-bytes-wrap-2^64-f4'] = npy(shape='(2305843009213693952, 8)')     # 2^61 * 8 * 4
    e['edge-bytes-wrap-2^64-f2'] = npy(shape='(2199023255552, 8388608)', descr="'<f2'")  # 2^64
    e['edge-V-max-plus-1-2d'] = npy(shape='(1, 8388609)')
    e['edge-many-dims'] = npy(shape='(' + '1, ' * 5000 + ')')
    e['edge-B0-V-max-plus-1'] = npy(shape='(0, 8388609)')
    e['edge-data-one-byte-short'] = npy(shape='(2, 2)', data=f32s(1, 2, 3, 4)[:-1])
    e['edge-header-no-newline'] = npy(data=f32s(1, 2, 3, 4), pad=False)
    return e


def write(dirname, files, prefix):
    os.makedirs(dirname, exist_ok=True)
    for name in os.listdir(dirname):
        if name.startswith(prefix):
            os.remove(os.path.join(dirname, name))
    for name, data in sorted(files.items()):
        name = name.replace('^', 'p').replace('+', 'plus')   # plain file names
        with open(os.path.join(dirname, prefix + name if not name.startswith(prefix)
                               else name), 'wb') as f:
            f.write(data)


def main():
    api_dir = os.path.join(HERE, 'api')
    npy_dir = os.path.join(HERE, 'npy')
    write(os.path.join(api_dir, 'corpus'), api_seeds(), 'seed-')
    write(os.path.join(api_dir, 'regressions'), api_edges(), 'edge-')
    write(os.path.join(npy_dir, 'corpus'), npy_seeds(), 'seed-')
    write(os.path.join(npy_dir, 'regressions'), npy_edges(), 'edge-')
    # the fixtures of `sample run`'s own tests are good seeds too
    run_dir = os.path.join(HERE, '..', 'corpus', 'run')
    if os.path.isdir(run_dir):
        extra = {}
        for name in sorted(os.listdir(run_dir)):
            if name.endswith('.npy'):
                with open(os.path.join(run_dir, name), 'rb') as f:
                    extra['run-' + name[:-4]] = f.read()
        write(os.path.join(npy_dir, 'corpus'), extra, 'seed-run-')
    return 0


if __name__ == '__main__':
    sys.exit(main())
