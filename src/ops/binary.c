/*
 * binary.c — operator family "binary": element-wise operators of two or
 * more inputs with numpy multidirectional broadcasting: Add Sub Mul Div Pow
 * Mod, the comparisons, And Or Xor, BitShift, BitwiseAnd/Or/Xor, PRelu, the
 * variadic Sum Mean Min Max, and Where.
 *
 * Each op is one expression per dtype kind (float-like, signed, unsigned,
 * bool) of x (first operand), y (second) and the parameters p; macros build
 * the (op, dtype) inner loops (elementwise_common.h) and bin_table, which
 * infer consults to accept or decline a dtype.  An inner loop has four
 * cases by the steps of its operands: both contiguous (the same-shape case,
 * vectorized in blocks), one of them a repeated scalar, or both.
 *
 * Integer semantics, where C would be undefined: +, -, * and negation wrap
 * modulo 2^bits (as numpy); division and Mod by zero give 0, INT_MIN / -1
 * wraps to INT_MIN; Pow with a negative integer exponent gives 0 unless the
 * base is 1 or -1; BitShift by the width or more gives 0.  Integer Div
 * truncates toward zero; integer Mod follows Python (sign of the divisor)
 * when fmod=0 and C (sign of the dividend) when fmod=1; float Mod with
 * fmod=0 follows numpy.mod.
 *
 * Shapes: y = broadcast(inputs); comparisons and And/Or/Xor give bool,
 * the others the first input's dtype (Pow: the base's, whatever the
 * exponent's dtype).
 */
#include "ops/elementwise_common.h"

#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#define BIN_OPS(X)                                                                                  \
    X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Mod) X(Min) X(Max) X(PRelu) X(Equal) X(Less) X(Greater)    \
    X(LessOrEqual) X(GreaterOrEqual) X(And) X(Or) X(Xor) X(BitShift) X(BitwiseAnd) X(BitwiseOr)    \
    X(BitwiseXor)

enum {
#define BIN_ENUM(name) BOP_##name,
    BIN_OPS(BIN_ENUM)
#undef BIN_ENUM
    BOP_COUNT
};

static bool bin_gives_bool(int op) { return op >= BOP_Equal && op <= BOP_Xor; }

