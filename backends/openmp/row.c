/*
 * row.c - one row of a call, computed by a team of threads.
 *
 * Every thread of the team runs this code on its own chunk of the row; the
 * steps that decide something for the whole row (merging partial results,
 * selecting on the merged list) run on thread 0 between two barriers.  A team
 * of one thread is a plain sequential row.
 *
 * The steps: validity and maximum; weights (kept as floats, see openmp.h);
 * then the kept set K by one of three ways:
 *  - small top-k: a streaming candidate filter leaves a short list holding
 *    the first k tokens; top-k, top-p and min-p are then selected on it;
 *  - large top-k or top-p: a bracket of weights estimated from a sample, one
 *    exact pass that sums the weights above the bracket and lists the tokens
 *    inside it, and an exact selection on that list;
 *  - min-p alone, or no filter: K is every weight >= theta (or every token).
 * And last, the draw (or the row output) over K in vocabulary order.
 */
#include "config.h"

#include <math.h>

#include "openmp.h"

enum fill { FILL_NONE, FILL_PROBS, FILL_LOGITS };

static void team_sync(const struct omp_team *tm)
{
    if (tm->n > 1) {
#pragma omp barrier
    }
}

/* The team member's chunk: whole blocks, the last one may be short. */
static void chunk(int64_t vocab, const struct omp_team *tm, int64_t *a, int64_t *b)
{
    int64_t blocks = (vocab + OMP_BLOCK - 1) / OMP_BLOCK;
    int64_t per = (blocks + tm->n - 1) / tm->n * OMP_BLOCK;
    *a = tm->id * per < vocab ? tm->id * per : vocab;
    *b = (tm->id + 1) * per < vocab ? (tm->id + 1) * per : vocab;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* ---- steps run by thread 0 ------------------------------------------------ */

static void begin(struct sample_call *c, int64_t r, struct omp_row *row,
                  struct omp_slot *slots)
{
    const sample_tensor *in = c->input;
    row->done = 0;
    row->bad_index = -1;
    row->approx = 0;
    row->fault = sample_row_param_fault(c, r);
    if (in->dtype == SAMPLE_F32)
        row->x = (const float *)in->data + r * c->stride;
    else
        row->x = slots[0].wide;
}

/* The first invalid value of a row the scan found faulty, as the scalar backend finds it. */
static void find_fault(const struct sample_call *c, struct omp_row *row, int64_t vocab)
{
    for (int64_t i = 0; i < vocab; i++) {
        enum sample_row_fault f = c->kind == SAMPLE_PROBS ? sample_prob_fault(row->x[i])
                                                          : sample_logit_fault(row->x[i]);
        if (f != SAMPLE_ROW_OK) {
            row->fault = f;
            row->bad_index = i;
            return;
        }
    }
}

static void merge_scan(const struct sample_call *c, int64_t r, struct omp_row *row,
                       struct omp_slot *slots, const struct omp_team *tm, int64_t vocab)
{
    int bad = 0;
    int32_t m = INT32_MIN;
    for (int t = 0; t < tm->n; t++) {
        bad |= slots[t].part.bad;
        m = slots[t].part.max > m ? slots[t].part.max : m;
    }
    if (bad) {
        find_fault(c, row, vocab);
        return;
    }
    if (c->kind == SAMPLE_PROBS) {
        row->max = sample_f32_from_bits((uint32_t)m);
        if (!(row->max > 0.0f)) {
            row->fault = SAMPLE_ROW_ALL_ZERO;
            return;
        }
    } else {
        row->max = sample_f32_from_bits((uint32_t)(m < 0 ? m ^ 0x7fffffff : m));
        if (row->max == -INFINITY) {
            row->fault = SAMPLE_ROW_NO_FINITE;
            return;
        }
    }
    if (c->op == SAMPLE_OP_ARGMAX ||
        (c->op == SAMPLE_OP_FROM_LOGITS && sample_row_temperature(c->params, r) == 0.0f))
        return; /* greedy */

    row->fill = FILL_NONE;
    row->src = slots[0].weights;
    row->scale = 1.0f;
    if (c->kind == SAMPLE_LOGITS) {
        row->fill = FILL_LOGITS;
        row->wmax = SAMPLE_W_ONE;
        return;
    }
    row->exponent = sample_frexp_exponent(row->max);
    row->wmax = sample_prob_weight(row->max, row->exponent);
    int shift = 40 - row->exponent;
    for (int t = 0; t < tm->n; t++)
        row->approx += slots[t].part.approx;
    row->approx = ldexp(row->approx, shift); /* w_i is p_i * 2^shift, less under 1 */
    if (shift >= -126 && shift <= 127) {
        row->src = row->x; /* w_i = floor(p_i * 2^shift): an exact product, then floorf */
        row->scale = sample_f32_from_bits((uint32_t)(shift + 127) << 23);
    } else {
        row->fill = FILL_PROBS;
    }
}

/* The team's lists, in vocabulary order (the chunks are in order). */
static void merge_lists(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                        const struct omp_team *tm)
{
    if (tm->n == 1) {
        row->merged = slots[0].list;
        return;
    }
    row->merged = s->merged;
    row->merged.n = 0;
    for (int t = 0; t < tm->n; t++) {
        const struct omp_list *l = &slots[t].list;
        for (int64_t j = 0; j < l->n; j++) {
            row->merged.idx[row->merged.n] = l->idx[j];
            row->merged.w[row->merged.n] = l->w[j];
            row->merged.n++;
        }
    }
}

/* The sums of the team's last bracket pass. */
static struct omp_sums team_sums(const struct omp_slot *slots, const struct omp_team *tm)
{
    struct omp_sums sum = {0, 0, 0};
    for (int t = 0; t < tm->n; t++) {
        const struct omp_sums *p = &slots[t].part.sums;
        sum.total += p->total;
        sum.mass_hi += p->mass_hi;
        sum.count_hi += p->count_hi;
    }
    return sum;
}

/* After a bracket pass: whether the bracket held the target; if so, select on its list. */
static void settle(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                   const struct omp_team *tm, enum omp_measure by, uint64_t target,
                   int tries)
{
    struct omp_sums sum = team_sums(slots, tm);
    row->total = sum.total;
    merge_lists(s, row, slots, tm);
    uint64_t listed = by == OMP_COUNT ? (uint64_t)row->merged.n
                                      : omp_list_mass(row->merged.idx, row->merged.w,
                                                      row->merged.n, omp_cut_of(0));
    uint64_t at_hi = by == OMP_COUNT ? sum.count_hi : sum.mass_hi;
    if (at_hi >= target || at_hi + listed < target) {
        /* The estimate missed: the boundary is above hi, or below lo. */
        if (tries >= 1) {
            row->lo = 0.0f;
            row->hi = INFINITY;
        } else if (at_hi >= target) {
            row->lo = row->hi;
            row->hi = INFINITY;
        } else {
            row->hi = row->lo;
            row->lo = 0.0f;
        }
        return;
    }
    struct omp_prefix p = omp_select(&row->merged, by, target - at_hi, &slots[0].tmp,
                                     &slots[0].scratch);
    p.mass += sum.mass_hi;
    row->prefix = p;
    row->settled = 1;
}

/* ---- steps run by every thread -------------------------------------------- */

static void bracket_passes(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                           const struct omp_team *tm, int64_t vocab, enum omp_measure by,
                           uint64_t target, int tries);

/* The prefix of the order whose count or mass first reaches target, into
 * row->prefix (a mass needs row->approx); row->merged holds the tokens of the
 * final bracket, slots[0].blocks the mass above it per block. */
static void select_by_bracket(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                              const struct omp_team *tm, int64_t vocab, enum omp_measure by,
                              uint64_t target)
{
    if (tm->id == 0) {
        omp_bracket(row->src, vocab, row->scale, by, (double)target, row->approx, &row->lo,
                    &row->hi,
                    &slots[0].scratch);
        row->settled = 0;
    }
    team_sync(tm);
    bracket_passes(s, row, slots, tm, vocab, by, target, 0);
    team_sync(tm); /* all have read row->settled before thread 0 may write it again */
}

/* One pass of every thread over its chunk with the bracket row->lo, row->hi:
 * its sums into its part, the mass above the bracket per block into
 * slots[0].blocks, the tokens inside it into its list. */
static void bracket_pass(const struct omp_row *row, struct omp_slot *slots,
                         const struct omp_team *tm, int64_t vocab)
{
    struct omp_slot *own = &slots[tm->id];
    int64_t a, b;
    chunk(vocab, tm, &a, &b);
    struct omp_pass ps;
    ps.blocks = slots[0].blocks + a / OMP_BLOCK;
    ps.listed = slots[0].listed + a / OMP_BLOCK;
    ps.list = &own->list;
    own->list.n = 0;
    omp_pass(row->src + a, b - a, row->scale, row->lo, row->hi, a, &ps);
    own->part.sums = ps.sums;
    team_sync(tm);
}

/* The bracket passes of select_by_bracket from row->lo, row->hi (tries so far). */
static void bracket_passes(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                           const struct omp_team *tm, int64_t vocab, enum omp_measure by,
                           uint64_t target, int tries)
{
    for (; !row->settled; tries++) {
        bracket_pass(row, slots, tm, vocab);
        if (tm->id == 0)
            settle(s, row, slots, tm, by, target, tries);
        team_sync(tm);
    }
}

/* row->approx: the row's mass, approximately (for the sample's estimates);
 * every thread reads the same row->approx on entry. */
static void approx_mass(struct omp_row *row, struct omp_slot *slots, const struct omp_team *tm,
                        int64_t vocab)
{
    if (row->approx > 0)
        return; /* a row of probabilities: the scan summed it */
    int64_t a, b;
    chunk(vocab, tm, &a, &b);
    slots[tm->id].part.approx = omp_approx_sum(row->src + a, b - a) * row->scale;
    team_sync(tm);
    if (tm->id == 0) {
        row->approx = 0; /* read by thread 0 only */
        for (int t = 0; t < tm->n; t++)
            row->approx += slots[t].part.approx;
    }
}

/*
 * Top-p alone: tau = ceil(P * M) needs the row's exact mass M, which only the
 * bracket pass sums, so the first bracket comes from the sample and the
 * approximate mass.  The pass then checks it against the exact tau; on a miss
 * the passes of select_by_bracket go on from a bracket with the exact mass.
 */
static void top_p_alone(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                        const struct omp_team *tm, int64_t vocab, float p)
{
    approx_mass(row, slots, tm, vocab);
    if (tm->id == 0) {
        omp_bracket(row->src, vocab, row->scale, OMP_MASS, (double)p * row->approx, row->approx,
                    &row->lo, &row->hi, &slots[0].scratch);
        row->settled = 0;
    }
    team_sync(tm);
    bracket_pass(row, slots, tm, vocab);
    if (tm->id == 0) {
        uint64_t tau = sample_ceil_mul(p, team_sums(slots, tm).total);
        settle(s, row, slots, tm, OMP_MASS, tau, 0);
        if (!row->settled) {
            row->approx = (double)row->total;
            omp_bracket(row->src, vocab, row->scale, OMP_MASS, (double)tau, row->approx,
                        &row->lo, &row->hi, &slots[0].scratch);
        }
    }
    team_sync(tm);
    if (!row->settled)
        bracket_passes(s, row, slots, tm, vocab, OMP_MASS, sample_ceil_mul(p, row->total), 1);
    team_sync(tm); /* all have read the row's fields before thread 0 writes them again */
}

/* K and M_K for large top-k, top-p, min-p alone or no filter; slots[0].blocks gets
 * the kept mass of every block. */
static void kept_by_blocks(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                           const struct omp_team *tm, int64_t vocab, int32_t k, float p,
                           float q)
{
    uint64_t bk = 0, bp = 0, bm = 0, mass_k = 0;
    int selected = 0;
    if (tm->id == 0)
        row->from_list = row->with_list = 0;
    if (k > 0) {
        select_by_bracket(s, row, slots, tm, vocab, OMP_COUNT, (uint64_t)k);
        bk = row->prefix.key;
        mass_k = row->prefix.mass;
        selected = 1;
    }
    if (p != 1.0f) {
        if (k > 0) {
            approx_mass(row, slots, tm, vocab);
            select_by_bracket(s, row, slots, tm, vocab, OMP_MASS, sample_ceil_mul(p, mass_k));
        } else {
            top_p_alone(s, row, slots, tm, vocab, p);
        }
        bp = row->prefix.key;
        selected = 1;
    }
    uint64_t theta = q != 0.0f ? sample_ceil_mul(q, row->wmax) : 0;
    bm = theta << SAMPLE_INDEX_BITS;
    uint64_t boundary = max3(bk, bp, bm);
    if (selected && boundary != bm) {
        /* K is what the last bracket pass summed above hi, and the kept part
         * of its list; M_K is the mass of the last selection, whose key the
         * boundary is (top-p selects within top-k). */
        if (tm->id == 0) {
            row->with_list = 1;
            row->boundary = boundary;
            row->mass = row->prefix.mass;
        }
        return;
    }
    /* K is every weight >= theta (theta = 0: every token). */
    int64_t a, b;
    chunk(vocab, tm, &a, &b);
    omp_block_masses(row->src + a, b - a, row->scale, omp_weight_ceil(theta),
                     slots[0].blocks + a / OMP_BLOCK);
    team_sync(tm);
    if (tm->id == 0) {
        uint64_t mass = 0;
        for (int64_t j = 0; j * OMP_BLOCK < vocab; j++)
            mass += slots[0].blocks[j];
        row->boundary = boundary;
        row->mass = mass;
    }
}

/* K and M_K for small top-k, from the candidate lists. */
static void kept_by_candidates(struct omp_state *s, struct omp_row *row, struct omp_slot *slots,
                               const struct omp_team *tm, int64_t vocab, int32_t k, float p,
                               float q)
{
    struct omp_slot *own = &slots[tm->id];
    int64_t a, b;
    chunk(vocab, tm, &a, &b);
    int64_t cap = 2 * (int64_t)k + 1024 < vocab ? 2 * (int64_t)k + 1024 : vocab;
    omp_topk_candidates(row->src + a, b - a, a, row->scale, k, &own->list, cap, &own->tmp,
                        &own->scratch);
    team_sync(tm);
    if (tm->id != 0)
        return;
    merge_lists(s, row, slots, tm);
    struct omp_prefix top = omp_select(&row->merged, OMP_COUNT, (uint64_t)k, &slots[0].tmp,
                                       &slots[0].scratch);
    uint64_t bp = 0;
    if (p != 1.0f)
        bp = omp_select(&row->merged, OMP_MASS, sample_ceil_mul(p, top.mass), &slots[0].tmp,
                        &slots[0].scratch).key;
    uint64_t theta = q != 0.0f ? sample_ceil_mul(q, row->wmax) : 0;
    row->boundary = max3(top.key, bp, theta << SAMPLE_INDEX_BITS);
    row->mass = omp_list_mass(row->merged.idx, row->merged.w, row->merged.n,
                              omp_cut_of(row->boundary));
    row->from_list = 1;
}

static void fill_weights(const struct sample_call *c, int64_t r, struct omp_row *row,
                         struct omp_slot *slots, int64_t a, int64_t b)
{
    float *w = slots[0].weights;
    if (row->fill == FILL_LOGITS) {
        omp_logit_weights(row->x + a, b - a, row->max, sample_row_temperature(c->params, r),
                          w + a);
        return;
    }
    for (int64_t i = a; i < b; i++)
        w[i] = (float)sample_prob_weight(row->x[i], row->exponent);
}

static void write_outputs(const struct sample_call *c, int64_t r, const struct omp_row *row,
                          const struct omp_team *tm, int64_t vocab)
{
    int64_t a, b;
    chunk(vocab, tm, &a, &b);
    float *out = c->out + r * c->out_stride;
    struct omp_cut cut = omp_cut_of(row->boundary);
    if (c->op == SAMPLE_OP_MASK)
        omp_write_mask(row->src + a, row->x + a, b - a, a, cut, out + a);
    else
        omp_write_renorm(row->src + a, b - a, row->scale, a, cut, (double)row->mass, out + a);
}

static void run(struct omp_state *s, struct sample_call *c, int64_t r, const struct omp_team *tm,
                struct omp_row *row, struct omp_slot *slots)
{
    const sample_tensor *in = c->input;
    struct omp_slot *own = &slots[tm->id];
    int64_t vocab = in->vocab, a, b;
    chunk(vocab, tm, &a, &b);

    if (tm->id == 0)
        begin(c, r, row, slots);
    team_sync(tm);
    if (row->fault != SAMPLE_ROW_OK)
        return;

    if (in->dtype != SAMPLE_F32)
        omp_widen((const uint16_t *)in->data + r * c->stride + a, b - a, (int)in->dtype,
                  slots[0].wide + a);
    own->part.bad = c->kind == SAMPLE_PROBS
                        ? omp_scan_probs(row->x + a, b - a, &own->part.max,
                                         &own->part.approx)
                        : omp_scan_logits(row->x + a, b - a, &own->part.max);
    team_sync(tm);
    if (tm->id == 0)
        merge_scan(c, r, row, slots, tm, vocab);
    team_sync(tm);
    if (row->fault != SAMPLE_ROW_OK)
        return;

    if (c->op == SAMPLE_OP_ARGMAX ||
        (c->op == SAMPLE_OP_FROM_LOGITS && sample_row_temperature(c->params, r) == 0.0f)) {
        int64_t j = omp_first_equal(row->x + a, b - a, row->max);
        own->part.first = j < b - a ? a + j : -1;
        team_sync(tm);
        if (tm->id == 0) {
            int t = 0;
            while (slots[t].part.first < 0)
                t++;
            c->tokens[r] = (int32_t)slots[t].part.first;
        }
        return;
    }

    if (row->fill != FILL_NONE) {
        fill_weights(c, r, row, slots, a, b);
        team_sync(tm);
    }

    const sample_params *p = c->params;
    int32_t k = c->op == SAMPLE_OP_SOFTMAX ? 0 : sample_row_top_k(p, r);
    float top_p = c->op == SAMPLE_OP_SOFTMAX ? 1.0f : sample_row_top_p(p, r);
    float min_p = c->op == SAMPLE_OP_SOFTMAX ? 0.0f : sample_row_min_p(p, r);
    if (k >= vocab)
        k = 0;

    if (k > 0 && k <= OMP_SMALL_K)
        kept_by_candidates(s, row, slots, tm, vocab, k, top_p, min_p);
    else
        kept_by_blocks(s, row, slots, tm, vocab, k, top_p, min_p);
    if (tm->id == 0 && c->tokens) {
        uint64_t u = sample_row_draw(p, r);
        c->tokens[r] = row->from_list
                           ? omp_draw_list(&row->merged, row->boundary, row->mass, u)
                           : omp_draw_blocks(row->src, vocab, row->scale, slots[0].blocks,
                                             row->with_list ? slots[0].listed : NULL,
                                             &row->merged, row->boundary,
                                             sample_mulhi64(u, row->mass));
    }
    if (c->tokens)
        return;
    team_sync(tm);
    write_outputs(c, r, row, tm, vocab);
}

void omp_row_run(struct omp_state *s, struct sample_call *c, int64_t r, struct omp_team team,
                 struct omp_row *row, struct omp_slot *slots)
{
    run(s, c, r, &team, row, slots);
    if (team.id == 0) {
        s->faults[r] = row->fault;
        s->fault_index[r] = row->bad_index;
        if (row->fault != SAMPLE_ROW_OK) {
            if (c->tokens) {
                c->tokens[r] = -1;
            } else {
                float *out = c->out + r * c->out_stride;
                for (int64_t i = 0; i < c->input->vocab; i++)
                    out[i] = NAN;
            }
        }
    }
    team_sync(&team); /* the next row may reuse row and the slots */
}
