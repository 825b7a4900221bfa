/*
 * fuzz_npy.c - a libFuzzer harness over the .npy reader of `sample run`
 * (tools/npy.c): the input is the file.
 *
 * It asserts, whatever the bytes:
 *  - npy_parse returns 0 or -1 and reads nothing outside the buffer (the
 *    buffer is an exact-size copy, so AddressSanitizer sees any overread);
 *  - on success the array is one sample_tensor can describe: ndim 1 or 2,
 *    1 <= V <= SAMPLE_MAX_VOCAB, B >= 0 (1 for ndim 1), nbytes = B * V *
 *    element size, and offset + nbytes within the buffer;
 *  - on failure the message is non-empty, terminated inside err, and holds
 *    only printable ASCII (hostile bytes never reach a terminal raw);
 *  - a tiny or absent err buffer changes nothing but the message;
 *  - npy_load on the same bytes (as a file) agrees with npy_parse and hands
 *    back exactly the data bytes;
 *  - the parsed rows go through the library as `sample run` would (argmax
 *    as probabilities and as logits on the scalar backend) without a fault.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* memfd_create */
#else
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "../../tools/npy.h"
#include "fuzz.h"
#include "sample.h"

#define MAX_ELEMS 65536 /* rows handed to the library: B * V at most this */

static void fail(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_npy: FAILED: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static void check_message(const char *err, size_t errlen)
{
    size_t n = 0;
    while (n < errlen && err[n] != '\0')
        n++;
    if (n == errlen)
        fail("the message is not terminated inside its %zu bytes", errlen);
    if (n == 0 && errlen > 1)
        fail("a failure with an empty message");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)err[i] < 0x20 || (unsigned char)err[i] > 0x7e)
            fail("byte %zu of the message is 0x%02x, not printable: \"%s\"", i,
                 (unsigned char)err[i], err);
}

static int same_array(const struct npy_array *a, const struct npy_array *b)
{
    return a->dtype == b->dtype && a->ndim == b->ndim && a->batch == b->batch &&
           a->vocab == b->vocab && a->offset == b->offset && a->nbytes == b->nbytes;
}

static sample_ctx *scalar_ctx(void)
{
    static sample_ctx *ctx;
    if (!ctx) {
        sample_options o;
        sample_options_init(&o);
        o.backend = "scalar";
        if (sample_create(&ctx, &o) != SAMPLE_OK)
            fail("sample_create(scalar): %s", sample_create_error());
    }
    return ctx;
}

static void destroy_ctx(void)
{
    sample_destroy(scalar_ctx());
}

/* The rows through the library, as `sample run --op argmax-*` would. */
static void run_rows(const struct npy_array *a, const unsigned char *bytes)
{
    static int registered;
    if (!registered) {
        registered = 1;
        atexit(destroy_ctx);
    }
    void *rows = malloc(a->nbytes ? a->nbytes : 1);
    int32_t *tokens = malloc(sizeof *tokens * (size_t)(a->batch ? a->batch : 1));
    if (!rows || !tokens)
        fail("out of memory");
    memcpy(rows, bytes, a->nbytes); /* aligned, as npy_load hands it over */
    sample_tensor t;
    sample_tensor_init(&t, a->dtype == NPY_F32 ? SAMPLE_F32 : SAMPLE_F16, rows, a->batch,
                       a->vocab);
    for (int kind = SAMPLE_PROBS; kind <= SAMPLE_LOGITS; kind++) {
        int st = sample_argmax(scalar_ctx(), &t, (sample_kind)kind, tokens);
        if (st != SAMPLE_OK && st != SAMPLE_ERR_INVALID_ROWS)
            fail("sample_argmax on a parsed array (B %lld, V %lld): status %d: %s",
                 (long long)a->batch, (long long)a->vocab, st,
                 sample_last_error(scalar_ctx()));
        for (int64_t r = 0; r < a->batch; r++)
            if (tokens[r] < -1 || tokens[r] >= a->vocab)
                fail("sample_argmax: row %lld gave token %d", (long long)r, (int)tokens[r]);
    }
    free(rows);
    free(tokens);
}