/* ---- integer helpers (computed on 64 bits, converted back by the caller) */
static inline int64_t ew_sdiv(int64_t x, int64_t y)
{
    return y == 0 ? 0 : y == -1 ? (int64_t)(0 - (uint64_t)x) : x / y;
}
static inline uint64_t ew_udiv(uint64_t x, uint64_t y) { return y ? x / y : 0; }
static inline int64_t ew_smod(int64_t x, int64_t y, int fmod_sign)
{
    if (y == 0 || y == -1)
        return 0;
    int64_t r = x % y;
    if (!fmod_sign && r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}
static inline uint64_t ew_umod(uint64_t x, uint64_t y) { return y ? x % y : 0; }
static inline uint64_t ew_upow(uint64_t x, uint64_t y)
{
    uint64_t r = 1;
    while (y) {
        if (y & 1)
            r *= x;
        x *= x;
        y >>= 1;
    }
    return r;
}
static inline int64_t ew_spow(int64_t x, int64_t y)
{
    if (y < 0)
        return x == 1 ? 1 : x == -1 ? ((y & 1) ? -1 : 1) : 0;
    return (int64_t)ew_upow((uint64_t)x, (uint64_t)y);
}
static inline uint64_t ew_shift(uint64_t x, uint64_t y, int left, int bits)
{
    if (y >= (uint64_t)bits)
        return 0;
    return left ? x << y : x >> y;
}
/* numpy.mod on floats: the remainder takes the divisor's sign */
static inline float ew_pymodf(float x, float y)
{
    float r = fmodf(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}
static inline double ew_pymodd(double x, double y)
{
    double r = fmod(x, y);
    return r != 0 && ((r < 0) != (y < 0)) ? r + y : r;
}
#define EW_PYMOD(x, y) _Generic((x), float: ew_pymodf, default: ew_pymodd)(x, y)

/* ---- float-like.  Min/Max propagate NaN from either side (numpy). */
#define BF_Add(CT, x, y, p) ((x) + (y))
#define BF_Sub(CT, x, y, p) ((x) - (y))
#define BF_Mul(CT, x, y, p) ((x) * (y))
#define BF_Div(CT, x, y, p) ((x) / (y))
#define BF_Pow(CT, x, y, p) pow(x, y)
#define BF_Mod(CT, x, y, p) ((p)->flag ? fmod(x, y) : EW_PYMOD(x, y))
#define BF_Min(CT, x, y, p) (((x) != (x) || (x) < (y)) ? (x) : (y))
#define BF_Max(CT, x, y, p) (((x) != (x) || (x) > (y)) ? (x) : (y))
#define BF_PRelu(CT, x, y, p) ((x) < 0 ? (y) * (x) : (x))
#define BF_Equal(CT, x, y, p) ((x) == (y))
#define BF_Less(CT, x, y, p) ((x) < (y))
#define BF_Greater(CT, x, y, p) ((x) > (y))
#define BF_LessOrEqual(CT, x, y, p) ((x) <= (y))
#define BF_GreaterOrEqual(CT, x, y, p) ((x) >= (y))

/* ---- signed integers (wrapping arithmetic through uint64_t) */
#define BS_Add(CT, x, y, p) ((CT)((uint64_t)(x) + (uint64_t)(y)))
#define BS_Sub(CT, x, y, p) ((CT)((uint64_t)(x) - (uint64_t)(y)))
#define BS_Mul(CT, x, y, p) ((CT)((uint64_t)(x) * (uint64_t)(y)))
#define BS_Div(CT, x, y, p) ((CT)ew_sdiv(x, y))
#define BS_Pow(CT, x, y, p) ((CT)ew_spow(x, y))
#define BS_Mod(CT, x, y, p) ((CT)ew_smod(x, y, (p)->flag))
#define BS_Min(CT, x, y, p) ((x) < (y) ? (x) : (y))
#define BS_Max(CT, x, y, p) ((x) > (y) ? (x) : (y))
#define BS_PRelu(CT, x, y, p) ((x) < 0 ? (CT)((uint64_t)(y) * (uint64_t)(x)) : (x))
#define BS_Equal BF_Equal
#define BS_Less BF_Less
#define BS_Greater BF_Greater
#define BS_LessOrEqual BF_LessOrEqual
#define BS_GreaterOrEqual BF_GreaterOrEqual
#define BS_BitwiseAnd(CT, x, y, p) ((CT)((x) & (y)))
#define BS_BitwiseOr(CT, x, y, p) ((CT)((x) | (y)))
#define BS_BitwiseXor(CT, x, y, p) ((CT)((x) ^ (y)))

/* ---- unsigned integers */
#define BU_Add BS_Add
#define BU_Sub BS_Sub
#define BU_Mul BS_Mul
#define BU_Div(CT, x, y, p) ((CT)ew_udiv(x, y))
#define BU_Pow(CT, x, y, p) ((CT)ew_upow(x, y))
#define BU_Mod(CT, x, y, p) ((CT)ew_umod(x, y))
#define BU_Min BS_Min
#define BU_Max BS_Max
#define BU_PRelu(CT, x, y, p) (x)
#define BU_Equal BF_Equal
#define BU_Less BF_Less
#define BU_Greater BF_Greater
#define BU_LessOrEqual BF_LessOrEqual
#define BU_GreaterOrEqual BF_GreaterOrEqual
#define BU_BitShift(CT, x, y, p) ((CT)ew_shift(x, y, (p)->flag, (int)sizeof(CT) * 8))
#define BU_BitwiseAnd BS_BitwiseAnd
#define BU_BitwiseOr BS_BitwiseOr
#define BU_BitwiseXor BS_BitwiseXor

/* ---- bool */
#define BB_Equal(CT, x, y, p) ((x) == (y))
#define BB_And(CT, x, y, p) ((x) && (y))
#define BB_Or(CT, x, y, p) ((x) || (y))
#define BB_Xor(CT, x, y, p) (!(x) != !(y))

/* Which ops exist for which kind; _B lists give bool outputs. */
#define BIN_FLOAT_OPS(X) X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Mod) X(Min) X(Max) X(PRelu)
#define BIN_FLOAT_OPS_B(X) X(Equal) X(Less) X(Greater) X(LessOrEqual) X(GreaterOrEqual)
#define BIN_SINT_OPS(X) \
    X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Mod) X(Min) X(Max) X(PRelu) X(BitwiseAnd) X(BitwiseOr) X(BitwiseXor)
#define BIN_UINT_OPS(X) BIN_SINT_OPS(X) X(BitShift)
#define BIN_BOOL_OPS(X) X(Equal) X(And) X(Or) X(Xor)

/* A loop over n elements; XE and YE are the operand expressions of index k. */
#define BIN_LOOP(KIND, NAME, CT, OT, SV, XE, YE)                            \
    do {                                                                    \
        int64_t i = 0;                                                      \
        for (; i + NT_EW_BLOCK <= n; i += NT_EW_BLOCK) {                    \
            OT t[NT_EW_BLOCK];                                              \
            for (int j = 0; j < NT_EW_BLOCK; j++) {                         \
                int64_t k = i + j;                                          \
                CT x = XE, y = YE;                                          \
                (void)y;                                                    \
                t[j] = SV(KIND##_##NAME(CT, x, y, p));                      \
            }                                                               \
            memcpy(o + i, t, sizeof t);                                     \
        }                                                                   \
        for (; i < n; i++) {                                                \
            int64_t k = i;                                                  \
            CT x = XE, y = YE;                                              \
            (void)y;                                                        \
            o[i] = SV(KIND##_##NAME(CT, x, y, p));                          \
        }                                                                   \
    } while (0)

#define BIN_FN(NAME, KIND, SUF, ST, CT, LD, OT, SV)                                                 \
    NT_EW_ATTR_##SUF static void bin_##NAME##_##SUF(void *o_, const void *const *in, const int64_t *step, \
                                                    int64_t n, const nt_ew_params *p)              \
    {                                                                                               \
        const ST *a = in[0], *b = in[1];                                                            \
        OT *o = o_;                                                                                 \
        (void)p;                                                                                    \
        if (step[0] && step[1]) {                                                                   \
            BIN_LOOP(KIND, NAME, CT, OT, SV, LD(a[k]), LD(b[k]));                                   \
        } else if (step[0]) {                                                                       \
            const CT ys = LD(b[0]);                                                                 \
            BIN_LOOP(KIND, NAME, CT, OT, SV, LD(a[k]), ys);                                         \
        } else if (step[1]) {                                                                       \
            const CT xs = LD(a[0]);                                                                 \
            BIN_LOOP(KIND, NAME, CT, OT, SV, xs, LD(b[k]));                                         \
        } else {                                                                                    \
            const CT x = LD(a[0]), y = LD(b[0]);                                                    \
            (void)y;                                                                                \
            const OT v = SV(KIND##_##NAME(CT, x, y, p));                                            \
            for (int64_t i = 0; i < n; i++)                                                         \
                o[i] = v;                                                                           \
        }                                                                                           \
    }

#define BIN_TO_BOOL(v) ((uint8_t)((v) != 0))
#define BIN_GEN_F(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BF, SUF, ST, CT, LD, ST, SV)
#define BIN_GEN_FB(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BF, SUF, ST, CT, LD, uint8_t, BIN_TO_BOOL)
#define BIN_GEN_S(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BS, SUF, ST, CT, LD, ST, SV)
#define BIN_GEN_SB(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BS, SUF, ST, CT, LD, uint8_t, BIN_TO_BOOL)
#define BIN_GEN_U(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BU, SUF, ST, CT, LD, ST, SV)
#define BIN_GEN_UB(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BU, SUF, ST, CT, LD, uint8_t, BIN_TO_BOOL)
#define BIN_GEN_B(NAME, SUF, ST, CT, LD, SV) BIN_FN(NAME, BB, SUF, ST, CT, LD, uint8_t, BIN_TO_BOOL)

#define BIN_FLOATS(NAME) NT_EW_FLOATS(BIN_GEN_F, NAME)
#define BIN_FLOATS_B(NAME) NT_EW_FLOATS(BIN_GEN_FB, NAME)
#define BIN_SINTS(NAME) NT_EW_SINTS(BIN_GEN_S, NAME)
#define BIN_SINTS_B(NAME) NT_EW_SINTS(BIN_GEN_SB, NAME)
#define BIN_UINTS(NAME) NT_EW_UINTS(BIN_GEN_U, NAME)
#define BIN_UINTS_B(NAME) NT_EW_UINTS(BIN_GEN_UB, NAME)
#define BIN_BOOLS(NAME) NT_EW_BOOLS(BIN_GEN_B, NAME)

BIN_FLOAT_OPS(BIN_FLOATS)
BIN_FLOAT_OPS_B(BIN_FLOATS_B)
BIN_SINT_OPS(BIN_SINTS)
BIN_FLOAT_OPS_B(BIN_SINTS_B)
BIN_UINT_OPS(BIN_UINTS)
BIN_FLOAT_OPS_B(BIN_UINTS_B)
BIN_BOOL_OPS(BIN_BOOLS)

#define BIN_REG(NAME, SUF, ST, CT, LD, SV) [BOP_##NAME][NT_DTYPE_##SUF] = bin_##NAME##_##SUF,
#define BIN_REG_F(NAME) NT_EW_FLOATS(BIN_REG, NAME)
#define BIN_REG_S(NAME) NT_EW_SINTS(BIN_REG, NAME)
#define BIN_REG_U(NAME) NT_EW_UINTS(BIN_REG, NAME)
#define BIN_REG_B(NAME) NT_EW_BOOLS(BIN_REG, NAME)
/* bin_table[op][dtype of the operands]: the loop, or NULL if declined. */
static const nt_ew_fn bin_table[BOP_COUNT][NT_DTYPE_COUNT] = {
    BIN_FLOAT_OPS(BIN_REG_F) BIN_FLOAT_OPS_B(BIN_REG_F) BIN_SINT_OPS(BIN_REG_S) BIN_FLOAT_OPS_B(BIN_REG_S)
    BIN_UINT_OPS(BIN_REG_U) BIN_FLOAT_OPS_B(BIN_REG_U) BIN_BOOL_OPS(BIN_REG_B)
};

/* ---- Pow with an exponent of another dtype: computed in double, converted
 * back to the base's dtype (float to integer truncates, see eltwise_cast.c). */
#define POW_CHUNK 256
static void pow_mixed(void *o_, const void *const *in, const int64_t *step, int64_t n, const nt_ew_params *p)
{
    double xb[POW_CHUNK], yb[POW_CHUNK];
    size_t bs = nt_dtype_size(p->to), es = nt_dtype_size(p->from);
    const char *a = in[0], *b = in[1];
    char *o = o_;
    for (int64_t i = 0; i < n; i += POW_CHUNK) {
        int64_t m = n - i < POW_CHUNK ? n - i : POW_CHUNK;
        nt_ew_convert(p->to, a + (size_t)(i * step[0]) * bs, NT_DTYPE_DOUBLE, xb, step[0] ? m : 1);
        nt_ew_convert(p->from, b + (size_t)(i * step[1]) * es, NT_DTYPE_DOUBLE, yb, step[1] ? m : 1);
        for (int64_t j = 0; j < m; j++)
            xb[j] = pow(xb[step[0] ? j : 0], yb[step[1] ? j : 0]);
        nt_ew_convert(NT_DTYPE_DOUBLE, xb, p->to, o + (size_t)i * bs, m);
    }
}

/* ---- Where and broadcast copies, by element size */
#define WHERE_FN(T)                                                                                   \
    static void where_##T(void *o_, const void *const *in, const int64_t *step, int64_t n,           \
                          const nt_ew_params *p)                                                     \
    {                                                                                                 \
        const uint8_t *c = in[0];                                                                     \
        const T *x = in[1], *y = in[2];                                                               \
        T *o = o_;                                                                                    \
        (void)p;                                                                                      \
        for (int64_t i = 0; i < n; i++)                                                               \
            o[i] = c[i * step[0]] ? x[i * step[1]] : y[i * step[2]];                                  \
    }                                                                                                 \
    static void copy_##T(void *o_, const void *const *in, const int64_t *step, int64_t n,            \
                         const nt_ew_params *p)                                                      \
    {                                                                                                 \
        const T *x = in[0];                                                                           \
        T *o = o_;                                                                                    \
        (void)p;                                                                                      \
        for (int64_t i = 0; i < n; i++)                                                               \
            o[i] = x[i * step[0]];                                                                    \
    }
WHERE_FN(uint8_t)
WHERE_FN(uint16_t)
WHERE_FN(uint32_t)
WHERE_FN(uint64_t)

static nt_ew_fn where_fn(size_t size)
{
    switch (size) {
    case 1: return where_uint8_t;
    case 2: return where_uint16_t;
    case 4: return where_uint32_t;
    case 8: return where_uint64_t;
    default: return NULL;
    }
}

static nt_ew_fn copy_fn(size_t size)
{
    switch (size) {
    case 1: return copy_uint8_t;
    case 2: return copy_uint16_t;
    case 4: return copy_uint32_t;
    case 8: return copy_uint64_t;
    default: return NULL;
    }
}

/* Mean's last step: y /= number of inputs (float dtypes only). */
#define MEAN_FN(A, SUF, ST, CT, LD, SV)                                                           \
    static void mean_##SUF(void *o_, const void *const *in, const int64_t *step, int64_t n,      \
                           const nt_ew_params *p)                                                \
    {                                                                                             \
        ST *o = o_;                                                                               \
        (void)in;                                                                                 \
        (void)step;                                                                               \
        for (int64_t i = 0; i < n; i++)                                                           \
            o[i] = SV(LD(o[i]) / (CT)p->n_in);                                                    \
    }
