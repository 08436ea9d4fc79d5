/*
 * dtype.c — element sizes and names of the ONNX dtypes.  One table, indexed
 * by the ONNX enum value, feeds every lookup.
 */
#include "core.h"

#include <string.h>
#include <strings.h>

static const struct {
    const char *name;      /* numpy-style */
    const char *onnx;      /* TensorProto.DataType name */
    unsigned size;
} dtype_table[NT_DTYPE_COUNT] = {
    [NT_DTYPE_UNDEFINED] = {"undefined", "UNDEFINED", 0},
    [NT_DTYPE_FLOAT] = {"float32", "FLOAT", 4},
    [NT_DTYPE_UINT8] = {"uint8", "UINT8", 1},
    [NT_DTYPE_INT8] = {"int8", "INT8", 1},
    [NT_DTYPE_UINT16] = {"uint16", "UINT16", 2},
    [NT_DTYPE_INT16] = {"int16", "INT16", 2},
    [NT_DTYPE_INT32] = {"int32", "INT32", 4},
    [NT_DTYPE_INT64] = {"int64", "INT64", 8},
    [NT_DTYPE_STRING] = {"string", "STRING", 0},
    [NT_DTYPE_BOOL] = {"bool", "BOOL", 1},
    [NT_DTYPE_FLOAT16] = {"float16", "FLOAT16", 2},
    [NT_DTYPE_DOUBLE] = {"float64", "DOUBLE", 8},
    [NT_DTYPE_UINT32] = {"uint32", "UINT32", 4},
    [NT_DTYPE_UINT64] = {"uint64", "UINT64", 8},
    [NT_DTYPE_COMPLEX64] = {"complex64", "COMPLEX64", 8},
    [NT_DTYPE_COMPLEX128] = {"complex128", "COMPLEX128", 16},
    [NT_DTYPE_BFLOAT16] = {"bfloat16", "BFLOAT16", 2},
    [NT_DTYPE_FLOAT8E4M3FN] = {"float8e4m3fn", "FLOAT8E4M3FN", 1},
    [NT_DTYPE_FLOAT8E4M3FNUZ] = {"float8e4m3fnuz", "FLOAT8E4M3FNUZ", 1},
    [NT_DTYPE_FLOAT8E5M2] = {"float8e5m2", "FLOAT8E5M2", 1},
    [NT_DTYPE_FLOAT8E5M2FNUZ] = {"float8e5m2fnuz", "FLOAT8E5M2FNUZ", 1},
    [NT_DTYPE_UINT4] = {"uint4", "UINT4", 1},
    [NT_DTYPE_INT4] = {"int4", "INT4", 1},
    [NT_DTYPE_FLOAT4E2M1] = {"float4e2m1", "FLOAT4E2M1", 1},
    [NT_DTYPE_FLOAT8E8M0] = {"float8e8m0", "FLOAT8E8M0", 1},
    [NT_DTYPE_UINT2] = {"uint2", "UINT2", 1},
    [NT_DTYPE_INT2] = {"int2", "INT2", 1},
};

/* The table's sizes are in-memory sizes: sub-byte types take one byte per
 * element there (see nt_dtype_size in nntrace.h); nt_dtype_bits gives the
 * width they are packed to in files. */
static bool dtype_valid(nt_dtype t) { return (int)t >= 0 && t < NT_DTYPE_COUNT; }

size_t nt_dtype_size(nt_dtype t) { return dtype_valid(t) ? dtype_table[t].size : 0; }

const char *nt_dtype_name(nt_dtype t) { return dtype_valid(t) ? dtype_table[t].name : "undefined"; }

const char *nt_dtype_onnx_name(nt_dtype t) { return dtype_valid(t) ? dtype_table[t].onnx : "UNDEFINED"; }

nt_dtype nt_dtype_from_name(const char *name)
{
    for (int i = 1; i < NT_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_table[i].name) == 0 || strcasecmp(name, dtype_table[i].onnx) == 0)
            return (nt_dtype)i;
    if (strcmp(name, "float") == 0)
        return NT_DTYPE_FLOAT;
    if (strcmp(name, "double") == 0)
        return NT_DTYPE_DOUBLE;
    return NT_DTYPE_UNDEFINED;
}

bool nt_dtype_is_float(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16;
}

bool nt_dtype_is_int(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_UINT8: case NT_DTYPE_INT8: case NT_DTYPE_UINT16: case NT_DTYPE_INT16:
    case NT_DTYPE_INT32: case NT_DTYPE_INT64: case NT_DTYPE_UINT32: case NT_DTYPE_UINT64:
        return true;
    default:
        return false;
    }
}

bool nt_dtype_is_numeric(nt_dtype t) { return nt_dtype_is_float(t) || nt_dtype_is_int(t) || t == NT_DTYPE_BOOL; }

unsigned nt_dtype_bits(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_UINT4: case NT_DTYPE_INT4: case NT_DTYPE_FLOAT4E2M1:
        return 4;
    case NT_DTYPE_UINT2: case NT_DTYPE_INT2:
        return 2;
    default:
        return 8 * (unsigned)nt_dtype_size(t);
    }
}

bool nt_dtype_is_narrow(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT8E4M3FN: case NT_DTYPE_FLOAT8E4M3FNUZ: case NT_DTYPE_FLOAT8E5M2:
    case NT_DTYPE_FLOAT8E5M2FNUZ: case NT_DTYPE_FLOAT8E8M0: case NT_DTYPE_FLOAT4E2M1:
    case NT_DTYPE_UINT4: case NT_DTYPE_INT4: case NT_DTYPE_UINT2: case NT_DTYPE_INT2:
        return true;
    default:
        return false;
    }
}
