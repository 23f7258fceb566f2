/*
 * model_dtc.c - the DTC baseline network (model_dtc.h): parameter table,
 * Keras default initialisation, forward and backward.
 *
 * The layers follow the DTC authors' temporal autoencoder (Madiraju et al.
 * 2018, section 3.1 and Fig. 1) in the form of the public Keras code by
 * F. Forest (TAE.py): Conv1D + LeakyReLU, MaxPool1D, Bidirectional LSTM
 * with merge_mode 'sum' + LeakyReLU twice, UpSampling by P and a
 * transposed convolution back to one channel.  Deviations (doc/baselines.md):
 * the output layer is a Conv1D 'same' (a stride-1 transposed convolution is
 * a convolution with the kernel reversed, the same family of functions);
 * a last pooling window shorter than P when P does not divide d (the DTC
 * code asks P to divide the length); no dropout (the DTC code has none).
 *
 * Sequences are channels last (B, L, C) so every buffer passes on to the
 * next layer unchanged (layers.h).  Dimension letters as in model_dtc.h.
 */
#include "model_dtc.h"
#include "model_impl.h"
#include "model_params.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct model_dtc_net {
    int d, F, K, P, Lp, H1, H2;
    int tconv_w, tconv_b;          /* enc.conv1 */
    int tl[2][2][3];               /* [layer][direction][weight_ih, weight_hh, bias] */
    int tdec_w, tdec_b;            /* dec.out */
    float *conv_act;               /* (B, d, F) after the leaky ReLU */
    float *pool_out;               /* (B, Lp, F) */
    int *pool_arg;                 /* (B, Lp, F) */
    float *lstm1;                  /* (B, Lp, H1) after the leaky ReLU; the second is m->latent */
    float *lstm_state[2];          /* bilstm_state_floats */
    float *up;                     /* (B, d, H2) */
};

/* ---- configuration ---------------------------------------------------------- */

void model_dtc_config_defaults(model_config *c)
{
    c->conv[0] = 50;
    c->kernel = 10;
    c->pool = 10;
    c->lstm[0] = 50;
    c->lstm[1] = 1;
}

static long long field_size(const model_config *c) { return (long long)c->vars * c->height * c->width; }

int model_dtc_latent_size(const model_config *c)
{
    if (c->pool < 1) return 0;
    long long L = (field_size(c) + c->pool - 1) / c->pool * c->lstm[1];
    return L > 0 && L <= 1 << 30 ? (int)L : 0;
}

static int dtc_check(const model_config *c)
{
    if (c->steps != 1)
        return dsc_fail("model: --variant dtc reads one time step per sample (its field flattened to one row), not %d; "
                        "use --steps 1", c->steps);
    if (c->vars < 1 || c->height < 1 || c->width < 1)
        return dsc_fail("model: field of %d variables on %d x %d; all must be >= 1", c->vars, c->height, c->width);
    if (c->conv[0] < 1 || c->kernel < 1 || c->pool < 1 || c->lstm[0] < 1 || c->lstm[1] < 1)
        return dsc_fail("model: DTC filters %d, kernel %d, pool %d and BiLSTM sizes %d, %d must all be >= 1", c->conv[0],
                        c->kernel, c->pool, c->lstm[0], c->lstm[1]);
    if (c->conv[0] > 65536 || c->kernel > 65536 || c->pool > 1 << 20 || c->lstm[0] > 65536 || c->lstm[1] > 65536)
        return dsc_fail("model: DTC filters %d, kernel %d, BiLSTM sizes %d, %d (at most 65536) or pool %d (at most "
                        "1048576) too large", c->conv[0], c->kernel, c->lstm[0], c->lstm[1], c->pool);
    if (field_size(c) > 1 << 28 || model_dtc_latent_size(c) < 1)
        return dsc_fail("model: a field of %lld values is too long for --variant dtc; use fewer variables or a coarser grid",
                        field_size(c));
    if (c->clusters < 0) return dsc_fail("model: %d clusters; must be >= 0", c->clusters);
    return DSC_OK;
}

