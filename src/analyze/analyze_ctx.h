/*
 * analyze_ctx.h — what the parts of nt_analyze_run (include/nntrace/
 * analysis.h) share: the resolved input and output, the probe, and the
 * JSON and text being written.  analyze_run.c sets up and finishes;
 * analyze_methods.c runs occlusion, perturb or sweep and renders them.
 */
#ifndef NT_ANALYZE_CTX_H
#define NT_ANALYZE_CTX_H

#include "analyze/sensitivity.h"
#include "nntrace/analysis.h"

typedef struct nt_analyze_ctx {
    const nt_analyze_options *o;
    const char *model;            /* the path reported */
    const nt_model *m;
    nt_session *s;
    nt_value_info in_vi, out_vi;
    int in_idx, out_idx;
    nt_tensor *x;                 /* the analyzed input as bound */
    nt_layout layout;
    bool has_layout;
    nt_probe probe;
    nt_occlusion_options occ;     /* the options in the methods' terms */
    nt_perturb_options pert;
    const char *baseline;         /* as given ("0" by default) */
    double ms;                    /* start, then duration of the method */
    nt_buf files;                 /* JSON members of "files" */
    int n_files;
    nt_buf json, text;
} nt_analyze_ctx;

const char *nt_analyze_method_name(nt_analyze_method m);

/* Each method runs on the probe, writes its files into o->out_dir, and
 * appends its part of analysis.json and of the text. */
nt_status nt_analyze_occlusion(nt_analyze_ctx *c);
nt_status nt_analyze_perturb(nt_analyze_ctx *c);
nt_status nt_analyze_sweep(nt_analyze_ctx *c);

/* The members every method's JSON starts with, and the text's head. */
void nt_analyze_json_common(nt_analyze_ctx *c);
void nt_analyze_text_common(nt_analyze_ctx *c);

#endif /* NT_ANALYZE_CTX_H */