NT_EW_FLOATS(MEAN_FN, _)
#define MEAN_REG(A, SUF, ST, CT, LD, SV) [NT_DTYPE_##SUF] = mean_##SUF,
static const nt_ew_fn mean_table[NT_DTYPE_COUNT] = {NT_EW_FLOATS(MEAN_REG, _)};

/* ---- op descriptors: how each ONNX op uses the loops */
typedef enum bin_kind {
    BK_BINARY,   /* exactly two inputs */
    BK_VARIADIC, /* one or more inputs folded left to right */
    BK_MEAN,     /* variadic Add, then divided by the count */
    BK_WHERE     /* condition, x, y */
} bin_kind;

static const struct {
    const char *name;
    int op;
    bin_kind kind;
} bin_descs[] = {
    {"Add", BOP_Add, BK_BINARY},
    {"Sub", BOP_Sub, BK_BINARY},
    {"Mul", BOP_Mul, BK_BINARY},
    {"Div", BOP_Div, BK_BINARY},
    {"Pow", BOP_Pow, BK_BINARY},
    {"Mod", BOP_Mod, BK_BINARY},
    {"PRelu", BOP_PRelu, BK_BINARY},
    {"Equal", BOP_Equal, BK_BINARY},
    {"Less", BOP_Less, BK_BINARY},
    {"Greater", BOP_Greater, BK_BINARY},
    {"LessOrEqual", BOP_LessOrEqual, BK_BINARY},
    {"GreaterOrEqual", BOP_GreaterOrEqual, BK_BINARY},
    {"And", BOP_And, BK_BINARY},
    {"Or", BOP_Or, BK_BINARY},
    {"Xor", BOP_Xor, BK_BINARY},
    {"BitShift", BOP_BitShift, BK_BINARY},
    {"BitwiseAnd", BOP_BitwiseAnd, BK_BINARY},
    {"BitwiseOr", BOP_BitwiseOr, BK_BINARY},
    {"BitwiseXor", BOP_BitwiseXor, BK_BINARY},
    {"Min", BOP_Min, BK_VARIADIC},
    {"Max", BOP_Max, BK_VARIADIC},
    {"Sum", BOP_Add, BK_VARIADIC},
    {"Mean", BOP_Add, BK_MEAN},
    {"Where", -1, BK_WHERE},
};

