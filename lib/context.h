/*
 * context.h - what a context is, and the dispatcher's view of the backends.
 */
#ifndef SAMPLE_CONTEXT_H
#define SAMPLE_CONTEXT_H

#include "backend.h"

#define SAMPLE_MESSAGE_MAX 256

struct sample_ctx {
    const struct sample_backend *backend;
    void *state;                       /* the backend's, from open() */
    char error[SAMPLE_MESSAGE_MAX];    /* the last failed call's message, or "" */
};

/* The backends libsample knows, in the order auto prefers them. */
enum sample_backend_id { SAMPLE_ID_HIP, SAMPLE_ID_OPENMP, SAMPLE_ID_SCALAR, SAMPLE_ID_COUNT };

const char *sample_backend_id_name(enum sample_backend_id id);
/* The backend's table, or NULL when it is not built into this library. */
const struct sample_backend *sample_backend_table(enum sample_backend_id id);
/* Whether configure built it (the hip module may still be missing at run time). */
int sample_backend_built(enum sample_backend_id id);
/* Whether a built backend can run here (probed once, thread-safe); *why if not. */
int sample_backend_usable(enum sample_backend_id id, const char **why);

/* Debug logging, switched on by SAMPLE_LOG=debug. */
void sample_log(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif /* SAMPLE_CONTEXT_H */
