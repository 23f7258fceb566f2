/*
 * test_gradcheck.c - gradients of every network layer against finite
 * differences, and every fast kernel against its slow reference kernel.
 *
 * Gradient check: for a random projection R the loss is L = sum(out * R),
 * so dL/dout = R is fed to the layer's backward pass (fast float kernel).
 * The numerical gradient is the central difference (L(x+e) - L(x-e)) / 2e,
 * e = 1e-4, of an independent DOUBLE-precision forward implementation
 * written in this file straight from the layer's formula.  Tolerance:
 *     max_k |analytic_k - numeric_k| <= 1e-4 * max(max_k |numeric_k|, 1e-3)
 * The numeric side is exact to ~1e-8; the analytic side carries float
 * rounding (~1e-6 relative for these sizes); a wrong or missing term
 * shows up at the size of the gradient itself.  Gradient buffers are
 * pre-filled with 0.25 to check that backward accumulates (+=).
 *
 * The float forward must agree with the double forward, and each fast kernel
 * with its *_reference kernel (forward and backward) to 1e-5 relative to the
 * largest magnitude of the tensor.
 */
#include "layers.h"
#include "reference_kernels.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-4
#define TOL_GRAD 1e-4
#define TOL_REF 1e-5
#define PREFILL 0.25f

/* ---- helpers ------------------------------------------------------------ */

static unsigned long long rng_state = 88172645463325252ULL;

static double urand(void) // uniform in [-1, 1)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static float *frand(size_t n, double scale)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    if (!x) abort();
    for (size_t k = 0; k < n; k++) x[k] = (float)(scale * urand());
    return x;
}

static float *ffill(size_t n, float v)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    if (!x) abort();
    for (size_t k = 0; k < n; k++) x[k] = v;
    return x;
}

static double *todouble(const float *x, size_t n)
{
    double *y = malloc(sizeof(double) * (n ? n : 1));
    if (!y) abort();
    for (size_t k = 0; k < n; k++) y[k] = x ? x[k] : 0.0;
    return y;
}

/* Dropout mask: 0 with probability 0.3, else 1/(1-0.3). */
static float *fmask(size_t n)
{
    float *m = malloc(sizeof(float) * n);
    if (!m) abort();
    for (size_t k = 0; k < n; k++) m[k] = urand() < -0.4 ? 0.0f : (float)(1.0 / 0.7);
    return m;
}

/* max_k |a_k - b_k| / max(max_k |b_k|, floor); a is float (minus offset), b double */
static double rel_error(const float *a, float offset, const double *b, size_t n, double floor)
{
    double e = 0, m = floor;
    for (size_t k = 0; k < n; k++) {
        double d = fabs(((double)a[k] - offset) - b[k]);
        if (!(d <= e)) e = d; // NaN propagates
        if (fabs(b[k]) > m) m = fabs(b[k]);
    }
    return e / m;
}

static double rel_error_ff(const float *a, const float *b, size_t n)
{
    double *bd = todouble(b, n);
    double e = rel_error(a, 0.0f, bd, n, 1e-6);
    free(bd);
    return e;
}

typedef struct {
    const char *name;
    double *x;             // double copy of the tensor, perturbed
    size_t n;
    const float *analytic; // gradient from the fast backward (pre-filled with PREFILL)
} grad_item;

/* Central differences of loss() with respect to each item, compared with the
 * analytic gradient. */
static void gradcheck(const char *what, double (*loss)(void *), void *ctx, const grad_item *items, int nitems)
{
    for (int it = 0; it < nitems; it++) {
        const grad_item *g = &items[it];
        double *num = malloc(sizeof(double) * g->n);
        if (!num) abort();
        for (size_t k = 0; k < g->n; k++) {
            const double save = g->x[k];
            g->x[k] = save + EPS;
            const double lp = loss(ctx);
            g->x[k] = save - EPS;
            const double lm = loss(ctx);
            g->x[k] = save;
            num[k] = (lp - lm) / (2 * EPS);
        }
        double e = rel_error(g->analytic, PREFILL, num, g->n, 1e-3);
        tap_check(e <= TOL_GRAD, "%s: d%s matches finite differences (rel err %.2e <= %.0e)", what, g->name, e,
                  TOL_GRAD);
        free(num);
    }
}

