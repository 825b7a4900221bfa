/*
 * corpus_reader.c - the corpus reader and the input generators of FORMAT.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_reader.h"
#include "sample_exact.h"

#define MAX_FIELDS_GROW 64

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        perror("corpus");
        abort();
    }
    return p;
}

/* Splits line in place into fields; returns the count. */
static int split(char *line, char ***fields, int *cap)
{
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok;
         tok = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : MAX_FIELDS_GROW;
            *fields = realloc(*fields, (size_t)*cap * sizeof **fields);
            if (!*fields)
                abort();
        }
        (*fields)[n++] = tok;
    }
    return n;
}

static uint64_t hex(const char *s)
{
    return strtoull(s, NULL, 16);
}

static int64_t dec(const char *s)
{
    return strtoll(s, NULL, 10);
}

/* "NAME VALUE" or "NAME rows V0 V1 ...", numbers in the given base (signed). */
static void per_row(struct corpus_param *p, char **f, int n, int64_t batch, int base)
{
    if (n >= 2 && strcmp(f[1], "rows") == 0) {
        p->rows = xcalloc((size_t)(batch > 0 ? batch : 1), sizeof *p->rows);
        for (int i = 2; i < n && i - 2 < batch; i++)
            p->rows[i - 2] = f[i][0] == '-' ? (uint64_t)strtoll(f[i], NULL, base)
                                            : strtoull(f[i], NULL, base);
    } else {
        p->value = f[1][0] == '-' ? (uint64_t)strtoll(f[1], NULL, base)
                                  : strtoull(f[1], NULL, base);
    }
}

static void case_defaults(struct corpus_case *c, int line)
{
    memset(c, 0, sizeof *c);
    c->line = line;
    c->dtype = 0;
    c->temperature.value = 0x3f800000u; /* 1.0f */
    c->top_p.value = 0x3f800000u;
    c->tensor_size = c->params_size = -1;
    c->memory = c->reserved = c->flags = c->kind = -1;
    c->first_invalid = -1;
    strcpy(c->status, "OK");
}

static uint32_t parse_dtype(const char *s)
{
    if (strcmp(s, "f16") == 0)
        return 1;
    if (strcmp(s, "bf16") == 0)
        return 2;
    return 0;
}

static void parse_expect(struct corpus_case *c, char **f, int n)
{
    if (strcmp(f[1], "status") == 0) {
        snprintf(c->status, sizeof c->status, "%s", f[2]);
    } else if (strcmp(f[1], "first_invalid") == 0) {
        c->first_invalid = dec(f[2]);
    } else if (strcmp(f[1], "tokens") == 0) {
        c->tokens = xcalloc((size_t)(c->batch > 0 ? c->batch : 1), sizeof *c->tokens);
        for (int i = 2; i < n && i - 2 < c->batch; i++)
            c->tokens[i - 2] = (int32_t)dec(f[i]);
    } else if (strcmp(f[1], "row") == 0 || strcmp(f[1], "rowhash") == 0) {
        c->exp = realloc(c->exp, (size_t)(c->nexp + 1) * sizeof *c->exp);
        if (!c->exp)
            abort();
        struct corpus_row_expect *e = &c->exp[c->nexp++];
        memset(e, 0, sizeof *e);
        e->row = dec(f[2]);
        if (strcmp(f[1], "rowhash") == 0) {
            e->hashed = 1;
            e->hash = hex(f[3]);
        } else if (strcmp(f[3], "nan") == 0) {
            e->nan = 1;
        } else {
            e->values = xcalloc((size_t)c->vocab, sizeof *e->values);
            for (int i = 3; i < n && i - 3 < c->vocab; i++)
                e->values[i - 3] = (uint32_t)hex(f[i]);
        }
    }
}

static void parse_fault(struct corpus_case *c, char **f, int n)
{
    int64_t v = n > 2 ? dec(f[2]) : 0;
    if (strcmp(f[1], "null_tensor") == 0) c->null_tensor = 1;
    else if (strcmp(f[1], "null_data") == 0) c->null_data = 1;
    else if (strcmp(f[1], "null_output") == 0) c->null_output = 1;
    else if (strcmp(f[1], "null_params") == 0) c->null_params = 1;
    else if (strcmp(f[1], "tensor_size") == 0) c->tensor_size = v;
    else if (strcmp(f[1], "params_size") == 0) c->params_size = v;
    else if (strcmp(f[1], "memory") == 0) c->memory = v;
    else if (strcmp(f[1], "reserved") == 0) c->reserved = v;
    else if (strcmp(f[1], "flags") == 0) c->flags = v;
    else if (strcmp(f[1], "kind") == 0) c->kind = v;
    else fprintf(stderr, "corpus: case %s: unknown fault %s\n", c->name, f[1]);
}

