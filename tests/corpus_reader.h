/*
 * corpus_reader.h - reading the corpus files of tests/corpus (format: FORMAT.md there)
 * and building each case's input exactly as the oracle did.
 */
#ifndef SAMPLE_TEST_CORPUS_READER_H
#define SAMPLE_TEST_CORPUS_READER_H

#include <stdint.h>
#include <stdio.h>

/* A batch value or a per-row array (rows != NULL, B entries): integers as
 * written, floats as their float32 bit patterns. */
struct corpus_param { uint64_t value; uint64_t *rows; };

struct corpus_edit { int64_t row, index; uint32_t value; };

struct corpus_case {
    char name[128];
    int line;                       /* where the case starts */
    char op[32];
    uint32_t dtype;                 /* raw enum value */
    int64_t batch, vocab, stride, out_stride;
    char gen[32];                   /* "" when not generated */
    uint64_t gen_seed;
    int64_t gen_arg;                /* E, Q or a HEXE value */
    int have_gen_arg;
    /* explicit rows: row_index[i] and row_values[i] (V values each) */
    int nrows;
    int64_t *row_index;
    uint32_t **row_values;
    int nedits;
    struct corpus_edit *edits;
    struct corpus_param temperature, top_p, min_p, top_k, seed, offset;
    /* faults */
    int null_tensor, null_data, null_output, null_params;
    int64_t tensor_size, params_size; /* -1 = correct */
    int64_t memory, reserved, flags, kind; /* -1 = default */
    /* expectations */
    char status[40];
    int64_t first_invalid;          /* -1 = not given */
    int32_t *tokens;                /* B entries, or NULL */
    int nexp;                       /* row expectations */
    struct corpus_row_expect {
        int64_t row;
        int nan;                    /* every value NaN */
        int hashed;                 /* compare by hash */
        uint64_t hash;
        uint32_t *values;           /* V values when !nan && !hashed */
    } *exp;
};

/* Reads every case of a file; returns the count or -1 (message on stderr). */
int corpus_read(const char *path, struct corpus_case **cases);
void corpus_free(struct corpus_case *cases, int n);

/* Element size of the case's dtype (2 or 4; 4 for an unknown raw dtype). */
size_t corpus_elem_size(const struct corpus_case *c);
/* Fills B * stride elements (stride resolved) of the case's input. */
void corpus_fill_input(const struct corpus_case *c, void *data, int64_t stride);
/* FORMAT.md's element generators: one value's bit pattern in the case's dtype. */
uint32_t corpus_generate(const char *gen, uint64_t seed, int64_t arg, uint32_t dtype,
                         int64_t row, int64_t index);

/* Calls fn for every line of a file that starts with word; returns lines seen or -1. */
typedef void corpus_line_fn(char **fields, int nfields, void *user);
int corpus_each_line(const char *path, const char *word, corpus_line_fn *fn, void *user);

/* A file name under $CORPUS_DIR (or tests/corpus). */
void corpus_path(char *buf, size_t len, const char *file);

#endif