static void dtc_format(const model_config *c, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s V=%d H=%d W=%d d=%lld filters=%d kernel=%d pool=%d bilstm=%d,%d latent=%d (%d x %d) act=leaky-relu",
             name, c->vars, c->height, c->width, field_size(c), c->conv[0], c->kernel, c->pool, c->lstm[0], c->lstm[1],
             model_dtc_latent_size(c), c->pool > 0 ? (int)((field_size(c) + c->pool - 1) / c->pool) : 0, c->lstm[1]);
}

/* ---- create / destroy -------------------------------------------------------- */

static void layout(model *m, struct model_dtc_net *n)
{
    char name[MODEL_NAME_LEN];
    n->tconv_w = model_add_tensor(m, "enc.conv1.weight", 3, n->F, 1, n->K, 0);
    n->tconv_b = model_add_tensor(m, "enc.conv1.bias", 1, n->F, 0, 0, 0);
    const char *dir[2] = {"fwd", "bwd"};
    for (int l = 0; l < 2; l++) {
        const int in = l == 0 ? n->F : n->H1, hid = l == 0 ? n->H1 : n->H2;
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "enc.lstm%d.%s.weight_ih", l + 1, dir[k]);
            n->tl[l][k][0] = model_add_tensor(m, name, 2, 4 * hid, in, 0, 0);
            snprintf(name, sizeof name, "enc.lstm%d.%s.weight_hh", l + 1, dir[k]);
            n->tl[l][k][1] = model_add_tensor(m, name, 2, 4 * hid, hid, 0, 0);
            snprintf(name, sizeof name, "enc.lstm%d.%s.bias", l + 1, dir[k]);
            n->tl[l][k][2] = model_add_tensor(m, name, 1, 4 * hid, 0, 0, 0);
        }
    }
    n->tdec_w = model_add_tensor(m, "dec.out.weight", 3, 1, n->H2, n->K, 0);
    n->tdec_b = model_add_tensor(m, "dec.out.bias", 1, 1, 0, 0, 0);
    model_layout_centroids(m);
}

static conv1d_dims enc_conv_dims(const struct model_dtc_net *n, int B)
{
    conv1d_dims d = {.B = B, .L = n->d, .IC = 1, .OC = n->F, .K = n->K};
    return d;
}

static conv1d_dims dec_conv_dims(const struct model_dtc_net *n, int B)
{
    conv1d_dims d = {.B = B, .L = n->d, .IC = n->H2, .OC = 1, .K = n->K};
    return d;
}

static bilstm_dims bilstm_dims_of(const struct model_dtc_net *n, int l, int B)
{
    bilstm_dims d = {.B = B, .S = n->Lp, .IN = l == 0 ? n->F : n->H1, .HID = l == 0 ? n->H1 : n->H2};
    return d;
}

