/*
 * test_model_torch.c - writes the C network's results for the PyTorch
 * oracle (tests/model_torch.sh runs it, then tests/model_torch.py compares).
 *
 *   test_model_torch DIR [reference]
 *
 * For each case, DIR/NAME/ receives
 *   model.ckpt   the seeded Keras-style initial weights (checkpoint format)
 *   x.f32        input (B, S, V, H, W)
 *   dlatent.f32  a fixed random extra gradient on the latent (B, L)
 *   latent.f32   latent E (B, L)
 *   recon.f32    reconstruction (B, V, H, W) (autoencoders only)
 *   grads.f32    d/dparams of  MSE + <dlatent, E>, flat, tensor-table layout
 *   meta.txt     "B loss training" of the forward
 *   mask_x1.f32 mask_h1.f32 mask_x2.f32 mask_h2.f32  LSTM dropout masks
 *                (4, B, IN) / (4, B, HID), one per gate (training case only)
 * and DIR/cases.txt lists the case names.  Cases: the four variants of paper
 * Table 3 at S = 1 and S = 2 with small widths on a non-square 32 x 48 grid
 * (so a height/width swap shows), and with "reference" the authors' model
 * (48 x 48 x 7, full widths, batch 1), all without dropout; and one
 * training pass with Keras dropout masks on both LSTMs (S = 3), which the
 * twin replays with the same masks; the DTC baseline (model_dtc.h) with
 * two and with one BiLSTM unit, against bench/torch_twin_dtc.py.  DEC
 * (model_dec.c): small widths on a 7 x 11 grid (no multiple of 16), and with
 * "reference" the paper's d-500-500-2000-10 on 41 x 41 x 7.
 */
#include "checkpoint.h"
#include "model.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int write_floats(const char *dir, const char *name, const float *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return dsc_fail("%s: cannot create", path);
    int ok = fwrite(p, sizeof(float), n, f) == n;
    if (fclose(f) != 0) ok = 0;
    return ok ? DSC_OK : dsc_fail("%s: write failed", path);
}

