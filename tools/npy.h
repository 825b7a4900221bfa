/*
 * npy.h - a strict reader of NumPy .npy files holding the rows sample works on:
 * little-endian float32 or float16, C order, shape (V,) or (B, V).
 *
 * npy_parse() works on a memory buffer and never reads outside it, whatever
 * the bytes (it is the fuzzing entry point); npy_load() reads a file with it.
 */
#ifndef SAMPLE_NPY_H
#define SAMPLE_NPY_H

#include <stddef.h>
#include <stdint.h>

enum npy_dtype {
    NPY_F32, /* '<f4' */
    NPY_F16  /* '<f2' */
};

struct npy_array {
    enum npy_dtype dtype;
    int ndim;       /* 1 for shape (V,), 2 for shape (B, V) */
    int64_t batch;  /* B; 1 for shape (V,) */
    int64_t vocab;  /* V, 1 ... SAMPLE_MAX_VOCAB */
    size_t offset;  /* where the data starts in the buffer */
    size_t nbytes;  /* B * V * the element size; the buffer holds at least this */
};

/*
 * Parses the .npy file in buf[0 .. len).  On success returns 0 and fills *out;
 * bytes after the data are ignored.  On failure returns -1 with a message in
 * err (always terminated when errlen > 0).
 */
int npy_parse(const unsigned char *buf, size_t len, struct npy_array *out, char *err,
              size_t errlen);

/*
 * Reads the file at path (or standard input for "-").  On success returns 0,
 * fills *out and sets *data to a malloc'd block that holds exactly the
 * array's out->nbytes bytes, suitably aligned for its elements (out->offset
 * is then 0); the caller frees it.  On failure returns -1 with a message in
 * err that names the file.
 */
int npy_load(const char *path, struct npy_array *out, void **data, char *err, size_t errlen);

#endif /* SAMPLE_NPY_H */
