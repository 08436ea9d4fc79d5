/*
 * train_mlp.c — a small classifier trained in plain C that logs to
 * TensorBoard event files through nntrace's public C API.
 *
 *     build/examples/train_mlp RUNDIR [--epochs N] [--lr X] [--seed S]
 *     tensorboard --logdir RUNDIR      (or: nntrace serve RUNDIR)
 *
 * Data: the three-armed "spirals" set in 2-D, generated here from a fixed
 * seed (600 points), shuffled and split 80/20 into train and validation.
 * Model: an MLP 2 -> 32 -> 32 -> 3 with ReLU, softmax cross-entropy, plain
 * minibatch SGD.  Logged each epoch: loss/train, loss/val, accuracy/train,
 * accuracy/val, and a histogram of every layer's weights; at the end: the
 * validation confusion matrix and the decision regions as images, and a
 * text summary.  Uses only <nntrace.h>.
 */
#include <nntrace.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CLASSES 3
#define PER_CLASS 200
#define N_POINTS (N_CLASSES * PER_CLASS)
#define N_IN 2
#define N_H1 32
#define N_H2 32
#define BATCH 16

/* ---------------------------------------------------------------- data */

static uint64_t rng_state;

/* xorshift64*: small, fast, and the same sequence on every platform. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static double rng_uniform(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }

static double rng_normal(void)
{
    double u = rng_uniform(), v = rng_uniform();
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

typedef struct dataset {
    float x[N_POINTS][N_IN];
    int y[N_POINTS];
    int n_train, n_val;
    int order[N_POINTS];   /* first n_train indices train, the rest validation */
} dataset;

/* Three interleaved spiral arms: point i of arm k sits at radius i/N and
 * angle 4k + 4 i/N (radians) plus noise. */
static void make_spirals(dataset *d)
{
    for (int k = 0; k < N_CLASSES; k++) {
        for (int i = 0; i < PER_CLASS; i++) {
            int j = k * PER_CLASS + i;
            double r = (double)i / PER_CLASS;
            double t = 4.0 * k + 4.0 * r + 0.2 * rng_normal();
            d->x[j][0] = (float)(r * sin(t));
            d->x[j][1] = (float)(r * cos(t));
            d->y[j] = k;
        }
    }
    for (int i = 0; i < N_POINTS; i++)
        d->order[i] = i;
    for (int i = N_POINTS - 1; i > 0; i--) {
        int j = (int)(rng_next() % (uint64_t)(i + 1));
        int t = d->order[i];
        d->order[i] = d->order[j];
        d->order[j] = t;
    }
    d->n_train = N_POINTS * 8 / 10;
    d->n_val = N_POINTS - d->n_train;
}

/* ---------------------------------------------------------------- model */

typedef struct layer {
    int n_in, n_out;
    float *w;    /* (n_out, n_in) */
    float *b;    /* (n_out) */
    float *gw, *gb;
} layer;

typedef struct mlp {
    layer l[3];
} mlp;

static int layer_init(layer *l, int n_in, int n_out)
{
    l->n_in = n_in;
    l->n_out = n_out;
    l->w = calloc((size_t)n_in * n_out, sizeof *l->w);
    l->gw = calloc((size_t)n_in * n_out, sizeof *l->gw);
    l->b = calloc((size_t)n_out, sizeof *l->b);
    l->gb = calloc((size_t)n_out, sizeof *l->gb);
    if (!l->w || !l->gw || !l->b || !l->gb)
        return -1;
    double scale = sqrt(2.0 / n_in); /* He initialization for ReLU */
    for (int i = 0; i < n_in * n_out; i++)
        l->w[i] = (float)(scale * rng_normal());
    return 0;
}

static void layer_free(layer *l)
{
    free(l->w);
    free(l->gw);
    free(l->b);
    free(l->gb);
}

/* out (n_out) = W (n_out, n_in) @ in (n_in) + b */
static void layer_forward(const layer *l, const float *in, float *out)
{
    for (int o = 0; o < l->n_out; o++) {
        float s = l->b[o];
        for (int i = 0; i < l->n_in; i++)
            s += l->w[o * l->n_in + i] * in[i];
        out[o] = s;
    }
}

/* Accumulates gW += dout (n_out) x in (n_in), gb += dout; din (n_in) =
 * W^T dout when din is not NULL. */