/* One directive of a case. */
static void parse_directive(struct corpus_case *c, char **f, int n)
{
    const char *d = f[0];
    if (strcmp(d, "op") == 0) {
        snprintf(c->op, sizeof c->op, "%s", f[1]);
    } else if (strcmp(d, "dtype") == 0) {
        c->dtype = strcmp(f[1], "raw") == 0 ? (uint32_t)dec(f[2]) : parse_dtype(f[1]);
    } else if (strcmp(d, "shape") == 0) {
        c->batch = dec(f[1]);
        c->vocab = dec(f[2]);
        c->stride = dec(f[3]);
    } else if (strcmp(d, "out_stride") == 0) {
        c->out_stride = dec(f[1]);
    } else if (strcmp(d, "gen") == 0) {
        snprintf(c->gen, sizeof c->gen, "%s", f[1]);
        c->gen_seed = strtoull(f[2], NULL, 10);
        if (n > 3) {
            c->have_gen_arg = 1;
            c->gen_arg = strcmp(f[1], "const") == 0 ? (int64_t)hex(f[3]) : dec(f[3]);
        }
    } else if (strcmp(d, "row") == 0) {
        c->row_index = realloc(c->row_index, (size_t)(c->nrows + 1) * sizeof *c->row_index);
        c->row_values = realloc(c->row_values, (size_t)(c->nrows + 1) * sizeof *c->row_values);
        if (!c->row_index || !c->row_values)
            abort();
        c->row_index[c->nrows] = dec(f[1]);
        uint32_t *v = xcalloc((size_t)c->vocab, sizeof *v);
        for (int i = 2; i < n && i - 2 < c->vocab; i++)
            v[i - 2] = (uint32_t)hex(f[i]);
        c->row_values[c->nrows++] = v;
    } else if (strcmp(d, "set") == 0) {
        c->edits = realloc(c->edits, (size_t)(c->nedits + 1) * sizeof *c->edits);
        if (!c->edits)
            abort();
        c->edits[c->nedits++] = (struct corpus_edit){dec(f[1]), dec(f[2]), (uint32_t)hex(f[3])};
    } else if (strcmp(d, "temperature") == 0) {
        per_row(&c->temperature, f, n, c->batch, 16);
    } else if (strcmp(d, "top_k") == 0) {
        per_row(&c->top_k, f, n, c->batch, 10);
    } else if (strcmp(d, "top_p") == 0) {
        per_row(&c->top_p, f, n, c->batch, 16);
    } else if (strcmp(d, "min_p") == 0) {
        per_row(&c->min_p, f, n, c->batch, 16);
    } else if (strcmp(d, "seed") == 0) {
        per_row(&c->seed, f, n, c->batch, 10);
    } else if (strcmp(d, "offset") == 0) {
        per_row(&c->offset, f, n, c->batch, 10);
    } else if (strcmp(d, "fault") == 0) {
        parse_fault(c, f, n);
    } else if (strcmp(d, "expect") == 0) {
        parse_expect(c, f, n);
    } else {
        fprintf(stderr, "corpus: case %s: unknown directive %s\n", c->name, d);
    }
}

int corpus_read(const char *path, struct corpus_case **cases)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        perror(path);
        return -1;
    }
    char *line = NULL, **f = NULL;
    size_t linecap = 0;
    int cap = 0, ncases = 0, lineno = 0;
    struct corpus_case *c = NULL, *all = NULL;
    while (getline(&line, &linecap, fp) > 0) {
        lineno++;
        if (line[0] == '#')
            continue;
        int nf = split(line, &f, &cap);
        if (nf == 0)
            continue;
        if (strcmp(f[0], "case") == 0) {
            all = realloc(all, (size_t)(ncases + 1) * sizeof *all);
            if (!all)
                abort();
            c = &all[ncases++];
            case_defaults(c, lineno);
            snprintf(c->name, sizeof c->name, "%s", nf > 1 ? f[1] : "?");
        } else if (strcmp(f[0], "end") == 0) {
            c = NULL;
        } else if (c && nf >= 2) {
            parse_directive(c, f, nf);
        }
    }
    free(line);
    free(f);
    fclose(fp);
    *cases = all;
    return ncases;
}

static void free_case(struct corpus_case *c)
{
    for (int i = 0; i < c->nrows; i++)
        free(c->row_values[i]);
    free(c->row_values);
    free(c->row_index);
    free(c->edits);
    free(c->temperature.rows);
    free(c->top_p.rows);
    free(c->min_p.rows);
    free(c->top_k.rows);
    free(c->seed.rows);
    free(c->offset.rows);
    free(c->tokens);
    for (int i = 0; i < c->nexp; i++)
        free(c->exp[i].values);
    free(c->exp);
}

void corpus_free(struct corpus_case *cases, int n)
{
    for (int i = 0; i < n; i++)
        free_case(&cases[i]);
    free(cases);
}

