/*
 * test_model_gradcheck.c - whole-network finite differences on a tiny
 * configuration (16 x 16, V = 2, conv 2,2,2,2,2, LSTM 3,3, latent 2), for
 * every parameter of every tensor, all four variants (paper Table 3),
 * S = 1 and S = 2, with and without dropout masks.
 *
 * Objective J = dloss * MSE(recon, last frame) + <dlatent, E> with a fixed
 * random dlatent, so both the reconstruction path and the extra latent
 * gradient (the clustering layer's) are checked.  Central differences in
 * float, a parameter passes when
 *     |fd - analytic| <= 2e-3 * max(|fd|, |analytic|) + 2e-4 * (2e-3 / 2h)
 * and a tensor passes when all its parameters do.  The absolute term is the
 * float noise of J (about one unit in the last place of J ~ 1, divided by
 * the step 2h = 2e-3: at most 7e-5 was measured), with a factor of three to
 * spare; the curvature of tanh/sigmoid gives an O(h^2) relative error far
 * below 2e-3.
 * Max pooling is not differentiable where a window's two largest inputs
 * swap: when the perturbation changes a pooling arg-max the difference is
 * taken again with h = 1e-4 and 1e-5 (the noise term grows with 1/h), and
 * only a parameter for which even h = 1e-5 moves an arg-max is skipped; at
 * most one per tensor may be.
 * The model is created for a batch of 3 and run with 2 so the layout for
 * B < max_batch is exercised too.
 *
 * Also checks the parameter table and the Keras default initialisation:
 * glorot-uniform bounds and variance, orthonormal recurrent kernels, zero
 * biases with forget-gate bias 1, determinism in the seed.
 */
#include "model.h"
#include "model_dec.h"
#include "model_dtc.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* |fd - analytic| <= REL_TOL * max(|fd|, |analytic|) + NOISE_TOL * (2e-3 / 2h)
 * for a central difference over 2h = 2e-3, 2e-4 or 2e-5; at most
 * MAX_SKIPPED parameters of a tensor may be left out at a pooling kink. */
#define REL_TOL 2e-3
#define NOISE_TOL 2e-4
#define MAX_SKIPPED 1

static double objective(model *m, const float *x, int B, int training, const rng_state *masks, float dloss,
                        const float *dlatent)
{
    if (training) m->dropout_rng = *masks; /* the same dropout masks in every evaluation */
    model_forward(m, x, B, training);
    double j = dloss * (double)m->loss;
    for (int i = 0; i < B * m->cfg.latent; i++) j += (double)dlatent[i] * m->latent[i];
    return j;
}

/* The kinks of the last forward, all layers into one buffer: pooling
 * arg-max of the CNN variants, which ReLU units are active (out > 0) in DEC. */
static size_t pool_args(const model *m, int B, int *out)
{
    if (m->dtc) return model_dtc_kinks(m, out); /* and the sides of its leaky ReLUs */
    size_t k = 0;
    if (m->dec_net) {
        for (int i = 0; i < MODEL_NDENSE; i++)
            for (int j = 0; j < 2; j++) {
                const float *a = j ? m->dec_net->dec_act[i] : m->dec_net->enc_act[i];
                size_t n = (size_t)B * (j ? m->dec_net->dec[i].out : m->dec_net->enc[i].out);
                for (size_t e = 0; e < n; e++, k++)
                    if (out) out[k] = a[e] > 0;
            }
        return k;
    }
    for (int i = 1; i < MODEL_NCONV; i++) {
        const model_conv *c = &m->enc[i];
        size_t n = (size_t)B * m->cfg.steps * c->oc * (c->h / 2) * (c->w / 2);
        if (out) memcpy(out + k, m->pool_arg[i], n * sizeof(int));
        k += n;
    }
    return k;
}

static int same_args(const model *m, int B, const int *base, int *tmp)
{
    size_t n = pool_args(m, B, tmp);
    return memcmp(base, tmp, n * sizeof(int)) == 0;
}

/* Every parameter of m: the analytic gradient of J against central
 * differences (see the top of the file). */
