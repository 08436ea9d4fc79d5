/*
 * test_debug_slice.c — the debugger's numpy-style indexing and printing
 * (src/debug/dbg_slice, src/debug/dbg_print): parsing indices and slices,
 * the views they make (offsets and strides, negative steps, '...',
 * clamping, out-of-range errors), copying and filling views with dtype
 * range checks, and the exact text of arrays (alignment, nesting, wrapping,
 * summarization), statistics tables and histograms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "debug/dbg_print.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A float32 tensor 0, 1, 2, ... of the given shape. */
static nt_tensor *arange(int ndim, const int64_t *dims)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, ndim, dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++)
        ((float *)t->data)[i] = (float)i;
    return t;
}

static void view_of(const nt_tensor *t, const char *text, nt_dbg_view *v)
{
    nt_dbg_slice s;
    if (nt_dbg_slice_parse(text, &s) != NT_OK)
        fail_msg("'%s' did not parse: %s", text, nt_last_error());
    if (nt_dbg_view_make(t, &s, v) != NT_OK)
        fail_msg("'%s' made no view: %s", text, nt_last_error());
}

/* The flat indices a view selects, as "a b c". */
static void flats(const nt_dbg_view *v, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int64_t i = 0; i < nt_dbg_view_numel(v) && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s%lld", i ? " " : "", (long long)nt_dbg_view_flat(v, i));
}

static void expect_view(const nt_tensor *t, const char *text, int ndim, const int64_t *dims, const char *elems)
{
    nt_dbg_view v;
    view_of(t, text, &v);
    assert_int_equal(v.ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(v.dims[d], dims[d]);
    char got[1024];
    flats(&v, got, sizeof got);
    if (strcmp(got, elems) != 0)
        fail_msg("%s selects '%s', expected '%s'", text, got, elems);
}

static void test_views(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3, 4};
    nt_tensor *t = arange(3, dims);
    expect_view(t, "", 3, dims, "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23");
    expect_view(t, "[]", 3, dims, "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23");
    expect_view(t, "[1]", 2, (int64_t[]){3, 4}, "12 13 14 15 16 17 18 19 20 21 22 23");
    expect_view(t, "[-1, 2]", 1, (int64_t[]){4}, "20 21 22 23");
    expect_view(t, "[:, 1]", 2, (int64_t[]){2, 4}, "4 5 6 7 16 17 18 19");
    expect_view(t, "[..., -1]", 2, (int64_t[]){2, 3}, "3 7 11 15 19 23");
    expect_view(t, "[0, ...]", 2, (int64_t[]){3, 4}, "0 1 2 3 4 5 6 7 8 9 10 11");
    expect_view(t, "[0, ..., 1:3]", 2, (int64_t[]){3, 2}, "1 2 5 6 9 10");
    expect_view(t, "[0, 1, 2, ...]", 0, NULL, "6");
    expect_view(t, "[ 1 , 2 , 3 ]", 0, NULL, "23");
    expect_view(t, "[::-1, ::2, 1:3]", 3, (int64_t[]){2, 2, 2}, "13 14 21 22 1 2 9 10");
    expect_view(t, "[0, ::-2, 0]", 1, (int64_t[]){2}, "8 0");
    expect_view(t, "[0, 0, -2:]", 1, (int64_t[]){2}, "2 3");
    expect_view(t, "[0, 0, :-3]", 1, (int64_t[]){1}, "0");
    expect_view(t, "[0, 0, 3:0:-1]", 1, (int64_t[]){3}, "3 2 1");
    expect_view(t, "[0, 0, -1::-3]", 1, (int64_t[]){2}, "3 0");
    expect_view(t, "[1:100]", 3, (int64_t[]){1, 3, 4}, "12 13 14 15 16 17 18 19 20 21 22 23");
    expect_view(t, "[-100:1, 0, 0]", 1, (int64_t[]){1}, "0");
    expect_view(t, "[3:1]", 3, (int64_t[]){0, 3, 4}, "");
    expect_view(t, "[0, 0, 2:2]", 1, (int64_t[]){0}, "");
    expect_view(t, "[0, 0, 10::-1]", 1, (int64_t[]){4}, "3 2 1 0");
    expect_view(t, "[0, 0, :-10:-1]", 1, (int64_t[]){4}, "3 2 1 0");

    /* out of range and too many indices */
    nt_dbg_slice s;
    nt_dbg_view v;
    assert_int_equal(nt_dbg_slice_parse("[2]", &s), NT_OK);
    assert_int_equal(nt_dbg_view_make(t, &s, &v), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "index 2 is out of range for axis 0 of size 2"));
    assert_int_equal(nt_dbg_slice_parse("[0, -4]", &s), NT_OK);
    assert_int_equal(nt_dbg_view_make(t, &s, &v), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "index -4 is out of range for axis 1 of size 3"));
    assert_int_equal(nt_dbg_slice_parse("[0, 0, 0, 0]", &s), NT_OK);
    assert_int_equal(nt_dbg_view_make(t, &s, &v), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "too many indices: 4 for a tensor of rank 3"));

    /* a 0-d tensor: only "" / "[]" / "[...]" */
    nt_tensor *sc;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 0, NULL, &sc), NT_OK);
    expect_view(sc, "", 0, NULL, "0");
    expect_view(sc, "[...]", 0, NULL, "0");
    assert_int_equal(nt_dbg_slice_parse("[0]", &s), NT_OK);
    assert_int_equal(nt_dbg_view_make(sc, &s, &v), NT_ERR_INVALID_ARG);
    nt_tensor_free(sc);
    nt_tensor_free(t);
}

