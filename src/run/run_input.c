/*
 * run_input.c - the input of a clustering run: the files read, normalised
 * and padded into the network's frames, and the reference labelling of
 * --truth matched to its time steps (see run_input.h).
 */
#include "run_input.h"
#include "labels.h"
#include "metrics.h"
#include "model_inputs.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

int run_input_load(MPI_Comm comm, char **files, int nfiles, const era5_options *eo, const preprocess_options *po,
                   const preprocess_stats *given, run_input *in)
{
    memset(in, 0, sizeof *in);
    if (era5_catalog_open(comm, files, nfiles, eo, &in->cat) != DSC_OK) return DSC_ERR;
    in->have_cat = 1;
    return run_input_read(comm, eo, po, given, in);
}

int run_input_read(MPI_Comm comm, const era5_options *eo, const preprocess_options *po, const preprocess_stats *given,
                   run_input *in)
{
    double t0 = MPI_Wtime();
    int status = era5_read_samples(comm, &in->cat, eo, &in->samples);
    if (status != DSC_OK) goto fail;
    in->have_samples = 1;
    double t1 = MPI_Wtime();
    const era5_samples *s = &in->samples;
    if (given) {
        status = DSC_OK;
        if (given->nvars != s->nvars || given->nlat != s->nlat || given->nlon != s->nlon)
            status = dsc_fail("the model was trained on %d variables on a %dx%d grid, the data have %d on %dx%d; select the "
                              "same --vars and --box as in training", given->nvars, given->nlat, given->nlon, s->nvars,
                              s->nlat, s->nlon);
        if (dsc_agree(comm, status) != DSC_OK) goto fail;
        size_t n = preprocess_stats_packed_size(given);
        double *buf = dsc_malloc(n * sizeof(double), "statistics");
        status = buf ? DSC_OK : DSC_ERR;
        if (buf) {
            preprocess_stats_pack(given, buf);
            status = preprocess_stats_unpack(&in->stats, buf, n);
        }
        free(buf);
        if (dsc_agree(comm, status) != DSC_OK) goto fail;
    } else if (preprocess_fit(comm, s, po, &in->stats) != DSC_OK) {
        goto fail;
    } else if (dsc_agree(comm, model_inputs_describe(&in->stats, &in->cat)) != DSC_OK) { /* saved with a model */
        preprocess_stats_destroy(&in->stats);
        goto fail;
    }
    in->have_stats = 1;
    in->F = (size_t)in->stats.nvars * in->stats.height * in->stats.width;
    in->x = dsc_malloc(((size_t)s->nt * in->F + 1) * sizeof(float), "normalised samples");
    status = in->x ? preprocess_apply(&in->stats, s, in->x) : DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto fail;
    in->t_read = t1 - t0;
    in->t_preprocess = MPI_Wtime() - t1;
    return DSC_OK;
fail:
    run_input_destroy(in);
    return DSC_ERR;
}

void run_input_destroy(run_input *in)
{
    free(in->x);
    if (in->have_stats) preprocess_stats_destroy(&in->stats);
    if (in->have_samples) era5_samples_destroy(&in->samples);
    if (in->have_cat) era5_catalog_destroy(&in->cat);
    memset(in, 0, sizeof *in);
}

int run_labels_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *labels)
{
    label_table tab;
    if (labels_read(comm, path, &tab) != DSC_OK) return DSC_ERR;
    int status = labels_match(labels, &tab, path, cat->time, cat->ntime, daily_mean);
    labels_destroy(&tab);
    return dsc_agree(comm, status);
}

int run_truth_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *truth, int *kt)
{
    if (run_labels_load(comm, path, cat, daily_mean, truth) != DSC_OK) return DSC_ERR;
    int status = DSC_OK;
    if ((*kt = metrics_encode_labels(truth, truth, cat->ntime)) < 0)
        status = dsc_fail("out of memory encoding the labels of %s", path);
    return dsc_agree(comm, status);
}
