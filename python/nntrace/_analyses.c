/*
 * _analyses.c — doctor, diff, eval, report and analyze in the extension:
 * each calls its library function (include/nntrace/analysis.h) and returns
 * the JSON that `nntrace CMD --json` prints, as a str (_analyses.py parses
 * it).  Arrays cross as (name, dtype, shape, buffer) tuples and are read in
 * place; the GIL is released while the library works.
 */
#include "_nntrace.h"

#include <nntrace/analysis.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Feeds viewed as tensors, with their buffers held. */
typedef struct feeds {
    int n;
    const char **names;
    nt_tensor *tensors;
    const nt_tensor **ptrs;
    Py_buffer *views;
} feeds;

static void feeds_release(feeds *f)
{
    for (int i = 0; i < f->n; i++)
        PyBuffer_Release(&f->views[i]);
    PyMem_Free(f->names);
    PyMem_Free(f->tensors);
    PyMem_Free(f->ptrs);
    PyMem_Free(f->views);
    memset(f, 0, sizeof *f);
}

/* list: None or a sequence of (name, dtype, shape, buffer). */
static int feeds_get(PyObject *list, feeds *f)
{
    memset(f, 0, sizeof *f);
    if (list == Py_None)
        return 0;
    Py_ssize_t n = PySequence_Size(list);
    if (n < 0)
        return -1;
    size_t k = n ? (size_t)n : 1;
    f->names = PyMem_Calloc(k, sizeof *f->names);
    f->tensors = PyMem_Calloc(k, sizeof *f->tensors);
    f->ptrs = PyMem_Calloc(k, sizeof *f->ptrs);
    f->views = PyMem_Calloc(k, sizeof *f->views);
    if (!f->names || !f->tensors || !f->ptrs || !f->views) {
        feeds_release(f);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(list, i);
        int ok = item && nt_py_tensor_view(item, &f->views[f->n], &f->names[f->n], &f->tensors[f->n]) == 0;
        Py_XDECREF(item);
        if (!ok) {
            feeds_release(f);
            return -1;
        }
        f->ptrs[f->n] = &f->tensors[f->n];
        f->n++;
    }
    return 0;
}

/* Loads the model, plans it and binds the feeds (in place). */
static nt_status open_bound(const char *path, int threads, const feeds *f, nt_model **m, nt_session **s)
{
    nt_session_options so;
    memset(&so, 0, sizeof so);
    so.threads = threads;
    *m = NULL;
    *s = NULL;
    nt_status st = nt_model_load(path, m);
    if (st == NT_OK)
        st = nt_session_new(*m, &so, s);
    for (int i = 0; st == NT_OK && i < f->n; i++)
        st = nt_session_bind_input(*s, f->names[i], f->ptrs[i]);
    return st;
}

/* The JSON as a str (freed here), or the library's error raised. */
static PyObject *json_result(nt_status st, char *json)
{
    if (st != NT_OK) {
        free(json);
        return nt_py_raise_bad_input(st);
    }
    PyObject *r = PyUnicode_FromString(json);
    free(json);
    return r;
}

/* ------------------------------------------------------------------ doctor */

static PyObject *py_doctor(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "feeds", "data", "data_input", "explode", "fp16", "threads", NULL};
    const char *path, *data_input = NULL;
    PyObject *feeds_obj = Py_None, *data_obj = Py_None;
    double explode = 0;
    int fp16 = 0, threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|OOzdpi", kwlist, &path, &feeds_obj, &data_obj, &data_input,
                                     &explode, &fp16, &threads))
        return NULL;
    feeds f, data;
    if (feeds_get(feeds_obj, &f) < 0)
        return NULL;
    PyObject *one = data_obj == Py_None ? Py_None : PyTuple_Pack(1, data_obj);
    if (!one || feeds_get(one, &data) < 0) {
        if (one != Py_None)
            Py_XDECREF(one);
        feeds_release(&f);
        return NULL;
    }
    if (one != Py_None)
        Py_DECREF(one);
    nt_doctor_options o;
    nt_doctor_options_init(&o);
    o.explode_threshold = explode;
    o.fp16 = fp16;
    o.data = data.n ? data.ptrs[0] : NULL;
    o.data_input = data_input;
    nt_model *m;
    nt_session *s;
    nt_doctor_result *r = NULL;
    char *json = NULL;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = open_bound(path, threads, &f, &m, &s);
    if (st == NT_OK)
        st = nt_doctor_run(m, s, &o, &r);
    if (st == NT_OK)
        st = nt_doctor_result_json(r, &json, NULL);
    nt_doctor_result_free(r);
    nt_session_free(s);
    nt_model_free(m);
    Py_END_ALLOW_THREADS
    feeds_release(&f);
    feeds_release(&data);
    return json_result(st, json);
}