#if defined(__linux__)
/* npy_load on the same bytes, through a memory file. */
static void check_load(const unsigned char *buf, size_t len, int parsed,
                       const struct npy_array *a)
{
    int fd = memfd_create("fuzz_npy", 0);
    if (fd < 0)
        return; /* no memfd here: nothing to compare */
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n <= 0)
            fail("write to a memfd failed");
        done += (size_t)n;
    }
    char path[64], err[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct npy_array b;
    void *data = NULL;
    int rc = npy_load(path, &b, &data, err, sizeof err);
    close(fd);
    if (rc != parsed)
        fail("npy_load returned %d, npy_parse %d (%s)", rc, parsed, rc ? err : "");
    if (rc != 0) {
        check_message(err, sizeof err);
        return;
    }
    if (b.offset != 0 || b.dtype != a->dtype || b.ndim != a->ndim || b.batch != a->batch ||
        b.vocab != a->vocab || b.nbytes != a->nbytes)
        fail("npy_load and npy_parse disagree on the array");
    if (memcmp(data, buf + a->offset, a->nbytes) != 0)
        fail("npy_load's data are not the file's");
    free(data);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: a read past len is a read past the allocation. */
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        fail("out of memory");
    memcpy(buf, data, size);

    struct npy_array a, b, c;
    char err[256], tiny[5];
    memset(&a, 0xa5, sizeof a);
    int rc = npy_parse(buf, size, &a, err, sizeof err);
    if (rc != 0 && rc != -1)
        fail("npy_parse returned %d", rc);
    if (rc != 0)
        check_message(err, sizeof err);

    memset(&b, 0x5a, sizeof b);
    int rc_tiny = npy_parse(buf, size, &b, tiny, sizeof tiny);
    memset(&c, 0x3c, sizeof c);
    int rc_none = npy_parse(buf, size, &c, NULL, 0);
    if (rc_tiny != rc || rc_none != rc)
        fail("npy_parse gave %d, %d with a 5-byte message buffer, %d with none", rc, rc_tiny,
             rc_none);
    if (rc != 0) {
        size_t n = strnlen(tiny, sizeof tiny);
        if (n == sizeof tiny)
            fail("a 5-byte message buffer was not terminated");
    }

    if (rc == 0) {
        size_t elem = a.dtype == NPY_F32 ? 4 : a.dtype == NPY_F16 ? 2 : 0;
        if (elem == 0)
            fail("dtype %d", (int)a.dtype);
        if (!same_array(&a, &b) || !same_array(&a, &c))
            fail("the message buffer changed the parsed array");
        if ((a.ndim != 1 && a.ndim != 2) || (a.ndim == 1 && a.batch != 1) || a.batch < 0 ||
            a.vocab < 1 || a.vocab > SAMPLE_MAX_VOCAB)
            fail("a parsed array of ndim %d, B %lld, V %lld", a.ndim, (long long)a.batch,
                 (long long)a.vocab);
        if ((unsigned __int128)(uint64_t)a.batch * (uint64_t)a.vocab * elem != a.nbytes)
            fail("nbytes %zu is not B * V * %zu", a.nbytes, elem);
        if (a.offset > size || a.nbytes > size - a.offset)
            fail("offset %zu + nbytes %zu is past the %zu bytes", a.offset, a.nbytes, size);
        /* every data byte is there to read */
        unsigned sum = 0;
        for (size_t i = 0; i < a.nbytes; i++)
            sum += buf[a.offset + i];
        (void)sum;
        if ((uint64_t)a.batch * (uint64_t)a.vocab <= MAX_ELEMS)
            run_rows(&a, buf + a.offset);
    }
#if defined(__linux__)
    check_load(buf, size, rc, &a);
#endif
    free(buf);
    return 0;
}
