/*
 * backend.h - the private interface between the dispatcher and a backend.
 *
 * A backend is one filled-in struct sample_backend.  The dispatcher checks
 * every argument of a public call once, describes the call in a struct
 * sample_call, and hands it to the backend's run(); a backend never sees an
 * argument the public API would reject.  Built-in backends are listed in
 * registry.c; a loadable backend (hip) exports one entry point returning its
 * table, and the dispatcher refuses a table whose abi or size it does not know.
 */
#ifndef SAMPLE_BACKEND_H
#define SAMPLE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "sample.h"
#include "sample_exact.h"

/* Bump when struct sample_backend or struct sample_call changes incompatibly. */
#define SAMPLE_BACKEND_ABI 2

/* What a backend can do besides host-memory calls. */
#define SAMPLE_SUPPORTS_DEVICE_MEMORY 0x1u

enum sample_op {
    SAMPLE_OP_FROM_PROBS,
    SAMPLE_OP_FROM_LOGITS,
    SAMPLE_OP_ARGMAX,
    SAMPLE_OP_RENORM,
    SAMPLE_OP_MASK,
    SAMPLE_OP_SOFTMAX
};

/* One checked call.  The dispatcher fills the inputs; the backend the results. */
struct sample_call {
    enum sample_op op;
    sample_kind kind;          /* how the input's values are read */
    const sample_tensor *input;
    const sample_params *params; /* never NULL: argmax gets neutral params */
    int64_t stride;            /* input row stride in elements, resolved (never 0) */
    int32_t *tokens;           /* token ops */
    float *out;                /* row ops */
    int64_t out_stride;        /* resolved (never 0) */

    /* Results: how many rows were invalid, and the lowest one with its reason. */
    int64_t bad_rows;
    int64_t first_bad_row;
    enum sample_row_fault first_bad_fault;
    int64_t first_bad_index;   /* the element that made it invalid, or -1 */

    /* Set by a backend that fails a call: what went wrong, for sample_last_error(). */
    char message[200];
};

struct sample_backend {
    uint32_t abi;              /* SAMPLE_BACKEND_ABI */
    uint32_t size;             /* sizeof(struct sample_backend) */
    const char *name;          /* as SAMPLE_BACKEND spells it */
    uint32_t supports;         /* SAMPLE_SUPPORTS_* bits */
    /* 1 if it can run on this machine; else 0 and *why (static storage). */
    int (*probe)(const char **why);
    /* A per-context state; a sample_status, with a message in msg on failure. */
    int (*open)(const sample_options *options, void **state, char *msg, size_t msglen);
    void (*close)(void *state);
    /* Run one checked call: SAMPLE_OK (row faults go in the call), or a failure
     * (NO_MEMORY, DEVICE, ARGUMENT for memory that is not what the tensor says),
     * with the reason in call->message. */
    int (*run)(void *state, struct sample_call *call);
};

/* Row parameters: the per-row array entry when given, else the call's value. */
static inline float sample_row_temperature(const sample_params *p, int64_t r)
{
    return p->temperatures ? p->temperatures[r] : p->temperature;
}
static inline int32_t sample_row_top_k(const sample_params *p, int64_t r)
{
    return p->top_ks ? p->top_ks[r] : p->top_k;
}
static inline float sample_row_top_p(const sample_params *p, int64_t r)
{
    return p->top_ps ? p->top_ps[r] : p->top_p;
}
static inline float sample_row_min_p(const sample_params *p, int64_t r)
{
    return p->min_ps ? p->min_ps[r] : p->min_p;
}

/* SPEC 5: the 64-bit draw U of row r. */
uint64_t sample_row_draw(const sample_params *p, int64_t r);

/* SPEC 4 and 6: whether row r's parameters are in range for the call's operation. */
enum sample_row_fault sample_row_param_fault(const struct sample_call *call, int64_t r);

/* Record that row r is invalid; keeps the lowest row's reason.  Not thread-safe. */
void sample_call_row_fault(struct sample_call *call, int64_t r,
                           enum sample_row_fault fault, int64_t index);

#endif /* SAMPLE_BACKEND_H */