static double project(const double *out, const double *r, size_t n)
{
    double s = 0;
    for (size_t k = 0; k < n; k++) s += out[k] * r[k];
    return s;
}

/* ---- Conv2D ----------------------------------------------------------------- */

typedef struct {
    conv2d_dims d;
    double *inp, *w, *b, *r, *out;
} conv_ctx;

static void conv2d_double(double *out, const double *inp, const double *w, const double *b, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, K = d->K, P = K / 2;
    for (int n = 0; n < d->B; n++)
        for (int o = 0; o < d->OC; o++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    double s = b[o];
                    for (int c = 0; c < d->IC; c++)
                        for (int i = 0; i < K; i++)
                            for (int j = 0; j < K; j++) {
                                int yy = y + i - P, xx = x + j - P;
                                if (yy >= 0 && yy < H && xx >= 0 && xx < W)
                                    s += w[((o * d->IC + c) * K + i) * K + j] * inp[((n * d->IC + c) * H + yy) * W + xx];
                            }
                    out[((n * d->OC + o) * H + y) * W + x] = s;
                }
}

static double conv_loss(void *p)
{
    conv_ctx *c = p;
    conv2d_double(c->out, c->inp, c->w, c->b, &c->d);
    return project(c->out, c->r, (size_t)c->d.B * c->d.OC * c->d.H * c->d.W);
}