/* ------------------------------------------------------------------ diff */

static PyObject *py_diff(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "feeds", "atol", "rtol", "tmp_dir", "threads", NULL};
    const char *a, *b, *tmp_dir = NULL;
    PyObject *feeds_obj = Py_None;
    double atol = -1, rtol = -1;
    int threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ss|Oddzi", kwlist, &a, &b, &feeds_obj, &atol, &rtol, &tmp_dir,
                                     &threads))
        return NULL;
    feeds f;
    if (feeds_get(feeds_obj, &f) < 0)
        return NULL;
    nt_diff_options o;
    nt_diff_options_init(&o);
    o.a = a;
    o.b = b;
    if (atol >= 0)
        o.atol = atol;
    if (rtol >= 0)
        o.rtol = rtol;
    o.n_feeds = f.n;
    o.feed_names = f.names;
    o.feeds = f.ptrs;
    o.threads = threads;
    o.tmp_dir = tmp_dir;
    nt_diff_result *r = NULL;
    char *json = NULL;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_diff_run(&o, &r);
    if (st == NT_OK)
        st = nt_diff_result_json(r, &json, NULL);
    nt_diff_result_free(r);
    Py_END_ALLOW_THREADS
    feeds_release(&f);
    return json_result(st, json);
}

/* ------------------------------------------------------------------ eval */

static PyObject *py_eval(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"model", "data_path", "labels_path", "batch", "output", "task", "threads", NULL};
    const char *model, *data_path, *labels_path, *output = NULL, *task = NULL;
    int batch = 0, threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sss|izzi", kwlist, &model, &data_path, &labels_path, &batch, &output,
                                     &task, &threads))
        return NULL;
    nt_eval_options o;
    nt_eval_options_init(&o);
    o.model_path = model;
    o.data_path = data_path;
    o.labels_path = labels_path;
    o.output = output;
    if (batch > 0) {
        o.batch = batch;
        o.batch_given = true;
    }
    if (task && strcmp(task, "regression") == 0) {
        o.task = NT_EVAL_REGRESSION;
    } else if (task && strcmp(task, "classify") != 0 && strcmp(task, "classification") != 0) {
        PyErr_Format(PyExc_ValueError, "task is 'classify' or 'regression', not '%s'", task);
        return NULL;
    }
    nt_eval_data *d = NULL;
    nt_model *m = NULL;
    nt_session *s = NULL;
    nt_eval_result *r = NULL;
    char *json = NULL;
    nt_status st;
    feeds none = {0};
    Py_BEGIN_ALLOW_THREADS
    st = nt_eval_load(&o, &d);
    if (st == NT_OK)
        st = open_bound(model, threads, &none, &m, &s);
    if (st == NT_OK)
        st = nt_eval_run(m, s, d, &o, &r);
    if (st == NT_OK)
        st = nt_eval_result_json(r, &json, NULL);
    nt_eval_result_free(r);
    nt_eval_data_free(d);
    nt_session_free(s);
    nt_model_free(m);
    Py_END_ALLOW_THREADS
    return json_result(st, json);
}

/* ------------------------------------------------------------------ report */

static PyObject *py_report(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dirs", "train", "val", NULL};
    PyObject *dirs_obj;
    const char *train = NULL, *val = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|zz", kwlist, &dirs_obj, &train, &val))
        return NULL;
    PyObject *seq = PySequence_Fast(dirs_obj, "dirs must be a list of paths");
    if (!seq)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    const char **dirs = PyMem_Calloc(n ? (size_t)n : 1, sizeof *dirs);
    if (!dirs) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (!(dirs[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i)))) {
            PyMem_Free(dirs);
            Py_DECREF(seq);
            return NULL;
        }
    nt_report_options o;
    memset(&o, 0, sizeof o);
    o.dirs = dirs;
    o.n_dirs = (int)n;
    o.train_tag = train;
    o.val_tag = val;
    nt_report_result *r = NULL;
    char *json = NULL;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_report_run(&o, &r);
    if (st == NT_OK)
        st = nt_report_result_json(r, &json, NULL);
    nt_report_result_free(r);
    Py_END_ALLOW_THREADS
    PyMem_Free(dirs);
    Py_DECREF(seq);
    return json_result(st, json);
}

/* ------------------------------------------------------------------ analyze */

