/*
 * silhouette.c - the metrics that need every pairwise distance, in one pass:
 * Euclidean and cosine silhouette (scikit-learn definitions) and the K x K
 * inter-cluster matrix (minimum distance between clusters, diameters on the
 * diagonal) behind the paper's average inter-cluster distance.
 *
 * Partitioning: rank r holds a contiguous block of N_r rows (N_r x D).  The
 * blocks travel round a ring (rank r receives from r+1 and sends to r-1,
 * double-buffered, so the next block arrives while this one is computed).
 * In ring step s = 1..floor(P/2) rank r computes the block pair (r, r+s)
 * once and credits both sides: its own rows' per-cluster distance sums stay
 * here, the visiting rows' sums are sent back to their owner.  For even P
 * the pair at distance P/2 would be met by both ranks; each computes half of
 * the lower block's rows.  The diagonal block uses only tiles i <= j.  Work
 * per rank is about T^2 D / (2P), memory O(N D) - never T x T.  OpenMP
 * threads share the tile pairs of a block pair, with per-thread sums;
 * OpenBLAS runs single-threaded inside them (faster here than threading
 * each GEMM, see doc/metrics.md).
 *
 * Distances come from one float32 GEMM per tile pair:
 * |x - y|^2 = |x - c|^2 + |y - c|^2 - 2 (x - c).(y - c).  To keep this
 * within ~1e-7 relative of a direct double computation: the rows are
 * centred on the global mean and sorted by cluster inside each block, c is
 * the mean of the first tile (close to its rows, so the identity does not
 * cancel), the squared norms are taken in double, the GEMM runs over chunks
 * of the feature axis whose results are added in double, and pairs whose
 * distance is small compared with their norms are recomputed by direct
 * differences in double (exactly 0 for duplicates).  The cosine distance
 * uses the same GEMM: with x' = x - c and w = c + m, x.y = x'.y' + x'.w +
 * y'.w + w.w for the original rows.
 */
#include "metrics.h"
#include "blas_env.h"
#include "partition.h"
#include "status.h"
#include "config.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TILE_DEFAULT 256
/* Feature chunk of one sgemm call; chunk results are summed in double. */
#define FEATURE_CHUNK 256
/* GEMM distances are used when |x-y|^2 >= NEAR_FRACTION (|x-c|^2 + |y-c|^2);
 * nearer pairs are recomputed by direct differences.  The float32 GEMM error
 * is a few 1e-8 of |x-c| |y-c|, so the relative error of the distance stays
 * below 1e-6 (tests/test_metrics checks it). */
#define NEAR_FRACTION 0.1
#define META 3 /* per row: label, |xc + m|^2, 1 if the original row is all zeros */

typedef struct {
    long long n;
    const float *x;    /* (N, D) centred rows */
    const double *meta; /* (N, META) */
} row_block;

typedef struct {
    int d, k, tile;
    const double *mean; /* (D) */
} pass_context;

/* Per-thread scratch and accumulators. */
typedef struct {
    float *g;          /* (TILE, TILE) GEMM result of one chunk */
    double *gd;        /* (TILE, TILE) dot products summed over chunks */
    float *as, *bs;    /* (TILE, D) tile rows shifted by the A tile's mean */
    float *shift;      /* (D) the A tile's mean (in centred coordinates) */
    const float *last_a; /* first row of the A tile shift/as were made for */
    long long last_m;
    double ww;         /* |w|^2 */
    double *w;         /* (D) shift + global mean */
    double *na, *nb;   /* (TILE, 2) |row - shift|^2 and row.w */
    double *own;       /* (NA, 2K) Euclidean | cosine distance sums of own rows per cluster */
    double *visit;     /* (NBMAX, 2K) the same for the visiting rows */
    double *inter;     /* (K, K) min distance a != b, max (diameter) a == b */
    double *dist;      /* NULL, or (TILE, TILE) every distance of the tile (accuracy test) */
    long long direct;
} thread_state;

/* Dot products of a tile: out[i][j] = a_i . b_j in chunks of the feature axis. */
static void tile_dot(double *gd, float *g, const float *a, long long m, const float *b, long long n, int d)
{
    memset(gd, 0, (size_t)(m * n) * sizeof(double));
    for (int f0 = 0; f0 < d; f0 += FEATURE_CHUNK) {
        int fc = d - f0 < FEATURE_CHUNK ? d - f0 : FEATURE_CHUNK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, fc, 1.0f, a + f0, d, b + f0, d, 0.0f, g, (int)n);
        for (long long e = 0; e < m * n; e++) gd[e] += g[e];
    }
}

