/*
 * _nntrace.h — what the extension's C files share: raising the library's
 * errors as Python exceptions, viewing a (name, dtype, shape, buffer) tuple
 * as a tensor without a copy, and the module-level analysis functions
 * (_analyses.c).
 */
#ifndef NT_PY_NNTRACE_H
#define NT_PY_NNTRACE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <nntrace.h>

/* Raises nntrace.Error (InputError for bad names, dtypes and shapes,
 * MemoryError) with the library's last message; returns NULL. */
PyObject *nt_py_raise_status(nt_status st);
/* The same, but every failure but NT_ERR_NOMEM is an InputError: what the
 * command line exits 1 or 2 for (a model, input or directory it cannot use),
 * as the analyses raised when they ran the program. */
PyObject *nt_py_raise_bad_input(nt_status st);

/* Views item, a (name, dtype, shape, buffer) tuple, as *t (no copy): the
 * buffer is held in *view (PyBuffer_Release it after the library is done
 * with t).  Returns -1 with an exception set (view not held). */
int nt_py_tensor_view(PyObject *item, Py_buffer *view, const char **name, nt_tensor *t);

/* doctor, diff, eval, report, analyze (_analyses.c). */
extern PyMethodDef nt_py_analysis_methods[];

#endif /* NT_PY_NNTRACE_H */
