/*
 * curve_set.c — the one place where a set of scalar curves becomes
 * findings: tags are paired by convention (training with validation), every
 * pair and every loss or score curve is analysed, and logged data sizes are
 * checked.  `nntrace report`, the dashboard's /api/overfit and anything
 * else that names an overfitting onset call nt_curve_analyze_set, so they
 * give the same step for the same curves.
 */
#include "metrics/curves.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nt_status nt_curve_find_pairs(const nt_series *s, int n, nt_curve_pair *pairs, int *n_pairs)
{
    *n_pairs = 0;
    bool *used = nt_calloc((size_t)n + 1, sizeof *used);
    if (!used)
        return NT_ERR_NOMEM;
    for (int v = 0; v < n; v++) {
        nt_tag_kind k = nt_tag_kind_of(s[v].tag);
        if (k == NT_TAG_OTHER)
            continue;
        for (int t = 0; t < n; t++)
            if (t != v && !used[t] && nt_tag_is_pair(s[t].tag, s[v].tag)) {
                pairs[(*n_pairs)++] = (nt_curve_pair){t, v, k};
                used[t] = used[v] = true;
                break;
            }
    }
    free(used);
    return NT_OK;
}

static bool is_val_of_pair(const nt_curve_pair *pairs, int n_pairs, int i)
{
    for (int k = 0; k < n_pairs; k++)
        if (pairs[k].val == i)
            return true;
    return false;
}

nt_status nt_curve_analyze_set(const nt_series *s, int n, const nt_curve_pair *pairs, int n_pairs,
                               nt_curve_findings *out)
{
    nt_status st = NT_OK;
    for (int k = 0; k < n_pairs && st == NT_OK; k++)
        st = nt_curve_analyze_pair(&s[pairs[k].train], &s[pairs[k].val], pairs[k].kind, out);
    double n_train = NAN, n_val = NAN, frac = NAN;
    const char *size_tag = NULL;
    for (int i = 0; i < n && st == NT_OK; i++) {
        nt_tag_kind kind = nt_tag_kind_of(s[i].tag);
        if (kind == NT_TAG_LOSS)
            st = nt_curve_analyze_single(&s[i], !is_val_of_pair(pairs, n_pairs, i), out);
        else if (kind == NT_TAG_SCORE)
            st = nt_curve_analyze_single(&s[i], false, out);
        if (s[i].n < 1)
            continue;
        double last = s[i].values[s[i].n - 1];
        switch (nt_tag_size_of(s[i].tag)) {
        case NT_SIZE_TRAIN: n_train = last; size_tag = s[i].tag; break;
        case NT_SIZE_VAL: n_val = last; size_tag = size_tag ? size_tag : s[i].tag; break;
        case NT_FRACTION_VAL: frac = last > 1 ? last / 100 : last; break;
        case NT_FRACTION_TRAIN: frac = 1 - (last > 1 ? last / 100 : last); break;
        default: break;
        }
    }
    if (st == NT_OK && !isnan(n_train) && !isnan(n_val))
        st = nt_curve_check_sizes(n_train, n_val, frac, size_tag, out);
    else if (st == NT_OK && !isnan(n_val) && n_val < 50) {
        nt_curve_finding *f = nt_curve_findings_add(out, "small_validation", NT_CURVE_WARNING, size_tag);
        if (!f)
            return NT_ERR_NOMEM;
        f->value = n_val;
        snprintf(f->detail, sizeof f->detail, "the validation set has only %.0f samples: small changes in its "
                 "metrics are noise", n_val);
    }
    return st;
}

int64_t nt_series_last_per_step(const int64_t *steps, const double *values, int64_t n, int64_t *out_steps,
                                double *out_values)
{
    int64_t m = 0;
    for (int64_t j = 0; j < n; j++) {
        if (m > 0 && out_steps[m - 1] == steps[j])
            m--;
        out_steps[m] = steps[j];
        out_values[m++] = values[j];
    }
    return m;
}
