/*
 * kmeans.c - distributed k-means (Lloyd's algorithm) over contiguous row
 * blocks: the centroid initialisation of the clustering layer (paper
 * section 4.2, as in DEC: k-means on the latent vectors of all time steps)
 * and the raw-data baseline.  It follows scikit-learn's KMeans
 * (algorithm='lloyd') step by step, so both give the same labels and
 * centroids from the same initial centroids:
 *
 *   repeat up to max_iter times:
 *     assign every row to its nearest centroid;
 *     new centroid = mean of its rows (sums and counts in double, one
 *       MPI_Allreduce); an empty cluster is re-seeded with the row farthest
 *       from its centroid;
 *     stop if no label changed, or if the squared centroid shift summed over
 *       the clusters <= tol * mean feature variance;
 *   if stopped by the shift or max_iter, assign once more so the labels
 *   belong to the final centroids.
 *
 * Initialisation: scikit-learn's greedy k-means++ (Arthur and Vassilvitskii
 * 2007; 2 + floor(log K) candidate rows drawn per centroid with probability
 * proportional to the squared distance to the nearest chosen centroid, the
 * candidate that lowers the potential most is kept), or K distinct rows
 * drawn uniformly (Floyd's sampling).  Every draw is a uniform number from
 * one generator seeded by (seed, restart) on all ranks, resolved against the
 * GLOBAL row index: the rank is found from the allgathered per-rank weight
 * sums, then the row by a cumulative scan on that rank.  So the draws, and
 * the result, do not depend on the number of ranks.
 *
 * Assignment: distances to the K centroids come from a float32 GEMM through
 * |x - c|^2 = |x'|^2 + |c'|^2 - 2 x'.c' with x' = x - m, c' = c - m and m
 * the global mean of the rows (so the identity does not cancel on data far
 * from the origin), the squared norms in double and the GEMM over chunks of
 * the feature axis summed in double (pairwise_tile_dot, as in the
 * silhouette).  The centroids whose GEMM distance is within the GEMM's error bound of the smallest are
 * recomputed directly in double, and the label is the argmin of the direct
 * distances (lowest index on exact ties): the label never depends on the
 * GEMM's rounding, nor therefore on how the rows are cut into tiles and
 * ranks.  The distance to the chosen centroid is always the direct one, so
 * the inertia and the re-seeding use exact double distances.
 */
#include "kmeans.h"
#include "blas_env.h"
#include "pairwise_tiles.h"
#include "rng.h"
#include "status.h"
#include "config.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Rows per GEMM tile. */
#define ROW_TILE 256
/* Feature chunk of one sgemm call (pairwise_tile_dot); chunk results are
 * summed in double. */
#define FEATURE_CHUNK PAIRWISE_FEATURE_CHUNK
/* Error bound of a GEMM distance, relative to |x'|^2 + |c'|^2: the float32
 * rounding of x' and c' and a float32 dot product over FEATURE_CHUNK terms
 * (worst case FEATURE_CHUNK * 2^-24 ~ 1.5e-5 of |x'| |c'|), with margin. */
#define NEAR_TIE 4e-5
/* Features per block of the per-cluster sums (one block per thread). */
#define FEATURE_BLOCK 64

/* ---- assignment ---------------------------------------------------------- */

/* Scratch of the assignment, allocated once per fit. */
typedef struct {
    int d, k, nthreads;
    float *cc;      /* (K, D) centroids - m, float */
    double *ncc;    /* (K) |c'|^2 of the float values */
    float *xt;      /* (threads, TILE, D) rows - m of one tile */
    float *g;       /* (threads, TILE, K) GEMM result of one chunk */
    double *gd;     /* (threads, TILE, K) dot products summed over the chunks */
    double *nx;     /* (threads, TILE) |x'|^2 */
} assign_work;

static void assign_work_destroy(assign_work *w)
{
    free(w->cc);
    free(w->ncc);
    free(w->xt);
    free(w->g);
    free(w->gd);
    free(w->nx);
    memset(w, 0, sizeof *w);
}

