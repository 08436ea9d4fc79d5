/*
 * arity.c — the minimum input and output counts of every standard operator,
 * checked when a session is planned, so a malicious or broken node (an Add
 * with one input, a Gather whose indices are "") is refused with its name
 * before any kernel can read an input that is not there.
 *
 * The table is data from the ONNX operator schemas (OpSchema.min_input /
 * min_output, domains "" and ai.onnx.ml, onnx 1.12.0), one row per version whose
 * counts changed; a node uses the row with the highest since-version <= its
 * opset.  Maximum counts are not checked: newer opsets add optional inputs,
 * and a kernel ignores what it does not read.  Regenerate with
 *
 *   for each s in onnx.defs.get_all_schemas_with_history() (not deprecated):
 *     (s.name, s.domain, s.since_version, s.min_input, mask of the first
 *      min_input s.inputs whose option is Single, s.min_output, same mask)
 *   keeping a row only when its counts differ from the op's previous row.
 *
 * Operators not in the table (newer or contributed ones) are not checked
 * here; their kernels check what they read.
 */
#include "exec/exec.h"

#include <string.h>

/* req_in / req_out: bit k set when position k (< min) is a required single
 * input or output, which may not be given as "" (optional ones may). */
typedef struct arity_row {
    const char *op_type, *domain;
    int since, min_in;
    unsigned req_in;
    int min_out;
    unsigned req_out;
} arity_row;

