/*
 * npy.h — writing .npy files byte-identical to numpy's np.save (the reader
 * is declared in nntrace.h), and the byte swapping both .npy and .pb use.
 */
#ifndef NT_CORE_NPY_H
#define NT_CORE_NPY_H

#include "core/core.h"

/* Appends t as a .npy file (format 1.0, or 2.0 for a header past 64 KiB),
 * byte-identical to numpy's np.save of the same array.  `what` names the
 * file in messages.  STRING tensors become '<U{longest}' (text that is not
 * UTF-8 is NT_ERR_UNSUPPORTED); bfloat16 and undefined dtypes are
 * NT_ERR_UNSUPPORTED: numpy has no such dtype (float8/4-bit are widened). */
nt_status nt_npy_encode(nt_buf *b, const nt_tensor *t, const char *what);

/* Reverses the byte order of `count` units of `width` bytes each, in place. */
void nt_swap_bytes(void *data, size_t count, size_t width);

#endif