/* Local; DSC_ERR when out of memory (message recorded). */
static int assign_work_create(assign_work *w, int d, int k)
{
    memset(w, 0, sizeof *w);
    w->d = d;
    w->k = k;
    w->nthreads = omp_get_max_threads();
    size_t nt = (size_t)w->nthreads;
    w->cc = dsc_malloc((size_t)k * d * sizeof(float), "k-means centroids");
    w->ncc = dsc_malloc((size_t)k * sizeof(double), "k-means centroid norms");
    w->xt = dsc_malloc(nt * ROW_TILE * (size_t)d * sizeof(float), "k-means row tiles");
    w->g = dsc_malloc(nt * ROW_TILE * (size_t)k * sizeof(float), "k-means distance tiles");
    w->gd = dsc_malloc(nt * ROW_TILE * (size_t)k * sizeof(double), "k-means distance tiles");
    w->nx = dsc_malloc(nt * ROW_TILE * sizeof(double), "k-means row norms");
    if (!w->cc || !w->ncc || !w->xt || !w->g || !w->gd || !w->nx) {
        assign_work_destroy(w);
        return DSC_ERR;
    }
    return DSC_OK;
}

/* |x - c|^2 directly in double. */
static double direct_distance(const float *x, const double *c, int d)
{
    double s = 0;
    for (int f = 0; f < d; f++) {
        double e = (double)x[f] - c[f];
        s += e * e;
    }
    return s;
}

/* One tile of rows [i0, i0 + m): labels and direct distances to the chosen
 * centroid. */
static void assign_tile(const assign_work *w, int thread, int *labels, double *dist, const float *x, long long i0, long long m,
                        const double *centroids, const double *shift)
{
    const int d = w->d, k = w->k;
    float *xt = w->xt + (size_t)thread * ROW_TILE * d;
    float *g = w->g + (size_t)thread * ROW_TILE * k;
    double *gd = w->gd + (size_t)thread * ROW_TILE * k;
    double *nx = w->nx + (size_t)thread * ROW_TILE;
    for (long long i = 0; i < m; i++) {
        const float *xi = x + (i0 + i) * d;
        float *ti = xt + i * d;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int f = 0; f < d; f++) {
            float v = (float)((double)xi[f] - shift[f]);
            ti[f] = v;
            s += (double)v * v;
        }
        nx[i] = s;
    }
    pairwise_tile_dot(gd, g, xt, m, w->cc, k, d);
    for (long long i = 0; i < m; i++) {
        const double *gi = gd + i * k;
        int best = 0;
        double dbest = INFINITY;
        for (int j = 0; j < k; j++) {
            double e = nx[i] + w->ncc[j] - 2.0 * gi[j];
            if (e < dbest) {
                dbest = e;
                best = j;
            }
        }
        /* Every centroid that may be the nearest within the GEMM's error. */
        double bound = dbest + NEAR_TIE * (nx[i] + w->ncc[best]);
        const float *xi = x + (i0 + i) * d;
        int label = -1;
        double dmin = INFINITY;
        for (int j = 0; j < k; j++) {
            double e = nx[i] + w->ncc[j] - 2.0 * gi[j];
            if (j != best && e - NEAR_TIE * (nx[i] + w->ncc[j]) > bound) continue;
            double dj = direct_distance(xi, centroids + (size_t)j * d, d);
            if (dj < dmin || label < 0) {
                dmin = dj;
                label = j;
            }
        }
        labels[i0 + i] = label;
        dist[i0 + i] = dmin;
    }
}

/* Local: labels (N) and direct squared distances dist (N) of the rows x
 * (N, D) to the nearest centroid (K, D); the GEMM works on the rows and
 * centroids minus shift (D). */
static void assign_rows(assign_work *w, int *labels, double *dist, const float *x, long long n, const double *centroids,
                        const double *shift)
{
    const int d = w->d, k = w->k;
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (int f = 0; f < d; f++) {
            float v = (float)(centroids[(size_t)j * d + f] - shift[f]);
            w->cc[(size_t)j * d + f] = v;
            s += (double)v * v;
        }
        w->ncc[j] = s;
    }
    blas_threads_saved blas = blas_threads_single();
    long long ntiles = (n + ROW_TILE - 1) / ROW_TILE;
#pragma omp parallel for schedule(dynamic, 1) num_threads(w->nthreads)
    for (long long t = 0; t < ntiles; t++) {
        long long i0 = t * ROW_TILE, m = n - i0 < ROW_TILE ? n - i0 : ROW_TILE;
        assign_tile(w, omp_get_thread_num(), labels, dist, x, i0, m, centroids, shift);
    }
    blas_threads_restore(blas);
}

