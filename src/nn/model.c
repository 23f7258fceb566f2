/*
 * model.c - the DSC CNN-LSTM autoencoder: parameter table, Keras default
 * initialisation, forward and backward of the whole network (see model.h).
 *
 * Dimension letters as in model.h; Bf = B*S frames for the encoder.
 */
#include "model.h"
#include "model_dec.h"
#include "model_dtc.h"
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------ */

model_config model_config_default(void)
{
    model_config c;
    memset(&c, 0, sizeof c);
    c.variant = MODEL_CNN_LSTM_AUTOENCODER;
    c.vars = 7;
    c.height = 48;
    c.width = 48;
    c.steps = 1;
    const int conv[MODEL_NCONV] = {64, 64, 128, 256, 512};
    memcpy(c.conv, conv, sizeof conv);
    c.lstm[0] = 512;
    c.lstm[1] = 512;
    c.latent = 256;
    c.kernel = 3;
    c.activation = ACTIVATION_TANH;
    c.latent_activation = ACTIVATION_SIGMOID;
    c.dropout = 0.1f;
    c.recurrent_dropout = 0.1f;
    return c;
}

static const char *variant_names[] = {"cnn-encoder", "cnn-autoencoder", "cnn-lstm-encoder", "cnn-lstm-autoencoder",
                                      "dec", "dtc"};
#define NVARIANTS ((int)(sizeof variant_names / sizeof variant_names[0]))

int model_variant_parse(const char *s, model_variant *v)
{
    for (int i = 0; i < NVARIANTS; i++)
        if (!strcmp(s, variant_names[i])) {
            *v = (model_variant)i;
            return DSC_OK;
        }
    if (!strcmp(s, "dsc")) {
        *v = MODEL_CNN_LSTM_AUTOENCODER;
        return DSC_OK;
    }
    return dsc_fail("--model: unknown variant '%s'; use cnn-encoder, cnn-autoencoder, cnn-lstm-encoder, "
                    "cnn-lstm-autoencoder (dsc), dec or dtc", s);
}

const char *model_variant_name(model_variant v)
{
    return (unsigned)v < (unsigned)NVARIANTS ? variant_names[v] : "unknown";
}

int model_pads_grid(const model_config *c) { return c->variant != MODEL_DEC; }

void model_config_format(const model_config *c, char *buf, size_t len)
{
    if (c->variant == MODEL_DTC) {
        model_dtc_config_format(c, buf, len);
        return;
    }
    if (c->variant == MODEL_DEC) {
        snprintf(buf, len, "dec V=%d H=%d W=%d dense=%d,%d,%d latent=%d act=%s/%s", c->vars, c->height, c->width,
                 c->dense[0], c->dense[1], c->dense[2], c->latent, activation_name(c->activation),
                 activation_name(c->latent_activation));
        return;
    }
    snprintf(buf, len, "%s V=%d H=%d W=%d S=%d conv=%d,%d,%d,%d,%d lstm=%d,%d latent=%d kernel=%d act=%s/%s",
             model_variant_name(c->variant), c->vars, c->height, c->width, c->steps, c->conv[0], c->conv[1],
             c->conv[2], c->conv[3], c->conv[4], c->lstm[0], c->lstm[1], c->latent, c->kernel,
             activation_name(c->activation), activation_name(c->latent_activation));
}

