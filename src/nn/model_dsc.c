/*
 * model_dsc.c - the DSC CNN-LSTM autoencoder and its ablations (paper
 * Table 3: cnn-encoder, cnn-autoencoder, cnn-lstm-encoder,
 * cnn-lstm-autoencoder) behind model_dsc_ops: checks, tensor layout, Keras
 * default initialisation, forward, backward and FLOP count (see model.h).
 *
 * Dimension letters as in model.h; Bf = B*S frames for the encoder.
 */
#include "model.h"
#include "model_impl.h"
#include "model_params.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------ */

static int dsc_check(const model_config *c)
{
    if (model_check_shared(c) != DSC_OK) return DSC_ERR;
    if (c->height < 16 || c->width < 16 || c->height % 16 || c->width % 16)
        return dsc_fail("model: grid %d x %d is not a multiple of 16 (four 2x2 poolings); pad the grid", c->height, c->width);
    for (int i = 0; i < MODEL_NCONV; i++)
        if (c->conv[i] < 1) return dsc_fail("model: convolution %d has width %d; widths must be >= 1", i + 1, c->conv[i]);
    int lstm = c->variant == MODEL_CNN_LSTM_ENCODER || c->variant == MODEL_CNN_LSTM_AUTOENCODER;
    if (lstm && (c->lstm[0] < 1 || c->lstm[1] < 1))
        return dsc_fail("model: LSTM sizes %d, %d must be >= 1", c->lstm[0], c->lstm[1]);
    if (c->latent < 1) return dsc_fail("model: latent size %d must be >= 1", c->latent);
    if (c->clusters < 0) return dsc_fail("model: %d clusters; must be >= 0", c->clusters);
    if (c->kernel < 1 || c->kernel % 2 == 0) return dsc_fail("model: kernel size %d must be odd", c->kernel);
    if (!(c->dropout >= 0 && c->dropout < 1) || !(c->recurrent_dropout >= 0 && c->recurrent_dropout < 1))
        return dsc_fail("model: dropout %g / recurrent dropout %g must be in [0, 1)", c->dropout, c->recurrent_dropout);
    return DSC_OK;
}

static void dsc_format(const model_config *c, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s V=%d H=%d W=%d S=%d conv=%d,%d,%d,%d,%d lstm=%d,%d latent=%d kernel=%d act=%s/%s",
             name, c->vars, c->height, c->width, c->steps, c->conv[0], c->conv[1],
             c->conv[2], c->conv[3], c->conv[4], c->lstm[0], c->lstm[1], c->latent, c->kernel,
             activation_name(c->activation), activation_name(c->latent_activation));
}

/* ---- parameter table ---------------------------------------------------- */

static void layout_conv(model *m, model_conv *c, const char *prefix, int ic, int oc, int h, int w)
{
    char name[2 * MODEL_NAME_LEN];
    int k = m->cfg.kernel;
    c->ic = ic;
    c->oc = oc;
    c->h = h;
    c->w = w;
    snprintf(name, sizeof name, "%s.weight", prefix);
    c->tw = model_add_tensor(m, name, 4, oc, ic, k, k);
    snprintf(name, sizeof name, "%s.bias", prefix);
    c->tb = model_add_tensor(m, name, 1, oc, 0, 0, 0);
}

