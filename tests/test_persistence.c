/*
 * test_persistence.c - the jump model's dynamic programme (src/cluster/persistence.c)
 * against a brute-force enumeration of every label sequence on small T and K, with
 * segments; lambda 0 gives each step's nearest centroid; a penalty above every
 * cost gap gives one label per segment; bad arguments give NaN.  The
 * forward-backward smoothing of the regime chain (persistence_smooth) against
 * the posterior summed over every label sequence; the clustering layer's
 * target and labels along time (clustering_persistent.h).
 */
#include "persistence.h"
#include "clustering.h"
#include "clustering_persistent.h"
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

/* The posterior marginals of the regime chain (persistence_smooth) by summing
 * the probability of every one of the K^T sequences: uniform start in each
 * segment, 1 - eps to stay, eps / (K - 1) to each other regime, emissions q. */
static void brute_posterior(const double *q, int T, int K, const long long *seg, int nseg, double eps, double *post)
{
    int *s = calloc((size_t)T, sizeof *s);
    for (int i = 0; i < T * K; i++) post[i] = 0;
    for (;;) {
        double w = 1;
        int si = 0;
        for (int t = 0; t < T; t++) {
            int starts = t == 0;
            while (si + 1 < nseg && seg[si + 1] == t) si++, starts = 1;
            w *= q[t * K + s[t]] * (starts ? 1.0 / K : s[t] == s[t - 1] ? 1 - eps : eps / (K - 1));
        }
        for (int t = 0; t < T; t++) post[t * K + s[t]] += w;
        int t = 0;
        while (t < T && ++s[t] == K) s[t++] = 0;
        if (t == T) break;
    }
    for (int t = 0; t < T; t++) {
        double sum = 0;
        for (int k = 0; k < K; k++) sum += post[t * K + k];
        for (int k = 0; k < K; k++) post[t * K + k] /= sum;
    }
    free(s);
}

/* Rows of q: positive, summing to 1. */
static void fill_rows(double *q, int T, int K, rng_state *r)
{
    for (int t = 0; t < T; t++) {
        double sum = 0;
        for (int k = 0; k < K; k++) sum += q[t * K + k] = 0.05 + rng_uniform(r);
        for (int k = 0; k < K; k++) q[t * K + k] /= sum;
    }
}

/* The forward-backward smoothing against the enumeration; its limits. */
static void check_smoothing(rng_state *r)
{
    enum { TM = 8, KM = 4 };
    double q[TM * KM], post[TM * KM], eps_list[] = {0.05, 0.2, 0.5};
    double worst = 0;
    int cases = 0;
    for (int trial = 0; trial < 36; trial++) {
        int T = 2 + trial % 7, K = 2 + trial % 3, nseg = trial % 3 == 2 ? 2 : trial % 3;
        long long seg[2] = {0, T / 2};
        double eps = eps_list[trial % 3];
        fill_rows(q, T, K, r);
        brute_posterior(q, T, K, seg, nseg ? nseg : 1, eps, post);
        if (persistence_smooth(q, T, K, nseg ? seg : NULL, nseg, eps) != 0) worst = INFINITY;
        for (int i = 0; i < T * K; i++) worst = fmax(worst, fabs(q[i] - post[i]));
        cases++;
    }
    tap_check(worst < 1e-12, "forward-backward: the posterior of the regime chain equals the sum over all K^T sequences "
              "(%d cases, T 2..8, K 2..4, 0/1/2 segments; largest difference %.2g)", cases, worst);

    enum { T1 = 60, K1 = 3 };
    double a[T1 * K1], b[T1 * K1];
    fill_rows(a, T1, K1, r);
    for (int i = 0; i < T1 * K1; i++) b[i] = a[i];
    persistence_smooth(b, T1, K1, NULL, 0, (K1 - 1.0) / K1);
    double diff = 0;
    for (int i = 0; i < T1 * K1; i++) diff = fmax(diff, fabs(a[i] - b[i]));
    tap_check(diff < 1e-14, "eps = (K-1)/K (no memory): the rows stay as they are (largest change %.2g)", diff);
    for (int i = 0; i < T1 * K1; i++) b[i] = a[i];
    long long seg[2] = {0, 25};
    persistence_smooth(b, T1, K1, seg, 2, 0.0);
    int constant = 1;
    for (int t = 1; t < T1; t++)
        for (int k = 0; k < K1; k++)
            if (t != 25 && fabs(b[t * K1 + k] - b[(t - 1) * K1 + k]) > 1e-12) constant = 0;
    tap_check(constant && fabs(b[0] - b[25 * K1]) > 1e-6, "eps = 0: one distribution per segment, the segments on their own");
    b[7 * K1] = b[7 * K1 + 1] = b[7 * K1 + 2] = 0;
    b[8 * K1] = NAN;
    int finite = persistence_smooth(b, T1, K1, NULL, 0, 0.1) == 0;
    for (int i = 0; i < T1 * K1; i++) finite &= isfinite(b[i]) && b[i] >= 0;
    tap_check(finite, "a row of zeros and a row with NaN count as uniform: the posterior stays finite");
    tap_check(persistence_smooth(b, T1, K1, NULL, 0, -0.1) == -1 && persistence_smooth(b, T1, K1, NULL, 0, 1.5) == -1 &&
                  persistence_smooth(b, T1, K1, (const long long[]){0, 0}, 2, 0.1) == -1,
              "eps outside [0, 1] or segments not ascending: refused");
}