static void test_conv2d(int B, int IC, int OC, int H, int W, int K, int do_gradcheck)
{
    conv2d_dims d = {.B = B, .IC = IC, .OC = OC, .H = H, .W = W, .K = K};
    char what[96];
    snprintf(what, sizeof what, "conv2d B=%d %dx%dx%d->%d K=%d", B, IC, H, W, OC, K);
    const size_t ni = (size_t)B * IC * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * IC * K * K;
    float *inp = frand(ni, 1), *w = frand(nw, 0.5), *b = frand(OC, 0.5), *r = frand(no, 1);
    float *scratch = ffill(conv2d_scratch_floats(&d), NAN); // garbage must not matter
    float *out = ffill(no, NAN), *out_ref = ffill(no, NAN);

    conv2d_forward(out, inp, w, b, scratch, &d);
    conv2d_forward_reference(out_ref, inp, w, b, &d);
    tap_check(rel_error_ff(out, out_ref, no) <= TOL_REF, "%s: forward matches reference kernel", what);

    float *dinp = ffill(ni, PREFILL), *dw = ffill(nw, PREFILL), *db = ffill(OC, PREFILL);
    float *dinp_r = ffill(ni, PREFILL), *dw_r = ffill(nw, PREFILL), *db_r = ffill(OC, PREFILL);
    conv2d_backward(dinp, dw, db, r, inp, w, scratch, &d);
    conv2d_backward_reference(dinp_r, dw_r, db_r, r, inp, w, &d);
    tap_check(rel_error_ff(dinp, dinp_r, ni) <= TOL_REF && rel_error_ff(dw, dw_r, nw) <= TOL_REF &&
                  rel_error_ff(db, db_r, OC) <= TOL_REF,
              "%s: backward matches reference kernel", what);
    float *dw2 = ffill(nw, PREFILL);
    conv2d_backward(NULL, dw2, NULL, r, inp, w, scratch, &d);
    tap_check(rel_error_ff(dw2, dw, nw) <= TOL_REF, "%s: backward without dinp/dbias gives the same dweight", what);

    if (do_gradcheck) {
        conv_ctx c = {d, todouble(inp, ni), todouble(w, nw), todouble(b, OC), todouble(r, no), todouble(NULL, no)};
        conv2d_double(c.out, c.inp, c.w, c.b, &d);
        tap_check(rel_error(out, 0, c.out, no, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
        grad_item items[] = {{"inp", c.inp, ni, dinp}, {"weight", c.w, nw, dw}, {"bias", c.b, OC, db}};
        gradcheck(what, conv_loss, &c, items, 3);
        free(c.inp), free(c.w), free(c.b), free(c.r), free(c.out);
    }
    free(inp), free(w), free(b), free(r), free(scratch), free(out), free(out_ref);
    free(dinp), free(dw), free(db), free(dinp_r), free(dw_r), free(db_r), free(dw2);
}

/* ---- MaxPool2D ------------------------------------------------------------- */

typedef struct {
    maxpool2d_dims d;
    double *inp, *r, *out;
} pool_ctx;

static void maxpool_double(double *out, const double *inp, const maxpool2d_dims *d)
{
    const int OH = (d->H + 1) / 2, OW = (d->W + 1) / 2;
    for (int p = 0; p < d->B * d->C; p++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                double m = -INFINITY;
                for (int y = 2 * oy; y < 2 * oy + 2 && y < d->H; y++)
                    for (int x = 2 * ox; x < 2 * ox + 2 && x < d->W; x++)
                        m = fmax(m, inp[((size_t)p * d->H + y) * d->W + x]);
                out[((size_t)p * OH + oy) * OW + ox] = m;
            }
}

static double pool_loss(void *p)
{
    pool_ctx *c = p;
    maxpool_double(c->out, c->inp, &c->d);
    return project(c->out, c->r, (size_t)c->d.B * c->d.C * ((c->d.H + 1) / 2) * ((c->d.W + 1) / 2));
}

static void test_maxpool2d(int B, int C, int H, int W)
{
    maxpool2d_dims d = {B, C, H, W};
    char what[64];
    snprintf(what, sizeof what, "maxpool2d B=%d C=%d %dx%d", B, C, H, W);
    const size_t ni = (size_t)B * C * H * W, no = (size_t)B * C * maxpool2d_out_size(H) * maxpool2d_out_size(W);
    // distinct values 0.01 apart (no ties, and far more than EPS apart), shuffled
    float *inp = malloc(sizeof(float) * ni);
    for (size_t k = 0; k < ni; k++) inp[k] = 0.01f * (float)k - 0.005f * (float)ni;
    for (size_t k = ni - 1; k > 0; k--) {
        size_t j = (size_t)((urand() + 1) / 2 * (k + 1));
        if (j > k) j = k;
        float t = inp[k];
        inp[k] = inp[j], inp[j] = t;
    }
    float *r = frand(no, 1), *out = ffill(no, NAN), *dinp = ffill(ni, PREFILL);
    int *argmax = malloc(sizeof(int) * no);
    maxpool2d_forward(out, argmax, inp, &d);
    maxpool2d_backward(dinp, r, argmax, &d);
    pool_ctx c = {d, todouble(inp, ni), todouble(r, no), todouble(NULL, no)};
    maxpool_double(c.out, c.inp, &d);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) == 0, "%s: forward matches double precision exactly", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp}};
    gradcheck(what, pool_loss, &c, items, 1);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(dinp), free(argmax);
}

/* ---- UpSampling2D ---------------------------------------------------------- */

typedef struct {
    upsample2d_dims d;
    double *inp, *r, *out;
} up_ctx;

static double up_loss(void *p)
{
    up_ctx *c = p;
    const upsample2d_dims *d = &c->d;
    for (int q = 0; q < d->B * d->C; q++)
        for (int y = 0; y < 2 * d->H; y++)
            for (int x = 0; x < 2 * d->W; x++)
                c->out[((size_t)q * 2 * d->H + y) * 2 * d->W + x] = c->inp[((size_t)q * d->H + y / 2) * d->W + x / 2];
    return project(c->out, c->r, (size_t)d->B * d->C * 4 * d->H * d->W);
}