static void layout_lstm(model *m, model_lstm *l, const char *prefix, int in, int hid)
{
    char name[2 * MODEL_NAME_LEN];
    l->in = in;
    l->hid = hid;
    snprintf(name, sizeof name, "%s.weight_ih", prefix);
    l->tw_ih = model_add_tensor(m, name, 2, 4 * hid, in, 0, 0);
    snprintf(name, sizeof name, "%s.weight_hh", prefix);
    l->tw_hh = model_add_tensor(m, name, 2, 4 * hid, hid, 0, 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    l->tb = model_add_tensor(m, name, 1, 4 * hid, 0, 0, 0);
}

/* Tensor order = order in the flat buffer = order of initialisation. */
static void model_layout(model *m)
{
    const model_config *c = &m->cfg;
    char prefix[MODEL_NAME_LEN];
    int h = c->height, w = c->width, ch = c->vars;
    for (int i = 0; i < MODEL_NCONV; i++) {
        snprintf(prefix, sizeof prefix, "enc.conv%d", i + 1);
        layout_conv(m, &m->enc[i], prefix, ch, c->conv[i], h, w);
        ch = c->conv[i];
        if (i >= 1) { /* pooling after the 2nd..5th convolution */
            h /= 2;
            w /= 2;
        }
    }
    m->features = ch * h * w;
    int in = m->features * c->steps;
    if (m->has_lstm) {
        layout_lstm(m, &m->lstm[0], "enc.lstm1", m->features, c->lstm[0]);
        layout_lstm(m, &m->lstm[1], "enc.lstm2", c->lstm[0], c->lstm[1]);
        in = c->lstm[1];
    }
    model_layout_dense(m, &m->to_latent, "enc.latent", in, c->latent);
    if (m->has_decoder) {
        model_layout_dense(m, &m->dec_dense, "dec.dense", c->latent, m->features);
        int cin = c->conv[MODEL_NCONV - 1];
        for (int j = 0; j < MODEL_NDEC; j++) {
            h *= 2;
            w *= 2;
            int cout = c->conv[MODEL_NCONV - 1 - j]; /* C5, C4, C3, C2 */
            snprintf(prefix, sizeof prefix, "dec.conv%d", j + 1);
            layout_conv(m, &m->dec[j], prefix, cin, cout, h, w);
            cin = cout;
        }
        layout_conv(m, &m->dec_out, "dec.out", cin, c->vars, h, w);
    }
    model_layout_centroids(m);
}

static void bind_conv(model *m, model_conv *c)
{
    c->weight = model_param(m, c->tw);
    c->dweight = model_grad(m, c->tw);
    c->bias = model_param(m, c->tb);
    c->dbias = model_grad(m, c->tb);
}

static void bind_lstm(model *m, model_lstm *l)
{
    l->weight_ih = model_param(m, l->tw_ih);
    l->dweight_ih = model_grad(m, l->tw_ih);
    l->weight_hh = model_param(m, l->tw_hh);
    l->dweight_hh = model_grad(m, l->tw_hh);
    l->bias = model_param(m, l->tb);
    l->dbias = model_grad(m, l->tb);
}

/* ---- create / destroy --------------------------------------------------- */

static conv2d_dims conv_dims(const model *m, const model_conv *c, int B)
{
    conv2d_dims d = {.B = B, .IC = c->ic, .OC = c->oc, .H = c->h, .W = c->w, .K = m->cfg.kernel};
    return d;
}

static lstm_dims lstm_dims_of(const model *m, int l, int B)
{
    /* mask_gates 4: with recurrent dropout tf.keras runs LSTMCell
     * implementation 1 (it falls back from 2), one mask per gate. */
    lstm_dims d = {.B = B, .S = m->cfg.steps, .IN = m->lstm[l].in, .HID = m->lstm[l].hid,
                   .return_sequences = l == 0, .mask_gates = MODEL_MASK_GATES};
    return d;
}

/* The encoder's activations for m->max_batch samples; raises *dmax (the
 * largest activation gradient) and *scratch (the layers' workspace). */
static int alloc_encoder(model *m, size_t *dmax, size_t *scratch)
{
    const model_config *cfg = &m->cfg;
    const int B = m->max_batch, S = cfg->steps, Bf = B * S;
    int ok = 1;
    for (int i = 0; ok && i < MODEL_NCONV; i++) {
        const model_conv *c = &m->enc[i];
        size_t n = (size_t)Bf * c->oc * c->h * c->w;
        ok = model_alloc_floats(&m->enc_act[i], n, "encoder activations") == DSC_OK;
        *dmax = model_max_size(*dmax, n);
        conv2d_dims cd = conv_dims(m, c, Bf);
        *scratch = model_max_size(*scratch, conv2d_scratch_floats(&cd));
        if (ok && i >= 1) {
            size_t np = n / 4;
            ok = model_alloc_floats(&m->pool_out[i], np, "pooling outputs") == DSC_OK;
            if (ok) ok = (m->pool_arg[i] = dsc_calloc(np, sizeof(int), "pooling arg-max")) != NULL;
        }
    }
    for (int l = 0; ok && m->has_lstm && l < MODEL_NLSTM; l++) {
        lstm_dims ld = lstm_dims_of(m, l, B);
        size_t nout = (size_t)B * (l == 0 ? S : 1) * ld.HID;
        ok = model_alloc_floats(&m->lstm_out[l], nout, "LSTM outputs") == DSC_OK &&
             model_alloc_floats(&m->lstm_state[l], lstm_state_floats(&ld), "LSTM state") == DSC_OK;
        *dmax = model_max_size(*dmax, (size_t)B * S * ld.IN);
        *dmax = model_max_size(*dmax, nout);
        *scratch = model_max_size(*scratch, lstm_scratch_floats(&ld));
        if (ok && cfg->dropout > 0)
            ok = model_alloc_floats(&m->mask_x[l], (size_t)MODEL_MASK_GATES * B * ld.IN, "dropout mask") == DSC_OK;
        if (ok && cfg->recurrent_dropout > 0)
            ok = model_alloc_floats(&m->mask_h[l], (size_t)MODEL_MASK_GATES * B * ld.HID, "dropout mask") == DSC_OK;
    }
    if (ok) ok = model_alloc_floats(&m->latent, (size_t)B * cfg->latent, "latent") == DSC_OK;
    *dmax = model_max_size(*dmax, (size_t)B * m->to_latent.in);
    *dmax = model_max_size(*dmax, (size_t)B * cfg->latent);
    return ok;
}

/* The decoder's activations, reconstruction and target (as alloc_encoder). */
static int alloc_decoder(model *m, size_t *dmax, size_t *scratch)
{
    const model_config *cfg = &m->cfg;
    const int B = m->max_batch;
    const size_t frame = (size_t)cfg->vars * cfg->height * cfg->width;
    int ok = model_alloc_floats(&m->dec_in, (size_t)B * m->features, "decoder input") == DSC_OK;
    *dmax = model_max_size(*dmax, (size_t)B * m->features);
    for (int j = 0; ok && j < MODEL_NDEC; j++) {
        const model_conv *c = &m->dec[j];
        size_t nup = (size_t)B * c->ic * c->h * c->w, nact = (size_t)B * c->oc * c->h * c->w;
        ok = model_alloc_floats(&m->dec_up[j], nup, "decoder activations") == DSC_OK &&
             model_alloc_floats(&m->dec_act[j], nact, "decoder activations") == DSC_OK;
        *dmax = model_max_size(*dmax, model_max_size(nup, nact));
        conv2d_dims cd = conv_dims(m, c, B);
        *scratch = model_max_size(*scratch, conv2d_scratch_floats(&cd));
    }
    conv2d_dims cd = conv_dims(m, &m->dec_out, B);
    *scratch = model_max_size(*scratch, conv2d_scratch_floats(&cd));
    if (ok) ok = model_alloc_floats(&m->recon, (size_t)B * frame, "reconstruction") == DSC_OK;
    if (ok && cfg->steps > 1) ok = model_alloc_floats(&m->target, (size_t)B * frame, "reconstruction target") == DSC_OK;
    *dmax = model_max_size(*dmax, (size_t)B * frame);
    return ok;
}

static void bind_layers(model *m)
{
    for (int i = 0; i < MODEL_NCONV; i++) bind_conv(m, &m->enc[i]);
    if (m->has_lstm)
        for (int l = 0; l < MODEL_NLSTM; l++) bind_lstm(m, &m->lstm[l]);
    model_bind_dense(m, &m->to_latent);
    if (m->has_decoder) {
        model_bind_dense(m, &m->dec_dense);
        for (int j = 0; j < MODEL_NDEC; j++) bind_conv(m, &m->dec[j]);
        bind_conv(m, &m->dec_out);
    }
    model_bind_centroids(m);
}

static int dsc_create(model *m)
{
    const model_config *cfg = &m->cfg;
    m->has_lstm = cfg->variant == MODEL_CNN_LSTM_ENCODER || cfg->variant == MODEL_CNN_LSTM_AUTOENCODER;
    m->has_decoder = cfg->variant == MODEL_CNN_AUTOENCODER || cfg->variant == MODEL_CNN_LSTM_AUTOENCODER;
    model_layout(m);

    const size_t frame = (size_t)cfg->vars * cfg->height * cfg->width;
    int ok = model_alloc_floats(&m->params, m->nparams, "model parameters") == DSC_OK &&
             model_alloc_floats(&m->grads, m->nparams, "model gradients") == DSC_OK;
    size_t dmax = (size_t)m->max_batch * cfg->steps * frame, scratch = 0;
    if (ok) ok = alloc_encoder(m, &dmax, &scratch);
    if (ok && m->has_decoder) ok = alloc_decoder(m, &dmax, &scratch);
    if (ok) ok = model_alloc_work(m, dmax, scratch) == DSC_OK;
    if (!ok) return DSC_ERR; /* model_create frees everything */
    bind_layers(m);
    rng_seed(&m->dropout_rng, 0, 1);
    return DSC_OK;
}

/* The common buffers are model.c's. */
static void dsc_destroy(model *m)
{
    for (int i = 0; i < MODEL_NCONV; i++) {
        free(m->enc_act[i]);
        free(m->pool_out[i]);
        free(m->pool_arg[i]);
    }
    for (int l = 0; l < MODEL_NLSTM; l++) {
        free(m->lstm_out[l]);
        free(m->lstm_state[l]);
        free(m->mask_x[l]);
        free(m->mask_h[l]);
    }
    free(m->dec_in);
    for (int j = 0; j < MODEL_NDEC; j++) {
        free(m->dec_up[j]);
        free(m->dec_act[j]);
    }
    free(m->target);
}

/* ---- Keras default initialisation ---------------------------------------- */

static void init_conv(rng_state *r, model_conv *c, int k)
{
    /* Keras conv kernel (K, K, IC, OC): fan_in = IC*K*K, fan_out = OC*K*K. */
    model_glorot_uniform(r, c->weight, (size_t)c->oc * c->ic * k * k, (double)c->ic * k * k, (double)c->oc * k * k);
    memset(c->bias, 0, (size_t)c->oc * sizeof(float));
}

static int init_lstm(rng_state *r, model_lstm *l)
{
    /* Keras kernel (IN, 4*HID): fan_in = IN, fan_out = 4*HID. */
    model_glorot_uniform(r, l->weight_ih, (size_t)4 * l->hid * l->in, l->in, 4.0 * l->hid);
    if (model_orthogonal(r, l->weight_hh, 4 * l->hid, l->hid) != DSC_OK) return DSC_ERR;
    memset(l->bias, 0, (size_t)4 * l->hid * sizeof(float));
    for (int i = 0; i < l->hid; i++) l->bias[l->hid + i] = 1.0f; /* unit_forget_bias: block f */
    return DSC_OK;
}

/* In table order: glorot-uniform kernels, orthogonal recurrent kernels,
 * zero biases with LSTM forget-gate bias 1. */
static int dsc_init(model *m, rng_state *r)
{
    const int k = m->cfg.kernel;
    for (int i = 0; i < MODEL_NCONV; i++) init_conv(r, &m->enc[i], k);
    if (m->has_lstm)
        for (int l = 0; l < MODEL_NLSTM; l++)
            if (init_lstm(r, &m->lstm[l]) != DSC_OK) return DSC_ERR;
    model_init_dense(r, &m->to_latent);
    if (m->has_decoder) {
        model_init_dense(r, &m->dec_dense);
        for (int j = 0; j < MODEL_NDEC; j++) init_conv(r, &m->dec[j], k);
        init_conv(r, &m->dec_out, k);
    }
    return DSC_OK;
}

/* ---- forward --------------------------------------------------------------- */

/* Keras dropout mask: 0 with probability rate, else 1 / (1 - rate). */
static void dropout_mask(rng_state *r, float *mask, size_t n, float rate)
{
    const float keep = 1.0f / (1.0f - rate);
    for (size_t i = 0; i < n; i++) mask[i] = rng_uniform(r) < rate ? 0.0f : keep;
}

/* The masks of LSTM l for sample b of the batch drawn from the generator of
 * key (seed, step, global index, l): input masks of the 4 gates, then the
 * recurrent masks of the 4 gates. */
static void keyed_dropout_masks(model *m, int l, int B, int in, int hid)
{
    const model_config *cfg = &m->cfg;
    for (int b = 0; b < B; b++) {
        rng_state r;
        uint64_t stream = ((uint64_t)m->dropout_ids[b] << 8) | (uint64_t)l;
        rng_seed(&r, m->dropout_seed ^ (m->dropout_step * 0x9e3779b97f4a7c15ULL), stream);
        for (int g = 0; g < MODEL_MASK_GATES; g++)
            if (m->mask_x[l]) dropout_mask(&r, m->mask_x[l] + ((size_t)g * B + b) * in, (size_t)in, cfg->dropout);
        for (int g = 0; g < MODEL_MASK_GATES; g++)
            if (m->mask_h[l]) dropout_mask(&r, m->mask_h[l] + ((size_t)g * B + b) * hid, (size_t)hid, cfg->recurrent_dropout);
    }
}

static void conv_act_forward(model *m, const model_conv *c, float *out, const float *in, int B)
{
    conv2d_dims d = conv_dims(m, c, B);
    conv2d_forward(out, in, c->weight, c->bias, m->scratch, &d);
    activation_forward(out, out, (size_t)B * c->oc * c->h * c->w, m->cfg.activation);
}

static void encode(model *m, const float *x, int B, int training)
{
    const model_config *cfg = &m->cfg;
    const int Bf = B * cfg->steps;
    m->batch = B;
    m->input = x;
    m->training = training;
    const float *in = x;
    for (int i = 0; i < MODEL_NCONV; i++) {
        const model_conv *c = &m->enc[i];
        conv_act_forward(m, c, m->enc_act[i], in, Bf);
        in = m->enc_act[i];
        if (i >= 1) {
            maxpool2d_dims pd = {.B = Bf, .C = c->oc, .H = c->h, .W = c->w};
            maxpool2d_forward(m->pool_out[i], m->pool_arg[i], in, &pd);
            in = m->pool_out[i];
        }
    }
    /* in = (B*S, F) = (B, S, F) rows b*S + t: the flattened frames. */
    if (m->has_lstm) {
        for (int l = 0; l < MODEL_NLSTM; l++) {
            lstm_dims d = lstm_dims_of(m, l, B);
            const float *mx = NULL, *mh = NULL;
            if (training && m->dropout_ids) {
                keyed_dropout_masks(m, l, B, d.IN, d.HID);
                mx = m->mask_x[l];
                mh = m->mask_h[l];
            } else if (training && m->mask_x[l]) {
                dropout_mask(&m->dropout_rng, m->mask_x[l], (size_t)MODEL_MASK_GATES * B * d.IN, cfg->dropout);
                mx = m->mask_x[l];
            }
            if (training && !m->dropout_ids && m->mask_h[l]) {
                dropout_mask(&m->dropout_rng, m->mask_h[l], (size_t)MODEL_MASK_GATES * B * d.HID,
                             cfg->recurrent_dropout);
                mh = m->mask_h[l];
            }
            const model_lstm *lw = &m->lstm[l];
            lstm_forward(m->lstm_out[l], m->lstm_state[l], in, lw->weight_ih, lw->weight_hh, lw->bias, mx, mh,
                         m->scratch, &d);
            in = m->lstm_out[l];
        }
    }
    dense_dims dd = {.B = B, .IN = m->to_latent.in, .OUT = m->to_latent.out};
    dense_forward(m->latent, in, m->to_latent.weight, m->to_latent.bias, &dd);
    activation_forward(m->latent, m->latent, (size_t)B * cfg->latent, cfg->latent_activation);
}

/* Input of the latent dense layer for the last forward. */
static const float *latent_input(const model *m)
{
    return m->has_lstm ? m->lstm_out[MODEL_NLSTM - 1] : m->pool_out[MODEL_NCONV - 1];
}

static void dsc_encode(model *m, const float *x, int B) { encode(m, x, B, 0); }

static void dsc_forward(model *m, const float *x, int B, int training)
{
    const model_config *cfg = &m->cfg;
    encode(m, x, B, training);
    m->loss = 0.0f;
    if (!m->has_decoder) return;

    dense_dims dd = {.B = B, .IN = m->dec_dense.in, .OUT = m->dec_dense.out};
    dense_forward(m->dec_in, m->latent, m->dec_dense.weight, m->dec_dense.bias, &dd); /* linear */
    const float *in = m->dec_in; /* (B, C5, H/16, W/16): reshape is a no-op */
    for (int j = 0; j < MODEL_NDEC; j++) {
        const model_conv *c = &m->dec[j];
        upsample2d_dims ud = {.B = B, .C = c->ic, .H = c->h / 2, .W = c->w / 2};
        upsample2d_forward(m->dec_up[j], in, &ud);
        conv_act_forward(m, c, m->dec_act[j], m->dec_up[j], B);
        in = m->dec_act[j];
    }
    conv_act_forward(m, &m->dec_out, m->recon, in, B);

    const size_t frame = (size_t)cfg->vars * cfg->height * cfg->width;
    const float *target = x;
    if (cfg->steps > 1) { /* gather the last frame of each sample */
        for (int b = 0; b < B; b++)
            memcpy(m->target + (size_t)b * frame, x + ((size_t)b * cfg->steps + cfg->steps - 1) * frame,
                   frame * sizeof(float));
        target = m->target;
    }
    m->loss = mse_loss(NULL, m->recon, target, (size_t)B * frame); /* reconstruction term of eq. 7 */
}

/* ---- backward ---------------------------------------------------------------
 * The network is a chain, so two ping-pong buffers carry the gradient of the
 * current activation: each step zeroes the other buffer, lets the layer
 * accumulate into it (layers.h: backward +=) and swaps. */

typedef struct {
    float *cur, *next;
} grad_chain;

static float *chain_next(grad_chain *g, size_t n)
{
    memset(g->next, 0, n * sizeof(float));
    return g->next;
}

static void chain_swap(grad_chain *g)
{
    float *t = g->cur;
    g->cur = g->next;
    g->next = t;
}

/* g->cur = d(conv output after activation) -> d(conv input) (unless first). */
static void conv_act_backward(model *m, const model_conv *c, grad_chain *g, const float *in, const float *out, int B,
                              int first)
{
    const size_t nout = (size_t)B * c->oc * c->h * c->w;
    activation_backward(chain_next(g, nout), g->cur, out, nout, m->cfg.activation);
    chain_swap(g);
    conv2d_dims d = conv_dims(m, c, B);
    float *dinp = first ? NULL : chain_next(g, (size_t)B * c->ic * c->h * c->w);
    conv2d_backward(dinp, c->dweight, c->dbias, g->cur, in, c->weight, m->scratch, &d);
    if (!first) chain_swap(g);
}

/* The gradients of tensor t and of every tensor after it are final: the
 * layout puts the layers in forward order, so the backward finishes the
 * buffer from its end (the centroids, whose gradient the caller computes
 * before model_backward) to its start. */
static void final_from(model *m, int t) { model_grads_final(m, m->tensors[t].offset); }

static int dsc_backward(model *m, float dloss, const float *dlatent)
{
    const model_config *cfg = &m->cfg;
    const int B = m->batch, S = cfg->steps, Bf = B * S, L = cfg->latent;
    const size_t nlat = (size_t)B * L;
    grad_chain g = {m->dbuf[0], m->dbuf[1]};

    if (m->has_decoder) {
        const size_t frame = (size_t)cfg->vars * cfg->height * cfg->width, n = (size_t)B * frame;
        const float *target = S > 1 ? m->target : m->input;
        mse_loss(g.cur, m->recon, target, n); /* d MSE / d recon */
        for (size_t i = 0; i < n; i++) g.cur[i] *= dloss;
        const float *in = m->dec_act[MODEL_NDEC - 1];
        conv_act_backward(m, &m->dec_out, &g, in, m->recon, B, 0);
        final_from(m, m->dec_out.tw);
        for (int j = MODEL_NDEC - 1; j >= 0; j--) {
            const model_conv *c = &m->dec[j];
            conv_act_backward(m, c, &g, m->dec_up[j], m->dec_act[j], B, 0);
            final_from(m, c->tw);
            upsample2d_dims ud = {.B = B, .C = c->ic, .H = c->h / 2, .W = c->w / 2};
            upsample2d_backward(chain_next(&g, (size_t)B * c->ic * ud.H * ud.W), g.cur, &ud);
            chain_swap(&g);
        }
        dense_dims dd = {.B = B, .IN = m->dec_dense.in, .OUT = m->dec_dense.out};
        dense_backward(chain_next(&g, nlat), m->dec_dense.dweight, m->dec_dense.dbias, g.cur, m->latent,
                       m->dec_dense.weight, &dd);
        final_from(m, m->dec_dense.tw);
        chain_swap(&g);
    } else {
        if (!dlatent) return DSC_OK; /* an encoder alone has no loss of its own */
        memset(g.cur, 0, nlat * sizeof(float));
    }
    if (dlatent)
        for (size_t i = 0; i < nlat; i++) g.cur[i] += dlatent[i];

    /* latent E = act(dense(.)) */
    activation_backward(chain_next(&g, nlat), g.cur, m->latent, nlat, cfg->latent_activation);
    chain_swap(&g);
    dense_dims dd = {.B = B, .IN = m->to_latent.in, .OUT = L};
    dense_backward(chain_next(&g, (size_t)B * dd.IN), m->to_latent.dweight, m->to_latent.dbias, g.cur,
                   latent_input(m), m->to_latent.weight, &dd);
    final_from(m, m->to_latent.tw);
    chain_swap(&g);

    if (m->has_lstm) {
        for (int l = MODEL_NLSTM - 1; l >= 0; l--) {
            lstm_dims d = lstm_dims_of(m, l, B);
            const model_lstm *lw = &m->lstm[l];
            const float *in = l == 0 ? m->pool_out[MODEL_NCONV - 1] : m->lstm_out[l - 1];
            const float *mx = m->training ? m->mask_x[l] : NULL;
            const float *mh = m->training ? m->mask_h[l] : NULL;
            lstm_backward(chain_next(&g, (size_t)B * S * d.IN), lw->dweight_ih, lw->dweight_hh, lw->dbias, g.cur, in,
                          lw->weight_ih, lw->weight_hh, mx, mh, m->lstm_state[l], m->scratch, &d);
            final_from(m, lw->tw_ih); /* all time steps summed inside lstm_backward */
            chain_swap(&g);
        }
    }
    /* g.cur = d (B*S, F): gradient of the last pooling output */
    for (int i = MODEL_NCONV - 1; i >= 0; i--) {
        const model_conv *c = &m->enc[i];
        if (i >= 1) {
            maxpool2d_dims pd = {.B = Bf, .C = c->oc, .H = c->h, .W = c->w};
            maxpool2d_backward(chain_next(&g, (size_t)Bf * c->oc * c->h * c->w), g.cur, m->pool_arg[i], &pd);
            chain_swap(&g);
        }
        const float *in = i == 0 ? m->input : i == 1 ? m->enc_act[0] : m->pool_out[i - 1];
        conv_act_backward(m, c, &g, in, m->enc_act[i], Bf, i == 0);
        final_from(m, c->tw);
    }
    return DSC_OK;
}

/* ---- FLOPs from the layer shapes ---------------------------------------------- */

static double conv_flops(const model_conv *c, int frames, int k)
{
    return 2.0 * frames * c->oc * c->ic * k * k * c->h * c->w;
}

/* Forward FLOPs of B samples (2*M*N*K per GEMM-like product); *first gets
 * the first convolution's share (its backward has no input gradient),
 * *encode (unless NULL) the encoder's: the forward less the decoder. */
static double dsc_flops(const model *m, int B, double *first, double *encode)
{
    const model_config *cfg = &m->cfg;
    const int S = cfg->steps, k = cfg->kernel;
    double f = 0;
    for (int i = 0; i < MODEL_NCONV; i++) f += conv_flops(&m->enc[i], B * S, k);
    *first = conv_flops(&m->enc[0], B * S, k);
    if (m->has_lstm)
        for (int l = 0; l < MODEL_NLSTM; l++) {
            const model_lstm *lw = &m->lstm[l];
            f += 2.0 * B * S * lw->in * 4.0 * lw->hid;        /* input projection */
            f += 2.0 * B * (S - 1) * lw->hid * 4.0 * lw->hid; /* recurrence, none at t = 0 */
        }
    f += 2.0 * B * m->to_latent.in * m->to_latent.out;
    double dec = 0;
    if (m->has_decoder) {
        f += 2.0 * B * m->dec_dense.in * m->dec_dense.out;
        for (int j = 0; j < MODEL_NDEC; j++) f += conv_flops(&m->dec[j], B, k);
        f += conv_flops(&m->dec_out, B, k);
        dec = 2.0 * B * m->dec_dense.in * m->dec_dense.out + conv_flops(&m->dec_out, B, k);
        for (int j = 0; j < MODEL_NDEC; j++) dec += conv_flops(&m->dec[j], B, k);
    }
    if (encode) *encode = m->has_decoder ? f - dec : f;
    return f;
}

const model_ops model_dsc_ops = {
    .pads_grid = 1,
    .preset = NULL, /* model_config_default() is this network */
    .check = dsc_check,
    .format = dsc_format,
    .create = dsc_create,
    .destroy = dsc_destroy,
    .init = dsc_init,
    .encode = dsc_encode,
    .forward = dsc_forward,
    .backward = dsc_backward,
    .flops = dsc_flops,
};