/* The clustering layer's target and labels along time (clustering_persistent.c). */
static void check_target(rng_state *r)
{
    enum { T = 120, K = 4 };
    static double q[T * K], p[T * K], g[T * K], cost[T * K];
    static int labels[T], want[T];
    /* planted 10-step episodes seen through noisy soft assignments */
    for (int t = 0; t < T; t++) {
        double sum = 0;
        for (int k = 0; k < K; k++) sum += q[t * K + k] = (k == (t / 10) % K ? 1.6 : 1.0) + rng_uniform(r);
        for (int k = 0; k < K; k++) q[t * K + k] /= sum;
    }
    long long seg[2] = {0, 55};
    regime_chain c = {.switch_prob = 0.1, .penalty = -1, .seg_start = seg, .nseg = 2};
    for (int i = 0; i < T * K; i++) p[i] = g[i] = q[i];
    int ok = clustering_persistent_target(p, T, K, &c, labels) == 0;
    /* the same by hand: the smoothed rows, sharpened as eq. 4 */
    persistence_smooth(g, T, K, seg, 2, 0.1);
    double f[K] = {0}, worst = 0;
    clustering_column_sums(f, g, T, K);
    clustering_target(g, g, f, T, K);
    for (int i = 0; i < T * K; i++) worst = fmax(worst, fabs(p[i] - g[i]));
    tap_check(ok && worst == 0, "target along time: the forward-backward rows sharpened as eq. 4 (largest difference %.2g)", worst);
    for (int i = 0; i < T * K; i++) cost[i] = -log(q[i]);
    persistence_decode(cost, T, K, seg, 2, c.penalty, want);
    int same = 1;
    for (int t = 0; t < T; t++) same &= labels[t] == want[t];
    double run = persistence_mean_run(labels, T, seg, 2);
    tap_check(same && c.penalty > 0 && run > 7 && run < 13,
              "labels along time: the jump model on -log q with the penalty chosen for 10 steps (%.3g: mean episode %.2f)",
              c.penalty, run);
    regime_chain fixed = {.switch_prob = 0.1, .penalty = c.penalty, .seg_start = seg, .nseg = 2};
    int again[T];
    clustering_persistent_labels(q, T, K, &fixed, again);
    same = fixed.penalty == c.penalty;
    for (int t = 0; t < T; t++) same &= again[t] == labels[t];
    tap_check(same, "a given penalty is kept and gives the same labels (dsc predict)");
    /* eps = (K-1)/K: no memory, the target of eq. 4 itself */
    regime_chain none = {.switch_prob = (K - 1.0) / K, .penalty = 0, .seg_start = NULL, .nseg = 0};
    for (int i = 0; i < T * K; i++) p[i] = q[i];
    clustering_persistent_target(p, T, K, &none, labels);
    double fq[K] = {0};
    clustering_column_sums(fq, q, T, K);
    clustering_target(g, q, fq, T, K);
    worst = 0;
    for (int i = 0; i < T * K; i++) worst = fmax(worst, fabs(p[i] - g[i]));
    clustering_hard_labels(want, q, T, K);
    same = 1;
    for (int t = 0; t < T; t++) same &= labels[t] == want[t];
    tap_check(worst < 1e-14 && same, "a chain without memory and penalty 0: the target of eq. 4 and the argmax labels");
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
    check_smoothing(&r);
    check_target(&r);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