static void test_parse(void **state)
{
    (void)state;
    nt_dbg_slice s;
    assert_int_equal(nt_dbg_slice_parse("[1, -2:, ::3, ...]", &s), NT_OK);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.idx[0].kind, NT_DBG_INDEX_INT);
    assert_int_equal(s.idx[0].start, 1);
    assert_int_equal(s.idx[1].kind, NT_DBG_INDEX_RANGE);
    assert_true(s.idx[1].has_start && !s.idx[1].has_stop);
    assert_int_equal(s.idx[1].start, -2);
    assert_int_equal(s.idx[2].step, 3);
    assert_int_equal(s.idx[3].kind, NT_DBG_INDEX_ELLIPSIS);
    assert_false(nt_dbg_slice_is_element(&s));
    assert_int_equal(nt_dbg_slice_parse("[0,1,2]", &s), NT_OK);
    assert_true(nt_dbg_slice_is_element(&s));
    assert_int_equal(nt_dbg_slice_parse("  ", &s), NT_OK);
    assert_int_equal(s.n, 0);

    static const struct { const char *text, *msg; } bad[] = {
        {"[", "expected an integer, a slice or '...'"},
        {"[1", "expected ',' or ']'"},
        {"[a]", "expected an integer, a slice or '...'"},
        {"[1,,2]", "expected an integer, a slice or '...' at column 4"},
        {"[::0]", "slice step cannot be zero"},
        {"[..., ...]", "only one '...'"},
        {"0]", "expected '['"},
        {"[1] x", "unexpected text after ']'"},
        {"[1:2:3:4]", "expected ',' or ']'"},
        {"[99999999999999999999]", "bad integer"},
        {"[0,0,0,0,0,0,0,0,0,0]", "too many indices"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nt_dbg_slice_parse(bad[i].text, &s), NT_ERR_INVALID_ARG);
        if (!strstr(nt_last_error(), bad[i].msg))
            fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, nt_last_error(), bad[i].msg);
    }
}

static void test_copy_and_fill(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3};
    nt_tensor *t = arange(2, dims), *c;
    nt_dbg_view v;
    view_of(t, "[:, ::-1]", &v);
    assert_int_equal(nt_dbg_view_copy(t, &v, &c), NT_OK);
    assert_int_equal(c->ndim, 2);
    const float want[] = {2, 1, 0, 5, 4, 3};
    assert_memory_equal(c->data, want, sizeof want);
    nt_tensor_free(c);

    view_of(t, "[1, 1:]", &v);
    assert_int_equal(nt_dbg_view_fill(t, &v, NAN), NT_OK);
    assert_true(isnan(((float *)t->data)[4]) && isnan(((float *)t->data)[5]));
    assert_true(((float *)t->data)[3] == 3.0f);
    view_of(t, "[0, 0]", &v);
    assert_int_equal(nt_dbg_view_fill(t, &v, -INFINITY), NT_OK);
    assert_true(isinf(((float *)t->data)[0]));
    nt_tensor_free(t);

    /* integer dtypes refuse what they cannot hold, and write nothing */
    static const struct { nt_dtype dt; double x; bool ok; } cases[] = {
        {NT_DTYPE_INT32, 1.5, false},      {NT_DTYPE_INT32, NAN, false},  {NT_DTYPE_INT32, -7, true},
        {NT_DTYPE_INT8, 200, false},       {NT_DTYPE_INT8, -128, true},   {NT_DTYPE_UINT8, -1, false},
        {NT_DTYPE_UINT8, 255, true},       {NT_DTYPE_BOOL, 2, false},     {NT_DTYPE_BOOL, 1, true},
        {NT_DTYPE_INT64, 1e19, false},     {NT_DTYPE_INT64, -4e18, true}, {NT_DTYPE_UINT16, 65536, false},
        {NT_DTYPE_DOUBLE, INFINITY, true}, {NT_DTYPE_FLOAT16, 1e6, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nt_tensor *x;
        assert_int_equal(nt_tensor_new(cases[i].dt, 1, (int64_t[]){2}, &x), NT_OK);
        nt_dbg_view_whole(x, &v);
        nt_status st = nt_dbg_view_fill(x, &v, cases[i].x);
        if ((st == NT_OK) != cases[i].ok)
            fail_msg("fill %s with %g: %s", nt_dtype_name(cases[i].dt), cases[i].x, nt_last_error());
        if (cases[i].ok && !isnan(cases[i].x) && cases[i].dt != NT_DTYPE_FLOAT16)
            assert_true(nt_tensor_get_f64(x, 1) == cases[i].x);
        if (!cases[i].ok)
            assert_true(nt_tensor_get_f64(x, 0) == 0.0);
        nt_tensor_free(x);
    }
}

