/*
 * make_checkpoint.c - writes the checkpoint of a freshly initialised small
 * CNN-LSTM autoencoder, for tests that need a model file (dsc eval
 * --metric-space latent):
 *
 *   make_checkpoint PATH VARS HEIGHT WIDTH SEED
 *
 * Widths: conv 4,4,8,8,8, LSTM 8,8, latent 6.
 */
#include "checkpoint.h"
#include "model.h"
#include "status.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc != 6) {
        fprintf(stderr, "usage: %s PATH VARS HEIGHT WIDTH SEED\n", argv[0]);
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
    if (status == DSC_OK) status = model_create(&m, &cfg, 1);
    if (status == DSC_OK) {
        status = model_init(&m, (uint64_t)strtoull(argv[5], NULL, 10));
        if (status == DSC_OK) status = checkpoint_save(MPI_COMM_WORLD, argv[1], &m, NULL, NULL);
        model_destroy(&m);
    }
    if (status != DSC_OK && dsc_message()[0]) fprintf(stderr, "make_checkpoint: %s\n", dsc_message());
    MPI_Finalize();
    return status == DSC_OK ? 0 : 1;
}
