/*
 * test_eval.c — the evaluation library (include/nntrace/analysis.h) on an
 * Identity model whose outputs are the data, so every score is known: the
 * predictions are the rows' argmax, the accuracy a count, the batches a
 * division; .npy and CSV labels agree; bad labels and a missing output are
 * errors with messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nntrace/analysis.h"
#include "onnx/writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 5
#define K 3
/* argmax per row: 0, 1, 2, 2, 0 */
static const float X[N][K] = {{3, 1, 0}, {0, 2, 1}, {0, 0, 5}, {1, 0, 4}, {2, -1, 1}};

typedef struct fixture {
    char dir[64], model[96], data[96], labels[96], csv[96];
    nt_model *m;
    nt_session *s;
} fixture;

static void save_labels(fixture *f, const float *y)
{
    int64_t n = N;
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, &n, &t), NT_OK);
    memcpy(t->data, y, sizeof(float) * N);
    assert_int_equal(nt_npy_save(f->labels, t), NT_OK);
    nt_tensor_free(t);
    FILE *fp = fopen(f->csv, "w");
    assert_non_null(fp);
    fprintf(fp, "id,label\n");
    for (int i = 0; i < N; i++)
        fprintf(fp, "%d,%g\n", i, (double)y[i]);
    fclose(fp);
}

static void fixture_open(fixture *f, const float *y)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/nt_test_eval_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->model, sizeof f->model, "%s/m.onnx", f->dir);
    snprintf(f->data, sizeof f->data, "%s/x.npy", f->dir);
    snprintf(f->labels, sizeof f->labels, "%s/y.npy", f->dir);
    snprintf(f->csv, sizeof f->csv, "%s/y.csv", f->dir);
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t dims[2] = {-1, K};
    const char *names[2] = {"N", NULL};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, names);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, names);
    const char *in[] = {"x"}, *out[] = {"y"};
    nt_onnx_builder_add_node(b, "Identity", "id", 1, in, 1, out);
    assert_int_equal(nt_onnx_builder_save(b, f->model), NT_OK);
    nt_onnx_builder_free(b);
    int64_t xd[2] = {N, K};
    nt_tensor *x;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, xd, &x), NT_OK);
    memcpy(x->data, X, sizeof X);
    assert_int_equal(nt_npy_save(f->data, x), NT_OK);
    nt_tensor_free(x);
    save_labels(f, y);
    assert_int_equal(nt_model_load(f->model, &f->m), NT_OK);
    assert_int_equal(nt_session_new(f->m, NULL, &f->s), NT_OK);
}

static void fixture_close(fixture *f)
{
    nt_session_free(f->s);
    nt_model_free(f->m);
    unlink(f->model);
    unlink(f->data);
    unlink(f->labels);
    unlink(f->csv);
    rmdir(f->dir);
}

/* Loads and runs; returns the status of the run, the result in *r. */
static nt_status eval(fixture *f, nt_eval_options *o, nt_eval_result **r)
{
    nt_eval_data *d;
    o->model_path = f->model;
    o->data_path = f->data;
    nt_status st = nt_eval_load(o, &d);
    if (st != NT_OK) {
        *r = NULL;
        return st;
    }
    st = nt_eval_run(f->m, f->s, d, o, r);
    nt_eval_data_free(d);
    return st;
}

static char *json_of(const nt_eval_result *r)
{
    char *j;
    size_t len;
    assert_int_equal(nt_eval_result_json(r, &j, &len), NT_OK);
    assert_int_equal(strlen(j), len);
    return j;
}

/* Labels 0,1,2,0,0 against predictions 0,1,2,2,0: 4 of 5 right; batches of
 * 2 make 3 runs; the confusion matrix and the mean cross-entropy of the
 * logits as computed here. */
static void test_eval_logits(void **state)
{
    (void)state;
    static const float y[N] = {0, 1, 2, 0, 0};
    fixture f;
    fixture_open(&f, y);
    nt_eval_options o;
    nt_eval_options_init(&o);
    o.labels_path = f.labels;
    o.batch = 2;
    nt_eval_result *r;
    assert_int_equal(eval(&f, &o, &r), NT_OK);
    assert_int_equal(nt_eval_result_runs(r), 3);
    char *j = json_of(r);
    assert_non_null(strstr(j, "\"samples\": 5, \"runs\": 3"));
    assert_non_null(strstr(j, "\"task\": \"multiclass\", \"outputs\": \"logits\", \"accuracy\": 0.8,"));
    assert_non_null(strstr(j, "\"confusion\": [[2, 0, 1], [0, 1, 0], [0, 0, 1]]"));
    double loss = 0;
    for (int i = 0; i < N; i++) {
        double m = fmax(fmax(X[i][0], X[i][1]), X[i][2]);
        double lse = m + log(exp(X[i][0] - m) + exp(X[i][1] - m) + exp(X[i][2] - m));
        loss += lse - X[i][(int)y[i]];
    }
    loss /= N;
    const char *l = strstr(j, "\"loss\": ");
    assert_non_null(l);
    assert_true(fabs(strtod(l + 8, NULL) - loss) < 1e-12);
    char *text;
    assert_int_equal(nt_eval_result_text(r, &text, NULL), NT_OK);
    assert_non_null(strstr(text, "accuracy: 0.8000 (4 of 5)"));
    free(text);
    free(j);
    nt_eval_result_free(r);

    /* the same labels from a CSV column named "label": the same document
     * but for the labels' path */
    o.labels_path = f.csv;
    assert_int_equal(eval(&f, &o, &r), NT_OK);
    char *j2 = json_of(r);
    assert_non_null(strstr(j2, "\"accuracy\": 0.8,"));
    assert_non_null(strstr(j2, "\"confusion\": [[2, 0, 1], [0, 1, 0], [0, 0, 1]]"));
    free(j2);
    nt_eval_result_free(r);
    fixture_close(&f);
}

static void test_eval_errors(void **state)
{
    (void)state;
    static const float y[N] = {0, 1, 3, 0, 0};   /* 3: outside the 3 classes */
    fixture f;
    fixture_open(&f, y);
    nt_eval_options o;
    nt_eval_options_init(&o);
    o.labels_path = f.labels;
    nt_eval_result *r;
    assert_int_equal(eval(&f, &o, &r), NT_ERR_SHAPE);
    assert_non_null(strstr(nt_last_error(), "label 3 of sample 2 is outside the model's 3 classes"));
    nt_eval_result_free(r);
    o.output = "nope";
    assert_int_equal(eval(&f, &o, &r), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "no output named 'nope'; its outputs:\n  y float32"));
    nt_eval_result_free(r);
    o.output = NULL;
    o.labels_path = "/nonexistent/y.npy";
    assert_int_not_equal(eval(&f, &o, &r), NT_OK);
    assert_null(r);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_logits),
        cmocka_unit_test(test_eval_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