static int dtc_create(model *m)
{
    const int max_batch = m->max_batch;
    model_config *c = &m->cfg;
    struct model_dtc_net *n = dsc_calloc(1, sizeof *n, "DTC network");
    if (!n) return DSC_ERR;
    m->dtc = n;
    m->has_lstm = 0; /* the fields of the DSC LSTMs stay unused */
    m->has_decoder = 1;
    n->d = (int)field_size(c);
    n->F = c->conv[0];
    n->K = c->kernel;
    n->P = c->pool;
    n->H1 = c->lstm[0];
    n->H2 = c->lstm[1];
    n->Lp = maxpool1d_out_size(n->d, n->P);
    c->latent = model_dtc_latent_size(c);
    m->features = n->d;
    layout(m, n);

    const size_t B = (size_t)max_batch, d = (size_t)n->d, Lp = (size_t)n->Lp;
    int ok = model_alloc_floats(&m->params, m->nparams, "model parameters") == DSC_OK &&
             model_alloc_floats(&m->grads, m->nparams, "model gradients") == DSC_OK &&
             model_alloc_floats(&n->conv_act, B * d * n->F, "DTC convolution output") == DSC_OK &&
             model_alloc_floats(&n->pool_out, B * Lp * n->F, "DTC pooling output") == DSC_OK &&
             (n->pool_arg = dsc_calloc(B * Lp * n->F, sizeof(int), "DTC pooling arg-max")) != NULL &&
             model_alloc_floats(&n->lstm1, B * Lp * n->H1, "DTC BiLSTM output") == DSC_OK &&
             model_alloc_floats(&m->latent, B * c->latent, "latent") == DSC_OK &&
             model_alloc_floats(&n->up, B * d * n->H2, "DTC up-sampling") == DSC_OK &&
             model_alloc_floats(&m->recon, B * d, "reconstruction") == DSC_OK;
    size_t scratch = 0;
    for (int l = 0; ok && l < 2; l++) {
        bilstm_dims bd = bilstm_dims_of(n, l, max_batch);
        ok = model_alloc_floats(&n->lstm_state[l], bilstm_state_floats(&bd), "DTC BiLSTM state") == DSC_OK;
        scratch = model_max_size(scratch, bilstm_scratch_floats(&bd));
    }
    conv1d_dims ce = enc_conv_dims(n, max_batch), cd = dec_conv_dims(n, max_batch);
    scratch = model_max_size(scratch, model_max_size(conv1d_scratch_floats(&ce), conv1d_scratch_floats(&cd)));
    size_t dmax = model_max_size(B * d * n->F, B * d * n->H2);
    dmax = model_max_size(dmax, B * Lp * model_max_size((size_t)n->F, model_max_size((size_t)n->H1, (size_t)n->H2)));
    if (ok) ok = model_alloc_work(m, dmax, scratch) == DSC_OK;
    if (!ok) return DSC_ERR; /* model_create frees everything */
    model_bind_centroids(m);
    return DSC_OK;
}

/* The common buffers are model.c's. */
static void dtc_destroy(model *m)
{
    struct model_dtc_net *n = m->dtc;
    if (!n) return;
    free(n->conv_act);
    free(n->pool_out);
    free(n->pool_arg);
    free(n->lstm1);
    free(n->lstm_state[0]);
    free(n->lstm_state[1]);
    free(n->up);
    free(n);
    m->dtc = NULL;
}

/* ---- Keras default initialisation ---------------------------------------------- */

/* In table order, from r (model_init seeds it). */
static int dtc_init(model *m, rng_state *r)
{
    struct model_dtc_net *n = m->dtc;
    /* Conv1D kernel (K, IC, OC): fan_in = IC*K, fan_out = OC*K; zero bias */
    model_glorot_uniform(r, model_param(m, n->tconv_w), (size_t)n->F * n->K, n->K, (double)n->F * n->K);
    memset(model_param(m, n->tconv_b), 0, sizeof(float) * (size_t)n->F);
    for (int l = 0; l < 2; l++) {
        const int in = l == 0 ? n->F : n->H1, hid = l == 0 ? n->H1 : n->H2;
        for (int k = 0; k < 2; k++) {
            model_glorot_uniform(r, model_param(m, n->tl[l][k][0]), (size_t)4 * hid * in, in, 4.0 * hid);
            if (model_orthogonal(r, model_param(m, n->tl[l][k][1]), 4 * hid, hid) != DSC_OK) return DSC_ERR;
            float *b = model_param(m, n->tl[l][k][2]);
            memset(b, 0, sizeof(float) * 4 * (size_t)hid);
            for (int i = 0; i < hid; i++) b[hid + i] = 1.0f; /* unit_forget_bias */
        }
    }
    /* the output layer: the Conv2DTranspose (K, 1, 1, H2) of the DTC code has
     * fan_in + fan_out = K*(1 + H2), as a Conv1D H2 -> 1 */
    model_glorot_uniform(r, model_param(m, n->tdec_w), (size_t)n->H2 * n->K, (double)n->H2 * n->K, n->K);
    model_param(m, n->tdec_b)[0] = 0.0f;
    return DSC_OK;
}