/* Sorted by domain, then op type, then since-version. */
static const arity_row arity_rows[] = {
    {"Abs", "", 1, 1, 0x1, 1, 0x1},
    {"Acos", "", 7, 1, 0x1, 1, 0x1},
    {"Acosh", "", 9, 1, 0x1, 1, 0x1},
    {"Add", "", 1, 2, 0x3, 1, 0x1},
    {"And", "", 1, 2, 0x3, 1, 0x1},
    {"ArgMax", "", 1, 1, 0x1, 1, 0x1},
    {"ArgMin", "", 1, 1, 0x1, 1, 0x1},
    {"Asin", "", 7, 1, 0x1, 1, 0x1},
    {"Asinh", "", 9, 1, 0x1, 1, 0x1},
    {"Atan", "", 7, 1, 0x1, 1, 0x1},
    {"Atanh", "", 9, 1, 0x1, 1, 0x1},
    {"AveragePool", "", 1, 1, 0x1, 1, 0x1},
    {"BatchNormalization", "", 1, 5, 0x1f, 1, 0x1},
    {"Bernoulli", "", 15, 1, 0x1, 1, 0x1},
    {"BitShift", "", 11, 2, 0x3, 1, 0x1},
    {"BlackmanWindow", "", 17, 1, 0x1, 1, 0x1},
    {"Cast", "", 1, 1, 0x1, 1, 0x1},
    {"CastLike", "", 15, 2, 0x3, 1, 0x1},
    {"Ceil", "", 1, 1, 0x1, 1, 0x1},
    {"Celu", "", 12, 1, 0x1, 1, 0x1},
    {"Clip", "", 1, 1, 0x1, 1, 0x1},
    {"Compress", "", 9, 2, 0x3, 1, 0x1},
    {"Concat", "", 1, 1, 0x0, 1, 0x1},
    {"ConcatFromSequence", "", 11, 1, 0x1, 1, 0x1},
    {"Constant", "", 1, 0, 0x0, 1, 0x1},
    {"ConstantOfShape", "", 9, 1, 0x1, 1, 0x1},
    {"Conv", "", 1, 2, 0x3, 1, 0x1},
    {"ConvInteger", "", 10, 2, 0x3, 1, 0x1},
    {"ConvTranspose", "", 1, 2, 0x3, 1, 0x1},
    {"Cos", "", 7, 1, 0x1, 1, 0x1},
    {"Cosh", "", 9, 1, 0x1, 1, 0x1},
    {"CumSum", "", 11, 2, 0x3, 1, 0x1},
    {"DFT", "", 17, 1, 0x1, 1, 0x1},
    {"DepthToSpace", "", 1, 1, 0x1, 1, 0x1},
    {"DequantizeLinear", "", 10, 2, 0x3, 1, 0x1},
    {"Det", "", 11, 1, 0x1, 1, 0x1},
    {"Div", "", 1, 2, 0x3, 1, 0x1},
    {"Dropout", "", 1, 1, 0x1, 1, 0x1},
    {"DynamicQuantizeLinear", "", 11, 1, 0x1, 3, 0x7},
    {"Einsum", "", 12, 1, 0x0, 1, 0x1},
    {"Elu", "", 1, 1, 0x1, 1, 0x1},
    {"Equal", "", 1, 2, 0x3, 1, 0x1},
    {"Erf", "", 9, 1, 0x1, 1, 0x1},
    {"Exp", "", 1, 1, 0x1, 1, 0x1},
    {"Expand", "", 8, 2, 0x3, 1, 0x1},
    {"EyeLike", "", 9, 1, 0x1, 1, 0x1},
    {"Flatten", "", 1, 1, 0x1, 1, 0x1},
    {"Floor", "", 1, 1, 0x1, 1, 0x1},
    {"GRU", "", 1, 3, 0x7, 2, 0x2},
    {"GRU", "", 3, 3, 0x7, 0, 0x0},
    {"Gather", "", 1, 2, 0x3, 1, 0x1},
    {"GatherElements", "", 11, 2, 0x3, 1, 0x1},
    {"GatherND", "", 11, 2, 0x3, 1, 0x1},
    {"Gemm", "", 1, 3, 0x7, 1, 0x1},
    {"Gemm", "", 11, 2, 0x3, 1, 0x1},
    {"GlobalAveragePool", "", 1, 1, 0x1, 1, 0x1},
    {"GlobalLpPool", "", 1, 1, 0x1, 1, 0x1},
    {"GlobalMaxPool", "", 1, 1, 0x1, 1, 0x1},
    {"Greater", "", 1, 2, 0x3, 1, 0x1},
    {"GreaterOrEqual", "", 12, 2, 0x3, 1, 0x1},
    {"GridSample", "", 16, 2, 0x3, 1, 0x1},
    {"HammingWindow", "", 17, 1, 0x1, 1, 0x1},
    {"HannWindow", "", 17, 1, 0x1, 1, 0x1},
    {"HardSigmoid", "", 1, 1, 0x1, 1, 0x1},
    {"HardSwish", "", 14, 1, 0x1, 1, 0x1},
    {"Hardmax", "", 1, 1, 0x1, 1, 0x1},
    {"Identity", "", 1, 1, 0x1, 1, 0x1},
    {"If", "", 1, 1, 0x1, 1, 0x0},
    {"InstanceNormalization", "", 1, 3, 0x7, 1, 0x1},
    {"IsInf", "", 10, 1, 0x1, 1, 0x1},
    {"IsNaN", "", 9, 1, 0x1, 1, 0x1},
    {"LRN", "", 1, 1, 0x1, 1, 0x1},
    {"LSTM", "", 1, 3, 0x7, 0, 0x0},
    {"LayerNormalization", "", 17, 2, 0x3, 1, 0x1},
    {"LeakyRelu", "", 1, 1, 0x1, 1, 0x1},
    {"Less", "", 1, 2, 0x3, 1, 0x1},
    {"LessOrEqual", "", 12, 2, 0x3, 1, 0x1},
    {"Log", "", 1, 1, 0x1, 1, 0x1},
    {"LogSoftmax", "", 1, 1, 0x1, 1, 0x1},
    {"Loop", "", 1, 3, 0x0, 1, 0x0},
    {"Loop", "", 11, 2, 0x0, 1, 0x0},
    {"LpNormalization", "", 1, 1, 0x1, 1, 0x1},
    {"LpPool", "", 1, 1, 0x1, 1, 0x1},
    {"MatMul", "", 1, 2, 0x3, 1, 0x1},
    {"MatMulInteger", "", 10, 2, 0x3, 1, 0x1},
    {"Max", "", 1, 1, 0x0, 1, 0x1},
    {"MaxPool", "", 1, 1, 0x1, 1, 0x1},
    {"MaxRoiPool", "", 1, 2, 0x3, 1, 0x1},
    {"MaxUnpool", "", 9, 2, 0x3, 1, 0x1},
    {"Mean", "", 1, 1, 0x0, 1, 0x1},
    {"MeanVarianceNormalization", "", 9, 1, 0x1, 1, 0x1},
    {"MelWeightMatrix", "", 17, 5, 0x1f, 1, 0x1},
    {"Min", "", 1, 1, 0x0, 1, 0x1},
    {"Mod", "", 10, 2, 0x3, 1, 0x1},
    {"Mul", "", 1, 2, 0x3, 1, 0x1},
    {"Multinomial", "", 7, 1, 0x1, 1, 0x1},
    {"Neg", "", 1, 1, 0x1, 1, 0x1},
    {"NegativeLogLikelihoodLoss", "", 12, 2, 0x3, 1, 0x1},
    {"NonMaxSuppression", "", 10, 2, 0x3, 1, 0x1},
    {"NonZero", "", 9, 1, 0x1, 1, 0x1},
    {"Not", "", 1, 1, 0x1, 1, 0x1},
    {"OneHot", "", 9, 3, 0x7, 1, 0x1},
    {"Optional", "", 15, 0, 0x0, 1, 0x1},
    {"OptionalGetElement", "", 15, 1, 0x1, 1, 0x1},
    {"OptionalHasElement", "", 15, 1, 0x1, 1, 0x1},
    {"OptionalHasElement", "", 18, 0, 0x0, 1, 0x1}, /* newer than the generator: input optional since 18 */
    {"Or", "", 1, 2, 0x3, 1, 0x1},
    {"PRelu", "", 1, 2, 0x3, 1, 0x1},
    {"Pad", "", 1, 1, 0x1, 1, 0x1},
    {"Pad", "", 11, 2, 0x3, 1, 0x1},
    {"Pow", "", 1, 2, 0x3, 1, 0x1},
    {"QLinearConv", "", 10, 8, 0xff, 1, 0x1},
    {"QLinearMatMul", "", 10, 8, 0xff, 1, 0x1},
    {"QuantizeLinear", "", 10, 2, 0x3, 1, 0x1},
    {"RNN", "", 1, 3, 0x7, 0, 0x0},
    {"RandomNormal", "", 1, 0, 0x0, 1, 0x1},
    {"RandomNormalLike", "", 1, 1, 0x1, 1, 0x1},
    {"RandomUniform", "", 1, 0, 0x0, 1, 0x1},
    {"RandomUniformLike", "", 1, 1, 0x1, 1, 0x1},
    {"Range", "", 11, 3, 0x7, 1, 0x1},
    {"Reciprocal", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceL1", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceL2", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceLogSum", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceLogSumExp", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceMax", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceMean", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceMin", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceProd", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceSum", "", 1, 1, 0x1, 1, 0x1},
    {"ReduceSumSquare", "", 1, 1, 0x1, 1, 0x1},
    {"Relu", "", 1, 1, 0x1, 1, 0x1},
    {"Reshape", "", 1, 1, 0x1, 1, 0x1},
    {"Reshape", "", 5, 2, 0x3, 1, 0x1},
    {"Resize", "", 10, 2, 0x3, 1, 0x1},
    {"Resize", "", 11, 3, 0x7, 1, 0x1},
    {"Resize", "", 13, 1, 0x1, 1, 0x1},
    {"ReverseSequence", "", 10, 2, 0x3, 1, 0x1},
    {"RoiAlign", "", 10, 3, 0x7, 1, 0x1},
    {"Round", "", 11, 1, 0x1, 1, 0x1},
    {"STFT", "", 17, 2, 0x3, 1, 0x1},
    {"Scan", "", 8, 2, 0x0, 1, 0x0},
    {"Scan", "", 9, 1, 0x0, 1, 0x0},
    {"Scatter", "", 9, 3, 0x7, 1, 0x1},
    {"ScatterElements", "", 11, 3, 0x7, 1, 0x1},
    {"ScatterND", "", 11, 3, 0x7, 1, 0x1},
    {"Selu", "", 1, 1, 0x1, 1, 0x1},
    {"SequenceAt", "", 11, 2, 0x3, 1, 0x1},
    {"SequenceConstruct", "", 11, 1, 0x0, 1, 0x1},
    {"SequenceEmpty", "", 11, 0, 0x0, 1, 0x1},
    {"SequenceErase", "", 11, 1, 0x1, 1, 0x1},
    {"SequenceInsert", "", 11, 2, 0x3, 1, 0x1},
    {"SequenceLength", "", 11, 1, 0x1, 1, 0x1},
    {"SequenceMap", "", 17, 1, 0x1, 1, 0x0},
    {"Shape", "", 1, 1, 0x1, 1, 0x1},
    {"Shrink", "", 9, 1, 0x1, 1, 0x1},
    {"Sigmoid", "", 1, 1, 0x1, 1, 0x1},
    {"Sign", "", 9, 1, 0x1, 1, 0x1},
    {"Sin", "", 7, 1, 0x1, 1, 0x1},
    {"Sinh", "", 9, 1, 0x1, 1, 0x1},
    {"Size", "", 1, 1, 0x1, 1, 0x1},
    {"Slice", "", 1, 1, 0x1, 1, 0x1},
    {"Slice", "", 10, 3, 0x7, 1, 0x1},
    {"Softmax", "", 1, 1, 0x1, 1, 0x1},
    {"SoftmaxCrossEntropyLoss", "", 12, 2, 0x3, 1, 0x1},
    {"Softplus", "", 1, 1, 0x1, 1, 0x1},
    {"Softsign", "", 1, 1, 0x1, 1, 0x1},
    {"SpaceToDepth", "", 1, 1, 0x1, 1, 0x1},
    {"Split", "", 1, 1, 0x1, 1, 0x0},
    {"SplitToSequence", "", 11, 1, 0x1, 1, 0x1},
    {"Sqrt", "", 1, 1, 0x1, 1, 0x1},
    {"Squeeze", "", 1, 1, 0x1, 1, 0x1},
    {"StringNormalizer", "", 10, 1, 0x1, 1, 0x1},
    {"Sub", "", 1, 2, 0x3, 1, 0x1},
    {"Sum", "", 1, 1, 0x0, 1, 0x1},
    {"Tan", "", 7, 1, 0x1, 1, 0x1},
    {"Tanh", "", 1, 1, 0x1, 1, 0x1},
    {"TfIdfVectorizer", "", 9, 1, 0x1, 1, 0x1},
    {"ThresholdedRelu", "", 10, 1, 0x1, 1, 0x1},
    {"Tile", "", 1, 3, 0x7, 1, 0x1},
    {"Tile", "", 6, 2, 0x3, 1, 0x1},
    {"TopK", "", 1, 1, 0x1, 2, 0x3},
    {"TopK", "", 10, 2, 0x3, 2, 0x3},
    {"Transpose", "", 1, 1, 0x1, 1, 0x1},
    {"Trilu", "", 14, 1, 0x1, 1, 0x1},
    {"Unique", "", 11, 1, 0x1, 1, 0x1},
    {"Unsqueeze", "", 1, 1, 0x1, 1, 0x1},
    {"Unsqueeze", "", 13, 2, 0x3, 1, 0x1},
    {"Upsample", "", 1, 1, 0x1, 1, 0x1},
    {"Upsample", "", 9, 2, 0x3, 1, 0x1},
    {"Where", "", 9, 3, 0x7, 1, 0x1},
    {"Xor", "", 1, 2, 0x3, 1, 0x1},
    {"ArrayFeatureExtractor", "ai.onnx.ml", 1, 2, 0x3, 1, 0x1},
    {"Binarizer", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"CastMap", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"CategoryMapper", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"DictVectorizer", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"FeatureVectorizer", "ai.onnx.ml", 1, 1, 0x0, 1, 0x1},
    {"Imputer", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"LabelEncoder", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"LinearClassifier", "ai.onnx.ml", 1, 1, 0x1, 2, 0x3},
    {"LinearRegressor", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"Normalizer", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"OneHotEncoder", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"SVMClassifier", "ai.onnx.ml", 1, 1, 0x1, 2, 0x3},
    {"SVMRegressor", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"Scaler", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"TreeEnsembleClassifier", "ai.onnx.ml", 1, 1, 0x1, 2, 0x3},
    {"TreeEnsembleRegressor", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    {"ZipMap", "ai.onnx.ml", 1, 1, 0x1, 1, 0x1},
    /* Operators newer than onnx 1.12 (rows written from the ONNX spec and,
     * for the newest, from what the kernels require): found missing when
     * fuzz_run handed BitCast an empty input. */
    {"AffineGrid", "", 20, 2, 0x3, 1, 0x1},
    {"Attention", "", 23, 3, 0x7, 1, 0x1},
    {"BitCast", "", 26, 1, 0x1, 1, 0x1},
    {"CausalConvWithState", "", 27, 2, 0x3, 1, 0x1},
    {"CumProd", "", 26, 2, 0x3, 1, 0x1},
    {"DeformConv", "", 19, 3, 0x7, 1, 0x1},
    {"GroupNormalization", "", 18, 3, 0x7, 1, 0x1},
    {"ImageDecoder", "", 20, 1, 0x1, 1, 0x1},
    {"LinearAttention", "", 27, 3, 0x7, 1, 0x1},
    {"RMSNormalization", "", 23, 2, 0x3, 1, 0x1},
    {"RegexFullMatch", "", 20, 1, 0x1, 1, 0x1},
    {"RotaryEmbedding", "", 23, 3, 0x7, 1, 0x1},
    {"StringConcat", "", 20, 2, 0x3, 1, 0x1},
    {"StringSplit", "", 20, 1, 0x1, 2, 0x3},
    {"SwiGLU", "", 28, 2, 0x3, 1, 0x1},
    {"FlexAttention", "ai.onnx.preview", 1, 3, 0x7, 1, 0x1},
    {"Adagrad", "ai.onnx.preview.training", 1, 3, 0x3, 1, 0x0},
    {"Adam", "ai.onnx.preview.training", 1, 3, 0x3, 1, 0x0},
    {"Momentum", "ai.onnx.preview.training", 1, 3, 0x3, 1, 0x0},
};

nt_status nt_plan_check_arity(const nt_node *n, int opset, const char *what)
{
    const arity_row *row = NULL;
    for (size_t i = 0; i < NT_ARRAY_LEN(arity_rows); i++)
        if (arity_rows[i].since <= opset && strcmp(arity_rows[i].op_type, n->op_type) == 0 &&
            strcmp(arity_rows[i].domain, n->domain) == 0)
            row = &arity_rows[i];
    if (!row)
        return NT_OK;
    for (int k = 0; k < row->min_in; k++)
        if (k >= n->n_in || (n->in[k] < 0 && k < 32 && (row->req_in >> k & 1u)))
            return nt_error(NT_ERR_PARSE, "%s: node '%s' (%s): input %d is required (the operator takes at least "
                            "%d), the node has %s", what, n->name, n->op_type, k, row->min_in,
                            k >= n->n_in ? "fewer" : "it empty");
    for (int k = 0; k < row->min_out; k++)
        if (k >= n->n_out || (n->out[k] < 0 && k < 32 && (row->req_out >> k & 1u)))
            return nt_error(NT_ERR_PARSE, "%s: node '%s' (%s): output %d is required (the operator has at least "
                            "%d), the node has %s", what, n->name, n->op_type, k, row->min_out,
                            k >= n->n_out ? "fewer" : "it empty");
    return NT_OK;
}
