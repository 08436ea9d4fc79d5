/*
 * _nntrace.c — the CPython extension over libnntrace's public header (and
 * nothing else: the package sits on top of include/nntrace.h like any other
 * program).  It knows nothing of numpy: tensors cross as
 * (name, dtype name, shape, buffer) tuples and the pure-Python layer
 * (__init__.py) turns them into arrays.  That keeps the build free of
 * numpy's headers and the conversions in one readable place.
 *
 *   Session(path, threads)      .inputs / .outputs -> [(name, dtype, shape)]
 *   Session.run(feeds, tracer)  feeds: [(name, buffer)], C-contiguous, dtype
 *                               and shape already checked by the caller;
 *                               returns [(name, dtype, shape, bytearray)]
 *   Writer(log_dir)             TensorBoard event files (nt_writer_*)
 *   doctor, diff, eval, report, analyze   the analyses (_analyses.c)
 *
 * The GIL is released while the session runs; a tracer callback takes it
 * back for the Python call.  Input buffers are bound without a copy
 * (nt_session_bind_input) and held until the run returns.
 */
#include "_nntrace.h"

#include <stdbool.h>
#include <string.h>

static PyObject *Error;       /* nntrace.Error */
static PyObject *InputError;  /* nntrace.InputError(Error, ValueError) */

/* Raises the exception for a failed library call, with its message. */
PyObject *nt_py_raise_status(nt_status st)
{
    PyObject *cls = Error;
    if (st == NT_ERR_INVALID_ARG || st == NT_ERR_SHAPE || st == NT_ERR_NOT_FOUND)
        cls = InputError;
    else if (st == NT_ERR_NOMEM)
        cls = PyExc_MemoryError;
    const char *msg = nt_last_error();
    PyErr_SetString(cls, msg && *msg ? msg : nt_status_name(st));
    return NULL;
}

PyObject *nt_py_raise_bad_input(nt_status st)
{
    if (st == NT_ERR_NOMEM)
        return nt_py_raise_status(st);
    const char *msg = nt_last_error();
    PyErr_SetString(InputError, msg && *msg ? msg : nt_status_name(st));
    return NULL;
}

/* A list of dims: an int, a symbolic name, or None when unknown. */
static PyObject *shape_of_info(const nt_value_info *vi)
{
    if (vi->ndim < 0)
        Py_RETURN_NONE;
    PyObject *l = PyList_New(vi->ndim);
    if (!l)
        return NULL;
    for (int d = 0; d < vi->ndim; d++) {
        PyObject *o;
        if (vi->dims[d] >= 0)
            o = PyLong_FromLongLong(vi->dims[d]);
        else if (vi->dim_names && vi->dim_names[d])
            o = PyUnicode_FromString(vi->dim_names[d]);
        else
            o = Py_NewRef(Py_None);
        if (!o) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, d, o);
    }
    return l;
}

static PyObject *tuple_of_dims(const nt_tensor *t)
{
    PyObject *s = PyTuple_New(t->ndim);
    if (!s)
        return NULL;
    for (int d = 0; d < t->ndim; d++) {
        PyObject *o = PyLong_FromLongLong(t->dims[d]);
        if (!o) {
            Py_DECREF(s);
            return NULL;
        }
        PyTuple_SET_ITEM(s, d, o);
    }
    return s;
}

/* (dtype name, shape tuple, bytearray copy) of a tensor. */
static PyObject *tensor_tuple(const char *name, const nt_tensor *t)
{
    size_t nbytes = nt_tensor_nbytes(t);
    if (nt_dtype_size(t->dtype) == 0) {
        PyErr_Format(Error, "value '%s': dtype %s has no Python form yet", name, nt_dtype_name(t->dtype));
        return NULL;
    }
    PyObject *shape = tuple_of_dims(t);
    PyObject *data = PyByteArray_FromStringAndSize(t->data, (Py_ssize_t)nbytes);
    if (!shape || !data) {
        Py_XDECREF(shape);
        Py_XDECREF(data);
        return NULL;
    }
    return Py_BuildValue("(ssNN)", name, nt_dtype_name(t->dtype), shape, data);
}

