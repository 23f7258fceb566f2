/*
 * test_kmeans.c - distributed k-means (kmeans.h), TAP.  Runs on any number
 * of ranks (tests/kmeans_mpi.sh starts it on 2 and 3): the data sets are
 * generated identically on every rank and each rank keeps its block of
 * rows; the rank-count checks repeat a fit on the first 1, 2, ... P ranks
 * and compare with the fit on one rank.
 *
 * Checks: well-separated blobs recovered exactly (k-means++ and random
 * initialisation), the same labels, inertia and centroids whatever the
 * number of ranks, labels that belong to the final centroids, centroids that
 * are the means of their rows, re-seeding of empty clusters, K = 1 and
 * K = T, n_init keeping the best restart, the K > T and K < 1 errors, and
 * kmeans_assign against a brute-force argmin of double distances.
 */
#include "kmeans.h"
#include "partition.h"
#include "rng.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int world_rank, world_size;

typedef struct {
    long long t;
    int d;
    float *x;   /* (T, D) all rows, identical on every rank */
    int *truth; /* (T) generating cluster, or NULL */
} dataset;

/* K centres uniform in [-10, 10]^D, rows = centre + sd * normal, the
 * clusters interleaved over the rows. */
static dataset make_blobs(long long t, int d, int k, double sd, uint64_t seed)
{
    dataset s = {.t = t, .d = d};
    rng_state r;
    rng_seed(&r, seed, 0);
    float *centre = malloc((size_t)k * d * sizeof(float));
    rng_fill_uniform(&r, centre, (size_t)k * d, -10.0f, 10.0f);
    s.x = malloc((size_t)t * d * sizeof(float));
    s.truth = malloc((size_t)t * sizeof(int));
    for (long long i = 0; i < t; i++) {
        int c = (int)(i % k);
        s.truth[i] = c;
        for (int f = 0; f < d; f++) s.x[i * d + f] = (float)(centre[c * d + f] + sd * rng_normal(&r));
    }
    free(centre);
    return s;
}

/* Rows uniform in [lo, lo + 1)^D: no real clusters, many local optima. */
static dataset make_uniform(long long t, int d, float lo, uint64_t seed)
{
    dataset s = {.t = t, .d = d};
    rng_state r;
    rng_seed(&r, seed, 0);
    s.x = malloc((size_t)t * d * sizeof(float));
    rng_fill_uniform(&r, s.x, (size_t)t * d, lo, lo + 1.0f);
    return s;
}

static void dataset_free(dataset *s)
{
    free(s->x);
    free(s->truth);
}

typedef struct {
    int ok;            /* the fit returned DSC_OK */
    kmeans_result res;
    int *labels;       /* (T) on world rank 0 */
} fit_outcome;

/* Fits on the first p ranks of MPI_COMM_WORLD (rank r holds the rows
 * block_range(T, p, r)); the labels are gathered on rank 0.  init != NULL:
 * kmeans_fit_from. */
static fit_outcome fit_on(int p, const dataset *s, const kmeans_options *opt, const double *init)
{
    fit_outcome out = {0};
    MPI_Comm sub;
    MPI_Comm_split(MPI_COMM_WORLD, world_rank < p ? 0 : MPI_UNDEFINED, world_rank, &sub);
    if (sub == MPI_COMM_NULL) return out;
    long long t0, n;
    block_range(s->t, p, world_rank, &t0, &n);
    int *labels = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    const float *x = s->x + t0 * s->d;
    int rc = init ? kmeans_fit_from(sub, x, n, s->d, init, opt, &out.res, labels)
                  : kmeans_fit(sub, x, n, s->d, opt, &out.res, labels);
    out.ok = rc == DSC_OK;
    if (world_rank == 0) out.labels = malloc((size_t)s->t * sizeof(int));
    if (out.ok) {
        int *counts = malloc((size_t)p * sizeof(int)), *displs = malloc((size_t)p * sizeof(int));
        for (int r = 0; r < p; r++) {
            long long a, b;
            block_range(s->t, p, r, &a, &b);
            displs[r] = (int)a;
            counts[r] = (int)b;
        }
        MPI_Gatherv(labels, (int)n, MPI_INT, out.labels, counts, displs, MPI_INT, 0, sub);
        free(counts);
        free(displs);
    }
    free(labels);
    MPI_Comm_free(&sub);
    return out;
}