static int run_case(const char *root, FILE *list, const char *name, const model_config *cfg, int B, uint64_t seed,
                    int training)
{
    char dir[2048], path[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0777);
    model m;
    if (model_create(&m, cfg, B) != DSC_OK || model_init(&m, seed) != DSC_OK) return DSC_ERR;
    const size_t frame = (size_t)cfg->vars * cfg->height * cfg->width;
    const size_t nx = (size_t)B * cfg->steps * frame, nl = (size_t)B * m.cfg.latent; /* derived by --variant dtc */
    float *x = malloc(nx * sizeof(float)), *dlatent = malloc(nl * sizeof(float));
    int status = x && dlatent ? DSC_OK : dsc_fail("out of memory");
    if (status == DSC_OK) {
        rng_state r;
        rng_seed(&r, seed, 77);
        rng_fill_uniform(&r, x, nx, 0.0f, 1.0f);
        rng_fill_uniform(&r, dlatent, nl, -0.5f, 0.5f);
        status = model_forward(&m, x, B, training);
        float loss = m.loss;
        model_zero_grad(&m);
        if (status == DSC_OK) status = model_backward(&m, 1.0f, dlatent);
        snprintf(path, sizeof path, "%s/model.ckpt", dir);
        if (status == DSC_OK) status = checkpoint_save(MPI_COMM_SELF, path, &m, NULL, NULL);
        if (status == DSC_OK) status = write_floats(dir, "x.f32", x, nx);
        if (status == DSC_OK) status = write_floats(dir, "dlatent.f32", dlatent, nl);
        if (status == DSC_OK) status = write_floats(dir, "latent.f32", m.latent, nl);
        if (status == DSC_OK && m.has_decoder) status = write_floats(dir, "recon.f32", m.recon, (size_t)B * frame);
        if (status == DSC_OK) status = write_floats(dir, "grads.f32", m.grads, m.nparams);
        for (int l = 0; training && m.has_lstm && l < MODEL_NLSTM && status == DSC_OK; l++) {
            char fname[64];
            snprintf(fname, sizeof fname, "mask_x%d.f32", l + 1);
            status = write_floats(dir, fname, m.mask_x[l], (size_t)MODEL_MASK_GATES * B * m.lstm[l].in);
            snprintf(fname, sizeof fname, "mask_h%d.f32", l + 1);
            if (status == DSC_OK)
                status = write_floats(dir, fname, m.mask_h[l], (size_t)MODEL_MASK_GATES * B * m.lstm[l].hid);
        }
        if (status == DSC_OK) {
            snprintf(path, sizeof path, "%s/meta.txt", dir);
            FILE *f = fopen(path, "w");
            if (!f) status = dsc_fail("%s: cannot create", path);
            else {
                fprintf(f, "%d %.9g %d\n", B, (double)loss, training);
                fclose(f);
            }
        }
        if (status == DSC_OK) fprintf(list, "%s\n", name);
        printf("# %s: %zu parameters, loss %.6g\n", name, m.nparams, (double)loss);
    }
    free(x);
    free(dlatent);
    model_destroy(&m);
    return status;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: test_model_torch DIR [reference]\n");
        MPI_Finalize();
        return 2;
    }
    const char *root = argv[1];
    int reference = argc > 2 && !strcmp(argv[2], "reference");
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", root);
    FILE *list = fopen(path, "w");
    int status = list ? DSC_OK : dsc_fail("%s: cannot create", path);

    model_config small = model_config_default();
    small.vars = 3;
    small.height = 32;
    small.width = 48;
    const int widths[MODEL_NCONV] = {8, 8, 16, 16, 32};
    memcpy(small.conv, widths, sizeof widths);
    small.lstm[0] = small.lstm[1] = 16;
    small.latent = 8;
    for (int v = 0; v < 4 && status == DSC_OK; v++)
        for (int s = 1; s <= 2 && status == DSC_OK; s++) {
            model_config c = small;
            c.variant = (model_variant)v;
            c.steps = s;
            char name[64];
            snprintf(name, sizeof name, "%s-S%d", model_variant_name(c.variant), s);
            status = run_case(root, list, name, &c, 2, 1000 + 10 * v + s, 0);
        }
    if (status == DSC_OK) { /* Keras dropout 0.2 / recurrent dropout 0.3 masks on both LSTMs */
        model_config c = small;
        c.steps = 3;
        c.dropout = 0.2f;
        c.recurrent_dropout = 0.3f;
        status = run_case(root, list, "dropout-cnn-lstm-autoencoder-S3", &c, 2, 77, 1);
    }
    if (status == DSC_OK) { /* the DTC baseline: d = 3*8*7 = 168, pool 10 (a shorter last window), kernel 10 */
        model_config c = model_config_default();
        c.variant = MODEL_DTC;
        c.vars = 3;
        c.height = 8;
        c.width = 7;
        c.conv[0] = 6;
        c.kernel = 10;
        c.pool = 10;
        c.lstm[0] = 5;
        c.lstm[1] = 2;
        status = run_case(root, list, "dtc", &c, 2, 515, 0);
        c.lstm[1] = 1; /* the DTC paper's one unit per direction */
        if (status == DSC_OK) status = run_case(root, list, "dtc-one-unit", &c, 2, 516, 0);
    }
    if (status == DSC_OK) {
        model_config c = model_config_dec();
        c.vars = 3;
        c.height = 7;
        c.width = 11;
        c.dense[0] = 16;
        c.dense[1] = 12;
        c.dense[2] = 24;
        c.latent = 5;
        status = run_case(root, list, "dec", &c, 3, 4242, 0);
    }
    if (reference && status == DSC_OK) {
        model_config c = model_config_default(); /* the authors' model */
        status = run_case(root, list, "reference-dsc", &c, 1, 2024, 0);
    }
    if (reference && status == DSC_OK) {
        model_config c = model_config_dec(); /* DEC of Xie et al. on the paper's 41 x 41 x 7 */
        c.height = 41;
        c.width = 41;
        status = run_case(root, list, "reference-dec", &c, 2, 2016, 0);
    }
    if (list) fclose(list);
    if (status != DSC_OK) fprintf(stderr, "dsc: error: %s\n", dsc_message());
    MPI_Finalize();
    return status == DSC_OK ? 0 : 1;
}
