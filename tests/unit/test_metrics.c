/*
 * test_metrics.c — classification, ranking and regression metrics on
 * hand-checked cases (values worked out by hand, or the examples in
 * scikit-learn's documentation), including the classification report's
 * text layout and the zero-division rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"

#include <math.h>

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static void fill(nt_confusion *c, int k, const int *t, const int *p, int n)
{
    assert_int_equal(nt_confusion_init(c, k), NT_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(nt_confusion_add(c, t[i], p[i]), NT_OK);
}

static void test_confusion_and_report(void **state)
{
    (void)state;
    /* true 0 1 2 2 1 0, predicted 0 2 1 2 1 0: [[2,0,0],[0,1,1],[0,1,1]] */
    int t[] = {0, 1, 2, 2, 1, 0}, p[] = {0, 2, 1, 2, 1, 0};
    nt_confusion c;
    fill(&c, 3, t, p, 6);
    int64_t want[9] = {2, 0, 0, 0, 1, 1, 0, 1, 1};
    assert_memory_equal(c.counts, want, sizeof want);
    NEAR(nt_confusion_accuracy(&c), 4.0 / 6);
    assert_int_equal(nt_confusion_add(&c, 3, 0), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_confusion_add(&c, 0, -1), NT_ERR_INVALID_ARG);

    nt_class_report r;
    assert_int_equal(nt_class_report_compute(&c, 0.0, &r), NT_OK);
    NEAR(r.per_class[0].precision, 1.0);
    NEAR(r.per_class[1].precision, 0.5);
    NEAR(r.per_class[2].recall, 0.5);
    NEAR(r.per_class[1].f1, 0.5);
    assert_int_equal(r.per_class[2].support, 2);
    NEAR(r.macro.precision, 2.0 / 3);
    NEAR(r.weighted.f1, 2.0 / 3);
    NEAR(r.micro.f1, 4.0 / 6);
    assert_true(r.micro_is_accuracy);

    /* scikit-learn: classification_report(t, p, target_names=[cat, dog, bird], digits=3) */
    const char *names[] = {"cat", "dog", "bird"};
    nt_buf b;
    nt_buf_init(&b);
    nt_class_report_format(&r, names, 3, &b);
    assert_string_equal(b.data, "              precision    recall  f1-score   support\n\n"
                                "         cat      1.000     1.000     1.000         2\n"
                                "         dog      0.500     0.500     0.500         2\n"
                                "        bird      0.500     0.500     0.500         2\n\n"
                                "    accuracy                          0.667         6\n"
                                "   macro avg      0.667     0.667     0.667         6\n"
                                "weighted avg      0.667     0.667     0.667         6\n");
    nt_buf_deinit(&b);

    double m[9];
    nt_confusion_normalized(&c, NT_NORMALIZE_TRUE, m);
    NEAR(m[4], 0.5);
    NEAR(m[0], 1.0);
    nt_confusion_normalized(&c, NT_NORMALIZE_PRED, m);
    NEAR(m[5], 0.5);
    nt_confusion_normalized(&c, NT_NORMALIZE_ALL, m);
    NEAR(m[0], 2.0 / 6);
    nt_normalize how;
    assert_true(nt_normalize_parse("pred", &how) && how == NT_NORMALIZE_PRED);
    assert_false(nt_normalize_parse("rows", &how));
    nt_class_report_deinit(&r);
    nt_confusion_deinit(&c);
}

static void test_zero_division(void **state)
{
    (void)state;
    /* true 0 0 1, predicted 0 0 0, classes 0..2: class 1 never predicted,
     * class 2 absent altogether -> a "micro avg" row */
    int t[] = {0, 0, 1}, p[] = {0, 0, 0};
    nt_confusion c;
    fill(&c, 3, t, p, 3);
    nt_class_report r;
    assert_int_equal(nt_class_report_compute(&c, 0.0, &r), NT_OK);
    assert_false(r.micro_is_accuracy);
    nt_buf b;
    nt_buf_init(&b);
    nt_class_report_format(&r, NULL, 2, &b);
    /* scikit-learn: classification_report([0,0,1], [0,0,0], labels=[0,1,2], zero_division=0) */
    assert_string_equal(b.data, "              precision    recall  f1-score   support\n\n"
                                "           0       0.67      1.00      0.80         2\n"
                                "           1       0.00      0.00      0.00         1\n"
                                "           2       0.00      0.00      0.00         0\n\n"
                                "   micro avg       0.67      0.67      0.67         3\n"
                                "   macro avg       0.22      0.33      0.27         3\n"
                                "weighted avg       0.44      0.67      0.53         3\n");
    nt_buf_deinit(&b);
    nt_class_report_deinit(&r);

    /* zero_division = 1: undefined precision of class 1 and everything of
     * class 2 become 1; F1 of class 1 stays 0 (recall is defined and 0) */
    assert_int_equal(nt_class_report_compute(&c, 1.0, &r), NT_OK);
    NEAR(r.per_class[1].precision, 1.0);
    NEAR(r.per_class[1].f1, 0.0);
    NEAR(r.per_class[2].precision, 1.0);
    NEAR(r.per_class[2].recall, 1.0);
    NEAR(r.per_class[2].f1, 1.0);
    nt_class_report_deinit(&r);

    /* zero_division = NaN: macro averages skip the NaN entries */
    assert_int_equal(nt_class_report_compute(&c, NAN, &r), NT_OK);
    assert_true(isnan(r.per_class[1].precision));
    NEAR(r.macro.precision, 2.0 / 3);
    nt_class_report_deinit(&r);
    nt_confusion_deinit(&c);
}