static char *format(const nt_tensor *t, const char *slice)
{
    nt_dbg_view v;
    view_of(t, slice, &v);
    nt_buf b;
    nt_buf_init(&b);
    nt_dbg_format_array(&b, t, &v, NULL);
    nt_buf_putc(&b, '\0');
    return b.data;
}

static void expect_text(char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        fail_msg("got:\n%s\nexpected:\n%s", got, want);
    free(got);
}

static void test_print_arrays(void **state)
{
    (void)state;
    const int64_t d23[] = {2, 3};
    nt_tensor *t = arange(2, d23);
    expect_text(format(t, ""), "[[0, 1, 2],\n [3, 4, 5]]");
    expect_text(format(t, "[1]"), "[3, 4, 5]");
    expect_text(format(t, "[1, 2]"), "5");
    expect_text(format(t, "[:, 5:]"), "[[],\n []]");
    float *f = t->data;
    f[0] = NAN, f[1] = -INFINITY, f[2] = 0, f[3] = 0.693147f, f[4] = 1.0986123f, f[5] = -2.5e-7f;
    expect_text(format(t, ""), "[[     nan,     -inf,        0],\n [0.693147,  1.09861, -2.5e-07]]");
    nt_tensor_free(t);

    /* alignment to the widest element, nesting of 3-d arrays */
    const int64_t d222[] = {2, 2, 2};
    t = arange(3, d222);
    ((float *)t->data)[7] = -10;
    expect_text(format(t, ""), "[[[  0,   1],\n  [  2,   3]],\n\n [[  4,   5],\n  [  6, -10]]]");
    nt_tensor_free(t);

    /* NaN with any sign prints as nan; floats use 6 significant digits */
    nt_tensor *g;
    assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 1, (int64_t[]){4}, &g), NT_OK);
    double *dv = g->data;
    dv[0] = -NAN, dv[1] = 1.0 / 3.0, dv[2] = 1e20, dv[3] = -0.0;
    expect_text(format(g, ""), "[     nan, 0.333333,    1e+20,       -0]");
    nt_tensor_free(g);

    /* integers exactly (past 2^53), bools as True/False */
    nt_tensor *i;
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 1, (int64_t[]){2}, &i), NT_OK);
    ((int64_t *)i->data)[0] = 9007199254740993LL;
    ((int64_t *)i->data)[1] = -1;
    expect_text(format(i, ""), "[9007199254740993,               -1]");
    nt_tensor_free(i);
    assert_int_equal(nt_tensor_new(NT_DTYPE_BOOL, 1, (int64_t[]){2}, &i), NT_OK);
    ((uint8_t *)i->data)[0] = 1;
    expect_text(format(i, ""), "[ True, False]");
    nt_tensor_free(i);

    /* summarization past 1000 elements: 3 at each end of every axis */
    const int64_t d2000[] = {2000};
    t = arange(1, d2000);
    expect_text(format(t, ""), "[   0,    1,    2, ..., 1997, 1998, 1999]");
    char *full = format(t, "[:1000]"); /* 1000 elements: not summarized */
    assert_null(strstr(full, "..."));
    /* rows wrap at 75 columns, continuation lines indented under the bracket */
    char *line = full;
    int lines = 0;
    while (line) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        assert_true(len <= 75);
        if (lines > 0)
            assert_true(line[0] == ' ');
        lines++;
        line = nl ? nl + 1 : NULL;
    }
    assert_true(lines > 10);
    free(full);
    nt_tensor_free(t);

    const int64_t d100[] = {100, 100};
    t = arange(2, d100);
    expect_text(format(t, ""), "[[   0,    1,    2, ...,   97,   98,   99],\n"
                               " [ 100,  101,  102, ...,  197,  198,  199],\n"
                               " [ 200,  201,  202, ...,  297,  298,  299],\n"
                               " ...,\n"
                               " [9700, 9701, 9702, ..., 9797, 9798, 9799],\n"
                               " [9800, 9801, 9802, ..., 9897, 9898, 9899],\n"
                               " [9900, 9901, 9902, ..., 9997, 9998, 9999]]");
    /* a slice small enough is printed whole */
    expect_text(format(t, "[:2, :4]"), "[[  0,   1,   2,   3],\n [100, 101, 102, 103]]");
    nt_tensor_free(t);
}