double kmeans_assign(int *labels, const float *x, long long n, int d, const double *centroids, int k)
{
    if (n <= 0) return 0;
    assign_work w;
    double *shift = dsc_calloc((size_t)d, sizeof(double), "k-means shift");
    double *dist = dsc_malloc((size_t)n * sizeof(double), "k-means distances");
    if (!shift || !dist || assign_work_create(&w, d, k) != DSC_OK) {
        free(shift);
        free(dist);
        return NAN;
    }
    /* Shift by the mean of these rows. */
    for (long long i = 0; i < n; i++)
        for (int f = 0; f < d; f++) shift[f] += x[i * d + f];
    for (int f = 0; f < d; f++) shift[f] /= (double)n;
    assign_rows(&w, labels, dist, x, n, centroids, shift);
    double sum = 0;
    for (long long i = 0; i < n; i++) sum += dist[i];
    assign_work_destroy(&w);
    free(shift);
    free(dist);
    return sum;
}

/* ---- the distributed data -------------------------------------------------- */

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const float *x;     /* (N, D) */
    long long n, t0, T;
    int d, k;
    double *mean;       /* (D) global feature means */
    double tol;         /* tol * mean feature variance */
    /* scratch */
    assign_work aw;
    int *labels, *labels_old; /* (N) */
    double *dist;       /* (N) direct squared distance to the own centroid */
    double *closest;    /* (N) k-means++: distance to the nearest chosen centroid */
    double *trial;      /* (TRIALS, N) k-means++: the same with one candidate added */
    double *rank_sum;   /* (P) */
    double *reduce;     /* (K * D + K + 1) sums, counts, changed labels */
    double *rows;       /* (TRIALS, D) k-means++ candidates, re-seeding row */
    double *centers, *next; /* (K, D) */
    long long *pick;    /* (K) random initialisation: the drawn rows */
    double *gathered;   /* (P, 3) re-seeding: the farthest row of every rank */
    int trials;
} kmeans_data;

static void data_destroy(kmeans_data *g)
{
    assign_work_destroy(&g->aw);
    free(g->mean);
    free(g->labels);
    free(g->labels_old);
    free(g->dist);
    free(g->closest);
    free(g->trial);
    free(g->rank_sum);
    free(g->reduce);
    free(g->rows);
    free(g->centers);
    free(g->next);
    free(g->pick);
    free(g->gathered);
}

/* Collective: checks the arguments, finds the global layout, the feature
 * means and the tolerance, allocates the scratch.  DSC_ERR agreed. */
