/*
 * tags.c — what a scalar tag measures and which tags pair up as training
 * and validation curves (see curves.h).  Programs name their curves in many
 * ways (loss/train, train_loss, epoch_loss under train/ and validation/,
 * Keras's loss and val_loss, Hugging Face's train/loss and eval/loss); the
 * rules here work on words, so they need no list of frameworks.
 */
#include "metrics/curves.h"

#include <ctype.h>
#include <string.h>

#define MAX_WORDS 32

/* A tag split into lowercase words; seps[i] is the separator before word i
 * ("" for the first). */
typedef struct words {
    int n;
    char w[MAX_WORDS][64];
    char sep[MAX_WORDS];
} words;

static bool is_sep(char c) { return c == '/' || c == '_' || c == '-' || c == '.' || c == ' ' || c == ':'; }

/* False if the tag has too many or too long words to compare. */
static bool split_words(const char *tag, words *out)
{
    out->n = 0;
    char sep = 0;
    const char *p = tag;
    while (*p) {
        if (is_sep(*p)) {
            sep = *p++;
            continue;
        }
        if (out->n >= MAX_WORDS)
            return false;
        size_t len = 0;
        while (p[len] && !is_sep(p[len]))
            len++;
        if (len >= sizeof out->w[0])
            return false;
        for (size_t i = 0; i < len; i++)
            out->w[out->n][i] = (char)tolower((unsigned char)p[i]);
        out->w[out->n][len] = '\0';
        out->sep[out->n] = sep;
        sep = 0;
        out->n++;
        p += len;
    }
    return true;
}

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

static const char *const train_words[] = {"train", "training", "trn", NULL};
static const char *const val_words[] = {"val", "valid", "validation", "eval", "evaluation", "dev", "vali", NULL};

static const char *const loss_words[] = {"loss",  "losses", "nll",  "mse",     "mae",  "rmse", "error", "err",
                                         "cost",  "ppl",    "perplexity", "xent", "ce", "bce", "wer", "cer", NULL};
static const char *const score_words[] = {"acc", "accuracy", "auc", "f1",   "f1score", "precision", "recall", "iou",
                                          "miou", "map",     "bleu", "top1", "top5",   "dice",      "r2",    "score",
                                          "correct", NULL};

nt_tag_kind nt_tag_kind_of(const char *tag)
{
    words w;
    if (!split_words(tag, &w))
        return NT_TAG_OTHER;
    /* the last word that names a quantity decides: "loss/acc_head" is an accuracy */
    for (int i = w.n - 1; i >= 0; i--) {
        if (in_list(w.w[i], loss_words) || strstr(w.w[i], "loss"))
            return NT_TAG_LOSS;
        if (in_list(w.w[i], score_words) || strncmp(w.w[i], "acc", 3) == 0)
            return NT_TAG_SCORE;
    }
    return NT_TAG_OTHER;
}

nt_tag_split nt_tag_split_of(const char *tag)
{
    words w;
    if (!split_words(tag, &w))
        return NT_SPLIT_NONE;
    for (int i = 0; i < w.n; i++) {
        if (in_list(w.w[i], train_words))
            return NT_SPLIT_TRAIN;
        if (in_list(w.w[i], val_words))
            return NT_SPLIT_VAL;
    }
    return NT_SPLIT_NONE;
}

bool nt_tag_is_pair(const char *train_tag, const char *val_tag)
{
    words a, b;
    if (!split_words(train_tag, &a) || !split_words(val_tag, &b))
        return false;
    if (a.n == b.n) {
        int diff = -1;
        for (int i = 0; i < a.n; i++) {
            if (a.sep[i] != b.sep[i])
                return false;
            if (strcmp(a.w[i], b.w[i]) != 0) {
                if (diff >= 0)
                    return false;
                diff = i;
            }
        }
        return diff >= 0 && in_list(a.w[diff], train_words) && in_list(b.w[diff], val_words);
    }
    /* Keras: "loss" and "val_loss" — the validation tag is the training tag
     * with a validation word in front, and the training tag names no split. */
    if (b.n == a.n + 1 && in_list(b.w[0], val_words) && nt_tag_split_of(train_tag) == NT_SPLIT_NONE) {
        for (int i = 0; i < a.n; i++)
            if (strcmp(a.w[i], b.w[i + 1]) != 0 || (i > 0 && a.sep[i] != b.sep[i + 1]))
                return false;
        return true;
    }
    return false;
}

static const char *const size_words[] = {"size",  "n",     "num",    "count",  "samples", "examples",
                                         "len",   "length", "number", "nsamples", "items", "datapoints", NULL};
static const char *const fraction_words[] = {"split", "fraction", "frac",  "ratio",   "pct",
                                             "percent", "portion", "share", "holdout", NULL};

/* words that make a count something other than a number of samples */
static const char *const not_samples[] = {"batch", "bs", "step", "steps", "epoch", "epochs", "iter", "iters",
                                          "iteration", "iterations", "token", "tokens", "batches", "lr", NULL};

nt_tag_size nt_tag_size_of(const char *tag)
{
    words w;
    if (!split_words(tag, &w) || nt_tag_kind_of(tag) != NT_TAG_OTHER)
        return NT_SIZE_NONE;
    bool size = false, frac = false;
    nt_tag_split split = NT_SPLIT_NONE;
    for (int i = 0; i < w.n; i++) {
        if (in_list(w.w[i], not_samples))
            return NT_SIZE_NONE;
        size |= in_list(w.w[i], size_words);
        frac |= in_list(w.w[i], fraction_words);
        /* "ntrain", "nval": a count glued to the split word */
        if (w.w[i][0] == 'n' && (in_list(w.w[i] + 1, train_words) || in_list(w.w[i] + 1, val_words))) {
            size = true;
            split = in_list(w.w[i] + 1, train_words) ? NT_SPLIT_TRAIN : NT_SPLIT_VAL;
        }
        if (split == NT_SPLIT_NONE && in_list(w.w[i], train_words))
            split = NT_SPLIT_TRAIN;
        if (split == NT_SPLIT_NONE && in_list(w.w[i], val_words))
            split = NT_SPLIT_VAL;
    }
    if (split == NT_SPLIT_NONE)
        return NT_SIZE_NONE;
    if (frac)
        return split == NT_SPLIT_TRAIN ? NT_FRACTION_TRAIN : NT_FRACTION_VAL;
    if (size)
        return split == NT_SPLIT_TRAIN ? NT_SIZE_TRAIN : NT_SIZE_VAL;
    return NT_SIZE_NONE;
}
