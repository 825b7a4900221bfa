/*
 * run.c - sample run: one operation of the library on the rows of a .npy file.
 */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "sample_tool.h"

/* The groups of parameters an operation may take (sample(1): an option the
 * operation does not take is an error, even at its neutral value). */
enum { GROUP_TEMPERATURE, GROUP_FILTERS, GROUP_SEED, GROUP_COUNT };
#define TAKES(group) (1u << (group))

enum run_call {
    CALL_PROBS,
    CALL_LOGITS,
    CALL_RENORM,
    CALL_MASK,
    CALL_SOFTMAX,
    CALL_ARGMAX_PROBS,
    CALL_ARGMAX_LOGITS
};

static const struct run_op {
    const char *name;
    enum run_call call;
    unsigned takes;  /* TAKES() bits */
    int row_output;  /* rows of V floats, else one token per row */
} ops[] = {
    {"probs", CALL_PROBS, TAKES(GROUP_FILTERS) | TAKES(GROUP_SEED), 0},
    {"logits", CALL_LOGITS,
     TAKES(GROUP_TEMPERATURE) | TAKES(GROUP_FILTERS) | TAKES(GROUP_SEED), 0},
    {"renorm", CALL_RENORM, TAKES(GROUP_FILTERS), 1},
    {"mask", CALL_MASK, TAKES(GROUP_TEMPERATURE) | TAKES(GROUP_FILTERS), 1},
    {"softmax", CALL_SOFTMAX, TAKES(GROUP_TEMPERATURE), 1},
    {"argmax-probs", CALL_ARGMAX_PROBS, 0, 0},
    {"argmax-logits", CALL_ARGMAX_LOGITS, 0, 0},
};

#define OP_COUNT (sizeof ops / sizeof ops[0])

struct run_args {
    const char *backend;
    const struct run_op *op;
    sample_params params;
    const char *given[GROUP_COUNT]; /* the first option given of each group, or NULL */
    int json;
    int help;
    const char *path;
};

/* What one call produced. */
struct run_result {
    int64_t batch, vocab;
    int32_t *tokens;
    float *rows;
};

static void help(FILE *out)
{
    fputs("usage: sample run [OPTIONS] FILE.npy\n"
          "Runs one operation on the rows of FILE.npy (float32 or float16, shape (V,) or\n"
          "(B, V)) and prints one token per line, or one row of values per line.\n\n"
          "  --backend NAME       scalar, openmp, hip or auto (default: SAMPLE_BACKEND, auto)\n"
          "  --op OP              probs (default), logits, renorm, mask, softmax,\n"
          "                       argmax-probs, argmax-logits\n"
          "  --temperature T      logits, mask, softmax; default 1\n"
          "  --top-k K            probs, logits, renorm, mask; default 0 (keep all)\n"
          "  --top-p P            probs, logits, renorm, mask; default 1 (keep all)\n"
          "  --min-p Q            probs, logits, renorm, mask; default 0 (keep all)\n"
          "  --seed S             probs, logits; default 0\n"
          "  --offset O           probs, logits; default 0\n"
          "  --json               print {\"tokens\": [...]} or {\"rows\": [[...], ...]}\n"
          "  --help               print this help\n\n"
          "Exit status: 0 success, 1 some rows were invalid (still printed, token -1 or\n"
          "NaN values), 2 usage, file or library error.\n", out);
}

static const struct run_op *find_op(const char *name)
{
    for (size_t i = 0; i < OP_COUNT; i++)
        if (strcmp(name, ops[i].name) == 0)
            return &ops[i];
    tool_error("run: unknown operation '%s' (probs, logits, renorm, mask, softmax, "
               "argmax-probs, argmax-logits)", name);
    return NULL;
}

/* One parameter's option into params: its group, or -1 after reporting a bad value. */
static int set_param(sample_params *p, int c, const char *value)
{
    int64_t k;
    switch (c) {
    case 't':
        return tool_float_arg("--temperature", value, &p->temperature) ? -1 : GROUP_TEMPERATURE;
    case 'k':
        if (tool_int_arg("--top-k", value, INT32_MIN, INT32_MAX, &k) != 0)
            return -1;
        p->top_k = (int32_t)k;
        return GROUP_FILTERS;
    case 'p': return tool_float_arg("--top-p", value, &p->top_p) ? -1 : GROUP_FILTERS;
    case 'm': return tool_float_arg("--min-p", value, &p->min_p) ? -1 : GROUP_FILTERS;
    case 's': return tool_uint64_arg("--seed", value, &p->seed) ? -1 : GROUP_SEED;
    case 'O': return tool_uint64_arg("--offset", value, &p->offset) ? -1 : GROUP_SEED;
    }
    return -1;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"op", required_argument, NULL, 'o'},
        {"temperature", required_argument, NULL, 't'},
        {"top-k", required_argument, NULL, 'k'},
        {"top-p", required_argument, NULL, 'p'},
        {"min-p", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, 's'},
        {"offset", required_argument, NULL, 'O'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, index;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, &index)) != -1) {
        switch (c) {
        case 'b': a->backend = optarg; break;
        case 'o':
            if (!(a->op = find_op(optarg)))
                return TOOL_EXIT_USAGE;
            break;
        case 'j': a->json = 1; break;
        case 'h': a->help = 1; return TOOL_EXIT_OK;
        case 't': case 'k': case 'p': case 'm': case 's': case 'O': {
            int group = set_param(&a->params, c, optarg);
            if (group < 0)
                return TOOL_EXIT_USAGE;
            if (!a->given[group])
                a->given[group] = longopts[index].name;
            break;
        }
        default: return tool_bad_option("run", c, argv);
        }
    }
    if (optind >= argc) {
        tool_error("run: no .npy file given");
        return TOOL_EXIT_USAGE;
    }
    if (optind < argc - 1) {
        tool_error("run: one file only, got '%s' too", argv[argc - 1]);
        return TOOL_EXIT_USAGE;
    }
    a->path = argv[optind];
    for (int g = 0; g < GROUP_COUNT; g++)
        if (a->given[g] && !(a->op->takes & TAKES(g))) {
            tool_error("run: --%s does not apply to --op %s", a->given[g], a->op->name);
            return TOOL_EXIT_USAGE;
        }
    return TOOL_EXIT_OK;
}