static void fd_check(model *m, const char *label, const float *x, int B, int training, const rng_state *masks,
                     float dloss, const float *dlatent)
{
    /* Analytic gradient. */
    if (training) m->dropout_rng = *masks;
    model_forward(m, x, B, training);
    model_zero_grad(m);
    model_backward(m, dloss, dlatent);
    float *analytic = malloc(m->nparams * sizeof(float));
    memcpy(analytic, m->grads, m->nparams * sizeof(float));
    size_t nargs = pool_args(m, B, NULL);
    int *base_args = malloc(nargs * sizeof(int)), *args = malloc(nargs * sizeof(int));
    pool_args(m, B, base_args);

    /* Steps 1e-3, then 1e-4 and 1e-5 for a parameter whose difference moves
     * a pooling arg-max (a near tie in a window) or a ReLU unit from active
     * to inactive or back: the smaller the step, the
     * fewer windows it can flip, and the larger the float noise of J / step,
     * which the absolute tolerance follows. */
    const float steps_tried[3] = {1e-3f, 1e-4f, 1e-5f};
    for (int t = 0; t < m->ntensors; t++) {
        const model_tensor *tt = &m->tensors[t];
        double worst = 0, worst_fd = 0, worst_an = 0, worst_rel = 0;
        int bad = 0, skipped = 0, smaller = 0;
        for (size_t k = 0; k < tt->size; k++) {
            size_t i = tt->offset + k;
            const float saved = m->params[i];
            double jp = 0, jm = 0, h = 0;
            int smooth = 0;
            for (int s = 0; s < 3 && !smooth; s++) {
                const float plus = saved + steps_tried[s], minus = saved - steps_tried[s];
                m->params[i] = plus;
                jp = objective(m, x, B, training, masks, dloss, dlatent);
                smooth = same_args(m, B, base_args, args);
                m->params[i] = minus;
                jm = objective(m, x, B, training, masks, dloss, dlatent);
                smooth = smooth && same_args(m, B, base_args, args);
                h = (double)plus - (double)minus;
                if (smooth && s > 0) smaller++;
            }
            m->params[i] = saved;
            if (dloss == 0 && !strncmp(tt->name, "dec.", 4) && analytic[i] != 0) bad++; /* the dropped decoder */
            if (!smooth) {
                skipped++;
                continue;
            }
            double fd = (jp - jm) / h, an = analytic[i];
            double err = fabs(fd - an), tol = REL_TOL * fmax(fabs(fd), fabs(an)) + NOISE_TOL * 2e-3 / h;
            if (err > tol) bad++;
            if (err - tol > worst) {
                worst = err - tol;
                worst_fd = fd;
                worst_an = an;
            }
            if (fmax(fabs(fd), fabs(an)) > 1e-2) worst_rel = fmax(worst_rel, err / fmax(fabs(fd), fabs(an)));
        }
        if (bad) tap_note("  worst: finite difference %.6g, analytic %.6g", worst_fd, worst_an);
        tap_check(bad == 0 && skipped <= MAX_SKIPPED, "%s %s: %zu parameters, %d outside tolerance (largest relative "
                  "error %.1e), %d at smaller steps, %d skipped at a kink",
                  label, tt->name, tt->size, bad, worst_rel,
                  smaller, skipped);
    }
    /* The gradient must not be trivially zero (a broken backward that
     * writes nothing would otherwise pass wherever fd is ~0 too). */
    double norm = 0;
    for (size_t i = 0; i < m->nparams; i++) norm += (double)analytic[i] * analytic[i];
    tap_check(norm > 1e-12, "%s: gradient norm %.3g is non-zero", label, sqrt(norm));
    free(analytic);
    free(base_args);
    free(args);
}

static void check_model(const model_config *cfgp, int training, float dloss)
{
    const model_config cfg = *cfgp;
    const int steps = cfg.steps;
    model m;
    if (model_create(&m, &cfg, 3) != DSC_OK || model_init(&m, 42 + steps) != DSC_OK) {
        tap_check(0, "model_create: %s", dsc_message());
        dsc_clear();
        return;
    }
    const int B = 2;
    const size_t n = (size_t)B * steps * cfg.vars * cfg.height * cfg.width;
    float *x = malloc(n * sizeof(float));
    float dlatent[2 * 2];
    rng_state r;
    rng_seed(&r, 7, steps);
    rng_fill_uniform(&r, x, n, 0.0f, 1.0f);
    rng_fill_uniform(&r, dlatent, (size_t)B * cfg.latent, -0.5f, 0.5f);
    rng_state masks;
    rng_seed(&masks, 99, steps);

    char label[64];
    snprintf(label, sizeof label, "%s S=%d%s%s", model_variant_name(cfg.variant), steps, training ? " dropout" : "",
             dloss == 0 ? " dloss=0" : "");
    fd_check(&m, label, x, B, training, &masks, dloss, dlatent);
    free(x);
    model_destroy(&m);
}