/* Reads the scales (a sequence of floats, or None) into o. */
static int get_scales(PyObject *scales, nt_analyze_options *o)
{
    if (scales == Py_None)
        return 0;
    PyObject *seq = PySequence_Fast(scales, "scales must be a list of numbers");
    if (!seq)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n < 1 || n > NT_ANALYZE_MAX_SCALES) {
        Py_DECREF(seq);
        PyErr_Format(PyExc_ValueError, "scales: 1 to %d numbers", NT_ANALYZE_MAX_SCALES);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        o->scales[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, i));
        if (PyErr_Occurred() || !(o->scales[i] > 0)) {
            Py_DECREF(seq);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "scales must be positive");
            return -1;
        }
    }
    o->n_scales = (int)n;
    Py_DECREF(seq);
    return 0;
}

static PyObject *py_analyze(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "feeds", "method", "input", "output", "target", "layout", "out_dir",
                             "window_h", "window_w", "stride_h", "stride_w", "baseline", "scales", "trials",
                             "seed", "ranking", "top", "feature", "lo", "hi", "points", "threads", NULL};
    const char *path, *method, *ranking = NULL;
    PyObject *feeds_obj, *scales = Py_None;
    nt_analyze_options o;
    nt_analyze_options_init(&o);
    long long wh = 0, ww = 0, sh = 0, sw = 0;
    unsigned long long seed = 0;
    int points = 0, threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOs|zzzzzLLLLzOiKzizddii", kwlist, &path, &feeds_obj, &method,
                                     &o.input, &o.output, &o.target, &o.layout, &o.out_dir, &wh, &ww, &sh, &sw,
                                     &o.baseline, &scales, &o.trials, &seed, &ranking, &o.top, &o.feature, &o.lo,
                                     &o.hi, &points, &threads))
        return NULL;
    o.method = strcmp(method, "occlusion") == 0 ? NT_ANALYZE_OCCLUSION
             : strcmp(method, "perturb") == 0   ? NT_ANALYZE_PERTURB
             : strcmp(method, "sweep") == 0     ? NT_ANALYZE_SWEEP
                                                : 0;
    int rk = !ranking || strcmp(ranking, "auto") == 0 ? NT_ANALYZE_RANKING_AUTO
           : strcmp(ranking, "exact") == 0            ? NT_ANALYZE_RANKING_EXACT
           : strcmp(ranking, "noise") == 0            ? NT_ANALYZE_RANKING_NOISE
                                                      : -1;
    if (o.method == 0 || rk < 0) {
        PyErr_Format(PyExc_ValueError, o.method == 0 ? "method is occlusion, perturb or sweep, not '%s'"
                                                     : "ranking is auto, exact or noise, not '%s'",
                     o.method == 0 ? method : ranking);
        return NULL;
    }
    if (get_scales(scales, &o) < 0)
        return NULL;
    o.ranking = (nt_analyze_ranking)rk;
    o.model_path = path;
    o.window_h = wh;
    o.window_w = ww;
    o.stride_h = sh;
    o.stride_w = sw;
    o.seed = seed;
    o.has_range = points > 0;
    o.points = points;
    feeds f;
    if (feeds_get(feeds_obj, &f) < 0)
        return NULL;
    nt_model *m;
    nt_session *s;
    nt_analyze_result *r = NULL;
    char *json = NULL;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = open_bound(path, threads, &f, &m, &s);
    if (st == NT_OK)
        st = nt_analyze_run(m, s, &o, &r);
    if (st == NT_OK)
        st = nt_analyze_result_json(r, &json, NULL);
    nt_analyze_result_free(r);
    nt_session_free(s);
    nt_model_free(m);
    Py_END_ALLOW_THREADS
    feeds_release(&f);
    return json_result(st, json);
}

PyMethodDef nt_py_analysis_methods[] = {
    {"doctor", (PyCFunction)(void (*)(void))py_doctor, METH_VARARGS | METH_KEYWORDS,
     "doctor(path, feeds, data, data_input, explode, fp16, threads) -> the JSON of `doctor --json`"},
    {"diff", (PyCFunction)(void (*)(void))py_diff, METH_VARARGS | METH_KEYWORDS,
     "diff(a, b, feeds, atol, rtol, tmp_dir, threads) -> the JSON of `diff --json`"},
    {"eval", (PyCFunction)(void (*)(void))py_eval, METH_VARARGS | METH_KEYWORDS,
     "eval(model, data_path, labels_path, batch, output, task, threads) -> the JSON of `eval --json`"},
    {"report", (PyCFunction)(void (*)(void))py_report, METH_VARARGS | METH_KEYWORDS,
     "report(dirs, train, val) -> the JSON of `report --json`"},
    {"analyze", (PyCFunction)(void (*)(void))py_analyze, METH_VARARGS | METH_KEYWORDS,
     "analyze(path, feeds, method, ...) -> the JSON of `analyze --json`"},
    {NULL, NULL, 0, NULL},
};