/* ---- forward ----------------------------------------------------------------------- */

static void bilstm_weights(model *m, int l, int which, const float *w[2])
{
    for (int k = 0; k < 2; k++) w[k] = model_param(m, m->dtc->tl[l][k][which]);
}

static void bilstm_grads(model *m, int l, int which, float *g[2])
{
    for (int k = 0; k < 2; k++) g[k] = model_grad(m, m->dtc->tl[l][k][which]);
}

static void dtc_encode(model *m, const float *x, int B)
{
    struct model_dtc_net *n = m->dtc;
    m->batch = B;
    m->input = x;
    m->training = 0;
    conv1d_dims ce = enc_conv_dims(n, B);
    conv1d_forward(n->conv_act, x, model_param(m, n->tconv_w), model_param(m, n->tconv_b), m->scratch, &ce);
    leaky_relu_forward(n->conv_act, n->conv_act, (size_t)B * n->d * n->F, DTC_LEAKY_ALPHA);
    maxpool1d_dims pd = {.B = B, .L = n->d, .C = n->F, .P = n->P};
    maxpool1d_forward(n->pool_out, n->pool_arg, n->conv_act, &pd);
    const float *in = n->pool_out;
    for (int l = 0; l < 2; l++) {
        bilstm_dims bd = bilstm_dims_of(n, l, B);
        float *out = l == 0 ? n->lstm1 : m->latent;
        const float *wih[2], *whh[2], *b[2];
        bilstm_weights(m, l, 0, wih);
        bilstm_weights(m, l, 1, whh);
        bilstm_weights(m, l, 2, b);
        bilstm_forward(out, n->lstm_state[l], in, wih, whh, b, m->scratch, &bd);
        leaky_relu_forward(out, out, (size_t)B * n->Lp * bd.HID, DTC_LEAKY_ALPHA);
        in = out;
    }
}

/* training is ignored: DTC has no dropout */
static void dtc_forward(model *m, const float *x, int B, int training)
{
    struct model_dtc_net *n = m->dtc;
    (void)training;
    dtc_encode(m, x, B);
    upsample1d_dims ud = {.B = B, .L = n->Lp, .C = n->H2, .P = n->P, .OL = n->d};
    upsample1d_forward(n->up, m->latent, &ud);
    conv1d_dims cd = dec_conv_dims(n, B);
    conv1d_forward(m->recon, n->up, model_param(m, n->tdec_w), model_param(m, n->tdec_b), m->scratch, &cd);
    m->loss = mse_loss(NULL, m->recon, x, (size_t)B * n->d);
}

/* Forward FLOPs of B samples (2*M*N*K per GEMM-like product); *first gets
 * the first convolution's share, *encode (unless NULL) the encoder's. */
static double dtc_flops(const model *m, int B, double *first, double *encode)
{
    const struct model_dtc_net *n = m->dtc;
    const double b = B, d = n->d, Lp = n->Lp;
    *first = 2.0 * b * d * n->F * n->K; /* Conv1D 1 -> F */
    double f = *first;
    for (int l = 0; l < 2; l++) { /* two directions: input projection and recurrence */
        const double in = l == 0 ? n->F : n->H1, hid = l == 0 ? n->H1 : n->H2;
        f += 2.0 * (2.0 * b * Lp * in * 4.0 * hid + 2.0 * b * (Lp - 1) * hid * 4.0 * hid);
    }
    if (encode) *encode = f;
    return f + 2.0 * b * d * n->H2 * n->K; /* Conv1D H2 -> 1 */
}

size_t model_dtc_kinks(const model *m, int *out)
{
    const struct model_dtc_net *n = m->dtc;
    const size_t B = (size_t)m->batch, np = B * n->Lp * n->F;
    const float *act[3] = {n->conv_act, n->lstm1, m->latent};
    const size_t na[3] = {B * n->d * n->F, B * n->Lp * n->H1, B * n->Lp * n->H2};
    size_t k = 0;
    if (out) memcpy(out, n->pool_arg, np * sizeof(int));
    k += np;
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < na[a]; i++, k++)
            if (out) out[k] = act[a][i] > 0.0f;
    return k;
}

