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
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

model_config model_config_dec(void)
{
    model_config c = model_config_default();
    c.variant = MODEL_DEC;
    c.dense[0] = 500;
    c.dense[1] = 500;
    c.dense[2] = 2000;
    c.latent = 10;
    c.activation = ACTIVATION_RELU;
    c.latent_activation = ACTIVATION_IDENTITY;
    c.dropout = c.recurrent_dropout = 0.0f;
    return c;
}

int model_dec_config_check(const model_config *c)
{
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

static void bind(model *m, model_dense *l)
{
    l->weight = m->params + m->tensors[l->tw].offset;
    l->dweight = m->grads + m->tensors[l->tw].offset;
    l->bias = m->params + m->tensors[l->tb].offset;
    l->dbias = m->grads + m->tensors[l->tb].offset;
}

static int alloc_floats(float **p, size_t n, const char *what)
{
    *p = dsc_calloc(n ? n : 1, sizeof(float), what);
    return *p ? DSC_OK : DSC_ERR;
}

int model_dec_create(model *m)
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
    m->tcentroids = c->clusters > 0 ? model_add_tensor(m, "cluster.centroids", 2, c->clusters, L, 0, 0) : -1;

    size_t widest = 0;
    for (int i = 0; i < MODEL_NDENSE + 2; i++)
        if ((size_t)w[i] > widest) widest = (size_t)w[i];
    int ok = alloc_floats(&m->params, m->nparams, "model parameters") == DSC_OK &&
             alloc_floats(&m->grads, m->nparams, "model gradients") == DSC_OK &&
             alloc_floats(&m->latent, (size_t)B * L, "latent") == DSC_OK &&
             alloc_floats(&m->recon, (size_t)B * d, "reconstruction") == DSC_OK;
    for (int i = 0; ok && i < MODEL_NDENSE; i++)
        ok = alloc_floats(&n->enc_act[i], (size_t)B * w[i + 1], "encoder activations") == DSC_OK &&
             alloc_floats(&n->dec_act[i], (size_t)B * w[MODEL_NDENSE - i], "decoder activations") == DSC_OK;
    m->dbuf_floats = (size_t)B * widest;
    if (ok)
        ok = alloc_floats(&m->dbuf[0], m->dbuf_floats, "activation gradients") == DSC_OK &&
             alloc_floats(&m->dbuf[1], m->dbuf_floats, "activation gradients") == DSC_OK;
    if (!ok) return DSC_ERR;
    for (int i = 0; i <= MODEL_NDENSE; i++) {
        bind(m, &n->enc[i]);
        bind(m, &n->dec[i]);
    }
    if (m->tcentroids >= 0) {
        m->centroids = m->params + m->tensors[m->tcentroids].offset;
        m->dcentroids = m->grads + m->tensors[m->tcentroids].offset;
    }
    rng_seed(&m->dropout_rng, 0, 1);
    return DSC_OK;
}

void model_dec_destroy(model *m)
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

/* Keras Dense default, as in the authors' Keras DEC: glorot-uniform
 * U(-a, a), a = sqrt(6 / (IN + OUT)), zero bias. */
static void init_dense(rng_state *r, model_dense *l)
{
    float a = (float)sqrt(6.0 / ((double)l->in + l->out));
    rng_fill_uniform(r, l->weight, (size_t)l->out * l->in, -a, a);
    memset(l->bias, 0, (size_t)l->out * sizeof(float));
}

void model_dec_init(model *m, rng_state *r)
{
    for (int i = 0; i <= MODEL_NDENSE; i++) init_dense(r, &m->dec_net->enc[i]);
    for (int j = 0; j <= MODEL_NDENSE; j++) init_dense(r, &m->dec_net->dec[j]);
}

/* out = act(in W^T + b), in place. */
static void dense_act(const model_dense *l, float *out, const float *in, int B, activation_kind a)
{
    dense_dims dd = {.B = B, .IN = l->in, .OUT = l->out};
    dense_forward(out, in, l->weight, l->bias, &dd);
    activation_forward(out, out, (size_t)B * l->out, a);
}

void model_dec_forward(model *m, const float *x, int B, int decode)
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

/* Two ping-pong buffers carry the gradient of the current activation, as in
 * model.c: zero the other one, let the layer accumulate into it, swap. */
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

int model_dec_backward(model *m, float dloss, const float *dlatent)
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
