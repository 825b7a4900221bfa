/*
 * api.c - the operations: every argument is checked here, once, in the order
 * tests/corpus/FORMAT.md gives; then the context's backend runs the call.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "context.h"

static int set_error(sample_ctx *ctx, int status, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int set_error(sample_ctx *ctx, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return status;
}

static size_t dtype_size(uint32_t dtype)
{
    return dtype == SAMPLE_F32 ? 4 : 2;
}

/* Whether rows of `stride` elements of `elem` bytes, `batch` of them, fit in memory. */
static int extent_ok(int64_t batch, int64_t stride, size_t elem)
{
    uint64_t limit = (uint64_t)INT64_MAX < (uint64_t)SIZE_MAX ? (uint64_t)INT64_MAX
                                                              : (uint64_t)SIZE_MAX;
    return batch == 0 || (uint64_t)stride <= limit / elem / (uint64_t)batch;
}

static int stride_ok(int64_t stride, int64_t vocab)
{
    return stride == 0 || stride >= vocab;
}

/* A parameter the operation does not take must be left at its neutral value. */
static const char *unused_param(enum sample_op op, const sample_params *p)
{
    int takes_temperature = op == SAMPLE_OP_FROM_LOGITS || op == SAMPLE_OP_MASK ||
                            op == SAMPLE_OP_SOFTMAX;
    int takes_filters = op != SAMPLE_OP_SOFTMAX;
    int takes_seed = op == SAMPLE_OP_FROM_PROBS || op == SAMPLE_OP_FROM_LOGITS;

    if (!takes_temperature && (p->temperature != 1.0f || p->temperatures))
        return "a temperature applies to logits only";
    if (!takes_filters && (p->top_k != 0 || p->top_p != 1.0f || p->min_p != 0.0f ||
                           p->top_ks || p->top_ps || p->min_ps))
        return "softmax takes no top-k, top-p or min-p";
    if (!takes_seed && (p->seed != 0 || p->offset != 0 || p->seeds || p->offsets))
        return "a seed or offset applies to sampling only";
    return NULL;
}

static const char *fault_text(enum sample_row_fault fault)
{
    switch (fault) {
    case SAMPLE_ROW_NAN: return "is NaN";
    case SAMPLE_ROW_INFINITE: return "is +infinity";
    case SAMPLE_ROW_NEGATIVE: return "is negative";
    case SAMPLE_ROW_ALL_ZERO: return "every probability is zero";
    case SAMPLE_ROW_NO_FINITE: return "no logit is finite";
    case SAMPLE_ROW_BAD_TOP_K: return "top-k is negative";
    case SAMPLE_ROW_BAD_TOP_P: return "top-p is not in (0, 1]";
    case SAMPLE_ROW_BAD_MIN_P: return "min-p is not in [0, 1)";
    case SAMPLE_ROW_BAD_TEMPERATURE: return "temperature is out of range";
    case SAMPLE_ROW_OK: break;
    }
    return "is valid";
}

static int report_rows(sample_ctx *ctx, const struct sample_call *c)
{
    if (c->bad_rows == 0) {
        ctx->error[0] = '\0';
        return SAMPLE_OK;
    }
    const char *what = c->kind == SAMPLE_PROBS ? "probability" : "logit";
    if (c->first_bad_index >= 0)
        return set_error(ctx, SAMPLE_ERR_INVALID_ROWS,
                         "row %" PRId64 ": %s at index %" PRId64 " %s (%" PRId64
                         " invalid row%s)",
                         c->first_bad_row, what, c->first_bad_index,
                         fault_text(c->first_bad_fault), c->bad_rows,
                         c->bad_rows == 1 ? "" : "s");
    return set_error(ctx, SAMPLE_ERR_INVALID_ROWS, "row %" PRId64 ": %s (%" PRId64
                     " invalid row%s)", c->first_bad_row, fault_text(c->first_bad_fault),
                     c->bad_rows, c->bad_rows == 1 ? "" : "s");
}