typedef struct bin_state {
    nt_ew_params par;
    bin_kind kind;
    const char *name;
} bin_state;

static nt_status bin_prepare(const nt_node *node, int opset, void **state)
{
    *state = NULL;
    int d = -1;
    for (size_t i = 0; i < NT_ARRAY_LEN(bin_descs); i++)
        if (strcmp(node->op_type, bin_descs[i].name) == 0)
            d = (int)i;
    if (d < 0)
        return nt_error(NT_ERR_INTERNAL, "node '%s': %s is not a binary op", node->name, node->op_type);
    bin_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    st->par.op = bin_descs[d].op;
    st->kind = bin_descs[d].kind;
    st->name = bin_descs[d].name;
    if (st->par.op == BOP_Mod)
        st->par.flag = nt_node_attr_int(node, "fmod", 0) != 0;
    if (st->par.op == BOP_BitShift) {
        const char *dir = nt_node_attr_string(node, "direction", "");
        if (strcmp(dir, "LEFT") == 0)
            st->par.flag = 1;
        else if (strcmp(dir, "RIGHT") != 0) {
            free(st);
            return nt_error(NT_ERR_PARSE, "node '%s' (BitShift): direction '%s' is not LEFT or RIGHT", node->name,
                            dir);
        }
    }
    *state = st;
    return NT_OK;
}

