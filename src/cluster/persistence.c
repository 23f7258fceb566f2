/*
 * persistence.c - the jump model's exact decoding by dynamic programming
 * (persistence.h): Viterbi with a constant cost per switch.
 */
#include "persistence.h"

#include <math.h>
#include <stdlib.h>

/* End (exclusive) of segment s. */
static long long segment_end(const long long *seg_start, int nseg, int s, long long T)
{
    return s + 1 < nseg ? seg_start[s + 1] : T;
}

/* Nearest centroid of one step: the argmin of its row, lowest index on ties. */
static int row_argmin(const double *row, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (row[k] < row[best]) best = k;
    return best;
}

/* One segment [a, b): forward pass with back pointers (from[t*K + k]: the label
 * at t-1 on the best path that has k at t), then the path read backwards.  On a
 * tie staying beats switching, and among switches the lowest label wins. */
static double decode_segment(const double *cost, long long a, long long b, int K, double lambda, double *v, double *next,
                             int *from, int *labels)
{
    for (int k = 0; k < K; k++) v[k] = cost[a * K + k];
    for (long long t = a + 1; t < b; t++) {
        int jmin = row_argmin(v, K);
        double switch_cost = v[jmin] + lambda;
        for (int k = 0; k < K; k++) {
            int stay = v[k] <= switch_cost;
            next[k] = cost[t * K + k] + (stay ? v[k] : switch_cost);
            from[(t - a) * K + k] = stay ? k : jmin;
        }
        for (int k = 0; k < K; k++) v[k] = next[k];
    }
    int k = row_argmin(v, K);
    double best = v[k];
    for (long long t = b - 1; t >= a; t--) {
        labels[t] = k;
        if (t > a) k = from[(t - a) * K + k];
    }
    return best;
}

/* Walking t = 0, 1, ... with *s the segment of the previous step: whether t
 * starts a segment (t = 0 does). */
static int starts_segment(const long long *seg_start, int nseg, int *s, long long t)
{
    int starts = t == 0;
    while (*s + 1 < nseg && seg_start[*s + 1] == t) {
        (*s)++;
        starts = 1;
    }
    return starts;
}

static int segments_valid(const long long *seg_start, int nseg, long long T)
{
    if (nseg == 0) return 1;
    if (!seg_start || seg_start[0] != 0) return 0;
    for (int s = 1; s < nseg; s++)
        if (seg_start[s] <= seg_start[s - 1] || seg_start[s] >= T) return 0;
    return 1;
}

double persistence_decode(const double *cost, long long T, int K, const long long *seg_start, int nseg, double lambda,
                          int *labels)
{
    if (T < 1 || K < 1 || !(lambda >= 0) || !isfinite(lambda) || !segments_valid(seg_start, nseg, T)) return NAN;
    long long zero = 0;
    if (nseg == 0) {
        seg_start = &zero;
        nseg = 1;
    }
    if (lambda == 0) { /* no coupling: each step's nearest centroid */
        double total = 0;
        for (long long t = 0; t < T; t++) {
            labels[t] = row_argmin(cost + t * K, K);
            total += cost[t * K + labels[t]];
        }
        return total;
    }
    long long longest = 0;
    for (int s = 0; s < nseg; s++) {
        long long n = segment_end(seg_start, nseg, s, T) - seg_start[s];
        if (n > longest) longest = n;
    }
    double *v = malloc(2 * (size_t)K * sizeof *v);
    int *from = malloc((size_t)longest * (size_t)K * sizeof *from);
    double total = NAN;
    if (v && from) {
        total = 0;
        for (int s = 0; s < nseg; s++)
            total += decode_segment(cost, seg_start[s], segment_end(seg_start, nseg, s, T), K, lambda, v, v + K, from,
                                    labels);
    }
    free(v);
    free(from);
    return total;
}

double persistence_objective(const double *cost, long long T, int K, const long long *seg_start, int nseg,
                             double lambda, const int *labels)
{
    double total = 0;
    int s = 0;
    for (long long t = 0; t < T; t++) {
        int starts = starts_segment(seg_start, nseg, &s, t);
        total += cost[t * K + labels[t]];
        if (!starts && labels[t] != labels[t - 1]) total += lambda;
    }
    return total;
}

double persistence_mean_run(const int *labels, long long T, const long long *seg_start, int nseg)
{
    long long runs = 0;
    int s = 0;
    for (long long t = 0; t < T; t++) {
        int starts = starts_segment(seg_start, nseg, &s, t);
        if (starts || labels[t] != labels[t - 1]) runs++;
    }
    return runs ? (double)T / (double)runs : 0;
}

