/*
 * model_dec.c - DEC, the dense autoencoder of Xie, Girshick and Farhadi
 * (2016, "Unsupervised deep embedding for clustering analysis"), as variant
 * MODEL_DEC of model.h: a baseline of the DSC paper's Table 2.
 *
 * Dimension letters: B batch, d = V*H*W the flattened frame (the real grid,
 * not padded: model_pads_grid), D1..D3 the hidden widths (500 500 2000), L
 * the embedding (10).
 *
 *   encoder  d -> D1 -> D2 -> D3 -> L    ReLU on D1..D3, the embedding linear
 *   decoder  L -> D3 -> D2 -> D1 -> d    ReLU on D3..D1, the output linear
 *
 * (the activations are cfg->activation and cfg->latent_activation, relu and
 * identity for DEC; the output layer is always linear).  Loss =
 * MSE(reconstruction, input frame), the pre-training objective of the paper
 * trained end to end (its greedy layer-wise stage is not built).  Joint
 * training drops the decoder: model_backward with dloss = 0 leaves the
 * decoder untouched and back-propagates the clustering gradient through the
 * encoder alone (train_options.drop_decoder).
 *
 * The layers live in the flat parameter buffer of model.h under the names
 * enc.dense1..3, enc.latent, dec.dense1..3, dec.out (each .weight (OUT, IN)
 * and .bias (OUT)), then cluster.centroids; so the allreduce, checkpoint,
 * optimizer, predict and eval work unchanged.
 */
#include "model_dec.h"
#include "model_impl.h"
#include "model_params.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------------ */

/* Xie et al.: hidden widths 500 500 2000, embedding 10, ReLU hidden layers,
 * linear embedding, no dropout. */
static void dec_preset(model_config *c)
{
    c->dense[0] = 500;
    c->dense[1] = 500;
    c->dense[2] = 2000;
    c->latent = 10;
    c->activation = ACTIVATION_RELU;
    c->latent_activation = ACTIVATION_IDENTITY;
    c->dropout = c->recurrent_dropout = 0.0f;
}

static int dec_check(const model_config *c)
{
    if (model_check_shared(c) != DSC_OK) return DSC_ERR;
    if (c->height < 1 || c->width < 1) return dsc_fail("model: grid %d x %d; both sizes must be >= 1", c->height, c->width);
    for (int i = 0; i < MODEL_NDENSE; i++)
        if (c->dense[i] < 1) return dsc_fail("model: dense layer %d has width %d; widths must be >= 1", i + 1, c->dense[i]);
    if (c->latent < 1) return dsc_fail("model: latent size %d must be >= 1", c->latent);
    if (c->clusters < 0) return dsc_fail("model: %d clusters; must be >= 0", c->clusters);
    if (c->steps != 1)
        return dsc_fail("model: dec labels single time steps, not sequences of %d; use --steps 1 with --variant dec", c->steps);
    if ((size_t)c->vars * c->height * c->width > (size_t)1 << 30)
        return dsc_fail("model: a frame of %d x %d x %d values is too large for a dense layer; select fewer cells with --box",
                        c->vars, c->height, c->width);
    return DSC_OK;
}

static void dec_format(const model_config *c, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s V=%d H=%d W=%d dense=%d,%d,%d latent=%d act=%s/%s", name, c->vars, c->height, c->width,
             c->dense[0], c->dense[1], c->dense[2], c->latent, activation_name(c->activation),
             activation_name(c->latent_activation));
}

/* ---- create / destroy ------------------------------------------------------------ */

