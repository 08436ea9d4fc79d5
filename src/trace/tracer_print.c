/*
 * tracer_print.c — `--trace print[:FILTER]`: one line per node as it runs —
 * position, name, op, inputs and outputs with dtype and shape, each output's
 * min/max/mean (and NaN/Inf counts), the kernel time; with -v the first
 * values of each output.  Tensors are always summarized, never printed whole.
 */
#include "trace/tracers.h"
#include "trace/tstats.h"

#include <math.h>
#include <stdlib.h>

#define PRINT_FIRST_VALUES 8

typedef struct print_tracer {
    nt_trace_obj base;
    nt_trace_config cfg;
    FILE *out;
    int run;
} print_tracer;

static bool print_wants(void *user, const nt_node_view *v)
{
    print_tracer *p = user;
    return nt_node_filter_match(&p->cfg.filter, v->name, v->op_type);
}

static nt_action print_run_begin(void *user, nt_session *s)
{
    print_tracer *p = user;
    if (p->run++ > 0)
        fprintf(p->out, "--- run %d\n", p->run);
    return NT_ACTION_CONTINUE;
}

static void print_tensor_brief(FILE *f, const char *name, const nt_tensor *t)
{
    char desc[160];
    if (!t) {
        fprintf(f, " %s:-", name[0] ? name : "(omitted)");
        return;
    }
    nt_tensor_describe(t, desc, sizeof desc);
    fprintf(f, " %s:%s", name, desc);
}

static nt_action print_node_end(void *user, nt_session *s, const nt_node_view *v)
{
    print_tracer *p = user;
    FILE *f = p->out;
    fprintf(f, "[%4d]%*s %s (%s)", v->index, v->depth * 2, "", v->name, v->op_type);
    fputs(" in:", f);
    for (int i = 0; i < v->n_inputs; i++)
        print_tensor_brief(f, v->input_names[i], v->inputs[i]);
    fputs(" -> out:", f);
    for (int i = 0; i < v->n_outputs; i++)
        print_tensor_brief(f, v->output_names[i], v->outputs[i]);
    fprintf(f, "  %.3f ms\n", v->elapsed_ms);
    for (int i = 0; i < v->n_outputs; i++) {
        const nt_tensor *t = v->outputs[i];
        if (!t || !t->data)
            continue;
        nt_tstats st;
        if (nt_tstats_init(&st, false) != NT_OK)
            continue;
        nt_tstats_add(&st, t);
        fprintf(f, "       %s: min=%.6g max=%.6g mean=%.6g", v->output_names[i], nt_printable(st.min),
                nt_printable(st.max), nt_printable(nt_tstats_mean(&st)));
        if (st.nan)
            fprintf(f, " nan=%lld", (long long)st.nan);
        if (st.pinf || st.ninf)
            fprintf(f, " inf=%lld", (long long)(st.pinf + st.ninf));
        if (p->cfg.verbose) {
            int64_t n = nt_tensor_numel(t);
            fputs(" [", f);
            for (int64_t k = 0; k < n && k < PRINT_FIRST_VALUES; k++)
                fprintf(f, "%s%.6g", k ? ", " : "", nt_printable(nt_tensor_get_f64(t, k)));
            fputs(n > PRINT_FIRST_VALUES ? ", ...]" : "]", f);
        }
        fputc('\n', f);
        nt_tstats_deinit(&st);
    }
    return NT_ACTION_CONTINUE;
}

static nt_status print_finish(nt_trace_obj *self, nt_rundir *rd)
{
    print_tracer *p = (print_tracer *)self;
    fflush(p->out);
    return NT_OK;
}

static void print_destroy(nt_trace_obj *self) { free(self); }

nt_status nt_print_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out)
{
    print_tracer *p = nt_calloc(1, sizeof *p);
    if (!p)
        return NT_ERR_NOMEM;
    p->cfg = *cfg;
    p->out = cfg->out ? cfg->out : stdout;
    p->base.kind = "print";
    p->base.tracer = (nt_tracer){.user = p, .wants_node = print_wants, .run_begin = print_run_begin,
        .node_end = print_node_end};
    p->base.finish = print_finish;
    p->base.destroy = print_destroy;
    *out = &p->base;
    return NT_OK;
}