double persistence_lambda_for_run(const double *cost, long long T, int K, const long long *seg_start, int nseg,
                                  double target_steps, int *labels)
{
    /* hi: above the summed spread of every row's costs, one label per segment */
    double hi = 0;
    for (long long t = 0; t < T; t++) {
        double lo_c = cost[t * K], hi_c = cost[t * K];
        for (int k = 1; k < K; k++) {
            if (cost[t * K + k] < lo_c) lo_c = cost[t * K + k];
            if (cost[t * K + k] > hi_c) hi_c = cost[t * K + k];
        }
        hi += hi_c - lo_c;
    }
    if (!(hi > 0)) return 0;
    double lo = hi * 1e-9, best = 0, best_err = INFINITY;
    if (isnan(persistence_decode(cost, T, K, seg_start, nseg, 0, labels))) return NAN;
    best_err = fabs(persistence_mean_run(labels, T, seg_start, nseg) - target_steps);
    for (int it = 0; it < 60 && best_err > 1e-9; it++) {
        double mid = sqrt(lo * hi);
        if (isnan(persistence_decode(cost, T, K, seg_start, nseg, mid, labels))) return NAN;
        double run = persistence_mean_run(labels, T, seg_start, nseg), err = fabs(run - target_steps);
        if (err < best_err) best_err = err, best = mid;
        if (run < target_steps) lo = mid;
        else hi = mid;
    }
    return best;
}

/* v (K) scaled to sum 1; uniform when its sum is not a positive number. */
static void normalise_row(double *v, int K)
{
    double sum = 0;
    for (int k = 0; k < K; k++) sum += v[k];
    for (int k = 0; k < K; k++) v[k] = sum > 0 && isfinite(sum) ? v[k] / sum : 1.0 / K;
}

/* The emission row t of q: its values, a row without a positive finite sum uniform. */
static void emission_row(const double *q, long long t, int K, double *e)
{
    double sum = 0;
    for (int k = 0; k < K; k++) {
        e[k] = q[t * K + k] >= 0 ? q[t * K + k] : 0;
        sum += e[k];
    }
    if (!(sum > 0) || !isfinite(sum))
        for (int k = 0; k < K; k++) e[k] = 1.0;
}

/* One step of the chain on the distribution v (sums to s): (1 - eps) v_k +
 * eps / (K - 1) (s - v_k), into out. */
static void chain_step(const double *v, int K, double eps, double *out)
{
    double s = 0;
    for (int k = 0; k < K; k++) s += v[k];
    for (int k = 0; k < K; k++) out[k] = (1 - eps) * v[k] + eps / (K - 1) * (s - v[k]);
}

/* One segment [a, b): forward probabilities alpha (rows a..b-1, normalised)
 * into fw, then backwards beta and the posterior written over q; e, u, beta: K
 * each.  q's row t is read (as emission) before it is overwritten. */
static void smooth_segment(double *q, long long a, long long b, int K, double eps, double *fw, double *e, double *u,
                           double *beta)
{
    for (long long t = a; t < b; t++) {
        double *f = fw + (t - a) * K;
        emission_row(q, t, K, e);
        if (t == a)
            for (int k = 0; k < K; k++) f[k] = e[k];
        else {
            chain_step(f - K, K, eps, f);
            for (int k = 0; k < K; k++) f[k] *= e[k];
        }
        normalise_row(f, K);
    }
    for (int k = 0; k < K; k++) beta[k] = 1.0;
    for (long long t = b - 1; t >= a; t--) {
        if (t < b - 1) { /* beta_t = A (e_(t+1) * beta_(t+1)); e holds row t+1's emission */
            for (int k = 0; k < K; k++) u[k] = e[k] * beta[k];
            chain_step(u, K, eps, beta);
            normalise_row(beta, K);
        }
        emission_row(q, t, K, e);
        const double *f = fw + (t - a) * K;
        for (int k = 0; k < K; k++) q[t * K + k] = f[k] * beta[k];
        normalise_row(q + t * K, K);
    }
}

int persistence_smooth(double *q, long long T, int K, const long long *seg_start, int nseg, double eps)
{
    if (T < 1 || K < 1 || !(eps >= 0 && eps <= 1) || !segments_valid(seg_start, nseg, T)) return -1;
    if (K == 1) {
        for (long long t = 0; t < T; t++) q[t] = 1.0;
        return 0;
    }
    const int count = nseg > 0 ? nseg : 1; /* nseg 0: the whole record, one segment */
    long long longest = 0;
    for (int s = 0; s < count; s++) {
        long long a = nseg > 0 ? seg_start[s] : 0, n = (nseg > 0 ? segment_end(seg_start, nseg, s, T) : T) - a;
        if (n > longest) longest = n;
    }
    double *fw = malloc(((size_t)longest + 3) * (size_t)K * sizeof *fw);
    if (!fw) return -1;
    double *e = fw + (size_t)longest * K, *u = e + K, *beta = u + K;
    for (int s = 0; s < count; s++) {
        long long a = nseg > 0 ? seg_start[s] : 0, b = nseg > 0 ? segment_end(seg_start, nseg, s, T) : T;
        smooth_segment(q, a, b, K, eps, fw, e, u, beta);
    }
    free(fw);
    return 0;
}