int model_config_check(const model_config *c)
{
    if (c->variant == MODEL_DTC) return model_dtc_config_check(c);
    if ((unsigned)c->variant > MODEL_DEC) return dsc_fail("model: unknown variant %d", (int)c->variant);
    if ((unsigned)c->activation > ACTIVATION_RELU || (unsigned)c->latent_activation > ACTIVATION_RELU)
        return dsc_fail("model: unknown activation codes %d / %d (known: 0 identity, 1 tanh, 2 sigmoid, 3 relu)",
                        (int)c->activation, (int)c->latent_activation);
    if (c->vars < 1 || c->steps < 1) return dsc_fail("model: %d variables and %d time steps; both must be >= 1", c->vars, c->steps);
    if (c->variant == MODEL_DEC) return model_dec_config_check(c);
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

/* ---- parameter table ---------------------------------------------------- */

static int add_tensor(model *m, const char *name, int ndim, int d0, int d1, int d2, int d3)
{
    model_tensor *t = &m->tensors[m->ntensors];
    size_t len = strlen(name); /* names are short, see model_layout */
    if (len >= sizeof t->name) len = sizeof t->name - 1;
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->ndim = ndim;
    int dims[4] = {d0, d1, d2, d3};
    t->size = 1;
    for (int i = 0; i < 4; i++) {
        t->shape[i] = i < ndim ? dims[i] : 0;
        if (i < ndim) t->size *= (size_t)dims[i];
    }
    t->offset = m->nparams;
    m->nparams += t->size;
    return m->ntensors++;
}

static void layout_conv(model *m, model_conv *c, const char *prefix, int ic, int oc, int h, int w)
{
    char name[2 * MODEL_NAME_LEN];
    int k = m->cfg.kernel;
    c->ic = ic;
    c->oc = oc;
    c->h = h;
    c->w = w;
    snprintf(name, sizeof name, "%s.weight", prefix);
    c->tw = add_tensor(m, name, 4, oc, ic, k, k);
    snprintf(name, sizeof name, "%s.bias", prefix);
    c->tb = add_tensor(m, name, 1, oc, 0, 0, 0);
}

void model_layout_dense(model *m, model_dense *d, const char *prefix, int in, int out)
{
    char name[2 * MODEL_NAME_LEN];
    d->in = in;
    d->out = out;
    snprintf(name, sizeof name, "%s.weight", prefix);
    d->tw = add_tensor(m, name, 2, out, in, 0, 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    d->tb = add_tensor(m, name, 1, out, 0, 0, 0);
}

static void layout_lstm(model *m, model_lstm *l, const char *prefix, int in, int hid)
{
    char name[2 * MODEL_NAME_LEN];
    l->in = in;
    l->hid = hid;
    snprintf(name, sizeof name, "%s.weight_ih", prefix);
    l->tw_ih = add_tensor(m, name, 2, 4 * hid, in, 0, 0);
    snprintf(name, sizeof name, "%s.weight_hh", prefix);
    l->tw_hh = add_tensor(m, name, 2, 4 * hid, hid, 0, 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    l->tb = add_tensor(m, name, 1, 4 * hid, 0, 0, 0);
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
    m->tcentroids = c->clusters > 0 ? add_tensor(m, "cluster.centroids", 2, c->clusters, c->latent, 0, 0) : -1;
}

static void bind_conv(model *m, model_conv *c)
{
    c->weight = m->params + m->tensors[c->tw].offset;
    c->dweight = m->grads + m->tensors[c->tw].offset;
    c->bias = m->params + m->tensors[c->tb].offset;
    c->dbias = m->grads + m->tensors[c->tb].offset;
}

static void bind_dense(model *m, model_dense *d)
{
    d->weight = m->params + m->tensors[d->tw].offset;
    d->dweight = m->grads + m->tensors[d->tw].offset;
    d->bias = m->params + m->tensors[d->tb].offset;
    d->dbias = m->grads + m->tensors[d->tb].offset;
}

static void bind_lstm(model *m, model_lstm *l)
{
    l->weight_ih = m->params + m->tensors[l->tw_ih].offset;
    l->dweight_ih = m->grads + m->tensors[l->tw_ih].offset;
    l->weight_hh = m->params + m->tensors[l->tw_hh].offset;
    l->dweight_hh = m->grads + m->tensors[l->tw_hh].offset;
    l->bias = m->params + m->tensors[l->tb].offset;
    l->dbias = m->grads + m->tensors[l->tb].offset;
}

int model_tensor_find(const model *m, const char *name)
{
    for (int i = 0; i < m->ntensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return i;
    return -1;
}

float *model_tensor_data(model *m, float *buffer, int index) { return buffer + m->tensors[index].offset; }

/* ---- create / destroy --------------------------------------------------- */

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

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

/* Allocates *p for n zeroed floats. */
static int alloc_floats(float **p, size_t n, const char *what)
{
    *p = dsc_calloc(n ? n : 1, sizeof(float), what);
    return *p ? DSC_OK : DSC_ERR;
}

int model_create(model *m, const model_config *cfg, int max_batch)
{
    memset(m, 0, sizeof *m);
    if (model_config_check(cfg) != DSC_OK) return DSC_ERR;
    if (max_batch < 1) return dsc_fail("model: batch size %d must be >= 1", max_batch);
    m->cfg = *cfg;
    m->max_batch = max_batch;
    if (cfg->variant == MODEL_DTC) {
        if (model_dtc_create(m, max_batch) == DSC_OK) return DSC_OK;
        model_destroy(m);
        return DSC_ERR;
    }
    if (cfg->variant == MODEL_DEC) {
        if (model_dec_create(m) == DSC_OK) return DSC_OK;
        model_destroy(m);
        return DSC_ERR;
    }
    m->has_lstm = cfg->variant == MODEL_CNN_LSTM_ENCODER || cfg->variant == MODEL_CNN_LSTM_AUTOENCODER;
    m->has_decoder = cfg->variant == MODEL_CNN_AUTOENCODER || cfg->variant == MODEL_CNN_LSTM_AUTOENCODER;
    model_layout(m);

    const int B = max_batch, S = cfg->steps, Bf = B * S, L = cfg->latent;
    const size_t frame = (size_t)cfg->vars * cfg->height * cfg->width;
    int ok = alloc_floats(&m->params, m->nparams, "model parameters") == DSC_OK &&
             alloc_floats(&m->grads, m->nparams, "model gradients") == DSC_OK;
    size_t dmax = (size_t)Bf * frame, scratch = 0;
    for (int i = 0; ok && i < MODEL_NCONV; i++) {
        const model_conv *c = &m->enc[i];
        size_t n = (size_t)Bf * c->oc * c->h * c->w;
        ok = alloc_floats(&m->enc_act[i], n, "encoder activations") == DSC_OK;
        dmax = max_size(dmax, n);
        conv2d_dims cd = conv_dims(m, c, Bf);
        scratch = max_size(scratch, conv2d_scratch_floats(&cd));
        if (ok && i >= 1) {
            size_t np = n / 4;
            ok = alloc_floats(&m->pool_out[i], np, "pooling outputs") == DSC_OK;
            if (ok) ok = (m->pool_arg[i] = dsc_calloc(np, sizeof(int), "pooling arg-max")) != NULL;
        }
    }
    if (ok && m->has_lstm) {
        for (int l = 0; ok && l < MODEL_NLSTM; l++) {
            lstm_dims ld = lstm_dims_of(m, l, B);
            size_t nout = (size_t)B * (l == 0 ? S : 1) * ld.HID;
            ok = alloc_floats(&m->lstm_out[l], nout, "LSTM outputs") == DSC_OK &&
                 alloc_floats(&m->lstm_state[l], lstm_state_floats(&ld), "LSTM state") == DSC_OK;
            dmax = max_size(dmax, (size_t)B * S * ld.IN);
            dmax = max_size(dmax, nout);
            scratch = max_size(scratch, lstm_scratch_floats(&ld));
            if (ok && cfg->dropout > 0)
                ok = alloc_floats(&m->mask_x[l], (size_t)MODEL_MASK_GATES * B * ld.IN, "dropout mask") == DSC_OK;
            if (ok && cfg->recurrent_dropout > 0)
                ok = alloc_floats(&m->mask_h[l], (size_t)MODEL_MASK_GATES * B * ld.HID, "dropout mask") == DSC_OK;
        }
    }
    if (ok) ok = alloc_floats(&m->latent, (size_t)B * L, "latent") == DSC_OK;
    dmax = max_size(dmax, (size_t)B * m->to_latent.in);
    dmax = max_size(dmax, (size_t)B * L);
    if (ok && m->has_decoder) {
        ok = alloc_floats(&m->dec_in, (size_t)B * m->features, "decoder input") == DSC_OK;
        dmax = max_size(dmax, (size_t)B * m->features);
        for (int j = 0; ok && j < MODEL_NDEC; j++) {
            const model_conv *c = &m->dec[j];
            size_t nup = (size_t)B * c->ic * c->h * c->w, nact = (size_t)B * c->oc * c->h * c->w;
            ok = alloc_floats(&m->dec_up[j], nup, "decoder activations") == DSC_OK &&
                 alloc_floats(&m->dec_act[j], nact, "decoder activations") == DSC_OK;
            dmax = max_size(dmax, max_size(nup, nact));
            conv2d_dims cd = conv_dims(m, c, B);
            scratch = max_size(scratch, conv2d_scratch_floats(&cd));
        }
        conv2d_dims cd = conv_dims(m, &m->dec_out, B);
        scratch = max_size(scratch, conv2d_scratch_floats(&cd));
        if (ok) ok = alloc_floats(&m->recon, (size_t)B * frame, "reconstruction") == DSC_OK;
        if (ok && S > 1) ok = alloc_floats(&m->target, (size_t)B * frame, "reconstruction target") == DSC_OK;
        dmax = max_size(dmax, (size_t)B * frame);
    }
    m->dbuf_floats = dmax;
    m->scratch_floats = scratch;
    if (ok)
        ok = alloc_floats(&m->dbuf[0], dmax, "activation gradients") == DSC_OK &&
             alloc_floats(&m->dbuf[1], dmax, "activation gradients") == DSC_OK &&
             alloc_floats(&m->scratch, scratch, "layer workspace") == DSC_OK;
    if (!ok) {
        model_destroy(m);
        return DSC_ERR;
    }
    for (int i = 0; i < MODEL_NCONV; i++) bind_conv(m, &m->enc[i]);
    if (m->has_lstm)
        for (int l = 0; l < MODEL_NLSTM; l++) bind_lstm(m, &m->lstm[l]);
    bind_dense(m, &m->to_latent);
    if (m->has_decoder) {
        bind_dense(m, &m->dec_dense);
        for (int j = 0; j < MODEL_NDEC; j++) bind_conv(m, &m->dec[j]);
        bind_conv(m, &m->dec_out);
    }
    if (m->tcentroids >= 0) {
        m->centroids = m->params + m->tensors[m->tcentroids].offset;
        m->dcentroids = m->grads + m->tensors[m->tcentroids].offset;
    }
    rng_seed(&m->dropout_rng, 0, 1);
    return DSC_OK;
}

void model_destroy(model *m)
{
    model_dtc_destroy(m);
    free(m->params);
    free(m->grads);
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
    free(m->latent);
    free(m->dec_in);
    for (int j = 0; j < MODEL_NDEC; j++) {
        free(m->dec_up[j]);
        free(m->dec_act[j]);
    }
    free(m->recon);
    free(m->target);
    free(m->dbuf[0]);
    free(m->dbuf[1]);
    free(m->scratch);
    model_dec_destroy(m);
    memset(m, 0, sizeof *m);
}

/* ---- Keras default initialisation ---------------------------------------- */

/* glorot_uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)). */
static void glorot_uniform(rng_state *r, float *w, size_t n, double fan_in, double fan_out)
{
    float a = (float)sqrt(6.0 / (fan_in + fan_out));
    rng_fill_uniform(r, w, n, -a, a);
}

/* Keras Orthogonal for the recurrent kernel (HID, 4*HID): a gaussian matrix
 * of the transposed shape (4*HID, HID) -- exactly our (4*HID, HID)
 * weight_hh -- is QR-factorised and Q (columns orthonormal) is kept with the
 * signs of diag(R) folded in.  Modified Gram-Schmidt in double yields R with
 * a positive diagonal, which is that sign convention.  The columns are
 * worked on as contiguous rows of a transposed copy q (cols, rows). */
static int orthogonal(rng_state *r, float *w, int rows, int cols)
{
    double *q = dsc_malloc((size_t)rows * cols * sizeof(double), "orthogonal initialisation");
    if (!q) return DSC_ERR;
    for (int i = 0; i < rows; i++) /* draw in the row-major order of w */
        for (int j = 0; j < cols; j++) q[(size_t)j * rows + i] = rng_normal(r);
    for (int j = 0; j < cols; j++) {
        double *qj = q + (size_t)j * rows;
        for (int k = 0; k < j; k++) {
            const double *qk = q + (size_t)k * rows;
            double dot = 0;
            for (int i = 0; i < rows; i++) dot += qk[i] * qj[i];
            for (int i = 0; i < rows; i++) qj[i] -= dot * qk[i];
        }
        double norm = 0;
        for (int i = 0; i < rows; i++) norm += qj[i] * qj[i];
        norm = sqrt(norm);
        for (int i = 0; i < rows; i++) qj[i] /= norm;
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) w[(size_t)i * cols + j] = (float)q[(size_t)j * rows + i];
    free(q);
    return DSC_OK;
}

static void init_conv(rng_state *r, model_conv *c, int k)
{
    /* Keras conv kernel (K, K, IC, OC): fan_in = IC*K*K, fan_out = OC*K*K. */
    glorot_uniform(r, c->weight, (size_t)c->oc * c->ic * k * k, (double)c->ic * k * k, (double)c->oc * k * k);
    memset(c->bias, 0, (size_t)c->oc * sizeof(float));
}

static void init_dense(rng_state *r, model_dense *d)
{
    glorot_uniform(r, d->weight, (size_t)d->out * d->in, d->in, d->out);
    memset(d->bias, 0, (size_t)d->out * sizeof(float));
}

static int init_lstm(rng_state *r, model_lstm *l)
{
    /* Keras kernel (IN, 4*HID): fan_in = IN, fan_out = 4*HID. */
    glorot_uniform(r, l->weight_ih, (size_t)4 * l->hid * l->in, l->in, 4.0 * l->hid);
    if (orthogonal(r, l->weight_hh, 4 * l->hid, l->hid) != DSC_OK) return DSC_ERR;
    memset(l->bias, 0, (size_t)4 * l->hid * sizeof(float));
    for (int i = 0; i < l->hid; i++) l->bias[l->hid + i] = 1.0f; /* unit_forget_bias: block f */
    return DSC_OK;
}

int model_init(model *m, uint64_t seed)
{
    if (m->dtc) return model_dtc_init(m, seed);
    rng_state r;
    rng_seed(&r, seed, 0);
    if (m->dec_net) {
        model_dec_init(m, &r);
        rng_seed(&m->dropout_rng, seed, 1);
        return DSC_OK;
    }
    const int k = m->cfg.kernel;
    for (int i = 0; i < MODEL_NCONV; i++) init_conv(&r, &m->enc[i], k);
    if (m->has_lstm)
        for (int l = 0; l < MODEL_NLSTM; l++)
            if (init_lstm(&r, &m->lstm[l]) != DSC_OK) return DSC_ERR;
    init_dense(&r, &m->to_latent);
    if (m->has_decoder) {
        init_dense(&r, &m->dec_dense);
        for (int j = 0; j < MODEL_NDEC; j++) init_conv(&r, &m->dec[j], k);
        init_conv(&r, &m->dec_out, k);
    }
    rng_seed(&m->dropout_rng, seed, 1);
    return DSC_OK;
}

/* ---- forward --------------------------------------------------------------- */

/* Keras dropout mask: 0 with probability rate, else 1 / (1 - rate). */
static void dropout_mask(rng_state *r, float *mask, size_t n, float rate)
{
    const float keep = 1.0f / (1.0f - rate);
    for (size_t i = 0; i < n; i++) mask[i] = rng_uniform(r) < rate ? 0.0f : keep;
}

void model_set_dropout_keys(model *m, uint64_t seed, uint64_t step, const long long *ids)
{
    m->dropout_ids = ids;
    m->dropout_seed = seed;
    m->dropout_step = step;
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

static int check_batch(const model *m, int B)
{
    if (B < 1 || B > m->max_batch)
        return dsc_fail("model: batch of %d samples, the model was created for 1 to %d; use a smaller batch", B,
                        m->max_batch);
    return DSC_OK;
}

int model_encode(model *m, const float *x, int B)
{
    if (check_batch(m, B) != DSC_OK) return DSC_ERR;
    if (m->dtc)
        model_dtc_encode(m, x, B);
    else if (m->dec_net)
        model_dec_forward(m, x, B, 0);
    else
        encode(m, x, B, 0);
    return DSC_OK;
}

/* Input of the latent dense layer for the last forward. */
static const float *latent_input(const model *m)
{
    return m->has_lstm ? m->lstm_out[MODEL_NLSTM - 1] : m->pool_out[MODEL_NCONV - 1];
}

int model_forward(model *m, const float *x, int B, int training)
{
    const model_config *cfg = &m->cfg;
    if (check_batch(m, B) != DSC_OK) return DSC_ERR;
    if (m->dtc) {
        model_dtc_forward(m, x, B);
        return DSC_OK;
    }
    if (m->dec_net) {
        model_dec_forward(m, x, B, 1);
        return DSC_OK;
    }
    encode(m, x, B, training);
    m->loss = 0.0f;
    if (!m->has_decoder) return DSC_OK;

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
    return DSC_OK;
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

int model_backward(model *m, float dloss, const float *dlatent)
{
    const model_config *cfg = &m->cfg;
    if (!m->input) return dsc_fail("model: backward without a forward pass");
    if (m->dtc) return model_dtc_backward(m, dloss, dlatent);
    if (m->dec_net) return model_dec_backward(m, dloss, dlatent);
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
        for (int j = MODEL_NDEC - 1; j >= 0; j--) {
            const model_conv *c = &m->dec[j];
            conv_act_backward(m, c, &g, m->dec_up[j], m->dec_act[j], B, 0);
            upsample2d_dims ud = {.B = B, .C = c->ic, .H = c->h / 2, .W = c->w / 2};
            upsample2d_backward(chain_next(&g, (size_t)B * c->ic * ud.H * ud.W), g.cur, &ud);
            chain_swap(&g);
        }
        dense_dims dd = {.B = B, .IN = m->dec_dense.in, .OUT = m->dec_dense.out};
        dense_backward(chain_next(&g, nlat), m->dec_dense.dweight, m->dec_dense.dbias, g.cur, m->latent,
                       m->dec_dense.weight, &dd);
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
    }
    return DSC_OK;
}

void model_zero_grad(model *m) { memset(m->grads, 0, m->nparams * sizeof(float)); }

int model_allreduce_gradients(model *m, MPI_Comm comm)
{
    int size;
    MPI_Comm_size(comm, &size);
    if (size == 1) return DSC_OK;
    /* In chunks of 4 MB: Open MPI 4.1's shared-memory allreduce of the whole
     * 78 MB buffer of the paper's network took 310-400 ms on 2 ranks of one
     * node, twenty 4 MB pieces 30-33 ms (bench/allreduce.c, doc/scaling.md).
     * Chunks also keep every count within an int.  Each element is summed
     * over the same ranks either way. */
    const size_t chunk = (size_t)1 << 20;
    for (size_t off = 0; off < m->nparams; off += chunk) {
        size_t n = m->nparams - off < chunk ? m->nparams - off : chunk;
        if (MPI_Allreduce(MPI_IN_PLACE, m->grads + off, (int)n, MPI_FLOAT, MPI_SUM, comm) != MPI_SUCCESS)
            return dsc_fail("model: MPI_Allreduce of the gradients failed");
    }
    return DSC_OK;
}

/* ---- shared with the other networks (model_dec.h, model_dtc.h) ------------------------------ */

int model_add_tensor(model *m, const char *name, int ndim, int d0, int d1, int d2, int d3)
{
    return add_tensor(m, name, ndim, d0, d1, d2, d3);
}

void model_glorot_uniform(rng_state *r, float *w, size_t n, double fan_in, double fan_out)
{
    glorot_uniform(r, w, n, fan_in, fan_out);
}

int model_orthogonal(rng_state *r, float *w, int rows, int cols) { return orthogonal(r, w, rows, cols); }