static int data_create(kmeans_data *g, MPI_Comm comm, const float *x, long long n, int d, const kmeans_options *opt)
{
    memset(g, 0, sizeof *g);
    g->comm = comm;
    MPI_Comm_rank(comm, &g->rank);
    MPI_Comm_size(comm, &g->size);
    g->x = x;
    g->n = n;
    g->d = d;
    g->k = opt->k;
    long long nn = n < 0 ? 0 : n;
    MPI_Exscan(&nn, &g->t0, 1, MPI_LONG_LONG, MPI_SUM, comm);
    if (g->rank == 0) g->t0 = 0;
    MPI_Allreduce(&nn, &g->T, 1, MPI_LONG_LONG, MPI_SUM, comm);
    int dmin = d, dmax = d;
    MPI_Allreduce(MPI_IN_PLACE, &dmin, 1, MPI_INT, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &dmax, 1, MPI_INT, MPI_MAX, comm);

    int status = DSC_OK;
    if (n < 0) status = dsc_fail("k-means: negative row count %lld on rank %d", n, g->rank);
    else if (dmin != dmax || d < 1)
        status = dsc_fail("k-means: the feature count differs between ranks or is below 1 (%d..%d); give every rank rows of the "
                          "same length", dmin, dmax);
    else if (opt->k < 1) status = dsc_fail("k-means: K = %d clusters; choose K >= 1", opt->k);
    else if (opt->k > g->T)
        status = dsc_fail("k-means: K = %d clusters but only %lld rows to cluster; choose K <= %lld", opt->k, g->T, g->T);
    else if (opt->n_init < 1) status = dsc_fail("k-means: n_init = %d; use at least 1 restart", opt->n_init);
    else if (opt->max_iter < 1) status = dsc_fail("k-means: max_iter = %d; use at least 1 iteration", opt->max_iter);
    else if (!(opt->tol >= 0)) status = dsc_fail("k-means: tolerance %g; use a tolerance >= 0", opt->tol);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;

    const int k = g->k, P = g->size;
    g->trials = 2 + (int)log((double)k);
    g->mean = dsc_calloc((size_t)d, sizeof(double), "k-means feature means");
    g->labels = dsc_malloc((size_t)nn * sizeof(int), "k-means labels");
    g->labels_old = dsc_malloc((size_t)nn * sizeof(int), "k-means labels");
    g->dist = dsc_malloc((size_t)nn * sizeof(double), "k-means distances");
    g->closest = dsc_malloc((size_t)nn * sizeof(double), "k-means++ distances");
    g->trial = dsc_malloc((size_t)nn * g->trials * sizeof(double), "k-means++ candidate distances");
    g->rank_sum = dsc_malloc((size_t)P * sizeof(double), "k-means++ rank sums");
    g->reduce = dsc_malloc(((size_t)k * d + k + 1) * sizeof(double), "k-means cluster sums");
    g->rows = dsc_malloc((size_t)g->trials * d * sizeof(double), "k-means fetched rows");
    g->centers = dsc_malloc((size_t)k * d * sizeof(double), "k-means centroids");
    g->next = dsc_malloc((size_t)k * d * sizeof(double), "k-means centroids");
    g->pick = dsc_malloc((size_t)k * sizeof(long long), "k-means initial rows");
    g->gathered = dsc_malloc((size_t)P * 3 * sizeof(double), "k-means re-seeding");
    status = DSC_OK;
    if (!g->mean || !g->labels || !g->labels_old || !g->dist || !g->closest || !g->trial || !g->rank_sum ||
        !g->reduce || !g->rows || !g->centers || !g->next || !g->pick || !g->gathered || assign_work_create(&g->aw, d, k) != DSC_OK)
        status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        data_destroy(g);
        return DSC_ERR;
    }

    /* Feature means and the mean variance (two passes, double). */
    for (long long i = 0; i < n; i++)
        for (int f = 0; f < d; f++) g->mean[f] += x[i * d + f];
    MPI_Allreduce(MPI_IN_PLACE, g->mean, d, MPI_DOUBLE, MPI_SUM, comm);
    for (int f = 0; f < d; f++) g->mean[f] /= (double)g->T;
    double ss = 0;
    for (long long i = 0; i < n; i++)
        for (int f = 0; f < d; f++) {
            double e = x[i * d + f] - g->mean[f];
            ss += e * e;
        }
    MPI_Allreduce(MPI_IN_PLACE, &ss, 1, MPI_DOUBLE, MPI_SUM, comm);
    g->tol = opt->tol * ss / ((double)g->T * d);
    return DSC_OK;
}

/* Collective: the global rows idx[0..m) into out (m, D), in double. */
static void fetch_rows(kmeans_data *g, const long long *idx, int m, double *out)
{
    const int d = g->d;
    memset(out, 0, (size_t)m * d * sizeof(double));
    for (int e = 0; e < m; e++)
        if (idx[e] >= g->t0 && idx[e] < g->t0 + g->n)
            for (int f = 0; f < d; f++) out[(size_t)e * d + f] = g->x[(idx[e] - g->t0) * d + f];
    MPI_Allreduce(MPI_IN_PLACE, out, m * d, MPI_DOUBLE, MPI_SUM, g->comm);
}

/* Uniform integer in [0, n). */
static long long uniform_index(rng_state *r, long long n)
{
    long long v = (long long)(rng_uniform(r) * (double)n);
    return v < n ? v : n - 1;
}

/* ---- initialisation -------------------------------------------------------- */

/* K distinct global rows, uniformly (Floyd's algorithm: K draws). */
static void init_random(kmeans_data *g, rng_state *rng)
{
    const int k = g->k;
    long long *chosen = g->pick;
    int m = 0;
    for (long long j = g->T - k; j < g->T; j++) {
        long long t = uniform_index(rng, j + 1);
        for (int e = 0; e < m; e++)
            if (chosen[e] == t) {
                t = j;
                break;
            }
        chosen[m++] = t;
    }
    fetch_rows(g, chosen, k, g->centers);
}