static int dec_create(model *m)
{
    const model_config *c = &m->cfg;
    const int B = m->max_batch, L = c->latent;
    const int d = c->vars * c->height * c->width;
    struct model_dec_net *n = dsc_calloc(1, sizeof *n, "DEC network");
    if (!n) return DSC_ERR;
    m->dec_net = n;
    m->has_lstm = 0;
    m->has_decoder = 1;
    m->features = d;
    const int w[MODEL_NDENSE + 2] = {d, c->dense[0], c->dense[1], c->dense[2], L};
    char prefix[MODEL_NAME_LEN];
    for (int i = 0; i <= MODEL_NDENSE; i++) {
        if (i < MODEL_NDENSE) snprintf(prefix, sizeof prefix, "enc.dense%d", i + 1);
        else snprintf(prefix, sizeof prefix, "enc.latent");
        model_layout_dense(m, &n->enc[i], prefix, w[i], w[i + 1]);
    }
    for (int j = 0; j <= MODEL_NDENSE; j++) {
        if (j < MODEL_NDENSE) snprintf(prefix, sizeof prefix, "dec.dense%d", j + 1);
        else snprintf(prefix, sizeof prefix, "dec.out");
        model_layout_dense(m, &n->dec[j], prefix, w[MODEL_NDENSE + 1 - j], w[MODEL_NDENSE - j]);
    }
    model_layout_centroids(m);

    size_t widest = 0;
    for (int i = 0; i < MODEL_NDENSE + 2; i++)
        if ((size_t)w[i] > widest) widest = (size_t)w[i];
    int ok = model_alloc_floats(&m->params, m->nparams, "model parameters") == DSC_OK &&
             model_alloc_floats(&m->grads, m->nparams, "model gradients") == DSC_OK &&
             model_alloc_floats(&m->latent, (size_t)B * L, "latent") == DSC_OK &&
             model_alloc_floats(&m->recon, (size_t)B * d, "reconstruction") == DSC_OK;
    for (int i = 0; ok && i < MODEL_NDENSE; i++)
        ok = model_alloc_floats(&n->enc_act[i], (size_t)B * w[i + 1], "encoder activations") == DSC_OK &&
             model_alloc_floats(&n->dec_act[i], (size_t)B * w[MODEL_NDENSE - i], "decoder activations") == DSC_OK;
    m->dbuf_floats = (size_t)B * widest;
    if (ok)
        ok = model_alloc_floats(&m->dbuf[0], m->dbuf_floats, "activation gradients") == DSC_OK &&
             model_alloc_floats(&m->dbuf[1], m->dbuf_floats, "activation gradients") == DSC_OK;
    if (!ok) return DSC_ERR;
    for (int i = 0; i <= MODEL_NDENSE; i++) {
        model_bind_dense(m, &n->enc[i]);
        model_bind_dense(m, &n->dec[i]);
    }
    model_bind_centroids(m);
    rng_seed(&m->dropout_rng, 0, 1);
    return DSC_OK;
}

/* The common buffers are model.c's. */
static void dec_destroy(model *m)
{
    struct model_dec_net *n = m->dec_net;
    if (!n) return;
    for (int i = 0; i < MODEL_NDENSE; i++) {
        free(n->enc_act[i]);
        free(n->dec_act[i]);
    }
    free(n);
    m->dec_net = NULL;
}

/* ---- initialisation, forward, backward -------------------------------------------- */

/* Keras Dense default, as in the authors' Keras DEC: glorot-uniform
 * U(-a, a), a = sqrt(6 / (IN + OUT)), zero bias; in table order. */
static int dec_init(model *m, rng_state *r)
{
    for (int i = 0; i <= MODEL_NDENSE; i++) model_init_dense(r, &m->dec_net->enc[i]);
    for (int j = 0; j <= MODEL_NDENSE; j++) model_init_dense(r, &m->dec_net->dec[j]);
    return DSC_OK;
}

/* out = act(in W^T + b), in place. */
static void dense_act(const model_dense *l, float *out, const float *in, int B, activation_kind a)
{
    dense_dims dd = {.B = B, .IN = l->in, .OUT = l->out};
    dense_forward(out, in, l->weight, l->bias, &dd);
    activation_forward(out, out, (size_t)B * l->out, a);
}

/* Encoder (decode = 0) or the whole autoencoder with m->loss (decode = 1). */
static void run_forward(model *m, const float *x, int B, int decode)
{
    struct model_dec_net *n = m->dec_net;
    const model_config *c = &m->cfg;
    m->batch = B;
    m->input = x;
    m->training = 0; /* DEC fine-tuning has no dropout */
    m->loss = 0.0f;
    n->decoded = decode;
    const float *in = x;
    for (int i = 0; i < MODEL_NDENSE; i++) {
        dense_act(&n->enc[i], n->enc_act[i], in, B, c->activation);
        in = n->enc_act[i];
    }
    dense_act(&n->enc[MODEL_NDENSE], m->latent, in, B, c->latent_activation); /* the embedding z */
    if (!decode) return;
    in = m->latent;
    for (int j = 0; j < MODEL_NDENSE; j++) {
        dense_act(&n->dec[j], n->dec_act[j], in, B, c->activation);
        in = n->dec_act[j];
    }
    dense_act(&n->dec[MODEL_NDENSE], m->recon, in, B, ACTIVATION_IDENTITY);
    m->loss = mse_loss(NULL, m->recon, x, (size_t)B * m->features);
}

