/*
 * openmp.c - the OpenMP backend: SPEC.md in parallel, with no sort of a row.
 *
 * A call's rows are shared out among the threads, one row per thread at a time.
 * With fewer rows than threads (B = 1 is a single-user engine's every call) each
 * row is instead cut into chunks and computed by the whole team (row.c).
 *
 * Threads: sample_options.threads when > 0, else omp_get_max_threads() (which
 * follows OMP_NUM_THREADS, else the number of cores), read when the context is
 * created.  Each parallel region asks for that many with num_threads, so
 * contexts with different counts can run side by side.
 */
#include "config.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "alloc.h"
#include "openmp.h"

static void *grow(void *p, int64_t n, size_t size, int *failed)
{
    void *q = sample_realloc(p, (size_t)n * size);
    if (!q) {
        *failed = 1;
        return p;
    }
    return q;
}

static void list_grow(struct omp_list *l, int64_t n, int *failed)
{
    l->idx = grow(l->idx, n, sizeof *l->idx, failed);
    l->w = grow(l->w, n, sizeof *l->w, failed);
}

/* Buffers for rows of `vocab` values and calls of `batch` rows. */
static int reserve(struct omp_state *s, int64_t vocab, int64_t batch)
{
    int failed = 0;
    if (vocab > s->vocab) {
        int64_t blocks = vocab / OMP_BLOCK + 1;
        for (int t = 0; t < s->threads; t++) {
            struct omp_slot *slot = &s->slots[t];
            list_grow(&slot->list, vocab, &failed);
            list_grow(&slot->tmp, vocab, &failed);
            slot->wide = grow(slot->wide, vocab, sizeof(float), &failed);
            slot->weights = grow(slot->weights, vocab, sizeof(float), &failed);
            slot->blocks = grow(slot->blocks, blocks, sizeof(uint64_t), &failed);
            slot->listed = grow(slot->listed, blocks, sizeof(int32_t), &failed);
        }
        list_grow(&s->merged, vocab, &failed);
        if (failed)
            return SAMPLE_ERR_NO_MEMORY;
        s->vocab = vocab;
    }
    if (batch > s->batch) {
        s->faults = grow(s->faults, batch, sizeof *s->faults, &failed);
        s->fault_index = grow(s->fault_index, batch, sizeof *s->fault_index, &failed);
        if (failed)
            return SAMPLE_ERR_NO_MEMORY;
        s->batch = batch;
    }
    return SAMPLE_OK;
}

static int openmp_run(void *state, struct sample_call *c)
{
    struct omp_state *s = state;
    int64_t batch = c->input->batch, vocab = c->input->vocab;
    if (reserve(s, vocab, batch) != SAMPLE_OK)
        return SAMPLE_ERR_NO_MEMORY;

    if (s->threads > 1 && batch < s->threads && vocab >= OMP_SPLIT_MIN) {
#pragma omp parallel num_threads(s->threads)
        {
            struct omp_team team = {omp_get_thread_num(), omp_get_num_threads()};
            for (int64_t r = 0; r < batch; r++)
                omp_row_run(s, c, r, team, &s->row, s->slots);
        }
    } else {
        int threads = batch < s->threads ? (int)batch : s->threads;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int64_t r = 0; r < batch; r++) {
            struct omp_team team = {0, 1};
            struct omp_row row;
            omp_row_run(s, c, r, team, &row, &s->slots[omp_get_thread_num()]);
        }
    }

    /* In row order: sample_call_row_fault is not thread-safe. */
    for (int64_t r = 0; r < batch; r++)
        if (s->faults[r] != SAMPLE_ROW_OK)
            sample_call_row_fault(c, r, s->faults[r], s->fault_index[r]);
    return SAMPLE_OK;
}

static int openmp_probe(const char **why)
{
    *why = "";
    return 1;
}

static void openmp_close(void *state)
{
    struct omp_state *s = state;
    if (!s)
        return;
    for (int t = 0; t < s->threads; t++) {
        struct omp_slot *slot = &s->slots[t];
        sample_free(slot->list.idx);
        sample_free(slot->list.w);
        sample_free(slot->tmp.idx);
        sample_free(slot->tmp.w);
        sample_free(slot->wide);
        sample_free(slot->weights);
        sample_free(slot->blocks);
        sample_free(slot->listed);
    }
    sample_free(s->slots);
    sample_free(s->merged.idx);
    sample_free(s->merged.w);
    sample_free(s->faults);
    sample_free(s->fault_index);
    sample_free(s);
}

static int openmp_open(const sample_options *options, void **state, char *msg, size_t msglen)
{
    (void)msg;
    (void)msglen;
    struct omp_state *s = sample_calloc(1, sizeof *s);
    if (!s)
        return SAMPLE_ERR_NO_MEMORY;
    s->threads = options->threads > 0 ? options->threads : omp_get_max_threads();
    s->slots = sample_calloc((size_t)s->threads, sizeof *s->slots);
    if (!s->slots) {
        sample_free(s);
        return SAMPLE_ERR_NO_MEMORY;
    }
    *state = s;
    return SAMPLE_OK;
}

const struct sample_backend sample_backend_openmp = {
    SAMPLE_BACKEND_ABI,            /* abi */
    sizeof(struct sample_backend), /* size */
    "openmp",                      /* name */
    0,                             /* supports: host memory only */
    openmp_probe,                  /* probe: always usable */
    openmp_open,                   /* open: the thread count; buffers grow on use */
    openmp_close,                  /* close */
    openmp_run,                    /* run */
};
