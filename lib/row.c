/*
 * row.c - per-row rules every backend shares: parameter ranges, the draw's
 * Philox coordinates, and the bookkeeping of invalid rows.
 */
#include "config.h"

#include <math.h>

#include "backend.h"

uint64_t sample_row_draw(const sample_params *p, int64_t r)
{
    uint64_t offset = p->offsets ? p->offsets[r] : p->offset;
    if (p->seeds)
        return sample_draw_u64(p->seeds[r], offset, 0);
    return sample_draw_u64(p->seed, offset, (uint64_t)r);
}

static int top_p_ok(float x)
{
    return x > 0.0f && x <= 1.0f; /* false for NaN */
}

static int min_p_ok(float x)
{
    return x >= 0.0f && x < 1.0f; /* false for NaN */
}

static int temperature_ok(float t, int zero_allowed)
{
    return (zero_allowed ? t >= 0.0f : t > 0.0f) && t != INFINITY;
}

enum sample_row_fault sample_row_param_fault(const struct sample_call *call, int64_t r)
{
    const sample_params *p = call->params;
    enum sample_op op = call->op;
    int takes_temperature = op == SAMPLE_OP_FROM_LOGITS || op == SAMPLE_OP_MASK ||
                            op == SAMPLE_OP_SOFTMAX;
    int takes_filters = op != SAMPLE_OP_SOFTMAX && op != SAMPLE_OP_ARGMAX;

    if (takes_temperature &&
        !temperature_ok(sample_row_temperature(p, r), op == SAMPLE_OP_FROM_LOGITS))
        return SAMPLE_ROW_BAD_TEMPERATURE;
    if (!takes_filters)
        return SAMPLE_ROW_OK;
    if (sample_row_top_k(p, r) < 0)
        return SAMPLE_ROW_BAD_TOP_K;
    if (!top_p_ok(sample_row_top_p(p, r)))
        return SAMPLE_ROW_BAD_TOP_P;
    if (!min_p_ok(sample_row_min_p(p, r)))
        return SAMPLE_ROW_BAD_MIN_P;
    return SAMPLE_ROW_OK;
}

void sample_call_row_fault(struct sample_call *call, int64_t r, enum sample_row_fault fault,
                           int64_t index)
{
    call->bad_rows++;
    if (call->first_bad_row < 0 || r < call->first_bad_row) {
        call->first_bad_row = r;
        call->first_bad_fault = fault;
        call->first_bad_index = index;
    }
}
