/*
 * status.c - status strings, the version, and struct initialisers.
 */
#include "config.h"

#include <string.h>

#include "sample.h"

const char *sample_strerror(int status)
{
    switch (status) {
    case SAMPLE_OK: return "success";
    case SAMPLE_ERR_NULL: return "a required pointer is NULL";
    case SAMPLE_ERR_SHAPE: return "batch, vocabulary or stride out of range";
    case SAMPLE_ERR_FLAGS: return "unknown dtype, memory kind, input kind or flags";
    case SAMPLE_ERR_STRUCT_SIZE: return "struct size field does not match this library";
    case SAMPLE_ERR_ARGUMENT: return "argument not taken by this operation, or out of range";
    case SAMPLE_ERR_INVALID_ROWS: return "some rows were invalid";
    case SAMPLE_ERR_NO_MEMORY: return "out of memory";
    case SAMPLE_ERR_BACKEND_UNKNOWN: return "unknown backend name";
    case SAMPLE_ERR_BACKEND_MISSING: return "backend not built into this library";
    case SAMPLE_ERR_BACKEND_UNUSABLE: return "backend cannot run on this machine";
    case SAMPLE_ERR_UNSUPPORTED: return "operation not supported by this backend";
    case SAMPLE_ERR_DEVICE: return "GPU runtime error";
    case SAMPLE_ERR_RANGE: return "index out of range";
    }
    return "unknown status code";
}

int32_t sample_version(void)
{
    return SAMPLE_VERSION_NUMBER;
}

const char *sample_version_string(void)
{
    return SAMPLE_VERSION_STRING;
}

void sample_params_init(sample_params *params)
{
    if (!params)
        return;
    memset(params, 0, sizeof *params);
    params->size = sizeof *params;
    params->temperature = 1.0f;
    params->top_p = 1.0f;
}

void sample_tensor_init(sample_tensor *tensor, sample_dtype dtype, const void *data,
                        int64_t batch, int64_t vocab)
{
    if (!tensor)
        return;
    memset(tensor, 0, sizeof *tensor);
    tensor->size = sizeof *tensor;
    tensor->dtype = (uint32_t)dtype;
    tensor->memory = SAMPLE_HOST;
    tensor->data = data;
    tensor->batch = batch;
    tensor->vocab = vocab;
}