static void bin_release(void *state) { free(state); }

/* Checks the inputs' dtypes; sets *out_dtype.  Unknown dtypes (static mode)
 * pass and give an unknown output dtype. */
static nt_status bin_check_dtypes(nt_kernel_ctx *ctx, const bin_state *st, nt_dtype *out_dtype)
{
    int first = st->kind == BK_WHERE ? 1 : 0;
    nt_dtype t = NT_DTYPE_UNDEFINED;
    if (!ctx->in[0])
        return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "input 0 is missing");
    for (int k = first; k < ctx->n_in; k++) {
        const nt_tensor *x = ctx->in[k];
        if (!x)
            return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "input %d is missing", k);
        if (x->dtype == NT_DTYPE_UNDEFINED && ctx->static_mode)
            continue;
        if (t == NT_DTYPE_UNDEFINED)
            t = x->dtype;
        else if (x->dtype != t && !(st->par.op == BOP_Pow && k == 1))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has dtype %s, input %d has %s", k,
                                nt_dtype_name(x->dtype), first, nt_dtype_name(t));
    }
    *out_dtype = t;
    if (t == NT_DTYPE_UNDEFINED)
        return NT_OK;
    if ((unsigned)t >= NT_DTYPE_COUNT)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %d is not supported", (int)t);
    switch (st->kind) {
    case BK_WHERE: {
        const nt_tensor *c = ctx->in[0];
        if (c->dtype != NT_DTYPE_BOOL && !(ctx->static_mode && c->dtype == NT_DTYPE_UNDEFINED))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "condition has dtype %s, not bool", nt_dtype_name(c->dtype));
        if (!nt_ew_dtype_plain(t) || !where_fn(nt_dtype_size(t)))
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "Where does not support dtype %s", nt_dtype_name(t));
        return NT_OK;
    }
    case BK_MEAN:
        if (!mean_table[t])
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "Mean does not support dtype %s", nt_dtype_name(t));
        break;
    default: break;
    }
    if (st->par.op == BOP_Pow && ctx->in[1]->dtype != t && ctx->in[1]->dtype != NT_DTYPE_UNDEFINED) {
        nt_dtype e = ctx->in[1]->dtype;
        bool ok = nt_dtype_is_float(t) || nt_dtype_is_int(t);
        ok = ok && (nt_dtype_is_float(e) || nt_dtype_is_int(e));
        if (!ok)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "Pow does not support base %s with exponent %s",
                                nt_dtype_name(t), nt_dtype_name(e));
    } else if (!bin_table[st->par.op][t]) {
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s does not support dtype %s", st->name, nt_dtype_name(t));
    }
    if (bin_gives_bool(st->par.op))
        *out_dtype = NT_DTYPE_BOOL;
    return NT_OK;
}