/* |a - b|^2 and (a + m).(b + m) directly in double. */
static void direct_pair(double *d2, double *dot, const float *a, const float *b, const double *mean, int d)
{
    double s = 0, p = 0;
    for (int f = 0; f < d; f++) {
        double u = a[f], v = b[f];
        s += (u - v) * (u - v);
        p += (u + mean[f]) * (v + mean[f]);
    }
    *d2 = s;
    *dot = p;
}

/* Rows shifted by c: out = x - c in float, norms[2i] = |out_i|^2 and
 * norms[2i+1] = out_i . w in double (vectorised reductions). */
static void shift_rows(float *out, double *norms, const float *x, long long m, int d, const float *c, const double *w)
{
    for (long long i = 0; i < m; i++) {
        const float *xi = x + i * d;
        float *oi = out + i * d;
        double n2 = 0, p = 0;
#pragma omp simd reduction(+ : n2, p)
        for (int f = 0; f < d; f++) {
            float v = xi[f] - c[f];
            oi[f] = v;
            n2 += (double)v * v;
            p += (double)v * w[f];
        }
        norms[2 * i] = n2;
        norms[2 * i + 1] = p;
    }
}

/* All pairs of rows [a0, a1) of A and [b0, b1) of B within one tile pair;
 * diagonal: A == B and only pairs j > i.
 *
 * Both tiles are shifted by the mean c of the A tile before the GEMM: the
 * rows are sorted by cluster, so c is close to the A rows and the identity
 * |x-y|^2 = |x-c|^2 + |y-c|^2 - 2 (x-c).(y-c) hardly cancels.  Pairs with
 * |x-y|^2 < NEAR_FRACTION (|x-c|^2 + |y-c|^2) are recomputed directly.
 * Cosine: with x' = x - c and w = c + m (m the global mean), the original
 * rows' dot product is x'.y' + x'.w + y'.w + w.w. */
static void tile_pairs(const pass_context *c, const row_block *A, long long a0, long long a1, const row_block *B, long long b0,
                       long long b1, int diagonal, thread_state *t, double *acc_a, double *acc_b)
{
    int d = c->d, K = c->k;
    long long m = a1 - a0, n = b1 - b0;
    if (m <= 0 || n <= 0) return;
    /* The A tile's shift is reused while a thread stays on the same A tile. */
    if (t->last_a != A->x + a0 * d || t->last_m != m) {
        double *sum = t->w;
        for (int f = 0; f < d; f++) sum[f] = 0;
        for (long long i = a0; i < a1; i++)
#pragma omp simd
            for (int f = 0; f < d; f++) sum[f] += A->x[i * d + f];
        double ww = 0;
        for (int f = 0; f < d; f++) {
            t->shift[f] = (float)(sum[f] / (double)m);
            t->w[f] = (double)t->shift[f] + c->mean[f];
            ww += t->w[f] * t->w[f];
        }
        t->ww = ww;
        shift_rows(t->as, t->na, A->x + a0 * d, m, d, t->shift, t->w);
        t->last_a = A->x + a0 * d;
        t->last_m = m;
    }
    const double ww = t->ww;
    shift_rows(t->bs, t->nb, B->x + b0 * d, n, d, t->shift, t->w);
    tile_dot(t->gd, t->g, t->as, m, t->bs, n, d);
    for (long long i = a0; i < a1; i++) {
        const double *ma = A->meta + META * i;
        const double *sa = t->na + 2 * (i - a0);
        int la = (int)ma[0];
        double *ra = acc_a + 2 * K * i;
        const double *gi = t->gd + (i - a0) * n;
        long long jstart = diagonal && i + 1 > b0 ? i + 1 : b0;
        for (long long j = jstart; j < b1; j++) {
            const double *mb = B->meta + META * j;
            const double *sb = t->nb + 2 * (j - b0);
            int lb = (int)mb[0];
            double g = gi[j - b0];
            double d2 = sa[0] + sb[0] - 2.0 * g, dot;
            if (d2 < NEAR_FRACTION * (sa[0] + sb[0])) {
                direct_pair(&d2, &dot, A->x + i * d, B->x + j * d, c->mean, d);
                t->direct++;
            } else {
                dot = g + sa[1] + sb[1] + ww;
            }
            double dist = sqrt(d2 > 0 ? d2 : 0);
            if (t->dist) t->dist[(i - a0) * n + (j - b0)] = dist;
            /* scikit-learn: zero rows stay zero after normalisation ->
             * distance 1 to every other row (to itself 0, as scikit-learn
             * gives whenever X fits one chunk of its working memory); the
             * distance is clipped to [0, 2]. */
            double cosd = (!ma[2] && !mb[2]) ? 1.0 - dot / sqrt(ma[1] * mb[1]) : 1.0;
            cosd = cosd < 0 ? 0 : (cosd > 2 ? 2 : cosd);
            double *rb = acc_b + 2 * K * j;
            ra[lb] += dist;
            ra[K + lb] += cosd;
            rb[la] += dist;
            rb[K + la] += cosd;
            if (la == lb) {
                if (dist > t->inter[la * K + la]) t->inter[la * K + la] = dist;
            } else if (dist < t->inter[la * K + lb]) {
                t->inter[la * K + lb] = dist;
                t->inter[lb * K + la] = dist;
            }
        }
    }
}