static void check_config(model_variant variant, int steps, int training)
{
    model_config cfg = model_config_default();
    cfg.variant = variant;
    cfg.vars = 2;
    cfg.height = 16;
    cfg.width = 16;
    cfg.steps = steps;
    for (int i = 0; i < MODEL_NCONV; i++) cfg.conv[i] = 2;
    cfg.lstm[0] = cfg.lstm[1] = 3;
    cfg.latent = 2;
    check_model(&cfg, training, 3.0f);
}

/* DEC on a 3 x 5 grid (no multiple of 16), widths 4, 5, 6, latent 2, ReLU;
 * dloss = 3: pre-training plus an extra latent gradient; dloss = 0: the
 * clustering stage, decoder dropped (its gradient must be exactly zero). */
static void check_dec(float dloss)
{
    model_config cfg = model_config_dec();
    cfg.vars = 2;
    cfg.height = 3;
    cfg.width = 5;
    cfg.dense[0] = 4;
    cfg.dense[1] = 5;
    cfg.dense[2] = 6;
    cfg.latent = 2;
    check_model(&cfg, 0, dloss);
}

static void check_init(void)
{
    model_config cfg = model_config_default();
    cfg.vars = 3;
    cfg.height = 32;
    cfg.width = 16;
    const int w[MODEL_NCONV] = {8, 8, 16, 16, 32};
    memcpy(cfg.conv, w, sizeof w);
    cfg.lstm[0] = 24;
    cfg.lstm[1] = 16;
    cfg.latent = 8;
    model m, m2;
    model_create(&m, &cfg, 1);
    model_create(&m2, &cfg, 1);
    model_init(&m, 5);
    model_init(&m2, 5);
    tap_check(memcmp(m.params, m2.params, m.nparams * sizeof(float)) == 0, "init: same seed, same weights");
    model_init(&m2, 6);
    tap_check(memcmp(m.params, m2.params, m.nparams * sizeof(float)) != 0, "init: another seed, other weights");

    /* Table: contiguous, in order, covering the buffer. */
    size_t off = 0;
    int contiguous = 1;
    for (int t = 0; t < m.ntensors; t++) {
        contiguous = contiguous && m.tensors[t].offset == off;
        off += m.tensors[t].size;
    }
    tap_check(contiguous && off == m.nparams, "table: %d tensors cover %zu parameters contiguously", m.ntensors, m.nparams);
    int i1 = model_tensor_find(&m, "enc.conv1.weight"), i2 = model_tensor_find(&m, "enc.lstm1.weight_ih");
    int i3 = model_tensor_find(&m, "dec.out.weight");
    tap_check(i1 >= 0 && m.tensors[i1].ndim == 4 && m.tensors[i1].shape[0] == 8 && m.tensors[i1].shape[1] == 3 &&
                  m.tensors[i1].shape[2] == 3 && m.tensors[i1].shape[3] == 3,
              "table: enc.conv1.weight is (8, 3, 3, 3)");
    /* F = 32 * (32/16) * (16/16) = 64 */
    tap_check(i2 >= 0 && m.tensors[i2].shape[0] == 4 * 24 && m.tensors[i2].shape[1] == 64,
              "table: enc.lstm1.weight_ih is (96, 64)");
    tap_check(i3 >= 0 && m.tensors[i3].shape[0] == 3 && m.tensors[i3].shape[1] == 8, "table: dec.out.weight is (3, 8, 3, 3)");

    /* glorot-uniform: |w| <= a, variance a^2 / 3. */
    struct {
        const float *w;
        size_t n;
        double fan_in, fan_out;
        const char *name;
    } g[] = {
        {m.enc[3].weight, (size_t)16 * 16 * 9, 16 * 9, 16 * 9, "enc.conv4.weight"},
        {m.dec[0].weight, (size_t)32 * 32 * 9, 32 * 9, 32 * 9, "dec.conv1.weight"},
        {m.lstm[0].weight_ih, (size_t)96 * 64, 64, 96, "enc.lstm1.weight_ih"},
        {m.dec_dense.weight, (size_t)64 * 8, 8, 64, "dec.dense.weight"},
    };
    for (size_t k = 0; k < sizeof g / sizeof g[0]; k++) {
        double a = sqrt(6.0 / (g[k].fan_in + g[k].fan_out)), mx = 0, var = 0;
        for (size_t i = 0; i < g[k].n; i++) {
            mx = fmax(mx, fabs(g[k].w[i]));
            var += (double)g[k].w[i] * g[k].w[i];
        }
        var /= (double)g[k].n;
        tap_check(mx <= a && mx > 0.95 * a && fabs(var / (a * a / 3) - 1) < 0.1,
                  "init: %s glorot-uniform, max %.4f <= %.4f, variance ratio %.3f", g[k].name, mx, a, var / (a * a / 3));
    }
    /* orthogonal recurrent kernels: weight_hh (4H, H) has orthonormal columns */
    for (int l = 0; l < MODEL_NLSTM; l++) {
        int H = m.lstm[l].hid;
        const float *whh = m.lstm[l].weight_hh;
        double worst = 0;
        for (int a = 0; a < H; a++)
            for (int b = 0; b < H; b++) {
                double dot = 0;
                for (int r = 0; r < 4 * H; r++) dot += (double)whh[r * H + a] * whh[r * H + b];
                worst = fmax(worst, fabs(dot - (a == b)));
            }
        tap_check(worst < 1e-5, "init: enc.lstm%d.weight_hh^T weight_hh = I (max deviation %.2e)", l + 1, worst);
        int bias_ok = 1;
        for (int i = 0; i < 4 * H; i++) bias_ok = bias_ok && m.lstm[l].bias[i] == (i >= H && i < 2 * H ? 1.0f : 0.0f);
        tap_check(bias_ok, "init: enc.lstm%d.bias zero with forget-gate block 1", l + 1);
    }
    int zero = 1;
    for (int j = 0; j < MODEL_NDEC; j++)
        for (int o = 0; o < m.dec[j].oc; o++) zero = zero && m.dec[j].bias[o] == 0;
    for (int i = 0; i < MODEL_NCONV; i++)
        for (int o = 0; o < m.enc[i].oc; o++) zero = zero && m.enc[i].bias[o] == 0;
    tap_check(zero, "init: convolution biases zero");

    /* Batch bounds and the encoder-only pass. */
    size_t nx = (size_t)cfg.steps * cfg.vars * cfg.height * cfg.width;
    float *x = malloc(2 * nx * sizeof(float)), *lat = malloc(cfg.latent * sizeof(float));
    rng_state r;
    rng_seed(&r, 1, 1);
    rng_fill_uniform(&r, x, 2 * nx, 0, 1);
    int st = model_forward(&m, x, 2, 0);
    tap_check(st == DSC_ERR && strstr(dsc_message(), "batch of 2"), "batch above max_batch rejected: %s", dsc_message());
    dsc_clear();
    model_forward(&m, x, 1, 0);
    memcpy(lat, m.latent, cfg.latent * sizeof(float));
    float loss = m.loss;
    rng_fill_uniform(&r, m.latent, cfg.latent, 0, 1); /* scribble */
    st = model_encode(&m, x, 1);
    tap_check(st == DSC_OK && !memcmp(lat, m.latent, cfg.latent * sizeof(float)) && loss > 0,
              "model_encode gives the latent of the inference forward pass");
    free(x);
    free(lat);
    model_destroy(&m);
    model_destroy(&m2);
}