size_t corpus_elem_size(const struct corpus_case *c)
{
    return c->dtype == 1 || c->dtype == 2 ? 2 : 4;
}

/* A float32 value that is exactly representable as binary16, as its bits. */
static uint16_t f32_to_f16_exact(float x)
{
    uint16_t sign = (uint16_t)((sample_f32_bits(x) >> 16) & 0x8000u);
    float a = fabsf(x);
    if (a != a)
        return 0x7e00;
    if (a == INFINITY)
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x1p-14f) /* zero or subnormal: a multiple of 2^-24 */
        return (uint16_t)(sign | (uint16_t)ldexpf(a, 24));
    int e;
    float fr = frexpf(a, &e); /* a = fr * 2^e, fr in [0.5, 1) */
    uint32_t mant = (uint32_t)ldexpf(fr, 11) & 0x3ffu;
    return (uint16_t)(sign | (uint32_t)(e - 1 + 15) << 10 | mant);
}

static uint32_t to_dtype(float x, uint32_t dtype)
{
    if (dtype == 1)
        return f32_to_f16_exact(x);
    if (dtype == 2)
        return sample_f32_bits(x) >> 16;
    return sample_f32_bits(x);
}

uint32_t corpus_generate(const char *gen, uint64_t seed, int64_t arg, uint32_t dtype,
                         int64_t row, int64_t index)
{
    uint32_t ctr[4] = {(uint32_t)(index / 4), (uint32_t)row, 0x73616d70u, 0};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t out[4];
    int m = dtype == 1 ? 11 : dtype == 2 ? 8 : 24;
    if (strcmp(gen, "const") == 0)
        return (uint32_t)arg;
    sample_philox4x32_10(ctr, key, out);
    uint32_t x = out[index % 4], u = x >> (32 - m);
    float v;
    if (strcmp(gen, "logits_uniform") == 0) {
        v = ldexpf((float)((int32_t)u - (1 << (m - 1))), (int)arg);
    } else if (strcmp(gen, "logits_bell") == 0) {
        int s = (int)(x & 63) + (int)((x >> 6) & 63) + (int)((x >> 12) & 63) +
                (int)((x >> 18) & 63) - 126;
        v = ldexpf((float)s, (int)arg);
    } else if (strcmp(gen, "probs_uniform") == 0) {
        v = ldexpf((float)u, -m);
    } else if (strcmp(gen, "probs_wide") == 0 || strcmp(gen, "probs_steps") == 0) {
        int d = gen[6] == 'w' /* probs_wide */
                    ? (int)((x & 63) % (dtype == 1 ? 14 : 64))
                    : (int)(x & 31) + (int)arg * (int)((index / 2048) % 8);
        v = ldexpf((float)(u | (1u << (m - 1))), -m - d);
    } else if (strcmp(gen, "probs_ties") == 0) {
        v = ldexpf((float)(x % (uint32_t)arg), -4);
    } else {
        fprintf(stderr, "corpus: unknown generator %s\n", gen);
        abort();
    }
    return to_dtype(v, dtype);
}

static void store(void *data, size_t elem, int64_t at, uint32_t bits)
{
    if (elem == 4)
        ((uint32_t *)data)[at] = bits;
    else
        ((uint16_t *)data)[at] = (uint16_t)bits;
}

void corpus_fill_input(const struct corpus_case *c, void *data, int64_t stride)
{
    size_t elem = corpus_elem_size(c);
    uint32_t nan = c->dtype == 1 ? 0x7e00u : c->dtype == 2 ? 0x7fc0u : 0x7fc00000u;
    for (int64_t r = 0; r < c->batch; r++)
        for (int64_t j = 0; j < stride; j++)
            store(data, elem, r * stride + j,
                  j < c->vocab && c->gen[0]
                      ? corpus_generate(c->gen, c->gen_seed, c->gen_arg, c->dtype, r, j)
                      : nan);
    for (int i = 0; i < c->nrows; i++)
        for (int64_t j = 0; j < c->vocab; j++)
            store(data, elem, c->row_index[i] * stride + j, c->row_values[i][j]);
    for (int i = 0; i < c->nedits; i++)
        store(data, elem, c->edits[i].row * stride + c->edits[i].index, c->edits[i].value);
}

int corpus_each_line(const char *path, const char *word, corpus_line_fn *fn, void *user)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        perror(path);
        return -1;
    }
    char *line = NULL, **f = NULL;
    size_t linecap = 0;
    int cap = 0, seen = 0;
    while (getline(&line, &linecap, fp) > 0) {
        int nf = split(line, &f, &cap);
        if (nf > 0 && strcmp(f[0], word) == 0) {
            fn(f, nf, user);
            seen++;
        }
    }
    free(line);
    free(f);
    fclose(fp);
    return seen;
}

void corpus_path(char *buf, size_t len, const char *file)
{
    const char *dir = getenv("CORPUS_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : "tests/corpus", file);
}