static int thread_state_create(thread_state *t, int tile, int d, int k, long long na, long long nmax)
{
    t->g = dsc_malloc((size_t)tile * tile * sizeof(float), "tile");
    t->gd = dsc_malloc((size_t)tile * tile * sizeof(double), "tile");
    t->as = dsc_malloc((size_t)tile * d * sizeof(float), "shifted tile");
    t->bs = dsc_malloc((size_t)tile * d * sizeof(float), "shifted tile");
    t->shift = dsc_malloc((size_t)d * sizeof(float), "tile mean");
    t->w = dsc_malloc((size_t)d * sizeof(double), "tile mean");
    t->na = dsc_malloc((size_t)tile * 2 * sizeof(double), "tile norms");
    t->nb = dsc_malloc((size_t)tile * 2 * sizeof(double), "tile norms");
    t->own = dsc_calloc((size_t)(na * 2 * k) + 1, sizeof(double), "distance sums");
    t->visit = dsc_calloc((size_t)(nmax * 2 * k) + 1, sizeof(double), "distance sums");
    t->inter = dsc_malloc((size_t)k * k * sizeof(double), "inter-cluster distances");
    if (!t->g || !t->gd || !t->as || !t->bs || !t->shift || !t->w || !t->na || !t->nb || !t->own || !t->visit || !t->inter)
        return DSC_ERR;
    for (int e = 0; e < k * k; e++) t->inter[e] = (e % (k + 1) == 0) ? 0.0 : INFINITY;
    return DSC_OK;
}

static void thread_state_destroy(thread_state *t)
{
    free(t->g);
    free(t->gd);
    free(t->as);
    free(t->bs);
    free(t->shift);
    free(t->w);
    free(t->na);
    free(t->nb);
    free(t->own);
    free(t->visit);
    free(t->inter);
}

/* One block pair: rows [a0, a1) of A against rows [b0, b1) of B, in tiles,
 * OpenMP over tile pairs (dynamic: diagonal tiles are cheaper).  own is
 * accumulated into thread->own, B's sums into thread->visit (or own when
 * diagonal). */
static void block_pairs(const pass_context *c, const row_block *A, long long a0, long long a1, const row_block *B, long long b0,
                        long long b1, int diagonal, thread_state *threads)
{
    long long tile = c->tile;
    long long ta = (a1 - a0 + tile - 1) / tile, tb = (b1 - b0 + tile - 1) / tile;
    long long npairs = ta * tb;
    if (npairs <= 0) return;
#pragma omp parallel for schedule(dynamic, 1)
    for (long long p = 0; p < npairs; p++) {
        long long ti = p / tb, tj = p % tb;
        if (diagonal && tj < ti) continue;
        thread_state *t = &threads[omp_get_thread_num()];
        long long i0 = a0 + ti * tile, i1 = i0 + tile < a1 ? i0 + tile : a1;
        long long j0 = b0 + tj * tile, j1 = j0 + tile < b1 ? j0 + tile : b1;
        tile_pairs(c, A, i0, i1, B, j0, j1, diagonal, t, t->own, diagonal ? t->own : t->visit);
    }
}