static void test_upsample2d(int B, int C, int H, int W)
{
    upsample2d_dims d = {B, C, H, W};
    char what[64];
    snprintf(what, sizeof what, "upsample2d B=%d C=%d %dx%d", B, C, H, W);
    const size_t ni = (size_t)B * C * H * W, no = 4 * ni;
    float *inp = frand(ni, 1), *r = frand(no, 1), *out = ffill(no, NAN), *dinp = ffill(ni, PREFILL);
    upsample2d_forward(out, inp, &d);
    upsample2d_backward(dinp, r, &d);
    up_ctx c = {d, todouble(inp, ni), todouble(r, no), todouble(NULL, no)};
    up_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) == 0, "%s: forward matches double precision exactly", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp}};
    gradcheck(what, up_loss, &c, items, 1);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(dinp);
}

/* ---- Dense ------------------------------------------------------------------ */

typedef struct {
    dense_dims d;
    double *inp, *w, *b, *r, *out;
} dense_ctx;

static double dense_loss(void *p)
{
    dense_ctx *c = p;
    const dense_dims *d = &c->d;
    for (int n = 0; n < d->B; n++)
        for (int o = 0; o < d->OUT; o++) {
            double s = c->b[o];
            for (int i = 0; i < d->IN; i++) s += c->inp[n * d->IN + i] * c->w[o * d->IN + i];
            c->out[n * d->OUT + o] = s;
        }
    return project(c->out, c->r, (size_t)d->B * d->OUT);
}

static void test_dense(int B, int IN, int OUT)
{
    dense_dims d = {B, IN, OUT};
    char what[64];
    snprintf(what, sizeof what, "dense B=%d %d->%d", B, IN, OUT);
    const size_t ni = (size_t)B * IN, no = (size_t)B * OUT, nw = (size_t)OUT * IN;
    float *inp = frand(ni, 1), *w = frand(nw, 0.5), *b = frand(OUT, 0.5), *r = frand(no, 1);
    float *out = ffill(no, NAN), *out_ref = ffill(no, NAN);
    dense_forward(out, inp, w, b, &d);
    dense_forward_reference(out_ref, inp, w, b, &d);
    tap_check(rel_error_ff(out, out_ref, no) <= TOL_REF, "%s: forward matches reference kernel", what);
    float *dinp = ffill(ni, PREFILL), *dw = ffill(nw, PREFILL), *db = ffill(OUT, PREFILL);
    float *dinp_r = ffill(ni, PREFILL), *dw_r = ffill(nw, PREFILL), *db_r = ffill(OUT, PREFILL);
    dense_backward(dinp, dw, db, r, inp, w, &d);
    dense_backward_reference(dinp_r, dw_r, db_r, r, inp, w, &d);
    tap_check(rel_error_ff(dinp, dinp_r, ni) <= TOL_REF && rel_error_ff(dw, dw_r, nw) <= TOL_REF &&
                  rel_error_ff(db, db_r, OUT) <= TOL_REF,
              "%s: backward matches reference kernel", what);
    dense_ctx c = {d, todouble(inp, ni), todouble(w, nw), todouble(b, OUT), todouble(r, no), todouble(NULL, no)};
    dense_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp}, {"weight", c.w, nw, dw}, {"bias", c.b, OUT, db}};
    gradcheck(what, dense_loss, &c, items, 3);
    free(c.inp), free(c.w), free(c.b), free(c.r), free(c.out);
    free(inp), free(w), free(b), free(r), free(out), free(out_ref);
    free(dinp), free(dw), free(db), free(dinp_r), free(dw_r), free(db_r);
}

/* ---- LSTM -------------------------------------------------------------------- */

typedef struct {
    lstm_dims d;
    double *inp, *wih, *whh, *b, *r, *out;
    const float *mx, *mh; // masks (float, not perturbed) or NULL
} lstm_ctx;

static double sigm(double x) { return 1 / (1 + exp(-x)); }