/* Check a call's arguments (FORMAT.md's order), then run it on the backend. */
static int run(sample_ctx *ctx, const char *fn, struct sample_call *c, const void *output)
{
    static const sample_params neutral = {
        sizeof(sample_params), 0, 1.0f, 0, 1.0f, 0.0f, 0, 0, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL};
    const sample_tensor *in = c->input;
    int row_output = c->op > SAMPLE_OP_ARGMAX;

    if (!ctx)
        return SAMPLE_ERR_NULL;
    if (!in || !in->data || !output || (c->op != SAMPLE_OP_ARGMAX && !c->params))
        return set_error(ctx, SAMPLE_ERR_NULL, "%s: %s is NULL", fn,
                         !in ? "the tensor" : !in->data ? "the tensor's data"
                                          : !output ? "the output" : "params");
    if (in->size != sizeof *in)
        return set_error(ctx, SAMPLE_ERR_STRUCT_SIZE, "%s: tensor.size is %u, expected %zu",
                         fn, (unsigned)in->size, sizeof *in);
    if (c->params && c->params->size != sizeof *c->params)
        return set_error(ctx, SAMPLE_ERR_STRUCT_SIZE, "%s: params.size is %u, expected %zu",
                         fn, (unsigned)c->params->size, sizeof *c->params);
    if (in->dtype > SAMPLE_BF16 || in->memory > SAMPLE_DEVICE || in->reserved != 0 ||
        (c->params && c->params->flags != 0) || (unsigned)c->kind > SAMPLE_LOGITS)
        return set_error(ctx, SAMPLE_ERR_FLAGS,
                         "%s: unknown dtype %u, memory %u, kind %d, or nonzero reserved "
                         "fields or flags", fn, (unsigned)in->dtype, (unsigned)in->memory,
                         (int)c->kind);
    if (in->batch < 0 || in->vocab < 1 || in->vocab > SAMPLE_MAX_VOCAB ||
        !stride_ok(in->stride, in->vocab) || (row_output && !stride_ok(c->out_stride, in->vocab)))
        return set_error(ctx, SAMPLE_ERR_SHAPE,
                         "%s: shape B=%" PRId64 " V=%" PRId64 " stride=%" PRId64
                         " out_stride=%" PRId64 " is out of range (1 <= V <= %d, stride 0 or >= V)",
                         fn, in->batch, in->vocab, in->stride, c->out_stride, SAMPLE_MAX_VOCAB);
    c->stride = in->stride ? in->stride : in->vocab;
    c->out_stride = c->out_stride ? c->out_stride : in->vocab;
    if (!extent_ok(in->batch, c->stride, dtype_size(in->dtype)) ||
        !extent_ok(in->batch, row_output ? c->out_stride : 1, sizeof(float)))
        return set_error(ctx, SAMPLE_ERR_SHAPE, "%s: B=%" PRId64 " rows of stride %" PRId64
                         " do not fit in memory", fn, in->batch, c->stride);
    if (!c->params)
        c->params = &neutral;
    const char *unused = unused_param(c->op, c->params);
    if (unused)
        return set_error(ctx, SAMPLE_ERR_ARGUMENT, "%s: %s", fn, unused);
    if (in->memory == SAMPLE_DEVICE &&
        !(ctx->backend->supports & SAMPLE_SUPPORTS_DEVICE_MEMORY))
        return set_error(ctx, SAMPLE_ERR_UNSUPPORTED,
                         "%s: backend %s cannot use device memory", fn, ctx->backend->name);

    ctx->error[0] = '\0';
    if (in->batch == 0)
        return SAMPLE_OK;
    c->bad_rows = 0;
    c->first_bad_row = -1;
    c->first_bad_fault = SAMPLE_ROW_OK;
    c->first_bad_index = -1;
    int status = ctx->backend->run(ctx->state, c);
    if (status != SAMPLE_OK)
        return set_error(ctx, status, "%s: backend %s: %s", fn, ctx->backend->name,
                         c->message[0] ? c->message : sample_strerror(status));
    return report_rows(ctx, c);
}

/* Describe a call; exactly one of tokens and out is the output. */
static int call(sample_ctx *ctx, const char *fn, enum sample_op op, sample_kind kind,
                const sample_tensor *in, const sample_params *params, int32_t *tokens,
                float *out, int64_t out_stride)
{
    struct sample_call c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.kind = kind;
    c.input = in;
    c.params = params;
    c.tokens = tokens;
    c.out = out;
    c.out_stride = out_stride;
    return run(ctx, fn, &c, op <= SAMPLE_OP_ARGMAX ? (const void *)tokens : (const void *)out);
}

int sample_from_probs(sample_ctx *ctx, const sample_tensor *probs, const sample_params *params,
                      int32_t *tokens)
{
    return call(ctx, "sample_from_probs", SAMPLE_OP_FROM_PROBS, SAMPLE_PROBS, probs, params,
                tokens, NULL, 0);
}

int sample_from_logits(sample_ctx *ctx, const sample_tensor *logits,
                       const sample_params *params, int32_t *tokens)
{
    return call(ctx, "sample_from_logits", SAMPLE_OP_FROM_LOGITS, SAMPLE_LOGITS, logits,
                params, tokens, NULL, 0);
}

int sample_argmax(sample_ctx *ctx, const sample_tensor *input, sample_kind kind,
                  int32_t *tokens)
{
    return call(ctx, "sample_argmax", SAMPLE_OP_ARGMAX, kind, input, NULL, tokens, NULL, 0);
}

int sample_renorm_probs(sample_ctx *ctx, const sample_tensor *probs,
                        const sample_params *params, float *out, int64_t out_stride)
{
    return call(ctx, "sample_renorm_probs", SAMPLE_OP_RENORM, SAMPLE_PROBS, probs, params,
                NULL, out, out_stride);
}

int sample_mask_logits(sample_ctx *ctx, const sample_tensor *logits,
                       const sample_params *params, float *out, int64_t out_stride)
{
    return call(ctx, "sample_mask_logits", SAMPLE_OP_MASK, SAMPLE_LOGITS, logits, params,
                NULL, out, out_stride);
}

int sample_softmax(sample_ctx *ctx, const sample_tensor *logits, const sample_params *params,
                   float *out, int64_t out_stride)
{
    return call(ctx, "sample_softmax", SAMPLE_OP_SOFTMAX, SAMPLE_LOGITS, logits, params, NULL,
                out, out_stride);
}