static void layer_backward(layer *l, const float *in, const float *dout, float *din)
{
    for (int o = 0; o < l->n_out; o++) {
        l->gb[o] += dout[o];
        for (int i = 0; i < l->n_in; i++)
            l->gw[o * l->n_in + i] += dout[o] * in[i];
    }
    if (!din)
        return;
    for (int i = 0; i < l->n_in; i++) {
        float s = 0;
        for (int o = 0; o < l->n_out; o++)
            s += l->w[o * l->n_in + i] * dout[o];
        din[i] = s;
    }
}

typedef struct activations {
    float z1[N_H1], h1[N_H1], z2[N_H2], h2[N_H2], logits[N_CLASSES], prob[N_CLASSES];
} activations;

/* Forward pass of one sample; returns its cross-entropy loss for `label`. */
static double mlp_forward(const mlp *m, const float *x, int label, activations *a)
{
    layer_forward(&m->l[0], x, a->z1);
    for (int i = 0; i < N_H1; i++)
        a->h1[i] = a->z1[i] > 0 ? a->z1[i] : 0;
    layer_forward(&m->l[1], a->h1, a->z2);
    for (int i = 0; i < N_H2; i++)
        a->h2[i] = a->z2[i] > 0 ? a->z2[i] : 0;
    layer_forward(&m->l[2], a->h2, a->logits);
    float mx = a->logits[0];
    for (int c = 1; c < N_CLASSES; c++)
        mx = a->logits[c] > mx ? a->logits[c] : mx;
    double sum = 0;
    for (int c = 0; c < N_CLASSES; c++)
        sum += exp((double)(a->logits[c] - mx));
    for (int c = 0; c < N_CLASSES; c++)
        a->prob[c] = (float)(exp((double)(a->logits[c] - mx)) / sum);
    return -((double)(a->logits[label] - mx) - log(sum));
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Backward pass of one sample (after mlp_forward), accumulating gradients. */
static void mlp_backward(mlp *m, const float *x, int label, const activations *a)
{
    float d3[N_CLASSES], d2[N_H2], d1[N_H1];
    for (int c = 0; c < N_CLASSES; c++)
        d3[c] = a->prob[c] - (c == label ? 1.0f : 0.0f);
    layer_backward(&m->l[2], a->h2, d3, d2);
    for (int i = 0; i < N_H2; i++)
        d2[i] = a->z2[i] > 0 ? d2[i] : 0;
    layer_backward(&m->l[1], a->h1, d2, d1);
    for (int i = 0; i < N_H1; i++)
        d1[i] = a->z1[i] > 0 ? d1[i] : 0;
    layer_backward(&m->l[0], x, d1, NULL);
}

/* w -= lr * g / batch, then clears the gradients. */
static void mlp_step(mlp *m, float lr, int batch)
{
    for (int k = 0; k < 3; k++) {
        layer *l = &m->l[k];
        float s = lr / (float)batch;
        for (int i = 0; i < l->n_in * l->n_out; i++) {
            l->w[i] -= s * l->gw[i];
            l->gw[i] = 0;
        }
        for (int o = 0; o < l->n_out; o++) {
            l->b[o] -= s * l->gb[o];
            l->gb[o] = 0;
        }
    }
}

/* Mean loss and accuracy over order[from, to); fills a confusion matrix
 * (rows = true class, columns = predicted) when conf is not NULL. */
static void evaluate(const mlp *m, const dataset *d, int from, int to, double *loss, double *acc,
                     int conf[N_CLASSES][N_CLASSES])
{
    double total = 0;
    int correct = 0;
    activations a;
    for (int i = from; i < to; i++) {
        int j = d->order[i];
        total += mlp_forward(m, d->x[j], d->y[j], &a);
        int p = argmax(a.prob, N_CLASSES);
        correct += p == d->y[j];
        if (conf)
            conf[d->y[j]][p]++;
    }
    *loss = total / (to - from);
    *acc = (double)correct / (to - from);
}

/* ---------------------------------------------------------------- images */

/* A light-to-dark blue ramp for counts (t in [0, 1]). */
static void ramp(double t, uint8_t *rgb)
{
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    rgb[0] = (uint8_t)(247 - t * (247 - 8));
    rgb[1] = (uint8_t)(251 - t * (251 - 48));
    rgb[2] = (uint8_t)(255 - t * (255 - 107));
}

/* The confusion matrix as cells of `cell` pixels, each row normalized by its
 * class's support so the diagonal reads as recall. */
static uint8_t *confusion_image(int conf[N_CLASSES][N_CLASSES], int cell, int *side)
{
    *side = N_CLASSES * cell;
    uint8_t *px = malloc((size_t)*side * *side * 3);
    if (!px)
        return NULL;
    for (int r = 0; r < N_CLASSES; r++) {
        int support = 0;
        for (int c = 0; c < N_CLASSES; c++)
            support += conf[r][c];
        for (int c = 0; c < N_CLASSES; c++) {
            uint8_t rgb[3];
            ramp(support ? (double)conf[r][c] / support : 0, rgb);
            for (int y = 0; y < cell; y++)
                for (int x = 0; x < cell; x++) {
                    /* a one-pixel white grid between cells */
                    bool edge = x == 0 || y == 0;
                    uint8_t *p = px + (((size_t)(r * cell + y) * *side) + (size_t)(c * cell + x)) * 3;
                    p[0] = edge ? 255 : rgb[0];
                    p[1] = edge ? 255 : rgb[1];
                    p[2] = edge ? 255 : rgb[2];
                }
        }
    }
    return px;
}

/* The plane [-1, 1]^2 colored by predicted class, data points drawn dark. */
static uint8_t *decision_image(const mlp *m, const dataset *d, int side)
{
    static const uint8_t colors[N_CLASSES][3] = {{230, 159, 0}, {86, 180, 233}, {0, 158, 115}};
    uint8_t *px = malloc((size_t)side * side * 3);
    if (!px)
        return NULL;
    activations a;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            float pt[2] = {(float)(2.0 * x / (side - 1) - 1), (float)(1 - 2.0 * y / (side - 1))};
            mlp_forward(m, pt, 0, &a);
            const uint8_t *c = colors[argmax(a.prob, N_CLASSES)];
            uint8_t *p = px + ((size_t)y * side + x) * 3;
            for (int k = 0; k < 3; k++)
                p[k] = (uint8_t)(c[k] / 2 + 127); /* pale background */
        }
    for (int i = 0; i < N_POINTS; i++) {
        int x = (int)lround((d->x[i][0] + 1) / 2 * (side - 1));
        int y = (int)lround((1 - d->x[i][1]) / 2 * (side - 1));
        if (x < 0 || y < 0 || x >= side || y >= side)
            continue;
        uint8_t *p = px + ((size_t)y * side + x) * 3;
        for (int k = 0; k < 3; k++)
            p[k] = (uint8_t)(colors[d->y[i]][k] / 2);
    }
    return px;
}