int pairwise_distance_tile(double *out, const float *a, long long na, const float *b, long long nb, int d, const double *mean)
{
    int tile = (int)(na > nb ? na : nb);
    float *xc = dsc_malloc((size_t)((na + nb) * d) * sizeof(float), "centred rows"); /* (NA + NB, D) */
    double *meta = dsc_calloc((size_t)((na + nb) * META), sizeof(double), "row norms");
    thread_state t;
    memset(&t, 0, sizeof t);
    int status = (xc && meta && thread_state_create(&t, tile, d, 1, na + nb, na + nb) == DSC_OK) ? DSC_OK : DSC_ERR;
    if (status == DSC_OK) {
        for (long long i = 0; i < na + nb; i++) {
            const float *x = i < na ? a + i * d : b + (i - na) * d;
            double f2 = 0;
            int zero = 1;
            for (int f = 0; f < d; f++) {
                float v = (float)((double)x[f] - mean[f]);
                xc[i * d + f] = v;
                f2 += ((double)v + mean[f]) * ((double)v + mean[f]);
                zero &= x[f] == 0;
            }
            meta[META * i + 1] = f2;
            meta[META * i + 2] = zero;
        }
        pass_context c = {.d = d, .k = 1, .tile = tile, .mean = mean};
        row_block A = {.n = na, .x = xc, .meta = meta}, B = {.n = nb, .x = xc + na * d, .meta = meta + META * na};
        t.dist = out;
        tile_pairs(&c, &A, 0, na, &B, 0, nb, 0, &t, t.own, t.visit);
    }
    thread_state_destroy(&t);
    free(xc);
    free(meta);
    return status;
}

/* splitmix64: the subset of a sampled silhouette, identical on every rank. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* chosen (T): 1 for the samples in a random subset of size m (partial
 * Fisher-Yates shuffle). */
