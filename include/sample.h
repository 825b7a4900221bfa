/*
 * sample.h - libsample: exact, reproducible token sampling for a batch of rows.
 *
 * Every result is defined to the bit by libsample's semantics (SPEC.md, version 1):
 * the same inputs, parameters, seed and offset give the same token on every
 * backend, at every batch size and in every position of the batch.
 *
 * Thread safety: a context is used by one thread at a time; any number of
 * contexts may be used in parallel.  The functions that take no context
 * (sample_strerror, sample_version, sample_backend_info, sample_*_init) may be
 * called from any thread at any time.
 */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SAMPLE_BUILDING_LIBRARY) && defined(__GNUC__)
#define SAMPLE_API __attribute__((visibility("default")))
#else
#define SAMPLE_API
#endif

#define SAMPLE_VERSION_MAJOR 0
#define SAMPLE_VERSION_MINOR 1
#define SAMPLE_VERSION_PATCH 0
#define SAMPLE_VERSION_STRING "0.1.0"
/* The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define SAMPLE_VERSION_NUMBER \
    (SAMPLE_VERSION_MAJOR * 10000 + SAMPLE_VERSION_MINOR * 100 + SAMPLE_VERSION_PATCH)

/* Largest vocabulary (values in a row) a call accepts: 2^23. */
#define SAMPLE_MAX_VOCAB 8388608
/* Most CPU threads a context may ask for (sample_options.threads). */
#define SAMPLE_MAX_THREADS 1024

/* Return codes.  Zero is success; every failure has its own positive code. */
typedef enum sample_status {
    SAMPLE_OK = 0,
    SAMPLE_ERR_NULL = 1,               /* a pointer the call needs is NULL */
    SAMPLE_ERR_SHAPE = 2,              /* V outside 1..2^23, B < 0, bad stride, size overflow */
    SAMPLE_ERR_FLAGS = 3,              /* unknown dtype, memory kind, input kind or flag bits */
    SAMPLE_ERR_STRUCT_SIZE = 4,        /* a struct's size field is not one this library knows */
    SAMPLE_ERR_ARGUMENT = 5,           /* an argument this operation does not take */
    SAMPLE_ERR_INVALID_ROWS = 6,       /* some rows were invalid; all valid rows were computed */
    SAMPLE_ERR_NO_MEMORY = 7,          /* an allocation failed; nothing was written */
    SAMPLE_ERR_BACKEND_UNKNOWN = 8,    /* the backend name is not one libsample knows */
    SAMPLE_ERR_BACKEND_MISSING = 9,    /* the backend was not built into this library */
    SAMPLE_ERR_BACKEND_UNUSABLE = 10,  /* the backend is built in but cannot run here */
    SAMPLE_ERR_UNSUPPORTED = 11,       /* the context's backend cannot do this (e.g. device memory) */
    SAMPLE_ERR_DEVICE = 12,            /* the GPU runtime reported an error */
    SAMPLE_ERR_RANGE = 13              /* an index (backend, device) is out of range */
} sample_status;

/* Element types of an input row. */
typedef enum sample_dtype {
    SAMPLE_F32 = 0,                    /* IEEE-754 binary32 */
    SAMPLE_F16 = 1,                    /* IEEE-754 binary16 */
    SAMPLE_BF16 = 2                    /* bfloat16: the upper half of a binary32 */
} sample_dtype;

/* Where the data of a call lives. */
typedef enum sample_memory {
    SAMPLE_HOST = 0,                   /* host memory: every backend */
    SAMPLE_DEVICE = 1                  /* GPU memory of the context's device: hip backend */
} sample_memory;

/* What the values of a row are (sample_argmax needs to know to check the row). */
typedef enum sample_kind {
    SAMPLE_PROBS = 0,                  /* probabilities: finite, >= 0, need not sum to 1 */
    SAMPLE_LOGITS = 1                  /* logits: no NaN or +inf, at least one finite */
} sample_kind;

/*
 * A batch of B rows of V values.  Row r starts at element r * stride.
 * Initialise with sample_tensor_init(); the size field lets the struct grow.
 */
typedef struct sample_tensor {
    uint32_t size;                     /* sizeof(sample_tensor) */
    uint32_t dtype;                    /* a sample_dtype */
    uint32_t memory;                   /* a sample_memory */
    uint32_t reserved;                 /* must be 0 */
    const void *data;                  /* first element of row 0 */
    int64_t batch;                     /* B >= 0 */
    int64_t vocab;                     /* V, 1 ... SAMPLE_MAX_VOCAB */
    int64_t stride;                    /* elements from one row to the next; 0 means V */
} sample_tensor;

/*
 * The parameters of one call.  Each has a value for the whole batch and an
 * optional per-row array (B entries) that, when not NULL, replaces it.
 * Initialise with sample_params_init(), which sets every filter neutral.
 */
