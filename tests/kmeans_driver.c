/*
 * kmeans_driver.c - the C side of tests/kmeans.sh:
 *
 *   mpirun -n P tests/kmeans_driver DATA K OUT [--init-file INIT] [--n-init N]
 *        [--seed S] [--tol T] [--max-iter M] [--init k-means++|random]
 *
 * DATA: int64 T, int64 D, then T*D float32 (row-major); rank r reads the
 * rows block_range(T, P, r).  With --init-file (int64 K, int64 D, K*D
 * float64) it runs kmeans_fit_from from these centroids, otherwise
 * kmeans_fit.  Rank 0 writes OUT.labels (one label per line), OUT.centroids
 * (int64 K, int64 D, K*D float64) and prints inertia=, iterations=,
 * best_init= lines.  Exit status 1 on any error ("dsc: error:" line).
 */
#include "kmeans.h"
#include "partition.h"
#include "status.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads rows [t0, t0 + n) of DATA; *t and *d from its header. */
static float *read_rows(const char *path, int rank, int size, long long *t, int *d, long long *t0, long long *n)
{
    FILE *fp = fopen(path, "rb");
    int64_t head[2];
    if (!fp || fread(head, sizeof(int64_t), 2, fp) != 2 || head[0] < 1 || head[1] < 1) {
        dsc_fail("%s: cannot read the matrix header; write int64 T, int64 D, then T*D float32", path);
        if (fp) fclose(fp);
        return NULL;
    }
    *t = head[0];
    *d = (int)head[1];
    block_range(*t, size, rank, t0, n);
    float *x = dsc_malloc((size_t)(*n) * (*d) * sizeof(float), "rows");
    if (x && (fseek(fp, (long)(16 + (*t0) * (*d) * 4), SEEK_SET) != 0 ||
              fread(x, sizeof(float), (size_t)(*n) * (*d), fp) != (size_t)(*n) * (*d))) {
        dsc_fail("%s: too short for %lld x %d float32 values", path, *t, *d);
        free(x);
        x = NULL;
    }
    fclose(fp);
    return x;
}

static double *read_init(const char *path, int k, int d)
{
    FILE *fp = fopen(path, "rb");
    int64_t head[2];
    double *c = NULL;
    if (!fp || fread(head, sizeof(int64_t), 2, fp) != 2 || head[0] != k || head[1] != d) {
        dsc_fail("%s: expected a %d x %d centroid file", path, k, d);
    } else {
        c = dsc_malloc((size_t)k * d * sizeof(double), "initial centroids");
        if (c && fread(c, sizeof(double), (size_t)k * d, fp) != (size_t)k * d) {
            dsc_fail("%s: too short for %d x %d float64 values", path, k, d);
            free(c);
            c = NULL;
        }
    }
    if (fp) fclose(fp);
    return c;
}

static int run(int argc, char **argv, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (argc < 4) {
        if (rank == 0) fprintf(stderr, "usage: kmeans_driver DATA K OUT [options]\n");
        return DSC_ERR;
    }
    kmeans_options opt = kmeans_defaults(atoi(argv[2]));
    const char *out = argv[3], *init_file = NULL;
    int status = DSC_OK;
    for (int a = 4; a < argc; a++) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!v) status = dsc_fail("option %s needs a value", argv[a]);
        else if (!strcmp(argv[a], "--init-file")) init_file = v;
        else if (!strcmp(argv[a], "--n-init")) opt.n_init = atoi(v);
        else if (!strcmp(argv[a], "--seed")) opt.seed = strtoull(v, NULL, 10);
        else if (!strcmp(argv[a], "--tol")) opt.tol = atof(v);
        else if (!strcmp(argv[a], "--max-iter")) opt.max_iter = atoi(v);
        else if (!strcmp(argv[a], "--init")) status = kmeans_init_parse(v, &opt.init);
        else status = dsc_fail("unknown option %s", argv[a]);
        a++;
    }
    long long t = 0, t0 = 0, n = 0;
    int d = 0;
    float *x = NULL;
    double *init = NULL;
    if (status == DSC_OK) x = read_rows(argv[1], rank, size, &t, &d, &t0, &n);
    if (x && init_file) init = read_init(init_file, opt.k, d);
    if (!x || (init_file && !init)) status = DSC_ERR;
    int *labels = status == DSC_OK ? dsc_malloc((size_t)(n > 0 ? n : 1) * sizeof(int), "labels") : NULL;
    int *all = status == DSC_OK && rank == 0 ? dsc_malloc((size_t)t * sizeof(int), "labels") : NULL;
    if (status == DSC_OK && (!labels || (rank == 0 && !all))) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        free(x), free(init), free(labels), free(all);
        return DSC_ERR;
    }

    kmeans_result res;
    status = init ? kmeans_fit_from(comm, x, n, d, init, &opt, &res, labels) : kmeans_fit(comm, x, n, d, &opt, &res, labels);
    if (status == DSC_OK) {
        int *counts = malloc((size_t)size * sizeof(int)), *displs = malloc((size_t)size * sizeof(int));
        for (int r = 0; r < size; r++) {
            long long a, b;
            block_range(t, size, r, &a, &b);
            displs[r] = (int)a;
            counts[r] = (int)b;
        }
        MPI_Gatherv(labels, (int)n, MPI_INT, all, counts, displs, MPI_INT, 0, comm);
        free(counts), free(displs);
        int wrote = DSC_OK;
        if (rank == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s.labels", out);
            FILE *fp = fopen(path, "w");
            if (fp) {
                for (long long i = 0; i < t; i++) fprintf(fp, "%d\n", all[i]);
                if (fclose(fp) != 0) wrote = dsc_fail("cannot write %s", path);
            } else {
                wrote = dsc_fail("cannot write %s", path);
            }
            snprintf(path, sizeof path, "%s.centroids", out);
            fp = fopen(path, "wb");
            int64_t head[2] = {opt.k, d};
            if (!fp || fwrite(head, sizeof head, 1, fp) != 1 ||
                fwrite(res.centroids, sizeof(double), (size_t)opt.k * d, fp) != (size_t)opt.k * d)
                wrote = dsc_fail("cannot write %s", path);
            if (fp && fclose(fp) != 0) wrote = dsc_fail("cannot write %s", path);
            printf("inertia=%.17g\niterations=%d\nbest_init=%d\n", res.inertia, res.iterations, res.best_init);
        }
        status = dsc_agree(comm, wrote);
        kmeans_result_destroy(&res);
    }
    free(x), free(init), free(labels), free(all);
    return status;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rc = run(argc, argv, MPI_COMM_WORLD) == DSC_OK ? 0 : 1;
    MPI_Finalize();
    return rc;
}