static int choose_subset(unsigned char *chosen, long long T, long long m, uint64_t seed)
{
    long long *perm = dsc_malloc((size_t)T * sizeof(long long), "sample permutation");
    if (!perm) return DSC_ERR;
    for (long long i = 0; i < T; i++) perm[i] = i;
    uint64_t s = seed;
    for (long long i = 0; i < m; i++) {
        long long j = i + (long long)(splitmix64(&s) % (uint64_t)(T - i));
        long long tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    memset(chosen, 0, (size_t)T);
    for (long long i = 0; i < m; i++) chosen[perm[i]] = 1;
    free(perm);
    return DSC_OK;
}

void pairwise_metrics_destroy(pairwise_metrics *out)
{
    free(out->inter);
    out->inter = NULL;
}

int pairwise_metrics_compute(MPI_Comm comm, const metrics_data *data, const pairwise_options *opt, pairwise_metrics *out)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    const int D = data->d, K = data->k;
    const long long T = data->ntotal;
    int d = D;      /* features that take part: those not zero in every row */
    int *keep = NULL; /* (D) their indices */
    memset(out, 0, sizeof *out);
    int status = DSC_OK;
    long long *nblock = NULL;                          /* (P) rows of every rank's block */
    float *xc = NULL;                                  /* (NA, D) centred rows */
    double *meta = NULL;                               /* (NA, META) */
    float *xbuf[2] = {NULL, NULL};                     /* (NBMAX, D) travelling block, double-buffered */
    double *mbuf[2] = {NULL, NULL};                    /* (NBMAX, META) */
    double *sendacc = NULL, *recvacc = NULL, *acc = NULL;
    thread_state *threads = NULL;
    MPI_Request *back = NULL;
    int nthreads = omp_get_max_threads();

    /* Which local rows take part: all, or those of a random subset. */
    long long start = 0, nlocal = data->n;
    MPI_Exscan(&nlocal, &start, 1, MPI_LONG_LONG, MPI_SUM, comm);
    if (rank == 0) start = 0;
    long long m = (opt && opt->sample > 0 && opt->sample < T) ? opt->sample : T;
    long long *rows = dsc_malloc((size_t)data->n * sizeof(long long), "sample rows"); /* (NA) local row indices */
    unsigned char *chosen = NULL;
    if (!rows) status = DSC_ERR;
    long long na = 0;
    if (status == DSC_OK && m < T) {
        chosen = dsc_malloc((size_t)T, "sample subset");
        if (!chosen || choose_subset(chosen, T, m, opt->seed) != DSC_OK) status = DSC_ERR;
    }
    if (status == DSC_OK)
        for (long long i = 0; i < data->n; i++)
            if (!chosen || chosen[start + i]) rows[na++] = i;
    free(chosen);

    /* Cluster sizes among the participating samples and the label check. */
    long long *counts = dsc_calloc((size_t)K, sizeof(long long), "cluster counts"); /* (K) */
    double *mean = dsc_calloc((size_t)D, sizeof(double), "mean"); /* (D) */
    unsigned char *used = dsc_calloc((size_t)D, 1, "feature flags");  /* (D) */
    keep = dsc_malloc((size_t)D * sizeof(int), "feature list");
    if (!counts || !mean || !used || !keep) status = DSC_ERR;
    if (status == DSC_OK)
        for (long long r = 0; r < na; r++) {
            int l = data->labels[rows[r]];
            if (l < 0 || l >= K) {
                status = dsc_fail("internal: label %d outside 0..%d", l, K - 1);
                break;
            }
            counts[l]++;
            const float *x = data->x + rows[r] * D;
            for (int f = 0; f < D; f++) {
                mean[f] += x[f];
                used[f] |= x[f] != 0;
            }
        }
    if (dsc_agree(comm, status) != DSC_OK) goto release;
    MPI_Allreduce(MPI_IN_PLACE, counts, K, MPI_LONG_LONG, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, mean, D, MPI_DOUBLE, MPI_SUM, comm);
    /* Features that are zero in every row (the zero padding of the grid)
     * change neither Euclidean nor cosine distances: leave them out. */
    MPI_Allreduce(MPI_IN_PLACE, used, D, MPI_UNSIGNED_CHAR, MPI_MAX, comm);
    d = 0;
    for (int f = 0; f < D; f++)
        if (used[f]) keep[d++] = f;
    if (d == 0) keep[d++] = 0;
    for (int j = 0; j < d; j++) mean[j] = mean[keep[j]];
    int nlabels = 0;
    for (int l = 0; l < K; l++) nlabels += counts[l] > 0;
    out->n = m;
    out->nlabels = nlabels;
    if (nlabels < 2 || nlabels > m - 1) {
        status = dsc_agree(comm, dsc_fail("the silhouette needs 2 <= number of clusters <= number of samples - 1, "
                                          "got %d clusters for %lld samples; give labels with at least 2 and at most %lld distinct values",
                                          nlabels, m, m - 1));
        goto release;
    }
    for (int f = 0; f < d; f++) mean[f] /= (double)m;

    /* Block sizes of every rank and buffers for the travelling blocks. */
    nblock = dsc_malloc((size_t)P * sizeof(long long), "block sizes");
    if (!nblock) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto release;
    MPI_Allgather(&na, 1, MPI_LONG_LONG, nblock, 1, MPI_LONG_LONG, comm);
    long long nmax = 0;
    for (int p = 0; p < P; p++) nmax = nblock[p] > nmax ? nblock[p] : nmax;
    const int S = P / 2; /* ring steps */
    int tile = opt && opt->tile > 0 ? opt->tile : TILE_DEFAULT;

    xc = dsc_malloc((size_t)(na * d) * sizeof(float), "centred rows");
    meta = dsc_malloc((size_t)(na * META) * sizeof(double), "row norms");
    sendacc = dsc_calloc((size_t)(S * nmax * 2 * K) + 1, sizeof(double), "visiting sums"); /* (S, NBMAX, 2K) */
    recvacc = dsc_calloc((size_t)(S * na * 2 * K) + 1, sizeof(double), "returned sums");   /* (S, NA, 2K) */
    threads = dsc_calloc((size_t)nthreads, sizeof(thread_state), "thread state");
    acc = dsc_calloc((size_t)(na * 2 * K) + 1, sizeof(double), "distance sums"); /* (NA, 2K) */
    back = dsc_malloc((size_t)(2 * S + 1) * sizeof(MPI_Request), "requests");
    if (S > 0)
        for (int b = 0; b < 2; b++) {
            xbuf[b] = dsc_malloc((size_t)(nmax * d) * sizeof(float), "visiting rows");
            mbuf[b] = dsc_malloc((size_t)(nmax * META) * sizeof(double), "visiting norms");
            if (!xbuf[b] || !mbuf[b]) status = DSC_ERR;
        }
    if (!xc || !meta || !sendacc || !recvacc || !threads || !acc || !back) status = DSC_ERR;
    for (int t = 0; threads && status == DSC_OK && t < nthreads; t++)
        if (thread_state_create(&threads[t], tile, d, K, na, nmax) != DSC_OK) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto release;

    /* Sort the participating rows by cluster (stable, counting sort) so a
     * tile holds members of few clusters and its mean is close to its rows:
     * see tile_pairs.  The order inside a block does not matter otherwise,
     * every row carries its label. */
    {
        long long *offset = dsc_calloc((size_t)K + 1, sizeof(long long), "cluster offsets");
        long long *sorted = dsc_malloc((size_t)(na + 1) * sizeof(long long), "sorted rows");
        if (!offset || !sorted) {
            free(offset);
            free(sorted);
            status = DSC_ERR;
        } else {
            for (long long r = 0; r < na; r++) offset[data->labels[rows[r]] + 1]++;
            for (int l = 0; l < K; l++) offset[l + 1] += offset[l];
            for (long long r = 0; r < na; r++) sorted[offset[data->labels[rows[r]]]++] = rows[r];
            memcpy(rows, sorted, (size_t)na * sizeof(long long));
            free(offset);
            free(sorted);
        }
    }
    if (dsc_agree(comm, status) != DSC_OK) goto release;

    /* Centre the participating rows; norms in double. */
    for (long long r = 0; r < na; r++) {
        const float *x = data->x + rows[r] * D;
        float *y = xc + r * d;
        double f2 = 0;
        int zero = 1;
        for (int f = 0; f < d; f++) {
            float xf = x[keep[f]];
            float v = (float)((double)xf - mean[f]);
            y[f] = v;
            f2 += ((double)v + mean[f]) * ((double)v + mean[f]);
            zero &= xf == 0;
        }
        meta[META * r + 0] = data->labels[rows[r]];
        meta[META * r + 1] = f2;
        meta[META * r + 2] = zero;
    }

    /* OpenBLAS runs single-threaded inside the OpenMP tile loop. */
    blas_threads_saved blas = blas_threads_single();
    pass_context ctx = {.d = d, .k = K, .tile = tile, .mean = mean};
    MPI_Datatype row_type;
    MPI_Type_contiguous(d, MPI_FLOAT, &row_type);
    MPI_Type_commit(&row_type);
    const int left = (rank - 1 + P) % P, right = (rank + 1) % P;
    MPI_Request ring[4];
    int nback = 0;
    for (int s = 1; s <= S; s++) {
        int from = (rank - s + P) % P;
        MPI_Irecv(recvacc + (size_t)(s - 1) * na * 2 * K, (int)(na * 2 * K), MPI_DOUBLE, from, 100 + s, comm, &back[nback++]);
    }
    if (S > 0) {
        MPI_Isend(xc, (int)na, row_type, left, 1, comm, &ring[0]);
        MPI_Isend(meta, (int)(na * META), MPI_DOUBLE, left, 2, comm, &ring[1]);
        MPI_Irecv(xbuf[0], (int)nblock[right], row_type, right, 1, comm, &ring[2]);
        MPI_Irecv(mbuf[0], (int)(nblock[right] * META), MPI_DOUBLE, right, 2, comm, &ring[3]);
    }

    /* Own block: pairs i < j. */
    row_block own = {.n = na, .x = xc, .meta = meta};
    block_pairs(&ctx, &own, 0, na, &own, 0, na, 1, threads);

    for (int s = 1; s <= S; s++) {
        MPI_Waitall(4, ring, MPI_STATUSES_IGNORE);
        int owner = (rank + s) % P;
        row_block vis = {.n = nblock[owner], .x = xbuf[(s - 1) % 2], .meta = mbuf[(s - 1) % 2]};
        if (s < S) { /* pass this block on while computing with it */
            int next = (rank + s + 1) % P;
            MPI_Isend(vis.x, (int)vis.n, row_type, left, 1, comm, &ring[0]);
            MPI_Isend(vis.meta, (int)(vis.n * META), MPI_DOUBLE, left, 2, comm, &ring[1]);
            MPI_Irecv(xbuf[s % 2], (int)nblock[next], row_type, right, 1, comm, &ring[2]);
            MPI_Irecv(mbuf[s % 2], (int)(nblock[next] * META), MPI_DOUBLE, right, 2, comm, &ring[3]);
        }
        for (int t = 0; t < nthreads; t++) memset(threads[t].visit, 0, (size_t)(vis.n * 2 * K) * sizeof(double));
        if (2 * s == P) { /* both ranks of this pair meet it: each takes half of the lower block's rows */
            if (rank < owner) block_pairs(&ctx, &own, 0, na / 2, &vis, 0, vis.n, 0, threads);
            else block_pairs(&ctx, &own, 0, na, &vis, vis.n / 2, vis.n, 0, threads);
        } else {
            block_pairs(&ctx, &own, 0, na, &vis, 0, vis.n, 0, threads);
        }
        double *contrib = sendacc + (size_t)(s - 1) * nmax * 2 * K;
        for (int t = 0; t < nthreads; t++)
            for (long long e = 0; e < vis.n * 2 * K; e++) contrib[e] += threads[t].visit[e];
        MPI_Isend(contrib, (int)(vis.n * 2 * K), MPI_DOUBLE, owner, 100 + s, comm, &back[nback++]);
    }
    MPI_Waitall(nback, back, MPI_STATUSES_IGNORE);
    MPI_Type_free(&row_type);
    blas_threads_restore(blas);

    /* Sum the per-cluster distance sums of the own rows. */
    long long direct = 0;
    double *inter = threads[0].inter;
    for (int t = 0; t < nthreads; t++) {
        for (long long e = 0; e < na * 2 * K; e++) acc[e] += threads[t].own[e];
        direct += threads[t].direct;
        for (int e = 0; e < K * K; e++) {
            if (e % (K + 1) == 0) inter[e] = threads[t].inter[e] > inter[e] ? threads[t].inter[e] : inter[e];
            else inter[e] = threads[t].inter[e] < inter[e] ? threads[t].inter[e] : inter[e];
        }
    }
    for (int s = 0; s < S; s++)
        for (long long e = 0; e < na * 2 * K; e++) acc[e] += recvacc[(size_t)s * na * 2 * K + e];

    /* s(i) = (b - a) / max(a, b); a = mean distance to the other members,
     * b = least mean distance to another cluster; 0 for singletons and
     * when a = b = 0 (scikit-learn's nan_to_num). */
    double sums[2] = {0, 0};
    for (long long r = 0; r < na; r++) {
        int l = (int)meta[META * r];
        double *ar = acc + 2 * K * r;
        for (int metric = 0; metric < 2; metric++) {
            const double *sr = ar + metric * K;
            if (counts[l] < 2) continue;
            double a = sr[l] / (double)(counts[l] - 1), b = INFINITY;
            for (int c = 0; c < K; c++)
                if (c != l && counts[c] > 0 && sr[c] / (double)counts[c] < b) b = sr[c] / (double)counts[c];
            double mx = a > b ? a : b;
            if (mx > 0) sums[metric] += (b - a) / mx;
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, &direct, 1, MPI_LONG_LONG, MPI_SUM, comm);
    double *dmin = dsc_malloc((size_t)K * K * sizeof(double), "inter-cluster distances");
    out->inter = dsc_malloc((size_t)K * K * sizeof(double), "inter-cluster distances");
    if (dsc_agree(comm, (dmin && out->inter) ? DSC_OK : DSC_ERR) != DSC_OK) {
        free(dmin);
        status = DSC_ERR;
        goto release;
    }
    /* Off-diagonal entries are minima, diagonal ones maxima: reduce both
     * ways and keep the right one. */
    MPI_Allreduce(inter, dmin, K * K, MPI_DOUBLE, MPI_MIN, comm);
    MPI_Allreduce(inter, out->inter, K * K, MPI_DOUBLE, MPI_MAX, comm);
    double total = 0;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            if (a != b) out->inter[a * K + b] = dmin[a * K + b];
            if (counts[a] == 0 || counts[b] == 0) out->inter[a * K + b] = 0;
            else total += out->inter[a * K + b];
        }
    free(dmin);
    out->avg_inter_cluster_distance = total / ((double)nlabels * nlabels);
    out->silhouette = sums[0] / (double)m;
    out->silhouette_cosine = sums[1] / (double)m;
    out->direct_pairs = direct;

release:
    for (int t = 0; threads && t < nthreads; t++) thread_state_destroy(&threads[t]);
    free(threads);
    free(xc);
    free(meta);
    for (int b = 0; b < 2; b++) {
        free(xbuf[b]);
        free(mbuf[b]);
    }
    free(sendacc);
    free(recvacc);
    free(acc);
    free(nblock);
    free(back);
    free(rows);
    free(counts);
    free(mean);
    free(used);
    free(keep);
    return status;
}