/* DTC (model_dtc.h) on a field of d = 2*4*5 = 40 values: an even kernel,
 * a pooling size that leaves a shorter last window (14 positions), two
 * units in the second BiLSTM (latent 28) and with one (latent 14). */
static void check_dtc(int h2)
{
    model_config cfg = model_config_default();
    cfg.variant = MODEL_DTC;
    cfg.vars = 2;
    cfg.height = 4;
    cfg.width = 5;
    cfg.conv[0] = 3;
    cfg.kernel = 4;
    cfg.pool = 3;
    cfg.lstm[0] = 3;
    cfg.lstm[1] = h2;
    cfg.clusters = 2;
    model m;
    if (model_create(&m, &cfg, 3) != DSC_OK || model_init(&m, 5) != DSC_OK) {
        tap_check(0, "model_create dtc: %s", dsc_message());
        dsc_clear();
        return;
    }
    const int B = 2, L = m.cfg.latent;
    tap_check(L == 14 * h2, "dtc: latent size %d = ceil(40 / 3) positions x %d units", L, h2);
    /* Keras initialisation: LSTM biases 0 but the forget gate's 1, glorot bounds, orthonormal recurrent columns */
    int init_ok = 1;
    for (int t = 0; t < m.ntensors; t++) {
        const model_tensor *tt = &m.tensors[t];
        const float *p = m.params + tt->offset;
        if (strstr(tt->name, "lstm") && strstr(tt->name, ".bias")) {
            const int hid = tt->shape[0] / 4;
            for (int i = 0; i < tt->shape[0]; i++) init_ok &= p[i] == (i >= hid && i < 2 * hid ? 1.0f : 0.0f);
        } else if (strstr(tt->name, "weight_hh")) {
            const int rows = tt->shape[0], cols = tt->shape[1];
            for (int a = 0; a < cols; a++)
                for (int b = 0; b < cols; b++) {
                    double dot = 0;
                    for (int r = 0; r < rows; r++) dot += (double)p[r * cols + a] * p[r * cols + b];
                    init_ok &= fabs(dot - (a == b)) < 1e-5;
                }
        } else if (!strcmp(tt->name, "enc.conv1.weight")) { /* fan_in 1*K, fan_out F*K */
            const float bound = (float)sqrt(6.0 / (4 + 3 * 4));
            double sq = 0;
            for (size_t i = 0; i < tt->size; i++) {
                init_ok &= fabsf(p[i]) <= bound;
                sq += (double)p[i] * p[i];
            }
            init_ok &= sq > 0;
        }
    }
    tap_check(init_ok, "dtc H2=%d: Keras initialisation (forget-gate bias 1, other biases 0, orthonormal recurrent "
              "kernels, glorot bounds)", h2);
    const size_t n = (size_t)B * 40;
    float *x = malloc(n * sizeof(float)), *dlatent = malloc((size_t)B * L * sizeof(float));
    rng_state r, masks;
    rng_seed(&r, 7, 3);
    rng_seed(&masks, 99, 3);
    rng_fill_uniform(&r, x, n, -1.0f, 1.0f);
    rng_fill_uniform(&r, dlatent, (size_t)B * L, -0.5f, 0.5f);
    char label[64];
    snprintf(label, sizeof label, "dtc H2=%d", h2);
    fd_check(&m, label, x, B, 0, &masks, 3.0f, dlatent);
    /* the encoder alone gives the latent of the full forward */
    float *lat = malloc((size_t)B * L * sizeof(float));
    model_forward(&m, x, B, 1);
    memcpy(lat, m.latent, (size_t)B * L * sizeof(float));
    model_encode(&m, x, B);
    tap_check(memcmp(lat, m.latent, (size_t)B * L * sizeof(float)) == 0, "%s: model_encode gives the forward's latent", label);
    free(x), free(dlatent), free(lat);
    model_destroy(&m);
}

