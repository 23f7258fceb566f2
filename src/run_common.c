/*
 * run_common.c - output folder, input loading and gathers shared by the
 * clustering commands (see run_common.h).
 */
#include "run_common.h"
#include "labels.h"
#include "metrics.h"
#include "output_file.h"
#include "partition.h"
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int folder_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)) != NULL) any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

static int check_folder(const char *dir, int force, const char *command, char **inputs, int ninputs)
{
    struct stat st;
    char option[64];
    snprintf(option, sizeof option, "dsc %s: -o", command);
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return dsc_fail("dsc %s: -o %s is not a folder; give a folder for the outputs", command, dir);
        if (!force && folder_has_files(dir))
            return dsc_fail("dsc %s: output folder %s is not empty; choose a new folder, or add --force to overwrite its outputs",
                            command, dir);
    } else if (mkdir(dir, 0777) != 0) {
        return dsc_fail("dsc %s: cannot create output folder %s: %s; check the path and permissions", command, dir, strerror(errno));
    }
    return output_check(dir, OUTPUT_FOLDER, option, inputs, ninputs);
}

int run_check_sample(const char *command, long sample, long k)
{
    if (sample != 0 && sample < k + 1)
        return dsc_fail("dsc %s: option --sample: %ld time steps are too few for %ld clusters (the silhouette needs more "
                        "samples than clusters); give 0 (all time steps) or at least %ld", command, sample, k, k + 1);
    return DSC_OK;
}

int run_folder_spares(MPI_Comm comm, const char *dir, const char *command, const char *option, const char *input)
{
    static const char *written[] = {"labels.csv", "labels.nc", "latent.nc", "centroids.nc", "composites.nc",
                                    "metrics.json", "model.ckpt", "checkpoint.ckpt", "config.txt"};
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    for (size_t i = 0; rank == 0 && input && status == DSC_OK && i < sizeof written / sizeof written[0]; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", dir, written[i]);
        if (output_same_file(path, input))
            status = dsc_fail("dsc %s: -o %s would overwrite the %s file %s (as %s); choose another folder", command, dir,
                              option, input, written[i]);
    }
    return dsc_agree(comm, status);
}

int run_folder_prepare(MPI_Comm comm, const char *dir, int force, const char *command, char **inputs, int ninputs)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = rank == 0 ? check_folder(dir, force, command, inputs, ninputs) : DSC_OK;
    return dsc_agree(comm, status);
}

int run_input_load(MPI_Comm comm, char **files, int nfiles, const era5_options *eo, const preprocess_options *po,
                   const preprocess_stats *given, run_input *in)
{
    memset(in, 0, sizeof *in);
    double t0 = MPI_Wtime();
    int status = era5_catalog_open(comm, files, nfiles, eo, &in->cat);
    if (status != DSC_OK) return DSC_ERR;
    in->have_cat = 1;
    status = era5_read_samples(comm, &in->cat, eo, &in->samples);
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

int run_truth_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *truth, int *kt)
{
    label_table tab;
    if (labels_read(comm, path, &tab) != DSC_OK) return DSC_ERR;
    int status = labels_match(truth, &tab, path, cat->time, cat->ntime, daily_mean);
    labels_destroy(&tab);
    if (status == DSC_OK && (*kt = metrics_encode_labels(truth, truth, cat->ntime)) < 0)
        status = dsc_fail("out of memory encoding the labels of %s", path);
    return dsc_agree(comm, status);
}

void run_block_counts(long long T, int P, int per_row, int *counts, int *displs)
{
    for (int r = 0; r < P; r++) {
        long long a, c;
        block_range(T, P, r, &a, &c);
        counts[r] = (int)(c * per_row);
        displs[r] = (int)(a * per_row);
    }
}

void run_allgather_ints(MPI_Comm comm, const int *mine, long long T, int *all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int *counts = malloc((size_t)2 * P * sizeof(int));
    if (!counts) MPI_Abort(comm, 1);
    run_block_counts(T, P, 1, counts, counts + P);
    MPI_Allgatherv(mine, counts[rank], MPI_INT, all, counts, counts + P, MPI_INT, comm);
    free(counts);
}

void run_gather_rows(MPI_Comm comm, const double *mine, long long T, int K, double *all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int *counts = malloc((size_t)2 * P * sizeof(int));
    if (!counts) MPI_Abort(comm, 1);
    run_block_counts(T, P, K, counts, counts + P);
    MPI_Gatherv(mine, counts[rank], MPI_DOUBLE, all, counts, counts + P, MPI_DOUBLE, 0, comm);
    free(counts);
}

int run_stats_blob(const preprocess_stats *st, void **blob, size_t *bytes)
{
    size_t n = preprocess_stats_packed_size(st);
    double *buf = dsc_malloc(n * sizeof(double), "normalisation statistics");
    if (!buf) return DSC_ERR;
    preprocess_stats_pack(st, buf);
    *blob = buf;
    *bytes = n * sizeof(double);
    return DSC_OK;
}