static double mask_value(const float *m, int k, int n, int j, int width, const lstm_dims *d)
{
    if (!m) return 1.0;
    int g = d->mask_gates == 4 ? k : 0;
    return m[((size_t)g * d->B + n) * width + j];
}

/* Keras LSTM, straight from the equations, one sample at a time. */
static double lstm_loss(void *p)
{
    lstm_ctx *c = p;
    const lstm_dims *d = &c->d;
    const int H = d->HID, IN = d->IN;
    double *h = calloc(H, sizeof(double)), *cc = calloc(H, sizeof(double)), *z = malloc(sizeof(double) * 4 * H);
    for (int n = 0; n < d->B; n++) {
        memset(h, 0, sizeof(double) * H);
        memset(cc, 0, sizeof(double) * H);
        for (int t = 0; t < d->S; t++) {
            const double *x = c->inp + ((size_t)n * d->S + t) * IN;
            for (int k = 0; k < 4; k++)
                for (int u = 0; u < H; u++) {
                    int row = k * H + u;
                    double s = c->b[row];
                    for (int j = 0; j < IN; j++) s += c->wih[row * IN + j] * x[j] * mask_value(c->mx, k, n, j, IN, d);
                    for (int j = 0; j < H; j++) s += c->whh[row * H + j] * h[j] * mask_value(c->mh, k, n, j, H, d);
                    z[row] = s;
                }
            for (int u = 0; u < H; u++) {
                double i = sigm(z[u]), f = sigm(z[H + u]), g = tanh(z[2 * H + u]), o = sigm(z[3 * H + u]);
                cc[u] = f * cc[u] + i * g;
                h[u] = o * tanh(cc[u]);
            }
            if (d->return_sequences)
                memcpy(c->out + ((size_t)n * d->S + t) * H, h, sizeof(double) * H);
            else if (t == d->S - 1)
                memcpy(c->out + (size_t)n * H, h, sizeof(double) * H);
        }
    }
    free(h), free(cc), free(z);
    return project(c->out, c->r, (size_t)d->B * (d->return_sequences ? d->S : 1) * H);
}