/* ------------------------------------------------------------------ Session */

typedef struct {
    PyObject_HEAD
    nt_model *model;
    nt_session *session;
    bool busy;              /* a run is under way (on another Python thread) */
    /* during a run with a tracer: */
    PyObject *tracer;
    /* the exception the tracer raised, kept for after the run */
    PyObject *err_type, *err_value, *err_tb;
} SessionObject;

static void Session_dealloc(SessionObject *self)
{
    nt_session_free(self->session);
    nt_model_free(self->model);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Session_init(SessionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"path", "threads", NULL};
    PyObject *path_obj;
    int threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&|i", kwlist, PyUnicode_FSConverter, &path_obj, &threads))
        return -1;
    if (self->session) {
        Py_DECREF(path_obj);
        PyErr_SetString(PyExc_RuntimeError, "Session is already initialised");
        return -1;
    }
    if (threads < 1) {
        Py_DECREF(path_obj);
        PyErr_Format(PyExc_ValueError, "threads must be at least 1, not %d", threads);
        return -1;
    }
    const char *path = PyBytes_AS_STRING(path_obj);
    nt_session_options opt;
    memset(&opt, 0, sizeof opt);
    opt.threads = threads;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_model_load(path, &self->model);
    if (st == NT_OK)
        st = nt_session_new(self->model, &opt, &self->session);
    Py_END_ALLOW_THREADS
    Py_DECREF(path_obj);
    if (st != NT_OK) {
        nt_py_raise_status(st);
        return -1;
    }
    return 0;
}

static PyObject *infos(SessionObject *self, bool outputs)
{
    if (!self->model) {
        PyErr_SetString(PyExc_RuntimeError, "Session is not initialised");
        return NULL;
    }
    int n = outputs ? nt_model_output_count(self->model) : nt_model_input_count(self->model);
    PyObject *l = PyList_New(n);
    if (!l)
        return NULL;
    for (int i = 0; i < n; i++) {
        nt_value_info vi;
        nt_status st = outputs ? nt_model_output_info(self->model, i, &vi) : nt_model_input_info(self->model, i, &vi);
        if (st != NT_OK) {
            Py_DECREF(l);
            return nt_py_raise_status(st);
        }
        PyObject *shape = shape_of_info(&vi);
        PyObject *t = shape ? Py_BuildValue("(ssN)", vi.name, nt_dtype_name(vi.dtype), shape) : NULL;
        if (!t) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, t);
    }
    return l;
}

static PyObject *Session_inputs(SessionObject *self, void *closure) { return infos(self, false); }
static PyObject *Session_outputs(SessionObject *self, void *closure) { return infos(self, true); }

/* node_end: hands the node and copies of its outputs to the Python tracer.
 * Runs on the session's thread without the GIL, so it takes it. */