static nt_status bin_infer(nt_kernel_ctx *ctx)
{
    const bin_state *st = ctx->state;
    int need = st->kind == BK_WHERE ? 3 : st->kind == BK_BINARY ? 2 : 1;
    if (ctx->n_in < need || (st->kind != BK_VARIADIC && st->kind != BK_MEAN && ctx->n_in != need))
        return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "%s takes %s%d inputs, got %d", st->name,
                            need == 1 ? "at least " : "", need, ctx->n_in);
    /* Equal on strings: src/ops/strings.c */
    if (st->par.op == BOP_Equal && ctx->n_in == 2 && ctx->in[0] && ctx->in[0]->dtype == NT_DTYPE_STRING)
        return nt_str_equal_infer(ctx);
    nt_dtype t = NT_DTYPE_UNDEFINED;
    nt_status s = bin_check_dtypes(ctx, st, &t);
    if (s != NT_OK)
        return s;
    int nd;
    int64_t dims[NT_MAX_DIMS];
    bool rank_unknown;
    s = nt_ew_broadcast_n(ctx, 0, ctx->n_in, &nd, dims, &rank_unknown);
    if (s != NT_OK)
        return s;
    if (rank_unknown)
        return nt_ctx_set_output(ctx, 0, t, -1, dims);
    return nt_ctx_set_output(ctx, 0, t, nd, dims);
}

