/*
 * make_checkpoint.c - writes the checkpoint of a freshly initialised small
 * CNN-LSTM autoencoder, for tests that need a model file (dsc eval
 * --metric-space latent):
 *
 *   make_checkpoint PATH VARS HEIGHT WIDTH SEED [CALIBRATION.bin]
 *
 * Widths: conv 4,4,8,8,8, LSTM 8,8, latent 6.
 *
 * The latents of an untrained network all sit within ~1e-4 of 0.5 (the
 * sigmoid inputs are tiny and nearly the same for every sample), so metrics
 * on them hang on the last bits of float32 arithmetic.  With a calibration
 * matrix (T, VARS*HEIGHT*WIDTH) of normalised, padded samples (int64 T,
 * int64 D, then T*D float32, as tests/metrics_sklearn.py writes), the rows
 * of the latent dense layer are rescaled and shifted so that every sigmoid
 * input has mean 0 and standard deviation 1 over those samples (a
 * data-dependent initialisation): the latents then spread over (0, 1).
 */
#include "checkpoint.h"
#include "model.h"
#include "status.h"

#include <math.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 16

/* Reads the calibration matrix; checks its width is d. */
static float *read_matrix(const char *path, long long d, long long *t)
{
    FILE *f = fopen(path, "rb");
    int64_t head[2];
    if (!f || fread(head, sizeof head, 1, f) != 1 || head[1] != d || head[0] < 2) {
        dsc_fail("%s: cannot read a (T, %lld) float32 matrix", path, d);
        if (f) fclose(f);
        return NULL;
    }
    *t = head[0];
    float *x = dsc_malloc((size_t)(head[0] * d) * sizeof(float), "calibration matrix"); /* (T, D) */
    if (x && fread(x, sizeof(float), (size_t)(head[0] * d), f) != (size_t)(head[0] * d)) {
        dsc_fail("%s: truncated matrix", path);
        free(x);
        x = NULL;
    }
    fclose(f);
    return x;
}

/* Rescales the latent dense layer so its outputs over the rows of x (T, D)
 * have mean 0 and standard deviation 1 before the sigmoid. */
static int calibrate(model *m, const float *x, long long t)
{
    const int L = m->cfg.latent, d = m->cfg.vars * m->cfg.height * m->cfg.width;
    double *sum = calloc(2 * (size_t)L, sizeof(double)); /* (2, L): sum, sum of squares */
    if (!sum) return dsc_fail("out of memory");
    for (long long i = 0; i < t; i += BATCH) {
        int b = (int)(t - i < BATCH ? t - i : BATCH);
        if (model_encode(m, x + (size_t)i * d, b) != DSC_OK) {
            free(sum);
            return DSC_ERR;
        }
        for (int r = 0; r < b; r++)
            for (int l = 0; l < L; l++) {
                double z = m->latent[r * L + l], u = log(z / (1.0 - z)); /* the sigmoid's input */
                sum[l] += u;
                sum[L + l] += u * u;
            }
    }
    model_dense *dl = &m->to_latent;
    int status = DSC_OK;
    for (int l = 0; l < L; l++) {
        double mean = sum[l] / t, sd = sqrt(fmax(sum[L + l] / t - mean * mean, 0.0));
        if (!(sd > 0.0)) {
            status = dsc_fail("latent %d is the same for every calibration sample", l);
            break;
        }
        for (int j = 0; j < dl->in; j++) dl->weight[(size_t)l * dl->in + j] = (float)(dl->weight[(size_t)l * dl->in + j] / sd);
        dl->bias[l] = (float)((dl->bias[l] - mean) / sd);
    }
    free(sum);
    return status;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s PATH VARS HEIGHT WIDTH SEED [CALIBRATION.bin]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    model_config cfg = model_config_default();
    cfg.vars = atoi(argv[2]);
    cfg.height = atoi(argv[3]);
    cfg.width = atoi(argv[4]);
    const int conv[MODEL_NCONV] = {4, 4, 8, 8, 8};
    for (int i = 0; i < MODEL_NCONV; i++) cfg.conv[i] = conv[i];
    cfg.lstm[0] = cfg.lstm[1] = 8;
    cfg.latent = 6;
    model m;
    int status = model_config_check(&cfg);
    if (status == DSC_OK) status = model_create(&m, &cfg, BATCH);
    if (status == DSC_OK) {
        status = model_init(&m, (uint64_t)strtoull(argv[5], NULL, 10));
        if (status == DSC_OK && argc == 7) {
            long long t = 0;
            float *x = read_matrix(argv[6], (long long)cfg.vars * cfg.height * cfg.width, &t);
            status = x ? calibrate(&m, x, t) : DSC_ERR;
            free(x);
        }
        if (status == DSC_OK) status = checkpoint_save(MPI_COMM_WORLD, argv[1], &m, NULL, NULL);
        model_destroy(&m);
    }
    if (status != DSC_OK && dsc_message()[0]) fprintf(stderr, "make_checkpoint: %s\n", dsc_message());
    MPI_Finalize();
    return status == DSC_OK ? 0 : 1;
}