/* ---------------------------------------------------------------- main */

static int fail(const char *what)
{
    fprintf(stderr, "train_mlp: %s: %s\n", what, nt_last_error());
    return 2;
}

static int usage(void)
{
    fprintf(stderr, "usage: train_mlp RUNDIR [--epochs N] [--lr X] [--seed S]\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *rundir = NULL;
    int epochs = 200;
    double lr = 0.1;
    unsigned long long seed = 42;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--lr") == 0 && i + 1 < argc)
            lr = atof(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' || rundir)
            return usage();
        else
            rundir = argv[i];
    }
    if (!rundir || epochs < 1 || !(lr > 0))
        return usage();
    rng_state = seed ? seed : 1;

    static dataset d;
    make_spirals(&d);
    mlp m;
    memset(&m, 0, sizeof m);
    if (layer_init(&m.l[0], N_IN, N_H1) || layer_init(&m.l[1], N_H1, N_H2) || layer_init(&m.l[2], N_H2, N_CLASSES)) {
        fprintf(stderr, "train_mlp: out of memory\n");
        return 2;
    }

    nt_writer *w;
    if (nt_writer_open(rundir, &w) != NT_OK)
        return fail("cannot open the event writer");
    static const char *const weight_tags[3] = {"weights/fc1", "weights/fc2", "weights/fc3"};
    int rc = 0;
    activations a;
    double loss_tr = 0, acc_tr = 0, loss_val = 0, acc_val = 0;
    for (int epoch = 1; epoch <= epochs && rc == 0; epoch++) {
        /* shuffle the training part only */
        for (int i = d.n_train - 1; i > 0; i--) {
            int j = (int)(rng_next() % (uint64_t)(i + 1));
            int t = d.order[i];
            d.order[i] = d.order[j];
            d.order[j] = t;
        }
        for (int start = 0; start < d.n_train; start += BATCH) {
            int end = start + BATCH < d.n_train ? start + BATCH : d.n_train;
            for (int i = start; i < end; i++) {
                int j = d.order[i];
                mlp_forward(&m, d.x[j], d.y[j], &a);
                mlp_backward(&m, d.x[j], d.y[j], &a);
            }
            mlp_step(&m, (float)lr, end - start);
        }
        evaluate(&m, &d, 0, d.n_train, &loss_tr, &acc_tr, NULL);
        evaluate(&m, &d, d.n_train, N_POINTS, &loss_val, &acc_val, NULL);
        if (nt_writer_scalar(w, "loss/train", epoch, loss_tr) != NT_OK ||
            nt_writer_scalar(w, "loss/val", epoch, loss_val) != NT_OK ||
            nt_writer_scalar(w, "accuracy/train", epoch, acc_tr) != NT_OK ||
            nt_writer_scalar(w, "accuracy/val", epoch, acc_val) != NT_OK) {
            rc = fail("cannot log scalars");
            break;
        }
        for (int k = 0; k < 3; k++)
            if (nt_writer_histogram(w, weight_tags[k], epoch, m.l[k].w,
                                    (size_t)m.l[k].n_in * m.l[k].n_out) != NT_OK) {
                rc = fail("cannot log a histogram");
                break;
            }
        if (epoch % 10 == 0 || epoch == 1 || epoch == epochs)
            printf("epoch %d/%d loss/train %.4f loss/val %.4f accuracy/train %.4f accuracy/val %.4f\n", epoch,
                   epochs, loss_tr, loss_val, acc_tr, acc_val);
    }
    /* NT_TRACE_FLOATS prints a summary to stderr when compiled with
     * -DNT_TRACE_ENABLED=1 and costs nothing otherwise. */
    NT_TRACE_FLOATS("fc1.weight", m.l[0].w, (size_t)N_IN * N_H1);

    if (rc == 0) {
        int conf[N_CLASSES][N_CLASSES] = {{0}};
        evaluate(&m, &d, d.n_train, N_POINTS, &loss_val, &acc_val, conf);
        int side;
        uint8_t *img = confusion_image(conf, 48, &side);
        if (!img || nt_writer_image(w, "confusion_matrix/val", epochs, img, side, side, 3) != NT_OK)
            rc = img ? fail("cannot log the confusion matrix") : fail("out of memory");
        free(img);
        img = rc == 0 ? decision_image(&m, &d, 160) : NULL;
        if (rc == 0 && (!img || nt_writer_image(w, "decision_regions", epochs, img, 160, 160, 3) != NT_OK))
            rc = img ? fail("cannot log the decision regions") : fail("out of memory");
        free(img);

        char text[2048];
        int n = snprintf(text, sizeof text,
                         "MLP 2-%d-%d-%d (ReLU), SGD lr %g, batch %d, %d epochs, seed %llu.\n\n"
                         "Final: loss/train %.4f, loss/val %.4f, accuracy/train %.4f, accuracy/val %.4f\n\n"
                         "Validation confusion matrix (rows = true class, columns = predicted):\n\n"
                         "| true \\ predicted | 0 | 1 | 2 |\n|---|---|---|---|\n",
                         N_H1, N_H2, N_CLASSES, lr, BATCH, epochs, seed, loss_tr, loss_val, acc_tr, acc_val);
        for (int r = 0; r < N_CLASSES && n > 0 && (size_t)n < sizeof text; r++)
            n += snprintf(text + n, sizeof text - (size_t)n, "| %d | %d | %d | %d |\n", r, conf[r][0], conf[r][1],
                          conf[r][2]);
        if (rc == 0 && nt_writer_text(w, "summary", epochs, text) != NT_OK)
            rc = fail("cannot log the text summary");
        printf("confusion (val): [[%d %d %d] [%d %d %d] [%d %d %d]]\n", conf[0][0], conf[0][1], conf[0][2],
               conf[1][0], conf[1][1], conf[1][2], conf[2][0], conf[2][1], conf[2][2]);
    }
    if (nt_writer_close(w) != NT_OK && rc == 0)
        rc = fail("cannot finish the event file");
    for (int k = 0; k < 3; k++)
        layer_free(&m.l[k]);
    if (rc == 0)
        printf("wrote %s\n", rundir);
    return rc;
}