/* Runs fn over out for the given inputs (each broadcast to out's shape). */
static nt_status bin_apply(nt_kernel_ctx *ctx, nt_ew_fn fn, int n, const nt_tensor *const *ins, nt_tensor *out,
                           const nt_ew_params *par)
{
    nt_ew_plan plan;
    nt_status s = nt_ew_plan_init(&plan, n, ins, out);
    if (s != NT_OK)
        return nt_ctx_error(ctx, s, "%s", nt_last_error());
    const void *ip[NT_EW_MAX_IN];
    for (int k = 0; k < n; k++)
        ip[k] = ins[k]->data;
    nt_ew_run(ctx->exec, &plan, fn, out->data, ip, par);
    return NT_OK;
}

/* Pow(x, 2), how exported LayerNorms compute the variance: x*x is the
 * correctly rounded square, the same bits as pow, without its cost. */
NT_EW_ATTR_FLOAT static void square_f32(void *o_, const void *const *in, const int64_t *step, int64_t n,
                                        const nt_ew_params *p)
{
    const float *a = in[0];
    float *o = o_;
    (void)p;
    if (!step[0]) {
        float v = a[0] * a[0];
        for (int64_t i = 0; i < n; i++)
            o[i] = v;
        return;
    }
    int64_t i = 0;
    for (; i + NT_EW_BLOCK <= n; i += NT_EW_BLOCK) { /* a fixed trip count: vectorized */
        float t[NT_EW_BLOCK];
        for (int j = 0; j < NT_EW_BLOCK; j++)
            t[j] = a[i + j] * a[i + j];
        memcpy(o + i, t, sizeof t);
    }
    for (; i < n; i++)
        o[i] = a[i] * a[i];
}

/* Whether t is a single float32 or float64 holding 2. */
static bool is_float_two(const nt_tensor *t)
{
    if (!t || !t->data || nt_tensor_numel(t) != 1)
        return false;
    if (t->dtype == NT_DTYPE_FLOAT)
        return *(const float *)t->data == 2.0f;
    if (t->dtype == NT_DTYPE_DOUBLE)
        return *(const double *)t->data == 2.0;
    return false;
}

/* The loop bin_compute runs for two inputs of dtype t (special cases
 * included), so a fused chain computes the same bits. */
static nt_status bin_loop2(nt_kernel_ctx *ctx, const bin_state *st, nt_ew_fn *fn_out, nt_ew_params *par)
{
    nt_dtype t = ctx->in[0]->dtype;
    *par = st->par;
    nt_ew_fn fn = (unsigned)t < NT_DTYPE_COUNT ? bin_table[par->op][t] : NULL;
    if (par->op == BOP_Pow && is_float_two(ctx->in[1]) && t == NT_DTYPE_FLOAT)
        fn = square_f32;
    else if (par->op == BOP_Pow && ctx->in[1]->dtype != t) {
        fn = pow_mixed;
        par->to = t;
        par->from = ctx->in[1]->dtype;
    }
    if (!fn)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s does not support dtype %s", st->name, nt_dtype_name(t));
    *fn_out = fn;
    return NT_OK;
}

nt_status nt_ew_binary_loop(nt_kernel_ctx *ctx, nt_ew_fn *fn, nt_ew_params *par)
{
    const bin_state *st = ctx->state;
    if (st->kind == BK_WHERE || st->kind == BK_MEAN || ctx->n_in != 2 || !ctx->in[0] || !ctx->in[1])
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s with %d inputs is not a two-operand loop", st->name,
                            ctx->n_in);
    return bin_loop2(ctx, st, fn, par);
}