/* masks: 0 none, 1 shared by the gates, 4 per gate */
static void test_lstm(int B, int S, int IN, int H, int return_sequences, int masks)
{
    lstm_dims d = {.B = B, .S = S, .IN = IN, .HID = H, .return_sequences = return_sequences,
                   .mask_gates = masks ? masks : 1};
    char what[96];
    snprintf(what, sizeof what, "lstm B=%d S=%d %d->%d %s, %s", B, S, IN, H, return_sequences ? "sequences" : "last",
             masks == 0 ? "no dropout" : masks == 1 ? "shared dropout masks" : "per-gate dropout masks");
    const size_t ni = (size_t)B * S * IN, no = (size_t)B * (return_sequences ? S : 1) * H;
    const size_t nwi = (size_t)4 * H * IN, nwh = (size_t)4 * H * H;
    float *inp = frand(ni, 1), *wih = frand(nwi, 0.6), *whh = frand(nwh, 0.6), *b = frand(4 * H, 0.5);
    float *r = frand(no, 1);
    float *mx = masks ? fmask((size_t)masks * B * IN) : NULL, *mh = masks ? fmask((size_t)masks * B * H) : NULL;
    float *state = ffill(lstm_state_floats(&d), NAN), *state_r = ffill(lstm_state_floats(&d), NAN);
    float *scratch = ffill(lstm_scratch_floats(&d), NAN);
    float *out = ffill(no, NAN), *out_r = ffill(no, NAN);

    lstm_forward(out, state, inp, wih, whh, b, mx, mh, scratch, &d);
    lstm_forward_reference(out_r, state_r, inp, wih, whh, b, mx, mh, &d);
    tap_check(rel_error_ff(out, out_r, no) <= TOL_REF &&
                  rel_error_ff(state, state_r, lstm_state_floats(&d)) <= TOL_REF,
              "%s: forward (output and saved state) matches reference kernel", what);

    float *dinp = ffill(ni, PREFILL), *dwi = ffill(nwi, PREFILL), *dwh = ffill(nwh, PREFILL), *db = ffill(4 * H, PREFILL);
    float *dinp_r = ffill(ni, PREFILL), *dwi_r = ffill(nwi, PREFILL), *dwh_r = ffill(nwh, PREFILL);
    float *db_r = ffill(4 * H, PREFILL);
    lstm_backward(dinp, dwi, dwh, db, r, inp, wih, whh, mx, mh, state, scratch, &d);
    int ref_status = lstm_backward_reference(dinp_r, dwi_r, dwh_r, db_r, r, inp, wih, whh, mx, mh, state_r, &d);
    tap_check(ref_status == DSC_OK && rel_error_ff(dinp, dinp_r, ni) <= TOL_REF && rel_error_ff(dwi, dwi_r, nwi) <= TOL_REF &&
                  rel_error_ff(dwh, dwh_r, nwh) <= TOL_REF && rel_error_ff(db, db_r, 4 * H) <= TOL_REF,
              "%s: backward matches reference kernel", what);

    lstm_ctx c = {d,
                  todouble(inp, ni),
                  todouble(wih, nwi),
                  todouble(whh, nwh),
                  todouble(b, 4 * H),
                  todouble(r, no),
                  todouble(NULL, no),
                  mx,
                  mh};
    lstm_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp},
                         {"weight_ih", c.wih, nwi, dwi},
                         {"weight_hh", c.whh, nwh, dwh},
                         {"bias", c.b, 4 * H, db}};
    // with S = 1 weight_hh never meets a non-zero h: its gradient must be 0
    gradcheck(what, lstm_loss, &c, items, 4);
    free(c.inp), free(c.wih), free(c.whh), free(c.b), free(c.r), free(c.out);
    free(inp), free(wih), free(whh), free(b), free(r), free(mx), free(mh), free(state), free(state_r);
    free(scratch), free(out), free(out_r), free(dinp), free(dwi), free(dwh), free(db);
    free(dinp_r), free(dwi_r), free(dwh_r), free(db_r);
}

/* ---- activations and MSE ------------------------------------------------------ */

typedef struct {
    activation_kind a;
    double *inp, *r, *out;
    size_t n;
} act_ctx;

static double act_loss(void *p)
{
    act_ctx *c = p;
    for (size_t k = 0; k < c->n; k++) {
        double x = c->inp[k];
        c->out[k] = c->a == ACTIVATION_TANH      ? tanh(x)
                    : c->a == ACTIVATION_SIGMOID ? 1 / (1 + exp(-x))
                    : c->a == ACTIVATION_RELU    ? (x > 0 ? x : 0)
                                                 : x;
    }
    return project(c->out, c->r, c->n);
}

