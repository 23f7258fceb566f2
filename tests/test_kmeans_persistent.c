/*
 * test_kmeans_persistent.c - k-means with a penalty per switch
 * (src/cluster/kmeans_persistent.c) on rows with planted episodes: no penalty
 * gives plain k-means exactly; a penalty recovers the episodes better than
 * plain k-means and lowers the penalised objective; a penalty above every gap
 * leaves one label per segment; a wanted mean episode length is met.  Run on
 * 1, 2 and 3 ranks (tests/kmeans_mpi.sh), the labels must agree; here the
 * rank count is whatever mpirun gave.
 */
#include "kmeans_persistent.h"
#include "partition.h"
#include "persistence.h"
#include "rng.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { T = 600, D = 6, K = 3, EPISODE = 8 };

/* Row t: the centre of its episode's regime plus noise, the same at any rank count. */
static void make_rows(float *x, int *truth)
{
    rng_state r;
    rng_seed(&r, 11, 0);
    for (int t = 0; t < T; t++) {
        truth[t] = (t / EPISODE) * 7 % K;
        for (int j = 0; j < D; j++)
            x[t * D + j] = (float)((j % K == truth[t] ? 1.0 : 0.0) + 0.55 * rng_normal(&r));
    }
}

static int agreement(const int *a, const int *truth)
{
    /* best match of labels to truth over the K! permutations (K = 3) */
    static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    int best = 0;
    for (int p = 0; p < 6; p++) {
        int ok = 0;
        for (int t = 0; t < T; t++) ok += perm[p][a[t]] == truth[t];
        if (ok > best) best = ok;
    }
    return best;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rank, P;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    static float x[T * D];
    static int truth[T], plain[T], jump[T], all[T];
    make_rows(x, truth);
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    const float *mine = x + t0 * D;
    int counts[64], displs[64];
    for (int r = 0; r < P; r++) {
        long long a, m;
        block_range(T, P, r, &a, &m);
        counts[r] = (int)m;
        displs[r] = (int)a;
    }
    kmeans_options opt = kmeans_defaults(K);
    opt.seed = 3;
    kmeans_result res, res0;
    persistence_result pres;
    long long seg[2] = {0, 300};
    persistence_options popt = {.lambda = 0, .seg_start = seg, .nseg = 2, .max_iter = 50};

    kmeans_fit(MPI_COMM_WORLD, mine, n, D, &opt, &res0, plain);
    kmeans_fit_persistent(MPI_COMM_WORLD, mine, n, D, &opt, &popt, &res, jump, &pres);
    tap_check_all(MPI_COMM_WORLD, memcmp(plain, jump, sizeof(int) * (size_t)n) == 0 && res.inertia == res0.inertia,
                  "lambda 0: exactly plain k-means's labels and inertia");
    kmeans_result_destroy(&res);
    MPI_Allgatherv(plain, (int)n, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD);
    int plain_ok = agreement(all, truth);
    memcpy(plain, all, sizeof plain);

    popt.lambda = 8.0;
    kmeans_fit_persistent(MPI_COMM_WORLD, mine, n, D, &opt, &popt, &res, jump, &pres);
    MPI_Allgatherv(jump, (int)n, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD);
    int jump_ok = agreement(all, truth);
    double plain_obj = 0;
    if (rank == 0) {
        /* the penalised objective of the plain labels, with the plain centroids */
        double *cost = malloc(sizeof(double) * T * K);
        for (int t = 0; t < T; t++)
            for (int c = 0; c < K; c++) {
                double s = 0;
                for (int j = 0; j < D; j++) s += pow(x[t * D + j] - res0.centroids[c * D + j], 2);
                cost[t * K + c] = s;
            }
        plain_obj = persistence_objective(cost, T, K, seg, 2, popt.lambda, plain);
        free(cost);
    }
    MPI_Bcast(&plain_obj, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    tap_check(jump_ok > plain_ok && jump_ok >= T * 95 / 100,
              "planted %d-step episodes: %d of %d steps right with the penalty, %d without", EPISODE, jump_ok, T, plain_ok);
    /* converged: every centroid is the mean of the rows labelled with it */
    double worst = 0;
    for (int c = 0; c < K; c++) {
        double mean[D] = {0};
        int count = 0;
        for (int t = 0; t < T; t++)
            if (all[t] == c) {
                count++;
                for (int j = 0; j < D; j++) mean[j] += x[t * D + j];
            }
        for (int j = 0; j < D && count; j++) worst = fmax(worst, fabs(mean[j] / count - res.centroids[c * D + j]));
    }
    tap_check(worst < 1e-6 && pres.iterations < popt.max_iter,
              "after %d alternations every centroid is the mean of its rows (largest difference %.2g)", pres.iterations, worst);
    tap_check(pres.objective < plain_obj && pres.iterations >= 1,
              "the penalised objective %.2f below plain k-means's %.2f after %d alternations", pres.objective, plain_obj,
              pres.iterations);
    kmeans_result_destroy(&res);

    popt.lambda = 1e9;
    kmeans_fit_persistent(MPI_COMM_WORLD, mine, n, D, &opt, &popt, &res, jump, &pres);
    MPI_Allgatherv(jump, (int)n, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD);
    int constant = pres.switches == 0;
    for (int t = 1; t < T; t++)
        if (t != 300 && all[t] != all[t - 1]) constant = 0;
    tap_check(constant, "a penalty above every gap: one label per segment, no switch counted");
    kmeans_result_destroy(&res);

    popt.lambda = 0;
    popt.target_steps = EPISODE;
    kmeans_fit_persistent(MPI_COMM_WORLD, mine, n, D, &opt, &popt, &res, jump, &pres);
    MPI_Allgatherv(jump, (int)n, MPI_INT, all, counts, displs, MPI_INT, MPI_COMM_WORLD);
    double run = persistence_mean_run(all, T, seg, 2);
    tap_check(run > 0.7 * EPISODE && run < 1.4 * EPISODE && pres.lambda > 0,
              "a wanted mean episode of %d steps: lambda %.3g, mean episode %.2f steps", EPISODE, pres.lambda, run);
    kmeans_result_destroy(&res);
    kmeans_result_destroy(&res0);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