static void outcome_free(fit_outcome *o)
{
    kmeans_result_destroy(&o->res);
    free(o->labels);
}

/* Rank 0 decides; every rank reports the same result. */
static void check_rank0(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_rank0(int ok, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    tap_check(ok, "%s", text);
}

/* The labels are the truth up to a permutation of the clusters. */
static int same_partition(const int *a, const int *b, long long t, int k)
{
    int *map = malloc((size_t)k * sizeof(int)), *back = malloc((size_t)k * sizeof(int));
    for (int j = 0; j < k; j++) map[j] = back[j] = -1;
    int ok = 1;
    for (long long i = 0; i < t && ok; i++) {
        if (a[i] < 0 || a[i] >= k || b[i] < 0 || b[i] >= k) ok = 0;
        else if (map[a[i]] < 0 && back[b[i]] < 0) map[a[i]] = b[i], back[b[i]] = a[i];
        else ok = map[a[i]] == b[i] && back[b[i]] == a[i];
    }
    free(map);
    free(back);
    return ok;
}

static int uniform_int(rng_state *r, int m) { return (int)(rng_uniform(r) * m); }

/* Squared distance in double. */
static double dist2(const float *x, const double *c, int d)
{
    double s = 0;
    for (int f = 0; f < d; f++) s += ((double)x[f] - c[f]) * ((double)x[f] - c[f]);
    return s;
}

/* Lowest-index argmin of the direct double distances; *sum += the minimum. */
static int brute_argmin(const float *x, const double *c, int k, int d, double *sum)
{
    int best = 0;
    double bd = INFINITY;
    for (int j = 0; j < k; j++) {
        double e = dist2(x, c + (size_t)j * d, d);
        if (e < bd) bd = e, best = j;
    }
    *sum += bd;
    return best;
}

static void check_blobs(void)
{
    dataset s = make_blobs(240, 4, 5, 0.3, 101);
    for (int init = 0; init < 2; init++) {
        kmeans_options o = kmeans_defaults(5);
        o.init = init ? KMEANS_INIT_RANDOM : KMEANS_INIT_PLUSPLUS;
        fit_outcome f = fit_on(world_size, &s, &o, NULL);
        int ok = f.ok && (world_rank != 0 || same_partition(f.labels, s.truth, s.t, 5));
        check_rank0(ok, "well-separated blobs recovered exactly (%s, n_init 10)", init ? "random" : "k-means++");
        outcome_free(&f);
    }
    dataset_free(&s);
}

/* Fits on 1..P ranks compared with the fit on one rank. */
static void check_rank_counts(const char *what, const dataset *s, const kmeans_options *o, const double *init)
{
    fit_outcome one = fit_on(1, s, o, init);
    MPI_Bcast(&one.ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    for (int p = 2; p <= world_size; p++) {
        fit_outcome f = fit_on(p, s, o, init);
        int ok = 1;
        double rel = 0, cdiff = 0;
        if (world_rank == 0) {
            ok = one.ok && f.ok && !memcmp(one.labels, f.labels, (size_t)s->t * sizeof(int)) &&
                 one.res.iterations == f.res.iterations && one.res.best_init == f.res.best_init;
            if (ok) {
                rel = fabs(one.res.inertia - f.res.inertia) / one.res.inertia;
                for (int e = 0; e < o->k * s->d; e++)
                    cdiff = fmax(cdiff, fabs(one.res.centroids[e] - f.res.centroids[e]) / fmax(1.0, fabs(one.res.centroids[e])));
                ok = rel <= 1e-9 && cdiff <= 1e-9;
            }
        }
        MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Bcast(&rel, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        MPI_Bcast(&cdiff, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        tap_check(ok, "%s: %d ranks give the labels, iterations and restart of 1 rank; inertia within %.1e, centroids within %.1e",
                  what, p, rel, cdiff);
        outcome_free(&f);
    }
    if (world_size == 1) tap_check(one.ok, "%s: fit on 1 rank (run on 2 and 3 ranks to compare)", what);
    outcome_free(&one);
}

/* Labels belong to the final centroids; with tol 0 the centroids are the
 * means of their rows; the inertia is the sum of the squared distances. */
static void check_consistency(void)
{
    dataset s = make_uniform(350, 5, 3.0f, 202);
    const int k = 7;
    for (int strict = 0; strict < 2; strict++) {
        kmeans_options o = kmeans_defaults(k);
        o.n_init = 2;
        o.tol = strict ? 0.0 : 1e-2;
        fit_outcome f = fit_on(world_size, &s, &o, NULL);
        int ok = f.ok;
        double dev = 0, rel = 0;
        if (ok && world_rank == 0) {
            double sum = 0, *mean = calloc((size_t)k * s.d, sizeof(double));
            int *cnt = calloc((size_t)k, sizeof(int));
            for (long long i = 0; i < s.t; i++) {
                ok &= f.labels[i] == brute_argmin(s.x + i * s.d, f.res.centroids, k, s.d, &sum);
                cnt[f.labels[i]]++;
                for (int e = 0; e < s.d; e++) mean[f.labels[i] * s.d + e] += s.x[i * s.d + e];
            }
            rel = fabs(sum - f.res.inertia) / sum;
            ok &= rel < 1e-12;
            for (int j = 0; j < k; j++)
                for (int e = 0; e < s.d; e++)
                    dev = fmax(dev, fabs(mean[j * s.d + e] / cnt[j] - f.res.centroids[j * s.d + e]));
            if (strict) ok &= dev < 1e-12;
            free(mean);
            free(cnt);
        }
        MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (strict)
            tap_check(ok, "tol 0: labels are the nearest final centroids, centroids the means of their rows (%.1e), inertia the "
                          "sum of squared distances", dev);
        else
            tap_check(ok, "tol 1e-2: labels are the nearest final centroids and the inertia their sum of squared distances");
        outcome_free(&f);
    }

    /* max_iter 1: one update, then the labels of the updated centroids */
    kmeans_options o = kmeans_defaults(k);
    o.n_init = 1;
    o.max_iter = 1;
    fit_outcome f = fit_on(world_size, &s, &o, NULL);
    int ok = f.ok && f.res.iterations == 1;
    if (ok && world_rank == 0) {
        double sum = 0;
        for (long long i = 0; i < s.t; i++) ok &= f.labels[i] == brute_argmin(s.x + i * s.d, f.res.centroids, k, s.d, &sum);
    }
    check_rank0(ok, "%s: one iteration, labels of the updated centroids", "max_iter 1");
    outcome_free(&f);

    /* n_init keeps the best restart; restart 0 is the n_init 1 run */
    o = kmeans_defaults(k);
    o.n_init = 1;
    o.init = KMEANS_INIT_RANDOM;
    fit_outcome a = fit_on(world_size, &s, &o, NULL);
    o.n_init = 8;
    fit_outcome b = fit_on(world_size, &s, &o, NULL);
    ok = a.ok && b.ok && b.res.inertia <= a.res.inertia && b.res.best_init >= 0 && b.res.best_init < 8 &&
         (b.res.best_init != 0 || b.res.inertia == a.res.inertia);
    tap_check(ok, "n_init 8 keeps the best restart (inertia %.6g <= %.6g of restart 0, kept restart %d)", b.res.inertia,
              a.res.inertia, b.res.best_init);
    outcome_free(&a);
    outcome_free(&b);
    dataset_free(&s);
}

static void check_extremes(void)
{
    dataset s = make_uniform(23, 3, 0.0f, 303);
    kmeans_options o = kmeans_defaults(1);
    fit_outcome f = fit_on(world_size, &s, &o, NULL);
    int ok = f.ok;
    if (ok && world_rank == 0) {
        double mean[3] = {0, 0, 0}, ss = 0;
        for (long long i = 0; i < s.t; i++)
            for (int e = 0; e < 3; e++) mean[e] += s.x[i * 3 + e] / (double)s.t;
        for (long long i = 0; i < s.t; i++) ss += dist2(s.x + i * 3, mean, 3);
        for (int e = 0; e < 3; e++) ok &= fabs(mean[e] - f.res.centroids[e]) < 1e-12;
        for (long long i = 0; i < s.t; i++) ok &= f.labels[i] == 0;
        ok &= fabs(ss - f.res.inertia) < 1e-12 * ss;
    }
    check_rank0(ok, "%s: the centroid is the mean, the inertia the total sum of squares", "K = 1");
    outcome_free(&f);

    o = kmeans_defaults((int)s.t);
    o.n_init = 2;
    f = fit_on(world_size, &s, &o, NULL);
    ok = f.ok && f.res.inertia == 0;
    if (ok && world_rank == 0) {
        int *seen = calloc((size_t)s.t, sizeof(int));
        for (long long i = 0; i < s.t; i++) seen[f.labels[i]]++;
        for (long long i = 0; i < s.t; i++) ok &= seen[i] == 1;
        free(seen);
    }
    check_rank0(ok, "%s: every row its own cluster, inertia 0", "K = T");
    outcome_free(&f);

    o = kmeans_defaults((int)s.t + 1);
    f = fit_on(world_size, &s, &o, NULL);
    tap_check(!f.ok && f.res.centroids == NULL, "K = T + 1 is rejected on every rank");
    outcome_free(&f);
    o = kmeans_defaults(0);
    f = fit_on(world_size, &s, &o, NULL);
    tap_check(!f.ok && f.res.centroids == NULL, "K = 0 is rejected on every rank");
    outcome_free(&f);
    o = kmeans_defaults(2);
    double init[6] = {0, 0, 0, 1, 1, 1};
    f = fit_on(world_size, &s, &o, init);
    tap_check(f.ok && f.res.iterations >= 1, "kmeans_fit_from runs with K = 2");
    outcome_free(&f);
    dataset_free(&s);
}

static void check_empty_clusters(void)
{
    dataset s = make_blobs(200, 3, 3, 0.5, 404);
    const int k = 4, d = 3;
    /* three centroids on rows of the blobs, one far from every row */
    double init[4 * 3];
    for (int j = 0; j < 3; j++)
        for (int e = 0; e < d; e++) init[j * d + e] = s.x[j * d + e];
    for (int e = 0; e < d; e++) init[3 * d + e] = 1000.0;
    /* and a second start with two identical centroids */
    double dup[4 * 3];
    memcpy(dup, init, sizeof dup);
    for (int e = 0; e < d; e++) dup[3 * d + e] = init[e];
    for (int c = 0; c < 2; c++) {
        kmeans_options o = kmeans_defaults(k);
        fit_outcome f = fit_on(world_size, &s, &o, c ? dup : init);
        int ok = f.ok;
        if (ok && world_rank == 0) {
            int cnt[4] = {0, 0, 0, 0};
            for (long long i = 0; i < s.t; i++) cnt[f.labels[i]]++;
            for (int j = 0; j < k; j++) ok &= cnt[j] > 0;
        }
        check_rank0(ok, "%s: the empty cluster is re-seeded and no cluster ends empty",
                    c ? "two identical initial centroids" : "an initial centroid far from every row");
        outcome_free(&f);
    }
    kmeans_options o = kmeans_defaults(k);
    check_rank_counts("re-seeding from a far centroid", &s, &o, init);
    dataset_free(&s);
}

static void check_assign(void)
{
    /* rows far from the origin (offset 1000), centroids on perturbed rows
     * and exact duplicates: near ties where the GEMM expansion would round */
    const int d = 40, k = 9;
    const long long n = 600;
    rng_state r;
    rng_seed(&r, 505, (uint64_t)world_rank);
    float *x = malloc((size_t)n * d * sizeof(float));
    rng_fill_uniform(&r, x, (size_t)n * d, 1000.0f, 1000.01f);
    double *c = malloc((size_t)k * d * sizeof(double));
    for (int j = 0; j < k; j++)
        for (int e = 0; e < d; e++) c[j * d + e] = x[(size_t)(j * 7) * d + e] + (j < 6 ? 1e-6 * rng_normal(&r) : 0.0);
    for (int e = 0; e < d; e++) c[8 * d + e] = c[7 * d + e]; /* duplicate centroid: the lower index wins */
    /* rows half-way between two centroids */
    for (int e = 0; e < d; e++) x[(size_t)599 * d + e] = (float)(0.5 * (c[0 * d + e] + c[1 * d + e]));
    int *labels = malloc((size_t)n * sizeof(int));
    double sum = kmeans_assign(labels, x, n, d, c, k), ref = 0;
    int ok = 1, used8 = 0;
    for (long long i = 0; i < n; i++) {
        ok &= labels[i] == brute_argmin(x + i * d, c, k, d, &ref);
        used8 |= labels[i] == 8;
    }
    ok &= !used8 && fabs(sum - ref) <= 1e-12 * ref;
    tap_check_all(MPI_COMM_WORLD, ok, "kmeans_assign: argmin of the direct double distances on rows offset by 1000 with near "
                                      "ties, lowest index for identical centroids, sum of squared distances");
    /* integer coordinates offset by 1000: many exact ties of the direct
     * distances, which the GEMM expansion would break by its rounding */
    const int di = 16, ki = 8;
    float *xi = malloc((size_t)n * di * sizeof(float));
    double *ci = malloc((size_t)ki * di * sizeof(double));
    for (long long e = 0; e < n * di; e++) xi[e] = (float)(1000 + uniform_int(&r, 3));
    for (int e = 0; e < ki * di; e++) ci[e] = 1000 + uniform_int(&r, 3);
    sum = kmeans_assign(labels, xi, n, di, ci, ki);
    ref = 0;
    ok = 1;
    int ties = 0;
    for (long long i = 0; i < n; i++) {
        ok &= labels[i] == brute_argmin(xi + i * di, ci, ki, di, &ref);
        double d0 = dist2(xi + i * di, ci + (size_t)labels[i] * di, di);
        for (int j = labels[i] + 1; j < ki; j++) ties += dist2(xi + i * di, ci + (size_t)j * di, di) == d0;
    }
    ok &= sum == ref && ties >= 20;
    tap_check_all(MPI_COMM_WORLD, ok, "kmeans_assign: exact ties (%d) of integer rows offset by 1000 go to the lowest cluster", ties);
    free(xi);
    free(ci);

    double none = kmeans_assign(labels, x, 0, d, c, k);
    tap_check(none == 0, "kmeans_assign on no rows returns 0");
    free(x);
    free(c);
    free(labels);
}

static void check_options(void)
{
    kmeans_options o = kmeans_defaults(6);
    tap_check(o.k == 6 && o.init == KMEANS_INIT_PLUSPLUS && o.n_init == 10 && o.max_iter == 300 && o.tol == 1e-4 && o.seed == 1,
              "defaults: k-means++, n_init 10, max_iter 300, tol 1e-4, seed 1");
    kmeans_init a = KMEANS_INIT_RANDOM, b = KMEANS_INIT_PLUSPLUS, c = KMEANS_INIT_PLUSPLUS;
    int ok = kmeans_init_parse("k-means++", &a) == DSC_OK && a == KMEANS_INIT_PLUSPLUS && kmeans_init_parse("random", &b) == DSC_OK &&
             b == KMEANS_INIT_RANDOM && kmeans_init_parse("kmeans", &c) == DSC_ERR && strstr(dsc_message(), "k-means++");
    dsc_clear();
    tap_check(ok, "kmeans_init_parse: k-means++, random, unknown names rejected");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    check_options();
    check_assign();
    check_blobs();
    {
        dataset s = make_uniform(301, 7, 0.0f, 606);
        kmeans_options o = kmeans_defaults(6);
        o.n_init = 3;
        o.seed = 5;
        check_rank_counts("k-means++ on uniform rows", &s, &o, NULL);
        o.init = KMEANS_INIT_RANDOM;
        o.seed = 6;
        check_rank_counts("random initialisation on uniform rows", &s, &o, NULL);
        dataset_free(&s);
        dataset b = make_blobs(500, 6, 8, 3.0, 607);
        o = kmeans_defaults(8);
        check_rank_counts("k-means++ on overlapping blobs", &b, &o, NULL);
        dataset_free(&b);
    }
    check_consistency();
    check_extremes();
    check_empty_clusters();
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