/* The global row drawn with probability proportional to the weights w (N)
 * of every rank, given u uniform in [0, 1): the rank from the allgathered
 * sums g->rank_sum (P), then the row by a cumulative scan there; rows of
 * weight 0 are never drawn.  Returns the global row on the owning rank,
 * -1 elsewhere (and on every rank when all weights are 0). */
static long long draw_weighted(const kmeans_data *g, const double *w, double u, int *owner)
{
    double total = 0;
    for (int r = 0; r < g->size; r++) total += g->rank_sum[r];
    *owner = -1;
    if (!(total > 0)) return -1;
    double v = u * total, before = 0, pick_before = 0;
    int pick = -1;
    for (int r = 0; r < g->size; r++) {
        if (!(g->rank_sum[r] > 0)) continue;
        pick = r;
        pick_before = before;
        if (before + g->rank_sum[r] > v) break;
        before += g->rank_sum[r];
    }
    *owner = pick;
    if (pick != g->rank) return -1;
    double target = v - pick_before, cum = 0;
    long long last = -1;
    for (long long i = 0; i < g->n; i++) {
        if (!(w[i] > 0)) continue;
        cum += w[i];
        last = i;
        if (cum > target) break;
    }
    return g->t0 + last;
}

/* Collective: local sums of w (N) gathered into g->rank_sum. */
static void gather_rank_sums(kmeans_data *g, const double *w)
{
    double s = 0;
    for (long long i = 0; i < g->n; i++) s += w[i];
    MPI_Allgather(&s, 1, MPI_DOUBLE, g->rank_sum, 1, MPI_DOUBLE, g->comm);
}

/* scikit-learn's greedy k-means++ with 2 + floor(log K) candidates. */
static void init_plusplus(kmeans_data *g, rng_state *rng)
{
    const int k = g->k, d = g->d, nt = g->trials;
    const long long n = g->n;
    long long first = uniform_index(rng, g->T);
    fetch_rows(g, &first, 1, g->centers);
#pragma omp parallel for schedule(static)
    for (long long i = 0; i < n; i++) g->closest[i] = direct_distance(g->x + i * d, g->centers, d);
    gather_rank_sums(g, g->closest);

    double pot[nt];
    for (int c = 1; c < k; c++) {
        /* Draw the candidates; their owners put the rows into g->rows
         * (nt, D), summed over the ranks. */
        memset(g->rows, 0, (size_t)nt * d * sizeof(double));
        for (int t = 0; t < nt; t++) {
            double u = rng_uniform(rng);
            int owner;
            long long r = draw_weighted(g, g->closest, u, &owner);
            if (owner < 0) { /* every row coincides with a chosen centroid */
                long long any = uniform_index(rng, g->T);
                if (any >= g->t0 && any < g->t0 + n) r = any;
            }
            if (r >= 0) {
                double *row = g->rows + (size_t)t * d;
                for (int f = 0; f < d; f++) row[f] = g->x[(r - g->t0) * d + f];
            }
        }
        MPI_Allreduce(MPI_IN_PLACE, g->rows, nt * d, MPI_DOUBLE, MPI_SUM, g->comm);

        /* Potential with each candidate added. */
#pragma omp parallel for schedule(static)
        for (long long i = 0; i < n; i++)
            for (int t = 0; t < nt; t++) {
                double e = direct_distance(g->x + i * d, g->rows + (size_t)t * d, d);
                g->trial[(size_t)t * n + i] = e < g->closest[i] ? e : g->closest[i];
            }
        for (int t = 0; t < nt; t++) {
            double s = 0;
            for (long long i = 0; i < n; i++) s += g->trial[(size_t)t * n + i];
            pot[t] = s;
        }
        MPI_Allreduce(MPI_IN_PLACE, pot, nt, MPI_DOUBLE, MPI_SUM, g->comm);
        int best = 0;
        for (int t = 1; t < nt; t++)
            if (pot[t] < pot[best]) best = t;
        memcpy(g->centers + (size_t)c * d, g->rows + (size_t)best * d, (size_t)d * sizeof(double));
        memcpy(g->closest, g->trial + (size_t)best * n, (size_t)n * sizeof(double));
        gather_rank_sums(g, g->closest);
    }
}