static nt_action on_node_end(void *user, nt_session *s, const nt_node_view *node)
{
    SessionObject *self = user;
    if (!self->tracer)
        return NT_ACTION_CONTINUE;   /* no tracer (defensive: attached only for traced runs) */
    PyGILState_STATE g = PyGILState_Ensure();
    nt_action act = NT_ACTION_CONTINUE;
    PyObject *ins = PyList_New(node->n_inputs), *outs = PyList_New(node->n_outputs), *values = PyList_New(0);
    PyObject *res = NULL;
    if (!ins || !outs || !values)
        goto fail;
    for (int i = 0; i < node->n_inputs; i++) {
        PyObject *o = PyUnicode_FromString(node->input_names[i] ? node->input_names[i] : "");
        if (!o)
            goto fail;
        PyList_SET_ITEM(ins, i, o);
    }
    for (int i = 0; i < node->n_outputs; i++) {
        const char *name = node->output_names[i] ? node->output_names[i] : "";
        PyObject *o = PyUnicode_FromString(name);
        if (!o)
            goto fail;
        PyList_SET_ITEM(outs, i, o);
        const nt_tensor *t = node->outputs ? node->outputs[i] : NULL;
        if (!t || !*name || (!t->data && nt_tensor_nbytes(t) > 0) || nt_dtype_size(t->dtype) == 0)
            continue;  /* omitted optional output, or a dtype without a flat buffer */
        PyObject *v = tensor_tuple(name, t);
        if (!v || PyList_Append(values, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    res = PyObject_CallFunction(self->tracer, "(sssiiOOO)", node->name ? node->name : "", node->op_type,
                                node->domain ? node->domain : "", node->index, node->depth, ins, outs, values);
    if (!res)
        goto fail;
    goto done;
fail:
    /* Keep the first exception; the run stops and nt_session_run's caller
     * raises it instead of the library's "stopped by a tracer". */
    if (!self->err_type)
        PyErr_Fetch(&self->err_type, &self->err_value, &self->err_tb);
    else
        PyErr_Clear();
    act = NT_ACTION_STOP;
done:
    Py_XDECREF(res);
    Py_XDECREF(ins);
    Py_XDECREF(outs);
    Py_XDECREF(values);
    PyGILState_Release(g);
    return act;
}

/* The buffers bound for one run, released when it returns. */
typedef struct {
    Py_buffer *views;
    int n;
} feed_views;

static void release_views(feed_views *fv)
{
    for (int i = 0; i < fv->n; i++)
        PyBuffer_Release(&fv->views[i]);
    PyMem_Free(fv->views);
    fv->views = NULL;
    fv->n = 0;
}

int nt_py_tensor_view(PyObject *item, Py_buffer *view, const char **name, nt_tensor *t)
{
    const char *dtype;
    PyObject *shape, *buf;
    memset(t, 0, sizeof *t);
    if (!PyArg_ParseTuple(item, "ssOO", name, &dtype, &shape, &buf))
        return -1;
    if (PyObject_GetBuffer(buf, view, PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    t->dtype = nt_dtype_from_name(dtype);
    Py_ssize_t nd = PySequence_Size(shape);
    int ok = 1;
    if (t->dtype == NT_DTYPE_UNDEFINED || nd < 0 || nd > NT_MAX_DIMS) {
        PyErr_Clear();
        PyErr_Format(InputError, "input '%s': dtype %s or rank not supported", *name, dtype);
        ok = 0;
    }
    for (Py_ssize_t d = 0; ok && d < nd; d++) {
        PyObject *o = PySequence_GetItem(shape, d);
        t->dims[d] = o ? PyLong_AsLongLong(o) : -1;
        Py_XDECREF(o);
        ok = !PyErr_Occurred();
    }
    t->ndim = ok ? (int)nd : 0;
    t->data = view->buf;
    t->capacity = (size_t)view->len;
    if (ok && nt_tensor_nbytes(t) > t->capacity) {
        PyErr_Format(InputError, "input '%s': the buffer holds %zu bytes, the shape needs %zu", *name, t->capacity,
                     nt_tensor_nbytes(t));
        ok = 0;
    }
    if (!ok)
        PyBuffer_Release(view);
    return ok ? 0 : -1;
}

/* Binds every (name, dtype, shape, buffer) feed without a copy.  Every graph
 * input must be among them, so that no binding of an earlier run (whose
 * buffer may be gone) is ever used. */
static int bind_feeds(SessionObject *self, PyObject *feeds, feed_views *fv)
{
    Py_ssize_t n = PySequence_Size(feeds);
    if (n < 0)
        return -1;
    int n_inputs = nt_model_input_count(self->model);
    for (int i = 0; i < n_inputs; i++) {
        nt_value_info vi;
        if (nt_model_input_info(self->model, i, &vi) != NT_OK) {
            nt_py_raise_status(NT_ERR_INTERNAL);
            return -1;
        }
        bool found = false;
        for (Py_ssize_t k = 0; k < n && !found; k++) {
            PyObject *item = PySequence_GetItem(feeds, k);
            if (!item)
                return -1;
            PyObject *name = PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 4 ? PyTuple_GET_ITEM(item, 0) : NULL;
            const char *s = name ? PyUnicode_AsUTF8(name) : NULL;
            found = s && strcmp(s, vi.name) == 0;
            Py_DECREF(item);
            if (!s) {
                PyErr_Clear();
                PyErr_SetString(PyExc_TypeError, "feeds must be (name, dtype, shape, buffer) tuples");
                return -1;
            }
        }
        if (!found) {
            PyErr_Format(InputError, "%s: input '%s' not given", nt_model_path(self->model), vi.name);
            return -1;
        }
    }
    fv->views = PyMem_Calloc(n ? (size_t)n : 1, sizeof *fv->views);
    if (!fv->views) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PySequence_GetItem(feeds, k);
        if (!item)
            return -1;
        const char *name;
        nt_tensor t;
        int ok = nt_py_tensor_view(item, &fv->views[fv->n], &name, &t) == 0;
        Py_DECREF(item);
        if (!ok)
            return -1;
        fv->n++;
        nt_status st = nt_session_bind_input(self->session, name, &t);
        if (st != NT_OK) {
            nt_py_raise_status(st);
            return -1;
        }
    }
    return 0;
}

static PyObject *Session_run(SessionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"feeds", "tracer", NULL};
    PyObject *feeds, *tracer = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O", kwlist, &feeds, &tracer))
        return NULL;
    if (!self->session) {
        PyErr_SetString(PyExc_RuntimeError, "Session is not initialised");
        return NULL;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "this Session is running on another thread; use one Session per thread");
        return NULL;
    }
    if (tracer != Py_None && !PyCallable_Check(tracer)) {
        PyErr_SetString(PyExc_TypeError, "tracer must be callable");
        return NULL;
    }
    feed_views fv = {NULL, 0};
    if (bind_feeds(self, feeds, &fv) < 0) {
        release_views(&fv);
        return NULL;
    }
    /* The C tracer is attached for this run only, so a session that traced
     * once runs untraced at full speed afterwards. */
    nt_tracer t;
    memset(&t, 0, sizeof t);
    t.user = self;
    t.node_end = on_node_end;
    if (tracer != Py_None) {
        nt_status ast = nt_session_add_tracer(self->session, &t);
        if (ast != NT_OK) {
            release_views(&fv);
            return nt_py_raise_status(ast);
        }
    }
    self->busy = true;
    self->tracer = tracer == Py_None ? NULL : tracer;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_session_run(self->session);
    Py_END_ALLOW_THREADS
    self->busy = false;
    if (tracer != Py_None)
        nt_session_remove_tracer(self->session, &t);   /* cannot fail: attached, run over */
    self->tracer = NULL;
    release_views(&fv);
    if (self->err_type) {
        PyErr_Restore(self->err_type, self->err_value, self->err_tb);
        self->err_type = self->err_value = self->err_tb = NULL;
        return NULL;
    }
    if (st != NT_OK)
        return nt_py_raise_status(st);
    int n = nt_model_output_count(self->model);
    PyObject *l = PyList_New(n);
    if (!l)
        return NULL;
    for (int i = 0; i < n; i++) {
        const nt_tensor *t;
        nt_value_info vi;
        if ((st = nt_session_get_output(self->session, i, &t)) != NT_OK ||
            (st = nt_model_output_info(self->model, i, &vi)) != NT_OK) {
            Py_DECREF(l);
            return nt_py_raise_status(st);
        }
        PyObject *v = tensor_tuple(vi.name, t);
        if (!v) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, v);
    }
    return l;
}

static PyObject *Session_path(SessionObject *self, void *closure)
{
    if (!self->model)
        Py_RETURN_NONE;
    return PyUnicode_DecodeFSDefault(nt_model_path(self->model));
}

static PyGetSetDef Session_getset[] = {
    {"inputs", (getter)Session_inputs, NULL, "[(name, dtype, shape)] of the graph inputs", NULL},
    {"outputs", (getter)Session_outputs, NULL, "[(name, dtype, shape)] of the graph outputs", NULL},
    {"path", (getter)Session_path, NULL, "the model file", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Session_methods[] = {
    {"run", (PyCFunction)(void (*)(void))Session_run, METH_VARARGS | METH_KEYWORDS,
     "run(feeds, tracer=None) -> [(name, dtype, shape, bytearray)]"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SessionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nntrace._nntrace.Session",
    .tp_basicsize = sizeof(SessionObject),
    .tp_dealloc = (destructor)Session_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A loaded and planned model (the low-level form; use nntrace.Session).",
    .tp_methods = Session_methods,
    .tp_getset = Session_getset,
    .tp_init = (initproc)Session_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------ Writer */

typedef struct {
    PyObject_HEAD
    nt_writer *w;
} WriterObject;

static void Writer_dealloc(WriterObject *self)
{
    if (self->w) {
        Py_BEGIN_ALLOW_THREADS
        nt_writer_close(self->w);
        Py_END_ALLOW_THREADS
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Writer_init(WriterObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"log_dir", NULL};
    PyObject *dir;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O&", kwlist, PyUnicode_FSConverter, &dir))
        return -1;
    if (self->w) {
        Py_DECREF(dir);
        PyErr_SetString(PyExc_RuntimeError, "Writer is already open");
        return -1;
    }
    nt_status st = nt_writer_open(PyBytes_AS_STRING(dir), &self->w);
    Py_DECREF(dir);
    if (st != NT_OK) {
        nt_py_raise_status(st);
        return -1;
    }
    return 0;
}

static bool writer_open(WriterObject *self)
{
    if (self->w)
        return true;
    PyErr_SetString(PyExc_ValueError, "the writer is closed");
    return false;
}

static PyObject *status_result(nt_status st)
{
    if (st != NT_OK)
        return nt_py_raise_status(st);
    Py_RETURN_NONE;
}

/* Every record call takes (tag, step, walltime) first; walltime 0 = now. */
static PyObject *Writer_scalar(WriterObject *self, PyObject *args)
{
    const char *tag;
    long long step;
    double wall, value;
    if (!PyArg_ParseTuple(args, "sLdd", &tag, &step, &wall, &value) || !writer_open(self))
        return NULL;
    nt_writer_set_walltime(self->w, wall);
    return status_result(nt_writer_scalar(self->w, tag, step, value));
}

static PyObject *Writer_histogram(WriterObject *self, PyObject *args)
{
    const char *tag;
    long long step;
    double wall;
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "sLdy*", &tag, &step, &wall, &b))
        return NULL;
    if (!writer_open(self)) {
        PyBuffer_Release(&b);
        return NULL;
    }
    nt_writer_set_walltime(self->w, wall);
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_writer_histogram(self->w, tag, step, b.buf, (size_t)b.len / sizeof(float));
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return status_result(st);
}

static PyObject *Writer_image(WriterObject *self, PyObject *args)
{
    const char *tag;
    long long step;
    double wall;
    Py_buffer b;
    int h, w, c;
    if (!PyArg_ParseTuple(args, "sLdy*iii", &tag, &step, &wall, &b, &h, &w, &c))
        return NULL;
    if (!writer_open(self) || b.len != (Py_ssize_t)h * w * c) {
        if (self->w)
            PyErr_Format(PyExc_ValueError, "image: %zd bytes for %dx%dx%d", b.len, h, w, c);
        PyBuffer_Release(&b);
        return NULL;
    }
    nt_writer_set_walltime(self->w, wall);
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_writer_image(self->w, tag, step, b.buf, h, w, c);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    return status_result(st);
}

static PyObject *Writer_text(WriterObject *self, PyObject *args)
{
    const char *tag, *text;
    long long step;
    double wall;
    if (!PyArg_ParseTuple(args, "sLds", &tag, &step, &wall, &text) || !writer_open(self))
        return NULL;
    nt_writer_set_walltime(self->w, wall);
    return status_result(nt_writer_text(self->w, tag, step, text));
}

static PyObject *Writer_graph(WriterObject *self, PyObject *args)
{
    PyObject *path;
    if (!PyArg_ParseTuple(args, "O&", PyUnicode_FSConverter, &path))
        return NULL;
    if (!writer_open(self)) {
        Py_DECREF(path);
        return NULL;
    }
    nt_model *m = NULL;
    nt_status st = nt_model_load(PyBytes_AS_STRING(path), &m);
    Py_DECREF(path);
    nt_writer_set_walltime(self->w, 0);
    if (st == NT_OK)
        st = nt_writer_graph(self->w, m);
    nt_model_free(m);
    return status_result(st);
}

static PyObject *Writer_flush(WriterObject *self, PyObject *unused)
{
    if (!writer_open(self))
        return NULL;
    nt_status st;
    Py_BEGIN_ALLOW_THREADS
    st = nt_writer_flush(self->w);
    Py_END_ALLOW_THREADS
    return status_result(st);
}

static PyObject *Writer_close(WriterObject *self, PyObject *unused)
{
    if (!self->w)
        Py_RETURN_NONE;
    nt_status st;
    nt_writer *w = self->w;
    self->w = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = nt_writer_close(w);
    Py_END_ALLOW_THREADS
    return status_result(st);
}

static PyMethodDef Writer_methods[] = {
    {"scalar", (PyCFunction)Writer_scalar, METH_VARARGS, "scalar(tag, step, walltime, value)"},
    {"histogram", (PyCFunction)Writer_histogram, METH_VARARGS, "histogram(tag, step, walltime, float32 bytes)"},
    {"image", (PyCFunction)Writer_image, METH_VARARGS, "image(tag, step, walltime, uint8 HWC bytes, h, w, c)"},
    {"text", (PyCFunction)Writer_text, METH_VARARGS, "text(tag, step, walltime, text)"},
    {"graph", (PyCFunction)Writer_graph, METH_VARARGS, "graph(onnx_path)"},
    {"flush", (PyCFunction)Writer_flush, METH_NOARGS, "flush()"},
    {"close", (PyCFunction)Writer_close, METH_NOARGS, "close()"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "nntrace._nntrace.Writer",
    .tp_basicsize = sizeof(WriterObject),
    .tp_dealloc = (destructor)Writer_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A TensorBoard event-file writer (the low-level form; use nntrace.SummaryWriter).",
    .tp_methods = Writer_methods,
    .tp_init = (initproc)Writer_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------ module */

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_nntrace", "libnntrace, linked in statically.", -1, nt_py_analysis_methods, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC PyInit__nntrace(void)
{
    if (PyType_Ready(&SessionType) < 0 || PyType_Ready(&WriterType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    Error = PyErr_NewExceptionWithDoc("nntrace.Error", "A failure reported by libnntrace (its message names the "
                                      "file and the field or node at fault).", NULL, NULL);
    PyObject *bases = Error ? PyTuple_Pack(2, Error, PyExc_ValueError) : NULL;
    InputError = bases ? PyErr_NewExceptionWithDoc("nntrace.InputError", "Bad input: a wrong name, dtype or shape "
                                                   "(also a ValueError).", bases, NULL) : NULL;
    Py_XDECREF(bases);
    if (!InputError || PyModule_AddObjectRef(m, "Error", Error) < 0 ||
        PyModule_AddObjectRef(m, "InputError", InputError) < 0 ||
        PyModule_AddObjectRef(m, "Session", (PyObject *)&SessionType) < 0 ||
        PyModule_AddObjectRef(m, "Writer", (PyObject *)&WriterType) < 0 ||
        PyModule_AddStringConstant(m, "version", NT_VERSION_STRING) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
