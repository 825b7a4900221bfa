/*
 * npy.c - the .npy reader (format versions 1.0, 2.0 and 3.0).
 *
 * The file is a 6-byte magic, a 2-byte version, the header's length (2 bytes
 * in 1.0, 4 after), then the header: a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (4, 32000), }
 * padded with spaces to a newline, then the data.  Every read below is
 * checked against the end of the buffer; nothing is trusted, not even the
 * header's own length, and no byte count is computed without an overflow check.
 */
#define _POSIX_C_SOURCE 200809L

#include "npy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sample.h"

static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* No real header of a float array comes near this; it bounds what a hostile one costs. */
#define NPY_MAX_HEADER (1u << 20)

/* Dimensions beyond the two a batch has are counted, for the message, but not kept. */
#define NPY_KEPT_DIMS 2

static int fail(char *err, size_t errlen, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- the header dict ---------------------------------------------------- */

/* A position in the header; every step checks p against end. */
struct cursor {
    const unsigned char *start, *p, *end;
    char *err;
    size_t errlen;
};

static int syntax_error(struct cursor *c, const char *expected)
{
    return fail(c->err, c->errlen, "malformed header: expected %s at byte %zu of the header",
                expected, (size_t)(c->p - c->start));
}

static void skip_space(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Skips blanks; whether ch comes next, left for the caller to consume. */
static int peek(struct cursor *c, unsigned char ch)
{
    skip_space(c);
    return c->p < c->end && *c->p == ch;
}

/* Skips blanks, then consumes ch if it comes next. */
static int accept(struct cursor *c, unsigned char ch)
{
    if (!peek(c, ch))
        return 0;
    c->p++;
    return 1;
}

static int accept_word(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    skip_space(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return 0;
    c->p += n;
    return 1;
}

/* A quoted string without escapes (none of the keys or dtypes we accept has one). */
static int parse_string(struct cursor *c, const unsigned char **s, size_t *n)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return syntax_error(c, "a quoted string");
    unsigned char quote = *c->p++;
    const unsigned char *begin = c->p;
    while (c->p < c->end && *c->p != quote && *c->p != '\\')
        c->p++;
    if (c->p >= c->end || *c->p != quote)
        return syntax_error(c, "the end of a string without escapes");
    *s = begin;
    *n = (size_t)(c->p - begin);
    c->p++;
    return 0;
}

static int parse_bool(struct cursor *c, int *value)
{
    if (accept_word(c, "True"))
        *value = 1;
    else if (accept_word(c, "False"))
        *value = 0;
    else
        return syntax_error(c, "True or False");
    return 0;
}

static int parse_dimension(struct cursor *c, int64_t *value)
{
    int64_t v = 0;
    skip_space(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return syntax_error(c, "a dimension");
    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        int digit = *c->p - '0';
        if (v > (INT64_MAX - digit) / 10)
            return fail(c->err, c->errlen, "a dimension of the shape is too large");
        v = v * 10 + digit;
    }
    *value = v;
    return 0;
}

/* A tuple of dimensions: (), (V,), (B, V), ... with an optional trailing comma. */
static int parse_shape(struct cursor *c, int64_t dims[NPY_KEPT_DIMS], int *ndim)
{
    if (!accept(c, '('))
        return syntax_error(c, "'(' to start the shape");
    *ndim = 0;
    while (!accept(c, ')')) {
        int64_t d = 0;
        if (parse_dimension(c, &d) != 0)
            return -1;
        if (*ndim < NPY_KEPT_DIMS)
            dims[*ndim] = d;
        (*ndim)++; /* bounded by the header's length, far below INT_MAX */
        if (!accept(c, ',') && !peek(c, ')'))
            return syntax_error(c, "',' or ')' in the shape");
    }
    return 0;
}

/* What the dict says, before it is checked against what we accept. */
struct header {
    const unsigned char *descr;
    size_t descr_len;
    int fortran_order;
    int64_t dims[NPY_KEPT_DIMS];
    int ndim;
    unsigned seen; /* bit per key */
};

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

static int key_is(const unsigned char *key, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(key, name, n) == 0;
}

static int parse_entry(struct cursor *c, struct header *h)
{
    const unsigned char *key;
    size_t n;
    if (parse_string(c, &key, &n) != 0)
        return -1;
    if (!accept(c, ':'))
        return syntax_error(c, "':' after a key");
    unsigned bit = key_is(key, n, "descr") ? KEY_DESCR
                   : key_is(key, n, "fortran_order") ? KEY_FORTRAN
                   : key_is(key, n, "shape") ? KEY_SHAPE : 0;
    if (bit == 0)
        return fail(c->err, c->errlen, "unknown key in the header (only 'descr', "
                    "'fortran_order' and 'shape' are allowed)");
    if (h->seen & bit)
        return fail(c->err, c->errlen, "a key appears twice in the header");
    h->seen |= bit;
    if (bit == KEY_DESCR)
        return parse_string(c, &h->descr, &h->descr_len);
    if (bit == KEY_FORTRAN)
        return parse_bool(c, &h->fortran_order);
    return parse_shape(c, h->dims, &h->ndim);
}

static int parse_dict(struct cursor *c, struct header *h)
{
    if (!accept(c, '{'))
        return syntax_error(c, "'{' to start the header");
    while (!accept(c, '}')) {
        if (parse_entry(c, h) != 0)
            return -1;
        if (!accept(c, ',') && !peek(c, '}'))
            return syntax_error(c, "',' or '}' after a value");
    }
    skip_space(c);
    if (c->p != c->end)
        return syntax_error(c, "only blanks after the header's '}'");
    if (h->seen != (KEY_DESCR | KEY_FORTRAN | KEY_SHAPE))
        return fail(c->err, c->errlen, "the header lacks '%s'",
                    !(h->seen & KEY_DESCR) ? "descr"
                    : !(h->seen & KEY_FORTRAN) ? "fortran_order" : "shape");
    return 0;
}

/* ---- from the header to the array -------------------------------------- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* The descr for a message: hostile bytes must not reach the terminal raw. */
static void printable(char *dst, size_t size, const unsigned char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n && i + 1 < size; i++)
        dst[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    dst[i] = '\0';
}

/*
 * '<' is little-endian; on a little-endian host so are '=' (native) and '|'
 * ("not applicable", which NumPy reads as native).
 */
static int parse_descr(const struct header *h, enum npy_dtype *dtype, char *err,
                       size_t errlen)
{
    const unsigned char *d = h->descr;
    if (!host_is_little_endian())
        return fail(err, errlen, "this reader runs on little-endian machines only");
    if (h->descr_len == 3 && (d[0] == '<' || d[0] == '=' || d[0] == '|') && d[1] == 'f' &&
        (d[2] == '4' || d[2] == '2')) {
        *dtype = d[2] == '4' ? NPY_F32 : NPY_F16;
        return 0;
    }
    char shown[20];
    printable(shown, sizeof shown, d, h->descr_len);
    return fail(err, errlen, "dtype '%s%s' is not supported: only little-endian float32 "
                "('<f4') and float16 ('<f2')", shown, h->descr_len >= sizeof shown ? "..." : "");
}

/* The shape, checked, and its size in bytes without overflow. */
static int check_shape(const struct header *h, size_t elem, struct npy_array *out, char *err,
                       size_t errlen)
{
    if (h->fortran_order)
        return fail(err, errlen, "Fortran-order arrays are not supported: save in C order");
    if (h->ndim != 1 && h->ndim != 2)
        return fail(err, errlen, "the shape has %d dimensions: expected (V,) or (B, V)",
                    h->ndim);
    out->ndim = h->ndim;
    out->batch = h->ndim == 2 ? h->dims[0] : 1;
    out->vocab = h->dims[h->ndim - 1];
    if (out->vocab < 1 || out->vocab > SAMPLE_MAX_VOCAB)
        return fail(err, errlen, "V = %lld is out of range: a row holds 1 ... %d values",
                    (long long)out->vocab, SAMPLE_MAX_VOCAB);
    uint64_t limit = (uint64_t)SIZE_MAX < (uint64_t)INT64_MAX ? (uint64_t)SIZE_MAX
                                                              : (uint64_t)INT64_MAX;
    if ((uint64_t)out->batch > limit / elem / (uint64_t)out->vocab)
        return fail(err, errlen, "the shape (%lld, %lld) is too large to hold in memory",
                    (long long)out->batch, (long long)out->vocab);
    out->nbytes = (size_t)out->batch * (size_t)out->vocab * elem;
    return 0;
}

/* The magic, the version and the header's length: *header and *header_len. */
static int parse_preamble(const unsigned char *buf, size_t len, size_t *header,
                          size_t *header_len, char *err, size_t errlen)
{
    if (len == 0 || memcmp(buf, magic, len < sizeof magic ? len : sizeof magic) != 0)
        return fail(err, errlen, "not a .npy file (bad magic)");
    if (len < 10)
        return fail(err, errlen, "truncated: the file ends inside the .npy preamble");
    unsigned major = buf[6], minor = buf[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return fail(err, errlen, ".npy format version %u.%u is not supported (1.0, 2.0, 3.0)",
                    major, minor);
    if (major == 1) {
        *header = 10;
        *header_len = (size_t)buf[8] | (size_t)buf[9] << 8;
    } else {
        if (len < 12)
            return fail(err, errlen, "truncated: the file ends inside the .npy preamble");
        *header = 12;
        *header_len = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                      (size_t)buf[11] << 24;
    }
    if (*header_len > len - *header)
        return fail(err, errlen, "truncated header: its length, %zu bytes, goes beyond the "
                    "end of the file (%zu bytes after the preamble)", *header_len,
                    len - *header);
    if (*header_len > NPY_MAX_HEADER)
        return fail(err, errlen, "the header is %zu bytes long, more than the %u a float "
                    "array could need", *header_len, NPY_MAX_HEADER);
    return 0;
}

int npy_parse(const unsigned char *buf, size_t len, struct npy_array *out, char *err,
              size_t errlen)
{
    size_t header = 0, header_len = 0;
    if (errlen > 0)
        err[0] = '\0';
    if (parse_preamble(buf, len, &header, &header_len, err, errlen) != 0)
        return -1;

    struct header h;
    memset(&h, 0, sizeof h);
    struct cursor c = {buf + header, buf + header, buf + header + header_len, err, errlen};
    if (parse_dict(&c, &h) != 0)
        return -1;

    struct npy_array a;
    memset(&a, 0, sizeof a);
    if (parse_descr(&h, &a.dtype, err, errlen) != 0 ||
        check_shape(&h, a.dtype == NPY_F32 ? 4 : 2, &a, err, errlen) != 0)
        return -1;
    a.offset = header + header_len;
    if (a.nbytes > len - a.offset)
        return fail(err, errlen, "truncated data: the shape needs %zu bytes, the file has %zu",
                    a.nbytes, len - a.offset);
    *out = a;
    return 0;
}

/* ---- files -------------------------------------------------------------- */

/* The whole stream into *buf; a regular file's size saves the regrowing. */
static int read_all(FILE *f, unsigned char **buf, size_t *len)
{
    struct stat st;
    size_t cap = 1u << 16, n = 0;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size < (uint64_t)SIZE_MAX)
        cap = (size_t)st.st_size + 1; /* + 1: reaching EOF needs one more read */
    unsigned char *b = malloc(cap);
    if (!b)
        return ENOMEM;
    for (;;) {
        if (n == cap) {
            unsigned char *grown = cap <= SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
            if (!grown) {
                free(b);
                return ENOMEM;
            }
            b = grown;
            cap *= 2;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(b);
        return errno ? errno : EIO;
    }
    *buf = b;
    *len = n;
    return 0;
}

int npy_load(const char *path, struct npy_array *out, void **data, char *err, size_t errlen)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    unsigned char *buf = NULL;
    size_t len = 0;
    int e = read_all(f, &buf, &len);
    if (!is_stdin)
        fclose(f);
    if (e != 0)
        return fail(err, errlen, "%s: %s", path, strerror(e));

    char why[256];
    if (npy_parse(buf, len, out, why, sizeof why) != 0) {
        free(buf);
        return fail(err, errlen, "%s: %s", path, why);
    }
    /* The data may start at any offset in a hostile file: move it to the
     * allocation's start, which malloc aligns for any element type. */
    memmove(buf, buf + out->offset, out->nbytes);
    out->offset = 0;
    *data = buf;
    return 0;
}