/* ---- Lloyd's iterations ---------------------------------------------------- */

/* Collective: re-seeds every empty cluster of the summed g->reduce (sums
 * (K, D), counts (K)) with the row farthest from its centroid (lowest
 * global row on ties), taken from a cluster of two or more rows.  Returns
 * the number of clusters re-seeded. */
static int reseed_empty(kmeans_data *g)
{
    const int k = g->k, d = g->d;
    double *sums = g->reduce, *counts = g->reduce + (size_t)k * d;
    int reseeded = 0;
    for (int j = 0; j < k; j++) {
        if (counts[j] > 0) continue;
        /* (distance, global row, label) of the farthest eligible row here,
         * the lowest row on ties */
        double mine[3] = {-1, -1, -1};
        for (long long i = 0; i < g->n; i++)
            if (g->dist[i] > mine[0] && counts[g->labels[i]] >= 2) {
                mine[0] = g->dist[i];
                mine[1] = (double)(g->t0 + i);
                mine[2] = g->labels[i];
            }
        double *all = g->gathered;
        MPI_Allgather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, g->comm);
        int from = -1;
        for (int r = 0; r < g->size; r++)
            if (all[3 * r + 1] >= 0 && (from < 0 || all[3 * r] > all[3 * from])) from = r;
        if (from < 0) break; /* fewer rows than clusters cannot happen (K <= T) */
        long long row = (long long)all[3 * from + 1];
        int old = (int)all[3 * from + 2];
        double *x = g->rows;
        fetch_rows(g, &row, 1, x);
        if (row >= g->t0 && row < g->t0 + g->n) g->dist[row - g->t0] = -1; /* taken */
        for (int f = 0; f < d; f++) {
            sums[(size_t)j * d + f] = x[f];
            sums[(size_t)old * d + f] -= x[f];
        }
        counts[j] = 1;
        counts[old] -= 1;
        reseeded++;
    }
    return reseeded;
}

/* Collective: Lloyd's iterations from g->centers; leaves the final
 * centroids in g->centers, the labels in g->labels, the distances in
 * g->dist. */
static void lloyd(kmeans_data *g, int max_iter, double *inertia, int *iterations)
{
    const int k = g->k, d = g->d;
    const long long n = g->n;
    const size_t nreduce = (size_t)k * d + k + 1;
    double *sums = g->reduce, *counts = g->reduce + (size_t)k * d;
    for (long long i = 0; i < n; i++) g->labels_old[i] = -1;
    int strict = 0, it;
    for (it = 0; it < max_iter; it++) {
        assign_rows(&g->aw, g->labels, g->dist, g->x, n, g->centers, g->mean);
        memset(g->reduce, 0, nreduce * sizeof(double));
        /* sums (K, D): one block of features per thread, rows in order */
        int nblocks = (d + FEATURE_BLOCK - 1) / FEATURE_BLOCK;
#pragma omp parallel for schedule(static)
        for (int b = 0; b < nblocks; b++) {
            int f0 = b * FEATURE_BLOCK, f1 = f0 + FEATURE_BLOCK < d ? f0 + FEATURE_BLOCK : d;
            for (long long i = 0; i < n; i++) {
                double *s = sums + (size_t)g->labels[i] * d;
                const float *xi = g->x + i * d;
                for (int f = f0; f < f1; f++) s[f] += xi[f];
            }
        }
        long long changed = 0;
        for (long long i = 0; i < n; i++) {
            counts[g->labels[i]] += 1;
            changed += g->labels[i] != g->labels_old[i];
        }
        counts[k] = (double)changed;
        MPI_Allreduce(MPI_IN_PLACE, g->reduce, (int)nreduce, MPI_DOUBLE, MPI_SUM, g->comm);
        int reseeded = reseed_empty(g);

        double shift = 0;
        for (int j = 0; j < k; j++)
            for (int f = 0; f < d; f++) {
                size_t e = (size_t)j * d + f;
                g->next[e] = counts[j] > 0 ? sums[e] / counts[j] : sums[e];
                double s = g->next[e] - g->centers[e];
                shift += s * s;
            }
        double *swap = g->centers;
        g->centers = g->next;
        g->next = swap;
        if (counts[k] == 0 && !reseeded) {
            strict = 1;
            break;
        }
        if (shift <= g->tol) break;
        int *lswap = g->labels_old;
        g->labels_old = g->labels;
        g->labels = lswap;
    }
    *iterations = it < max_iter ? it + 1 : max_iter;
    if (!strict) assign_rows(&g->aw, g->labels, g->dist, g->x, n, g->centers, g->mean);
    double s = 0;
    for (long long i = 0; i < n; i++) s += g->dist[i];
    MPI_Allreduce(MPI_IN_PLACE, &s, 1, MPI_DOUBLE, MPI_SUM, g->comm);
    *inertia = s;
}