static char *text_of(nt_status (*fn)(nt_buf *, const nt_tensor *), const nt_tensor *t)
{
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(fn(&b, t), NT_OK);
    nt_buf_putc(&b, '\0');
    return b.data;
}

static void test_summary_stats_hist(void **state)
{
    (void)state;
    const float v[] = {NAN, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -INFINITY};
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, (int64_t[]){12}, &t), NT_OK);
    memcpy(t->data, v, sizeof v);

    nt_buf b;
    nt_buf_init(&b);
    nt_dbg_format_summary(&b, t);
    nt_buf_putc(&b, '\0');
    assert_string_equal(b.data, "float32[12] min=0 max=9 mean=4.5 nan=1 inf=1");
    b.len = 0;

    char *s = text_of(nt_dbg_format_stats, t);
    assert_non_null(strstr(s, "  shape      float32[12]\n"));
    assert_non_null(strstr(s, "  count      12\n"));
    assert_non_null(strstr(s, "  min        0\n"));
    assert_non_null(strstr(s, "  max        9\n"));
    assert_non_null(strstr(s, "  mean       4.5\n"));
    assert_non_null(strstr(s, "  std        2.87228132\n"));
    assert_non_null(strstr(s, "  nan        1\n"));
    assert_non_null(strstr(s, "  inf        1 (+0 -1)\n"));
    assert_non_null(strstr(s, "  zeros      1 (8.33%)\n"));
    assert_non_null(strstr(s, "  negatives  1 (8.33%)\n"));
    free(s);

    assert_int_equal(nt_dbg_format_hist(&b, t, 2), NT_OK);
    nt_buf_putc(&b, '\0');
    assert_string_equal(b.data, "  10 finite values in 2 bins (not counted: nan=1 inf=1)\n"
                                "  [           0,          4.5)          5 ########################################\n"
                                "  [         4.5,            9]          5 ########################################\n");
    b.len = 0;
    assert_int_equal(nt_dbg_format_hist(&b, t, 3), NT_OK);
    nt_buf_putc(&b, '\0');
    /* 0..2.99 | 3..5.99 | 6..9: 3, 3, 4 values; bars scale to the largest */
    assert_non_null(strstr(b.data, "[           0,            3)          3 ##############################\n"));
    assert_non_null(strstr(b.data, "[           6,            9]          4 ########################################\n"));
    b.len = 0;
    assert_int_equal(nt_dbg_format_hist(&b, t, 0), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_dbg_format_hist(&b, t, 1001), NT_ERR_INVALID_ARG);
    nt_tensor_free(t);

    /* a constant tensor gets a unit-wide range, as numpy.histogram */
    const float c[] = {3, 3};
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, (int64_t[]){2}, &t), NT_OK);
    memcpy(t->data, c, sizeof c);
    b.len = 0;
    assert_int_equal(nt_dbg_format_hist(&b, t, 1), NT_OK);
    nt_buf_putc(&b, '\0');
    assert_non_null(strstr(b.data, "[         2.5,          3.5]          2 #"));
    /* nothing finite: just the header */
    ((float *)t->data)[0] = ((float *)t->data)[1] = NAN;
    b.len = 0;
    assert_int_equal(nt_dbg_format_hist(&b, t, 4), NT_OK);
    nt_buf_putc(&b, '\0');
    assert_string_equal(b.data, "  0 finite values in 4 bins (not counted: nan=2 inf=0)\n");
    nt_tensor_free(t);
    nt_buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views),        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_copy_and_fill), cmocka_unit_test(test_print_arrays),
        cmocka_unit_test(test_summary_stats_hist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