typedef struct sample_params {
    uint32_t size;                     /* sizeof(sample_params) */
    uint32_t flags;                    /* reserved, must be 0 */
    float temperature;                 /* logits only: T >= 0 (0 = greedy); default 1 */
    int32_t top_k;                     /* k >= 0; 0 keeps all; default 0 */
    float top_p;                       /* 0 < P <= 1; 1 keeps all; default 1 */
    float min_p;                       /* 0 <= Q < 1; 0 keeps all; default 0 */
    uint64_t seed;                     /* Philox key; default 0 */
    uint64_t offset;                   /* Philox counter: advance by one per token */
    const float *temperatures;         /* per-row T, or NULL */
    const int32_t *top_ks;             /* per-row k, or NULL */
    const float *top_ps;               /* per-row P, or NULL */
    const float *min_ps;               /* per-row Q, or NULL */
    const uint64_t *seeds;             /* per-row seeds (subsequence 0), or NULL */
    const uint64_t *offsets;           /* per-row offsets, or NULL */
    void *stream;                      /* hipStream_t or CUstream for device memory, or NULL */
} sample_params;

/* Options for sample_create().  Initialise with sample_options_init(). */
typedef struct sample_options {
    uint32_t size;                     /* sizeof(sample_options) */
    uint32_t flags;                    /* reserved, must be 0 */
    const char *backend;               /* "scalar", "openmp", "hip", "auto", or NULL */
    int32_t device;                    /* GPU index, or -1 for SAMPLE_DEVICE / 0 */
    int32_t threads;                   /* CPU threads (<= SAMPLE_MAX_THREADS), or 0 for
                                          OMP_NUM_THREADS / all cores */
} sample_options;

/* What sample_backend_info() reports about one backend libsample knows. */
typedef struct sample_backend_desc {
    uint32_t size;                     /* sizeof(sample_backend_desc), set by the caller */
    int32_t built;                     /* 1 if compiled into this library */
    int32_t usable;                    /* 1 if it can run on this machine now */
    int32_t reserved;
    const char *name;                  /* "scalar", "openmp", "hip" */
    const char *reason;                /* why it is not usable, or "" (static storage) */
} sample_backend_desc;

typedef struct sample_ctx sample_ctx;

/* Version of the library actually linked, as SAMPLE_VERSION_NUMBER / _STRING. */
SAMPLE_API int32_t sample_version(void);
SAMPLE_API const char *sample_version_string(void);

/* A short English description of a status code (static storage, never NULL). */
SAMPLE_API const char *sample_strerror(int status);

/* The backends libsample knows: index 0, 1, ... until SAMPLE_ERR_RANGE. */
SAMPLE_API int sample_backend_info(int32_t index, sample_backend_desc *desc);

SAMPLE_API void sample_options_init(sample_options *options);
SAMPLE_API void sample_params_init(sample_params *params);
SAMPLE_API void sample_tensor_init(sample_tensor *tensor, sample_dtype dtype,
                                   const void *data, int64_t batch, int64_t vocab);

/* Create a context on the backend chosen by options, SAMPLE_BACKEND, or probing. */
SAMPLE_API int sample_create(sample_ctx **ctx, const sample_options *options);
SAMPLE_API void sample_destroy(sample_ctx *ctx);
/* The name of the context's backend ("scalar", "openmp", "hip"). */
SAMPLE_API const char *sample_backend(const sample_ctx *ctx);
/* The message of the context's last failed call ("" after a success). */
SAMPLE_API const char *sample_last_error(const sample_ctx *ctx);
/* Why sample_create() failed on this thread, when it could not return a context. */
SAMPLE_API const char *sample_create_error(void);

/* One token per row: tokens[r] for row r, -1 for an invalid row. */
SAMPLE_API int sample_from_probs(sample_ctx *ctx, const sample_tensor *probs,
                                 const sample_params *params, int32_t *tokens);
SAMPLE_API int sample_from_logits(sample_ctx *ctx, const sample_tensor *logits,
                                  const sample_params *params, int32_t *tokens);
SAMPLE_API int sample_argmax(sample_ctx *ctx, const sample_tensor *input,
                             sample_kind kind, int32_t *tokens);

/*
 * Row-valued results: out has B rows of V float32 values, row r starting at
 * out + r * out_stride (0 means V).  An invalid row is filled with NaN.
 */
SAMPLE_API int sample_renorm_probs(sample_ctx *ctx, const sample_tensor *probs,
                                   const sample_params *params, float *out,
                                   int64_t out_stride);
SAMPLE_API int sample_mask_logits(sample_ctx *ctx, const sample_tensor *logits,
                                  const sample_params *params, float *out,
                                  int64_t out_stride);
SAMPLE_API int sample_softmax(sample_ctx *ctx, const sample_tensor *logits,
                              const sample_params *params, float *out,
                              int64_t out_stride);

#ifdef __cplusplus
}
#endif

#endif /* SAMPLE_H */