/* ---- public ---------------------------------------------------------------- */

kmeans_options kmeans_defaults(int k)
{
    kmeans_options o = {.k = k, .init = KMEANS_INIT_PLUSPLUS, .n_init = 10, .max_iter = 300, .tol = 1e-4, .seed = 1};
    return o;
}

int kmeans_init_parse(const char *s, kmeans_init *init)
{
    if (!strcmp(s, "k-means++")) *init = KMEANS_INIT_PLUSPLUS;
    else if (!strcmp(s, "random")) *init = KMEANS_INIT_RANDOM;
    else return dsc_fail("--kmeans-init: unknown initialisation '%s'; use k-means++ or random", s);
    return DSC_OK;
}

void kmeans_result_destroy(kmeans_result *res)
{
    free(res->centroids);
    res->centroids = NULL;
}

/* Allocates res->centroids (agreed). */
static int result_create(MPI_Comm comm, kmeans_result *res, int k, int d)
{
    memset(res, 0, sizeof *res);
    res->k = k;
    res->d = d;
    res->centroids = dsc_malloc((size_t)k * d * sizeof(double), "k-means result");
    return dsc_agree(comm, res->centroids ? DSC_OK : DSC_ERR);
}

int kmeans_fit(MPI_Comm comm, const float *x, long long n, int d, const kmeans_options *opt, kmeans_result *res, int *labels)
{
    memset(res, 0, sizeof *res);
    kmeans_data g;
    if (data_create(&g, comm, x, n, d, opt) != DSC_OK) return DSC_ERR;
    if (result_create(comm, res, opt->k, d) != DSC_OK) {
        data_destroy(&g);
        return DSC_ERR;
    }
    res->inertia = INFINITY;
    for (int r = 0; r < opt->n_init; r++) {
        rng_state rng;
        rng_seed(&rng, opt->seed, (uint64_t)r);
        if (opt->init == KMEANS_INIT_RANDOM) init_random(&g, &rng);
        else init_plusplus(&g, &rng);
        double inertia;
        int iterations;
        lloyd(&g, opt->max_iter, &inertia, &iterations);
        if (r == 0 || inertia < res->inertia) {
            res->inertia = inertia;
            res->iterations = iterations;
            res->best_init = r;
            memcpy(res->centroids, g.centers, (size_t)opt->k * d * sizeof(double));
            if (labels) memcpy(labels, g.labels, (size_t)n * sizeof(int));
        }
    }
    data_destroy(&g);
    return DSC_OK;
}

int kmeans_fit_from(MPI_Comm comm, const float *x, long long n, int d, const double *init, const kmeans_options *opt,
                    kmeans_result *res, int *labels)
{
    memset(res, 0, sizeof *res);
    kmeans_options one = *opt;
    one.n_init = 1;
    kmeans_data g;
    if (data_create(&g, comm, x, n, d, &one) != DSC_OK) return DSC_ERR;
    int status = DSC_OK;
    for (size_t e = 0; e < (size_t)opt->k * d && status == DSC_OK; e++)
        if (!isfinite(init[e])) status = dsc_fail("k-means: initial centroid %zu is not finite; give finite centroids", e / d);
    if (dsc_agree(comm, status) != DSC_OK || result_create(comm, res, opt->k, d) != DSC_OK) {
        data_destroy(&g);
        return DSC_ERR;
    }
    memcpy(g.centers, init, (size_t)opt->k * d * sizeof(double));
    lloyd(&g, opt->max_iter, &res->inertia, &res->iterations);
    memcpy(res->centroids, g.centers, (size_t)opt->k * d * sizeof(double));
    if (labels) memcpy(labels, g.labels, (size_t)n * sizeof(int));
    data_destroy(&g);
    return DSC_OK;
}