static nt_status bin_compute(nt_kernel_ctx *ctx)
{
    const bin_state *st = ctx->state;
    nt_tensor *y = nt_ctx_out(ctx, 0);
    if (!y)
        return NT_OK;
    nt_ew_params par = st->par;
    if (st->kind == BK_WHERE) {
        const nt_tensor *ins[3] = {ctx->in[0], ctx->in[1], ctx->in[2]};
        return bin_apply(ctx, where_fn(nt_dtype_size(y->dtype)), 3, ins, y, &par);
    }
    const nt_tensor *a = ctx->in[0];
    nt_dtype t = a->dtype;
    if (st->par.op == BOP_Equal && t == NT_DTYPE_STRING)
        return nt_str_equal_compute(ctx);
    if (ctx->n_in == 1) {
        nt_status s = bin_apply(ctx, copy_fn(nt_dtype_size(t)), 1, &a, y, &par);
        if (s == NT_OK && st->kind == BK_MEAN) {
            par.n_in = 1;
            s = bin_apply(ctx, mean_table[t], 1, (const nt_tensor *const *)&y, y, &par);
        }
        return s;
    }
    nt_ew_fn fn;
    nt_status s = bin_loop2(ctx, st, &fn, &par);
    if (s != NT_OK)
        return s;
    const nt_tensor *ins[2] = {a, ctx->in[1]};
    s = bin_apply(ctx, fn, 2, ins, y, &par);
    /* further inputs of the variadic ops fold into y in place: each block
     * is read before it is written, so aliasing input 0 with y is safe */
    for (int k = 2; k < ctx->n_in && s == NT_OK; k++) {
        ins[0] = y;
        ins[1] = ctx->in[k];
        s = bin_apply(ctx, fn, 2, ins, y, &par);
    }
    if (s == NT_OK && st->kind == BK_MEAN) {
        par.n_in = ctx->n_in;
        s = bin_apply(ctx, mean_table[t], 1, (const nt_tensor *const *)&y, y, &par);
    }
    return s;
}

bool nt_ew_is_binary(const nt_op_def *op) { return op && op->compute == bin_compute; }

/* One entry per since-version where ONNX changed the op; versions before
 * multidirectional broadcasting (7 for the binary ops, 8 for the variadic
 * ones) are not registered, except where the earlier version only required
 * equal shapes (a subset of what the kernel does). */
#define BIN_DEF(name, since) {#name, "", since, bin_prepare, bin_release, bin_infer, bin_compute}

const nt_op_def nt_ops_binary[] = {
    BIN_DEF(Add, 7), BIN_DEF(Add, 13), BIN_DEF(Add, 14),
    BIN_DEF(Sub, 7), BIN_DEF(Sub, 13), BIN_DEF(Sub, 14),
    BIN_DEF(Mul, 7), BIN_DEF(Mul, 13), BIN_DEF(Mul, 14),
    BIN_DEF(Div, 7), BIN_DEF(Div, 13), BIN_DEF(Div, 14),
    BIN_DEF(Pow, 7), BIN_DEF(Pow, 12), BIN_DEF(Pow, 13), BIN_DEF(Pow, 15),
    BIN_DEF(Mod, 10), BIN_DEF(Mod, 13),
    BIN_DEF(PRelu, 7), BIN_DEF(PRelu, 9), BIN_DEF(PRelu, 16),
    BIN_DEF(Equal, 7), BIN_DEF(Equal, 11), BIN_DEF(Equal, 13), BIN_DEF(Equal, 19),
    BIN_DEF(Less, 7), BIN_DEF(Less, 9), BIN_DEF(Less, 13),
    BIN_DEF(Greater, 7), BIN_DEF(Greater, 9), BIN_DEF(Greater, 13),
    BIN_DEF(LessOrEqual, 12), BIN_DEF(LessOrEqual, 16),
    BIN_DEF(GreaterOrEqual, 12), BIN_DEF(GreaterOrEqual, 16),
    BIN_DEF(And, 7), BIN_DEF(Or, 7), BIN_DEF(Xor, 7),
    BIN_DEF(BitShift, 11),
    BIN_DEF(BitwiseAnd, 18), BIN_DEF(BitwiseOr, 18), BIN_DEF(BitwiseXor, 18),
    BIN_DEF(Min, 6), BIN_DEF(Min, 8), BIN_DEF(Min, 12), BIN_DEF(Min, 13),
    BIN_DEF(Max, 6), BIN_DEF(Max, 8), BIN_DEF(Max, 12), BIN_DEF(Max, 13),
    BIN_DEF(Sum, 6), BIN_DEF(Sum, 8), BIN_DEF(Sum, 13),
    BIN_DEF(Mean, 6), BIN_DEF(Mean, 8), BIN_DEF(Mean, 13),
    BIN_DEF(Where, 9), BIN_DEF(Where, 16),
};
const size_t nt_ops_binary_count = NT_ARRAY_LEN(nt_ops_binary);