static void dec_encode(model *m, const float *x, int B) { run_forward(m, x, B, 0); }

/* training is ignored: DEC has no dropout */
static void dec_forward(model *m, const float *x, int B, int training)
{
    (void)training;
    run_forward(m, x, B, 1);
}

/* Two ping-pong buffers carry the gradient of the current activation, as in
 * model_dsc.c: zero the other one, let the layer accumulate into it, swap. */
static float *zeroed(float *p, size_t n)
{
    memset(p, 0, n * sizeof(float));
    return p;
}

#define SWAP(a, b)        \
    do {                  \
        float *t_ = (a);  \
        (a) = (b);        \
        (b) = t_;         \
    } while (0)

/* cur = d(output of layer l after act) -> d(input of l) in cur, unless inp_grad is 0. */
static void dense_act_backward(const model_dense *l, float **cur, float **next, const float *in, const float *out, int B,
                               activation_kind a, int inp_grad)
{
    const size_t nout = (size_t)B * l->out;
    activation_backward(zeroed(*next, nout), *cur, out, nout, a);
    SWAP(*cur, *next);
    dense_dims dd = {.B = B, .IN = l->in, .OUT = l->out};
    dense_backward(inp_grad ? zeroed(*next, (size_t)B * l->in) : NULL, l->dweight, l->dbias, *cur, in, l->weight, &dd);
    if (inp_grad) SWAP(*cur, *next);
}

static int dec_backward(model *m, float dloss, const float *dlatent)
{
    struct model_dec_net *n = m->dec_net;
    const model_config *c = &m->cfg;
    const int B = m->batch;
    const size_t nlat = (size_t)B * c->latent;
    float *cur = m->dbuf[0], *next = m->dbuf[1];
    /* dloss = 0: the decoder is dropped (DEC's clustering stage); its
     * parameters get no gradient and nothing flows back through it. */
    const int rec = dloss != 0.0f;
    if (rec && !n->decoded)
        return dsc_fail("model: backward of the reconstruction after model_encode; run model_forward first");
    if (rec) {
        const size_t nx = (size_t)B * m->features;
        mse_loss(cur, m->recon, m->input, nx); /* d MSE / d recon */
        for (size_t i = 0; i < nx; i++) cur[i] *= dloss;
        for (int j = MODEL_NDENSE; j >= 0; j--) {
            const float *in = j == 0 ? m->latent : n->dec_act[j - 1];
            const float *out = j == MODEL_NDENSE ? m->recon : n->dec_act[j];
            dense_act_backward(&n->dec[j], &cur, &next, in, out, B, j == MODEL_NDENSE ? ACTIVATION_IDENTITY : c->activation, 1);
        }
    } else {
        if (!dlatent) return DSC_OK;
        memset(cur, 0, nlat * sizeof(float));
    }
    if (dlatent)
        for (size_t i = 0; i < nlat; i++) cur[i] += dlatent[i];
    for (int i = MODEL_NDENSE; i >= 0; i--) {
        const float *in = i == 0 ? m->input : n->enc_act[i - 1];
        const float *out = i == MODEL_NDENSE ? m->latent : n->enc_act[i];
        dense_act_backward(&n->enc[i], &cur, &next, in, out, B, i == MODEL_NDENSE ? c->latent_activation : c->activation, i > 0);
    }
    return DSC_OK;
}

/* ---- FLOPs ------------------------------------------------------------------------ */

/* Forward FLOPs of B samples, 2*IN*OUT per sample and dense layer; *first
 * gets the first layer's share (its backward has no input gradient),
 * *encode (unless NULL) the encoder's. */
static double dec_flops(const model *m, int B, double *first, double *encode)
{
    const struct model_dec_net *n = m->dec_net;
    double f = 0;
    for (int i = 0; i <= MODEL_NDENSE; i++) f += 2.0 * B * n->enc[i].in * n->enc[i].out;
    *first = 2.0 * B * n->enc[0].in * n->enc[0].out;
    if (encode) *encode = f;
    for (int j = 0; j <= MODEL_NDENSE; j++) f += 2.0 * B * n->dec[j].in * n->dec[j].out;
    return f;
}

const model_ops model_dec_ops = {
    .pads_grid = 0, /* a dense layer gains nothing from zero cells */
    .preset = dec_preset,
    .check = dec_check,
    .format = dec_format,
    .create = dec_create,
    .destroy = dec_destroy,
    .init = dec_init,
    .encode = dec_encode,
    .forward = dec_forward,
    .backward = dec_backward,
    .flops = dec_flops,
};