/* ---- backward ---------------------------------------------------------------------
 * Two ping-pong buffers carry the gradient of the current activation, as in
 * model_dsc.c: each layer accumulates into the zeroed other buffer, then swap. */

static float *zeroed(float *p, size_t nfloats)
{
    memset(p, 0, nfloats * sizeof(float));
    return p;
}

static void swap(float **cur, float **next)
{
    float *t = *cur;
    *cur = *next;
    *next = t;
}

static int dtc_backward(model *m, float dloss, const float *dlatent)
{
    struct model_dtc_net *n = m->dtc;
    const int B = m->batch;
    const size_t nd = (size_t)B * n->d, nlat = (size_t)B * m->cfg.latent;
    float *cur = m->dbuf[0], *next = m->dbuf[1];

    mse_loss(cur, m->recon, m->input, nd); /* d MSE / d reconstruction */
    for (size_t i = 0; i < nd; i++) cur[i] *= dloss;
    conv1d_dims cd = dec_conv_dims(n, B);
    conv1d_backward(zeroed(next, nd * n->H2), model_grad(m, n->tdec_w), model_grad(m, n->tdec_b), cur, n->up,
                    model_param(m, n->tdec_w), m->scratch, &cd);
    swap(&cur, &next);
    upsample1d_dims ud = {.B = B, .L = n->Lp, .C = n->H2, .P = n->P, .OL = n->d};
    upsample1d_backward(zeroed(next, nlat), cur, &ud);
    swap(&cur, &next);
    if (dlatent)
        for (size_t i = 0; i < nlat; i++) cur[i] += dlatent[i];

    for (int l = 1; l >= 0; l--) {
        bilstm_dims bd = bilstm_dims_of(n, l, B);
        const float *out = l == 0 ? n->lstm1 : m->latent, *in = l == 0 ? n->pool_out : n->lstm1;
        const size_t nout = (size_t)B * n->Lp * bd.HID, nin = (size_t)B * n->Lp * bd.IN;
        leaky_relu_backward(zeroed(next, nout), cur, out, nout, DTC_LEAKY_ALPHA);
        swap(&cur, &next);
        const float *wih[2], *whh[2];
        float *dwih[2], *dwhh[2], *db[2];
        bilstm_weights(m, l, 0, wih);
        bilstm_weights(m, l, 1, whh);
        bilstm_grads(m, l, 0, dwih);
        bilstm_grads(m, l, 1, dwhh);
        bilstm_grads(m, l, 2, db);
        bilstm_backward(zeroed(next, nin), dwih, dwhh, db, cur, in, wih, whh, n->lstm_state[l], m->scratch,
                        &bd);
        swap(&cur, &next);
    }
    const size_t nconv = nd * n->F;
    maxpool1d_dims pd = {.B = B, .L = n->d, .C = n->F, .P = n->P};
    maxpool1d_backward(zeroed(next, nconv), cur, n->pool_arg, &pd);
    swap(&cur, &next);
    leaky_relu_backward(zeroed(next, nconv), cur, n->conv_act, nconv, DTC_LEAKY_ALPHA);
    swap(&cur, &next);
    conv1d_dims ce = enc_conv_dims(n, B);
    conv1d_backward(NULL, model_grad(m, n->tconv_w), model_grad(m, n->tconv_b), cur, m->input, model_param(m, n->tconv_w), m->scratch,
                    &ce);
    return DSC_OK;
}

const model_ops model_dtc_ops = {
    .pads_grid = 1,
    .preset = model_dtc_config_defaults,
    .check = dtc_check,
    .format = dtc_format,
    .create = dtc_create,
    .destroy = dtc_destroy,
    .init = dtc_init,
    .encode = dtc_encode,
    .forward = dtc_forward,
    .backward = dtc_backward,
    .flops = dtc_flops,
};