static int call(sample_ctx *ctx, enum run_call op, const sample_tensor *t,
                const sample_params *p, struct run_result *r)
{
    switch (op) {
    case CALL_PROBS: return sample_from_probs(ctx, t, p, r->tokens);
    case CALL_LOGITS: return sample_from_logits(ctx, t, p, r->tokens);
    case CALL_RENORM: return sample_renorm_probs(ctx, t, p, r->rows, 0);
    case CALL_MASK: return sample_mask_logits(ctx, t, p, r->rows, 0);
    case CALL_SOFTMAX: return sample_softmax(ctx, t, p, r->rows, 0);
    case CALL_ARGMAX_PROBS: return sample_argmax(ctx, t, SAMPLE_PROBS, r->tokens);
    case CALL_ARGMAX_LOGITS: return sample_argmax(ctx, t, SAMPLE_LOGITS, r->tokens);
    }
    return SAMPLE_ERR_ARGUMENT;
}

static void print_tokens(const struct run_result *r, int json)
{
    if (!json) {
        for (int64_t i = 0; i < r->batch; i++)
            printf("%" PRId32 "\n", r->tokens[i]);
        return;
    }
    fputs("{\"tokens\": [", stdout);
    for (int64_t i = 0; i < r->batch; i++)
        printf("%s%" PRId32, i ? ", " : "", r->tokens[i]);
    fputs("]}\n", stdout);
}

static void print_rows(const struct run_result *r, int json)
{
    if (!json) {
        for (int64_t i = 0; i < r->batch; i++) {
            const float *row = r->rows + i * r->vocab;
            for (int64_t j = 0; j < r->vocab; j++)
                printf("%s%.9g", j ? " " : "", row[j]);
            putchar('\n');
        }
        return;
    }
    fputs("{\"rows\": [", stdout);
    for (int64_t i = 0; i < r->batch; i++) {
        const float *row = r->rows + i * r->vocab;
        fputs(i ? ", [" : "[", stdout);
        for (int64_t j = 0; j < r->vocab; j++) {
            fputs(j ? ", " : "", stdout);
            tool_json_float(stdout, row[j], "%.9g");
        }
        putchar(']');
    }
    fputs("]}\n", stdout);
}

/* Room for the call's output; at least one element, as the library wants a pointer. */
static int alloc_result(const struct run_op *op, const struct npy_array *in,
                        struct run_result *r)
{
    size_t count = op->row_output ? (size_t)in->batch * (size_t)in->vocab : (size_t)in->batch;
    r->batch = in->batch;
    r->vocab = in->vocab;
    if (count > SIZE_MAX / sizeof(float)) /* float16 input: twice its own size */
        return -1;
    if (count == 0)
        count = 1;
    if (op->row_output)
        r->rows = malloc(count * sizeof *r->rows);
    else
        r->tokens = malloc(count * sizeof *r->tokens);
    return r->rows || r->tokens ? 0 : -1;
}

static int run_on(sample_ctx *ctx, const struct run_args *a, const struct npy_array *in,
                  const void *data)
{
    struct run_result r = {0, 0, NULL, NULL};
    if (alloc_result(a->op, in, &r) != 0) {
        tool_error("run: out of memory for the output of %" PRId64 " rows", in->batch);
        return TOOL_EXIT_USAGE;
    }
    sample_tensor t;
    sample_tensor_init(&t, in->dtype == NPY_F16 ? SAMPLE_F16 : SAMPLE_F32, data, in->batch,
                       in->vocab);
    int status = call(ctx, a->op->call, &t, &a->params, &r);
    if (status == SAMPLE_OK || status == SAMPLE_ERR_INVALID_ROWS) {
        if (a->op->row_output)
            print_rows(&r, a->json);
        else
            print_tokens(&r, a->json);
    }
    free(r.tokens);
    free(r.rows);
    int written = tool_finish_output(); /* the rows first, then what was wrong with them */
    if (status != SAMPLE_OK)
        tool_error("run: %s", sample_last_error(ctx));
    if (written != TOOL_EXIT_OK)
        return written;
    return status == SAMPLE_OK ? TOOL_EXIT_OK
           : status == SAMPLE_ERR_INVALID_ROWS ? TOOL_EXIT_INVALID_ROWS : TOOL_EXIT_USAGE;
}

int tool_run(int argc, char **argv)
{
    struct run_args a;
    memset(&a, 0, sizeof a);
    a.op = &ops[0];
    sample_params_init(&a.params);
    int status = parse_args(argc, argv, &a);
    if (status != TOOL_EXIT_OK)
        return status;
    if (a.help) {
        help(stdout);
        return tool_finish_output();
    }

    struct npy_array in;
    void *data = NULL;
    char err[512];
    if (npy_load(a.path, &in, &data, err, sizeof err) != 0) {
        tool_error("run: %s", err);
        return TOOL_EXIT_USAGE;
    }
    sample_ctx *ctx = NULL;
    status = tool_create(&ctx, a.backend, 0);
    if (status == TOOL_EXIT_OK) {
        status = run_on(ctx, &a, &in, data);
        sample_destroy(ctx);
    }
    free(data);
    return status;
}