static void test_activation(activation_kind a)
{
    const size_t n = 57;
    char what[64];
    snprintf(what, sizeof what, "activation %s", activation_name(a));
    float *inp = frand(n, 3), *r = frand(n, 1), *out = ffill(n, NAN), *dinp = ffill(n, PREFILL);
    activation_forward(out, inp, n, a);
    activation_backward(dinp, r, out, n, a);
    act_ctx c = {a, todouble(inp, n), todouble(r, n), todouble(NULL, n), n};
    act_loss(&c);
    tap_check(rel_error(out, 0, c.out, n, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
    // in place
    float *io = malloc(sizeof(float) * n);
    memcpy(io, inp, sizeof(float) * n);
    activation_forward(io, io, n, a);
    tap_check(memcmp(io, out, sizeof(float) * n) == 0, "%s: forward in place gives the same result", what);
    grad_item items[] = {{"inp", c.inp, n, dinp}};
    gradcheck(what, act_loss, &c, items, 1);
    tap_check(activation_parse(activation_name(a)) == (int)a, "%s: name parses back", what);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(dinp), free(io);
}

typedef struct {
    double *yhat, *y;
    size_t n;
} mse_ctx;

static double mse_loss_double(void *p)
{
    mse_ctx *c = p;
    double s = 0;
    for (size_t k = 0; k < c->n; k++) s += (c->yhat[k] - c->y[k]) * (c->yhat[k] - c->y[k]);
    return s / (double)c->n;
}

static void test_mse(void)
{
    const size_t n = 2 * 3 * 5 * 7;
    float *yhat = frand(n, 1), *y = frand(n, 1), *dy = ffill(n, NAN);
    float loss = mse_loss(dy, yhat, y, n);
    mse_ctx c = {todouble(yhat, n), todouble(y, n), n};
    double ld = mse_loss_double(&c);
    tap_check(fabs(loss - ld) <= TOL_REF * ld, "mse: loss %.6f matches double precision %.6f", loss, ld);
    tap_check(mse_loss(NULL, yhat, y, n) == loss, "mse: loss without gradient is the same");
    for (size_t k = 0; k < n; k++) dy[k] += PREFILL; // mse_loss writes; gradcheck expects the prefill offset
    grad_item items[] = {{"yhat", c.yhat, n, dy}};
    gradcheck("mse", mse_loss_double, &c, items, 1);
    float z = mse_loss(NULL, yhat, yhat, n);
    tap_check(z == 0.0f, "mse: zero for a perfect reconstruction");
    free(c.yhat), free(c.y), free(yhat), free(y), free(dy);
}

#include "gradcheck_1d.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();

    // gradient checks at odd sizes, several channels, batch 2
    test_conv2d(2, 3, 4, 7, 5, 3, 1);
    test_conv2d(2, 3, 4, 7, 5, 5, 1);
    test_conv2d(2, 2, 3, 4, 6, 1, 1);
    test_conv2d(1, 2, 2, 3, 2, 5, 1); // kernel wider than the image
    // fast vs reference on the GEMM paths: one image per GEMM (H*W >= 1024)
    // and a chunk of 2 images followed by a remainder of 1
    test_conv2d(2, 3, 5, 33, 32, 3, 0);
    test_conv2d(3, 4, 6, 23, 25, 3, 0);
    test_conv2d(8, 16, 8, 3, 3, 3, 0);

    test_maxpool2d(2, 3, 7, 5);
    test_maxpool2d(2, 2, 6, 4);
    test_maxpool2d(1, 2, 1, 3);
    test_upsample2d(2, 3, 3, 4);
    test_dense(3, 7, 5);
    test_dense(1, 4608, 3);

    for (int S = 1; S <= 3; S += 2)
        for (int seq = 0; seq <= 1; seq++)
            for (int masks = 0; masks <= 4; masks += (masks == 0 ? 1 : 3)) test_lstm(2, S, 5, 3, seq, masks);
    test_lstm(3, 4, 6, 4, 1, 4);

    test_activation(ACTIVATION_TANH);
    test_activation(ACTIVATION_SIGMOID);
    test_activation(ACTIVATION_IDENTITY);
    test_activation(ACTIVATION_RELU);
    {
        // ReLU: exact zeros below 0 (the gradient too), a NaN passes through
        float in[4] = {-2.0f, 0.0f, 1.5f, NAN}, out[4], d[4] = {0, 0, 0, 0}, one[4] = {1, 1, 1, 1};
        activation_forward(out, in, 4, ACTIVATION_RELU);
        activation_backward(d, one, out, 4, ACTIVATION_RELU);
        tap_check(out[0] == 0 && out[1] == 0 && out[2] == 1.5f && isnan(out[3]) && d[0] == 0 && d[1] == 0 && d[2] == 1,
                  "activation relu: max(0, x), gradient 0 at and below the kink, NaN kept");
    }
    tap_check(activation_parse("gelu") == -1, "activation: unknown name rejected");
    test_mse();
    test_dtc_layers();

    int status = tap_finish();
    MPI_Finalize();
    return status;
}