static void test_losses(void **state)
{
    (void)state;
    double z[3] = {1, 2, 3}, ls[3];
    /* -log softmax([1,2,3])[2] = log(1 + e^-1 + e^-2) */
    NEAR(nt_cross_entropy_logits(z, 3, 2), log(1 + exp(-1.0) + exp(-2.0)));
    nt_log_softmax(z, 3, ls);
    NEAR(exp(ls[0]) + exp(ls[1]) + exp(ls[2]), 1.0);
    /* huge logits stay finite */
    double big[2] = {1000, -1000};
    NEAR(nt_cross_entropy_logits(big, 2, 0), 0.0);
    assert_true(fabs(nt_cross_entropy_logits(big, 2, 1) - 2000) < 1e-9);
    double nan_row[2] = {NAN, 0};
    assert_true(isnan(nt_cross_entropy_logits(nan_row, 2, 0)));
    /* probabilities: clipped and renormalized rows */
    double pr[3] = {0.2, 0.3, 0.5};
    NEAR(nt_cross_entropy_probs(pr, 3, 1), -log(0.3));
    double zero[2] = {0.0, 1.0};
    assert_true(fabs(nt_cross_entropy_probs(zero, 2, 0) - 36.04365338911715) < 1e-6); /* -log(eps) */
    NEAR(nt_binary_cross_entropy(0.8, 1), -log(0.8));
    NEAR(nt_binary_cross_entropy(0.8, 0), -log(0.2));
    NEAR(nt_sigmoid(0), 0.5);
    NEAR(nt_sigmoid(-800), 0.0);
    NEAR(nt_sigmoid(800), 1.0);
}

static void test_ranking(void **state)
{
    (void)state;
    /* scikit-learn's documentation example */
    double s[4] = {0.1, 0.4, 0.35, 0.8};
    int y[4] = {0, 0, 1, 1};
    double auc;
    assert_int_equal(nt_roc_auc(s, y, 4, &auc), NT_OK);
    NEAR(auc, 0.75);
    nt_pr_curve pr;
    assert_int_equal(nt_pr_curve_compute(s, y, 4, &pr), NT_OK);
    assert_int_equal(pr.n_points, 5);
    double wp[5] = {0.5, 2.0 / 3, 0.5, 1, 1}, wr[5] = {1, 1, 0.5, 0.5, 0}, wt[4] = {0.1, 0.35, 0.4, 0.8};
    for (int i = 0; i < 5; i++) {
        NEAR(pr.precision[i], wp[i]);
        NEAR(pr.recall[i], wr[i]);
        if (i < 4)
            NEAR(pr.thresholds[i], wt[i]);
    }
    NEAR(pr.average_precision, 0.5 * 1 + 0 * 0.5 + 0.5 * (2.0 / 3)); /* 0.8333 */
    nt_pr_curve_deinit(&pr);

    /* ties move the curve diagonally: two tied samples of each class -> 0.5 */
    double t[4] = {0.5, 0.5, 0.5, 0.5};
    int yt[4] = {0, 1, 0, 1};
    assert_int_equal(nt_roc_auc(t, yt, 4, &auc), NT_OK);
    NEAR(auc, 0.5);
    /* a perfect ranking, and one class only */
    double p[4] = {0.9, 0.8, 0.2, 0.1};
    int yp[4] = {1, 1, 0, 0};
    assert_int_equal(nt_roc_auc(p, yp, 4, &auc), NT_OK);
    NEAR(auc, 1.0);
    int one[4] = {1, 1, 1, 1};
    assert_int_equal(nt_roc_auc(p, one, 4, &auc), NT_ERR_INVALID_ARG);
    double withnan[2] = {NAN, 0.5};
    assert_int_equal(nt_roc_auc(withnan, yp, 2, &auc), NT_ERR_INVALID_ARG);

    /* TensorBoard pr_curves: 3 thresholds 0, 0.5, 1 over s */
    float out[18];
    nt_pr_buckets(s, y, 4, 3, out);
    /* threshold 0: all predicted positive; 0.5: only 0.8; 1: none */
    float want[18] = {2, 1, 0, /* tp */ 2, 0, 0, /* fp */ 0, 2, 2, /* tn */ 0, 1, 2, /* fn */
                      0.5f, 1, 0, /* precision */ 1, 0.5f, 0 /* recall */};
    for (int i = 0; i < 18; i++)
        assert_true(fabsf(out[i] - want[i]) < 1e-6f);
}

static void test_regression(void **state)
{
    (void)state;
    /* scikit-learn's documentation example: r2 0.948..., mse 0.375, mae 0.5 */
    double y[4] = {3, -0.5, 2, 7}, yh[4] = {2.5, 0.0, 2, 8};
    nt_regression r;
    assert_int_equal(nt_regression_compute(y, yh, 4, 1, &r), NT_OK);
    NEAR(r.mse, 0.375);
    NEAR(r.mae, 0.5);
    NEAR(r.rmse, sqrt(0.375));
    assert_true(fabs(r.r2 - 0.9486081370449679) < 1e-12);
    /* two outputs: uniform averages; a constant target scores 1 only if exact */
    double y2[4] = {1, 5, 2, 5}, yh2[4] = {1, 5, 3, 5};
    assert_int_equal(nt_regression_compute(y2, yh2, 2, 2, &r), NT_OK);
    NEAR(r.mse, 0.25);        /* (0.5 + 0) / 2 */
    NEAR(r.r2, (-1.0 + 1.0) / 2); /* output 0: 1 - 1/0.5 = -1; output 1 constant, exact: 1 */
    assert_int_equal(nt_regression_compute(y, yh, 0, 1, &r), NT_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_confusion_and_report),
        cmocka_unit_test(test_zero_division),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_regression),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
