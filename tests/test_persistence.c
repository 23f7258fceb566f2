/*
 * test_persistence.c - the jump model's dynamic programme (src/cluster/persistence.c)
 * against a brute-force enumeration of every label sequence on small T and K, with
 * segments; lambda 0 gives each step's nearest centroid; a penalty above every
 * cost gap gives one label per segment; bad arguments give NaN.
 */
#include "persistence.h"
#include "rng.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>

/* The minimum over all K^T sequences, by counting through them. */
static double brute_force(const double *cost, int T, int K, const long long *seg, int nseg, double lambda, int *best)
{
    int *s = calloc((size_t)T, sizeof *s);
    double min = INFINITY;
    for (;;) {
        double f = persistence_objective(cost, T, K, seg, nseg, lambda, s);
        if (f < min) {
            min = f;
            for (int t = 0; t < T; t++) best[t] = s[t];
        }
        int t = 0;
        while (t < T && ++s[t] == K) s[t++] = 0;
        if (t == T) break;
    }
    free(s);
    return min;
}

static void fill(double *cost, int n, rng_state *r)
{
    for (int i = 0; i < n; i++) cost[i] = 4.0 * rng_uniform(r);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    rng_state r;
    rng_seed(&r, 7, 0);
    enum { TMAX = 9 };
    double cost[TMAX * 3], lambdas[] = {0.0, 0.3, 1.0, 2.5};
    int labels[TMAX], best[TMAX];
    int worst_ok = 1, trials = 0;
    for (int trial = 0; trial < 60; trial++)
        for (int li = 0; li < 4; li++) {
            int T = 3 + trial % 7, K = 2 + trial % 2;
            long long seg[3] = {0, T / 3, 2 * T / 3};
            int nseg = trial % 3; /* none, one, or three segments */
            if (nseg == 2) nseg = 3;
            fill(cost, T * K, &r);
            double dp = persistence_decode(cost, T, K, nseg ? seg : NULL, nseg, lambdas[li], labels);
            double bf = brute_force(cost, T, K, nseg ? seg : NULL, nseg, lambdas[li], best);
            double again = persistence_objective(cost, T, K, nseg ? seg : NULL, nseg, lambdas[li], labels);
            if (!(fabs(dp - bf) < 1e-12 && fabs(again - dp) < 1e-12)) worst_ok = 0;
            trials++;
        }
    tap_check(worst_ok, "the dynamic programme reaches the brute-force minimum in %d cases (T 3..9, K 2..3, 0/1/3 segments)",
              trials);

    /* lambda 0: the nearest centroid of every step, lowest index on ties */
    enum { T0 = 200, K0 = 5 };
    double *c0 = malloc(sizeof(double) * T0 * K0);
    int *l0 = malloc(sizeof(int) * T0);
    fill(c0, T0 * K0, &r);
    c0[3 * K0 + 1] = c0[3 * K0 + 3] = -1; /* a tie at step 3: label 1 */
    persistence_decode(c0, T0, K0, NULL, 0, 0.0, l0);
    int nearest = 1;
    for (int t = 0; t < T0; t++)
        for (int k = 0; k < K0; k++)
            if (c0[t * K0 + k] < c0[t * K0 + l0[t]] || (c0[t * K0 + k] == c0[t * K0 + l0[t]] && k < l0[t])) nearest = 0;
    tap_check(nearest && l0[3] == 1, "lambda 0: every step's nearest centroid (lowest index on ties)");

    /* a penalty above T times the largest cost: one label per segment, the segment's best */
    long long seg[2] = {0, 120};
    persistence_decode(c0, T0, K0, seg, 2, 4.0 * T0 + 1, l0);
    int constant = 1;
    for (int s = 0; s < 2; s++) {
        long long a = seg[s], b = s ? T0 : seg[1];
        int bestk = 0;
        double bestsum = INFINITY;
        for (int k = 0; k < K0; k++) {
            double sum = 0;
            for (long long t = a; t < b; t++) sum += c0[t * K0 + k];
            if (sum < bestsum) bestsum = sum, bestk = k;
        }
        for (long long t = a; t < b; t++)
            if (l0[t] != bestk) constant = 0;
    }
    tap_check(constant, "a penalty above every cost gap: one label per segment (the one of least summed cost)");

    /* a planted sequence of episodes, noisy costs: the penalty recovers the episodes */
    int truth[T0], flips_noisy = 0, flips_decoded = 0, wrong = 0;
    for (int t = 0; t < T0; t++) truth[t] = (t / 10) % K0;
    for (int t = 0; t < T0; t++)
        for (int k = 0; k < K0; k++) c0[t * K0 + k] = (k == truth[t] ? 0.0 : 1.0) + 1.3 * rng_uniform(&r);
    persistence_decode(c0, T0, K0, NULL, 0, 0.0, l0);
    for (int t = 1; t < T0; t++) flips_noisy += l0[t] != l0[t - 1];
    persistence_decode(c0, T0, K0, NULL, 0, 2.0, l0);
    for (int t = 0; t < T0; t++) {
        wrong += l0[t] != truth[t];
        if (t) flips_decoded += l0[t] != l0[t - 1];
    }
    tap_check(flips_decoded < flips_noisy && wrong <= T0 / 20,
              "planted 10-step episodes: the penalty cuts switches from %d to %d (truth 19), %d of %d steps wrong",
              flips_noisy, flips_decoded, wrong, T0);

    double lam = persistence_lambda_for_run(c0, T0, K0, NULL, 0, 10.0, l0);
    persistence_decode(c0, T0, K0, NULL, 0, lam, l0);
    double run = persistence_mean_run(l0, T0, NULL, 0);
    tap_check(run > 8 && run < 12.5, "a penalty for a mean episode of 10 steps: lambda %.3g gives %.2f", lam, run);
    lam = persistence_lambda_for_run(c0, T0, K0, NULL, 0, 40.0, l0);
    persistence_decode(c0, T0, K0, NULL, 0, lam, l0);
    double run40 = persistence_mean_run(l0, T0, NULL, 0);
    tap_check(run40 > 25 && run40 < 60, "a mean episode of 40 steps asked: lambda %.3g gives %.2f", lam, run40);
    tap_check(persistence_mean_run(truth, T0, NULL, 0) == 10.0 &&
                  persistence_mean_run(truth, T0, (const long long[]){0, 5}, 2) == 200.0 / 21,
              "mean episode length: 10 steps for the truth, 200/21 with a segment start inside an episode");
    tap_check(isnan(persistence_decode(c0, T0, K0, NULL, 0, -1.0, l0)), "lambda < 0: NaN");
    tap_check(isnan(persistence_decode(c0, T0, K0, NULL, 0, INFINITY, l0)), "lambda infinite: NaN");
    long long badseg[2] = {0, 0};
    tap_check(isnan(persistence_decode(c0, T0, K0, badseg, 2, 1.0, l0)), "segments not ascending: NaN");
    free(c0);
    free(l0);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