/* DEC: table, glorot-uniform initialisation, the encoder-only pass, and
 * the configuration checks. */
static void check_dec_init(void)
{
    model_config cfg = model_config_dec();
    cfg.vars = 3;
    cfg.height = 7;
    cfg.width = 9; /* d = 189 */
    cfg.dense[0] = 40;
    cfg.dense[1] = 30;
    cfg.dense[2] = 60;
    cfg.latent = 5;
    cfg.clusters = 4;
    model m;
    if (model_create(&m, &cfg, 2) != DSC_OK || model_init(&m, 11) != DSC_OK) {
        tap_check(0, "dec: model_create: %s", dsc_message());
        dsc_clear();
        return;
    }
    static const char *names[] = {"enc.dense1", "enc.dense2", "enc.dense3", "enc.latent",
                                  "dec.dense1", "dec.dense2", "dec.dense3", "dec.out"};
    const int shapes[8][2] = {{40, 189}, {30, 40}, {60, 30}, {5, 60}, {60, 5}, {30, 60}, {40, 30}, {189, 40}};
    int table = m.ntensors == 17, glorot = 1, zero_bias = 1;
    size_t off = 0;
    for (int t = 0; t < m.ntensors; t++) {
        table = table && m.tensors[t].offset == off;
        off += m.tensors[t].size;
    }
    for (int l = 0; l < 8; l++) {
        char name[64];
        snprintf(name, sizeof name, "%s.weight", names[l]);
        int iw = model_tensor_find(&m, name);
        snprintf(name, sizeof name, "%s.bias", names[l]);
        int ib = model_tensor_find(&m, name);
        table = table && iw == 2 * l && ib == 2 * l + 1 && m.tensors[iw].shape[0] == shapes[l][0] &&
                m.tensors[iw].shape[1] == shapes[l][1] && m.tensors[ib].shape[0] == shapes[l][0];
        if (iw < 0 || ib < 0) continue;
        const float *w = model_tensor_data(&m, m.params, iw), *b = model_tensor_data(&m, m.params, ib);
        double a = sqrt(6.0 / (shapes[l][0] + shapes[l][1])), mx = 0, var = 0;
        size_t n = m.tensors[iw].size;
        for (size_t i = 0; i < n; i++) {
            mx = fmax(mx, fabs(w[i]));
            var += (double)w[i] * w[i];
        }
        var /= (double)n;
        glorot = glorot && mx <= a && mx > 0.9 * a && fabs(var / (a * a / 3) - 1) < 0.15;
        for (int o = 0; o < shapes[l][0]; o++) zero_bias = zero_bias && b[o] == 0;
    }
    int ic = model_tensor_find(&m, "cluster.centroids");
    table = table && ic == 16 && m.tensors[ic].shape[0] == 4 && m.tensors[ic].shape[1] == 5 && off == m.nparams &&
            m.centroids == m.params + m.tensors[ic].offset;
    tap_check(table, "dec: table enc.dense1..3, enc.latent, dec.dense1..3, dec.out (OUT, IN), cluster.centroids, contiguous");
    tap_check(glorot, "dec: weights glorot-uniform (bound and variance)");
    tap_check(zero_bias, "dec: biases zero");

    const size_t nx = (size_t)2 * 189;
    float *x = malloc(nx * sizeof(float)), lat[10];
    rng_state r;
    rng_seed(&r, 3, 3);
    rng_fill_uniform(&r, x, nx, 0, 1);
    model_forward(&m, x, 2, 1);
    memcpy(lat, m.latent, sizeof lat);
    float loss = m.loss;
    int negative = 0;
    for (int i = 0; i < 10; i++) negative += lat[i] < 0;
    rng_fill_uniform(&r, m.latent, 10, 0, 1); /* scribble */
    int st = model_encode(&m, x, 2);
    tap_check(st == DSC_OK && !memcmp(lat, m.latent, sizeof lat) && loss > 0 && negative > 0,
              "dec: model_encode gives the latent of the forward pass (linear embedding: %d of 10 negative)", negative);
    st = model_backward(&m, 1.0f, NULL);
    tap_check(st == DSC_ERR && strstr(dsc_message(), "model_encode"), "dec: reconstruction backward after model_encode refused: %s",
              dsc_message());
    dsc_clear();
    free(x);
    model_destroy(&m);

    model_config bad = cfg;
    bad.steps = 2;
    tap_check(model_create(&m, &bad, 1) == DSC_ERR && strstr(dsc_message(), "--steps 1"), "dec: S = 2 refused: %s",
              dsc_message());
    dsc_clear();
    bad = cfg;
    bad.dense[1] = 0;
    tap_check(model_create(&m, &bad, 1) == DSC_ERR && strstr(dsc_message(), "dense layer 2"), "dec: width 0 refused: %s",
              dsc_message());
    dsc_clear();
    model_variant v;
    tap_check(model_variant_parse("dec", &v) == DSC_OK && v == MODEL_DEC && !strcmp(model_variant_name(MODEL_DEC), "dec") &&
                  !model_pads_grid(&cfg),
              "dec: variant name, and the real grid without padding");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    check_init();
    for (int v = 0; v < 4; v++)
        for (int s = 1; s <= 2; s++) check_config((model_variant)v, s, 0);
    /* Dropout masks on both LSTMs: the same masks must flow through backward. */
    check_config(MODEL_CNN_LSTM_AUTOENCODER, 2, 1);
    check_dec(3.0f);
    check_dec(0.0f);
    check_dec_init();
    check_dtc(1);
    check_dtc(2);
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
