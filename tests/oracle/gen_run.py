#!/usr/bin/env python3
"""gen_run.py OUTDIR: fixtures for `sample run`, the command-line check of the
library against the oracle.

Each fixture NAME is three files: NAME.npy (the input, written here without
numpy), NAME.args (the flags, one line) and NAME.expected (what `sample run`
must print: one token per line, or one row of '%.9g' values per line, as the
oracle computes them).  tests/check_run.sh runs them.  Deterministic."""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec  # noqa: E402
from gen_corpus import gen_row  # noqa: E402


def npy(dtype, rows, one_dim):
    """The bytes of a version 1.0 .npy file of float32 ('<f4') or float16 ('<f2')."""
    descr = '<f4' if dtype == 'f32' else '<f2'
    shape = '(%d,)' % len(rows[0]) if one_dim else '(%d, %d)' % (len(rows), len(rows[0]))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    pad = 64 - (10 + len(header) + 1) % 64
    header += ' ' * pad + '\n'
    body = b''.join(struct.pack('<I' if dtype == 'f32' else '<H', spec.encode(dtype, v))
                    for row in rows for v in row)
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode() + body


# name, op, dtype, B, V, generator, flags (T, k, P, Q, seed, offset), one_dim
FIXTURES = [
    ('probs_topk_topp', 'probs', 'f32', 4, 1000, ('probs_wide', 11, []),
     dict(k=50, P=0.9, seed=1234, offset=7), False),
    ('probs_minp_f16', 'probs', 'f16', 3, 500, ('probs_uniform', 12, []),
     dict(Q=0.25, seed=99), False),
    ('logits_t07', 'logits', 'f32', 5, 2000, ('logits_uniform', 13, [-20]),
     dict(T=0.7, k=50, P=0.9, seed=2024, offset=3), False),
    ('logits_greedy_1d', 'logits', 'f32', 1, 300, ('logits_bell', 14, [-2]),
     dict(T=0.0), True),
    ('argmax_probs', 'argmax-probs', 'f32', 3, 64, ('probs_ties', 15, [5]), dict(), False),
    ('renorm_topp', 'renorm', 'f32', 2, 16, ('probs_uniform', 16, []), dict(P=0.5), False),
    ('mask_topk', 'mask', 'f16', 2, 12, ('logits_uniform', 17, [-8]), dict(T=1.0, k=3), False),
    ('softmax', 'softmax', 'f32', 2, 10, ('logits_bell', 18, [-3]), dict(T=0.5), False),
]

FLAG = {'T': '--temperature', 'k': '--top-k', 'P': '--top-p', 'Q': '--min-p',
        'seed': '--seed', 'offset': '--offset'}
ORACLE_OP = {'argmax-probs': 'argmax_probs', 'argmax-logits': 'argmax_logits'}


def fixture(outdir, name, op, dtype, B, V, gen, flags, one_dim):
    rows = [gen_row(gen[0], gen[1], gen[2], dtype, r, V) for r in range(B)]
    T = [spec.round_f32(flags.get('T', 1.0))] * B
    k = [flags.get('k', 0)] * B
    P = [spec.round_f32(flags.get('P', 1.0))] * B
    Q = [spec.round_f32(flags.get('Q', 0.0))] * B
    streams = spec.row_streams(B, flags.get('seed', 0), flags.get('offset', 0), None, None)
    status, _, results = spec.evaluate(ORACLE_OP.get(op, op), rows, T, k, P, Q, streams)
    assert status == 'OK', name
    if op in ('renorm', 'mask', 'softmax'):
        lines = [' '.join('%.9g' % v for v in row) for row in results]
    else:
        lines = ['%d' % t for t in results]
    args = ['--backend', '@BACKEND@', '--op', op]
    for key in ('T', 'k', 'P', 'Q', 'seed', 'offset'):
        if key in flags:
            args += [FLAG[key], repr(flags[key])]
    with open(os.path.join(outdir, name + '.npy'), 'wb') as f:
        f.write(npy(dtype, rows, one_dim))
    with open(os.path.join(outdir, name + '.args'), 'w') as f:
        f.write(' '.join(args) + '\n')
    with open(os.path.join(outdir, name + '.expected'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main(argv):
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for fx in FIXTURES:
        fixture(outdir, *fx)
    print('%d fixtures written to %s' % (len(FIXTURES), outdir))


if __name__ == '__main__':
    main(sys.argv)
