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
 * the BLAS runs single-threaded inside them (faster here than threading
 * each GEMM, see doc/metrics.md).
 *
 * The distances of a tile pair come from pairwise_tiles.c: one float32 GEMM
 * per tile pair, accurate to ~1e-7 relative, for rows centred on the global
 * mean and sorted by cluster inside each block (so a tile's mean is close to
 * its rows).
 *
 * Phases of pairwise_metrics_compute: select the rows (all, or a random
 * subset) and the features that are not zero everywhere; count the clusters
 * and take the global mean; sort by cluster and centre; the ring pass; sum
 * the threads' and the returned sums; silhouettes and the inter-cluster
 * matrix.
 */
#include "metrics.h"
#include "blas_env.h"
#include "pairwise_tiles.h"
#include "partition.h"
#include "rng.h"
#include "status.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TILE_DEFAULT 256
#define META PAIRWISE_META

/* One block pair: rows [a0, a1) of A against rows [b0, b1) of B, in tiles,
 * OpenMP over tile pairs (dynamic: diagonal tiles are cheaper).  own is
 * accumulated into thread->own, B's sums into thread->visit (or own when
 * diagonal). */
static void block_pairs(const pairwise_pass *c, const pairwise_rows *A, long long a0, long long a1, const pairwise_rows *B,
                        long long b0, long long b1, int diagonal, pairwise_tile_state *threads)
{
    long long tile = c->tile;
    long long ta = (a1 - a0 + tile - 1) / tile, tb = (b1 - b0 + tile - 1) / tile;
    long long npairs = ta * tb;
    if (npairs <= 0) return;
#pragma omp parallel for schedule(dynamic, 1)
    for (long long p = 0; p < npairs; p++) {
        long long ti = p / tb, tj = p % tb;
        if (diagonal && tj < ti) continue;
        pairwise_tile_state *t = &threads[omp_get_thread_num()];
        long long i0 = a0 + ti * tile, i1 = i0 + tile < a1 ? i0 + tile : a1;
        long long j0 = b0 + tj * tile, j1 = j0 + tile < b1 ? j0 + tile : b1;
        pairwise_tile_pairs(c, A, i0, i1, B, j0, j1, diagonal, t, t->own, diagonal ? t->own : t->visit);
    }
}

/* chosen (T): 1 for the samples in a random subset of size m (partial
 * Fisher-Yates shuffle; splitmix64, so the subset is identical on every
 * rank). */
static int choose_subset(unsigned char *chosen, long long T, long long m, uint64_t seed)
{
    long long *perm = dsc_malloc((size_t)T * sizeof(long long), "sample permutation");
    if (!perm) return DSC_ERR;
    for (long long i = 0; i < T; i++) perm[i] = i;
    uint64_t s = seed;
    for (long long i = 0; i < m; i++) {
        long long j = i + (long long)(rng_splitmix64(&s) % (uint64_t)(T - i));
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

/* Everything one pass holds; released by pass_release. */
typedef struct {
    MPI_Comm comm;
    int rank, P, nthreads;
    int D, K;
    int d;                       /* features that take part: those not zero in every row */
    long long m;                 /* samples that take part, all ranks */
    long long na;                /* of them here */
    long long nmax;              /* largest block */
    int S;                       /* ring steps */
    long long *rows;             /* (NA) local row indices */
    long long *counts;           /* (K) cluster sizes among the participating samples */
    double *mean;                /* (D) their mean, over the kept features first */
    unsigned char *used;         /* (D) feature not zero in some row */
    int *keep;                   /* (D) indices of the kept features */
    long long *nblock;           /* (P) rows of every rank's block */
    float *xc;                   /* (NA, D) centred rows */
    double *meta;                /* (NA, META) */
    float *xbuf[2];              /* (NBMAX, D) travelling block, double-buffered */
    double *mbuf[2];             /* (NBMAX, META) */
    double *sendacc;             /* (S, NBMAX, 2K) sums of the visiting rows, to their owners */
    double *recvacc;             /* (S, NA, 2K) sums of the own rows, returned */
    double *acc;                 /* (NA, 2K) Euclidean | cosine distance sums of the own rows per cluster */
    pairwise_tile_state *threads; /* (nthreads) */
    MPI_Request *back;           /* (2S + 1) */
} pass_state;

static void pass_release(pass_state *p)
{
    for (int t = 0; p->threads && t < p->nthreads; t++) pairwise_tile_state_destroy(&p->threads[t]);
    free(p->threads);
    free(p->xc);
    free(p->meta);
    for (int b = 0; b < 2; b++) {
        free(p->xbuf[b]);
        free(p->mbuf[b]);
    }
    free(p->sendacc);
    free(p->recvacc);
    free(p->acc);
    free(p->nblock);
    free(p->back);
    free(p->rows);
    free(p->counts);
    free(p->mean);
    free(p->used);
    free(p->keep);
}

/* Collective.  The local rows that take part (all, or those of a random
 * subset), the cluster sizes, the kept features and the global mean. */
static int select_rows(pass_state *p, const metrics_data *data, const pairwise_options *opt)
{
    const int D = p->D, K = p->K;
    const long long T = data->ntotal;
    int status = DSC_OK;
    long long start = 0, nlocal = data->n;
    MPI_Exscan(&nlocal, &start, 1, MPI_LONG_LONG, MPI_SUM, p->comm);
    if (p->rank == 0) start = 0;
    p->m = (opt && opt->sample > 0 && opt->sample < T) ? opt->sample : T;
    p->rows = dsc_malloc((size_t)data->n * sizeof(long long) + 1, "sample rows");
    unsigned char *chosen = NULL;
    if (!p->rows) status = DSC_ERR;
    if (status == DSC_OK && p->m < T) {
        chosen = dsc_malloc((size_t)T, "sample subset");
        if (!chosen || choose_subset(chosen, T, p->m, opt->seed) != DSC_OK) status = DSC_ERR;
    }
    if (status == DSC_OK)
        for (long long i = 0; i < data->n; i++)
            if (!chosen || chosen[start + i]) p->rows[p->na++] = i;
    free(chosen);

    p->counts = dsc_calloc((size_t)K, sizeof(long long), "cluster counts");
    p->mean = dsc_calloc((size_t)D, sizeof(double), "mean");
    p->used = dsc_calloc((size_t)D, 1, "feature flags");
    p->keep = dsc_malloc((size_t)D * sizeof(int), "feature list");
    if (!p->counts || !p->mean || !p->used || !p->keep) status = DSC_ERR;
    if (status == DSC_OK)
        for (long long r = 0; r < p->na; r++) {
            int l = data->labels[p->rows[r]];
            if (l < 0 || l >= K) {
                status = dsc_fail("internal: label %d outside 0..%d", l, K - 1);
                break;
            }
            p->counts[l]++;
            const float *x = data->x + p->rows[r] * D;
            for (int f = 0; f < D; f++) {
                p->mean[f] += x[f];
                p->used[f] |= x[f] != 0;
            }
        }
    if (dsc_agree(p->comm, status) != DSC_OK) return DSC_ERR;
    MPI_Allreduce(MPI_IN_PLACE, p->counts, K, MPI_LONG_LONG, MPI_SUM, p->comm);
    MPI_Allreduce(MPI_IN_PLACE, p->mean, D, MPI_DOUBLE, MPI_SUM, p->comm);
    /* Features that are zero in every row (the zero padding of the grid)
     * change neither Euclidean nor cosine distances: leave them out. */
    MPI_Allreduce(MPI_IN_PLACE, p->used, D, MPI_UNSIGNED_CHAR, MPI_MAX, p->comm);
    p->d = 0;
    for (int f = 0; f < D; f++)
        if (p->used[f]) p->keep[p->d++] = f;
    if (p->d == 0) p->keep[p->d++] = 0;
    for (int j = 0; j < p->d; j++) p->mean[j] = p->mean[p->keep[j]] / (double)p->m;
    return DSC_OK;
}

/* Collective.  Block sizes, buffers for the travelling blocks, per-thread
 * state. */
static int allocate_pass(pass_state *p, int tile)
{
    const int d = p->d, K = p->K;
    const long long na = p->na;
    int status = DSC_OK;
    p->nblock = dsc_malloc((size_t)p->P * sizeof(long long), "block sizes");
    if (dsc_agree(p->comm, p->nblock ? DSC_OK : DSC_ERR) != DSC_OK) return DSC_ERR;
    MPI_Allgather(&p->na, 1, MPI_LONG_LONG, p->nblock, 1, MPI_LONG_LONG, p->comm);
    for (int r = 0; r < p->P; r++) p->nmax = p->nblock[r] > p->nmax ? p->nblock[r] : p->nmax;
    const long long nmax = p->nmax;
    p->S = p->P / 2;
    const int S = p->S;
    p->xc = dsc_malloc((size_t)(na * d) * sizeof(float) + 1, "centred rows");
    p->meta = dsc_malloc((size_t)(na * META) * sizeof(double) + 1, "row norms");
    p->sendacc = dsc_calloc((size_t)(S * nmax * 2 * K) + 1, sizeof(double), "visiting sums");
    p->recvacc = dsc_calloc((size_t)(S * na * 2 * K) + 1, sizeof(double), "returned sums");
    p->threads = dsc_calloc((size_t)p->nthreads, sizeof(pairwise_tile_state), "thread state");
    p->acc = dsc_calloc((size_t)(na * 2 * K) + 1, sizeof(double), "distance sums");
    p->back = dsc_malloc((size_t)(2 * S + 1) * sizeof(MPI_Request), "requests");
    if (S > 0)
        for (int b = 0; b < 2; b++) {
            p->xbuf[b] = dsc_malloc((size_t)(nmax * d) * sizeof(float) + 1, "visiting rows");
            p->mbuf[b] = dsc_malloc((size_t)(nmax * META) * sizeof(double) + 1, "visiting norms");
            if (!p->xbuf[b] || !p->mbuf[b]) status = DSC_ERR;
        }
    if (!p->xc || !p->meta || !p->sendacc || !p->recvacc || !p->threads || !p->acc || !p->back) status = DSC_ERR;
    for (int t = 0; p->threads && status == DSC_OK && t < p->nthreads; t++)
        if (pairwise_tile_state_create(&p->threads[t], tile, d, K, na, nmax) != DSC_OK) status = DSC_ERR;
    return dsc_agree(p->comm, status);
}

/* Collective.  Sorts the participating rows by cluster (stable, counting
 * sort) so a tile holds members of few clusters and its mean is close to
 * its rows (see pairwise_tiles.h), then centres them.  The order inside a
 * block does not matter otherwise: every row carries its label. */
static int sort_and_centre(pass_state *p, const metrics_data *data)
{
    const int K = p->K;
    const long long na = p->na;
    int status = DSC_OK;
    long long *offset = dsc_calloc((size_t)K + 1, sizeof(long long), "cluster offsets");
    long long *sorted = dsc_malloc((size_t)(na + 1) * sizeof(long long), "sorted rows");
    if (!offset || !sorted) {
        status = DSC_ERR;
    } else {
        for (long long r = 0; r < na; r++) offset[data->labels[p->rows[r]] + 1]++;
        for (int l = 0; l < K; l++) offset[l + 1] += offset[l];
        for (long long r = 0; r < na; r++) sorted[offset[data->labels[p->rows[r]]]++] = p->rows[r];
        memcpy(p->rows, sorted, (size_t)na * sizeof(long long));
    }
    free(offset);
    free(sorted);
    if (dsc_agree(p->comm, status) != DSC_OK) return DSC_ERR;
    for (long long r = 0; r < na; r++)
        pairwise_centre_row(p->xc + r * p->d, p->meta + META * r, data->x + p->rows[r] * p->D, p->keep, p->d, p->mean,
                            data->labels[p->rows[r]]);
    return DSC_OK;
}

/* Collective.  The own block, then the visiting blocks round the ring; the
 * visiting rows' sums go back to their owners. */
static void ring_pass(pass_state *p, int tile)
{
    const int rank = p->rank, P = p->P, S = p->S, K = p->K, d = p->d;
    const long long na = p->na, nmax = p->nmax;
    MPI_Comm comm = p->comm;
    blas_threads_saved blas = blas_threads_single();
    pairwise_pass ctx = {.d = d, .k = K, .tile = tile, .mean = p->mean};
    MPI_Datatype row_type;
    MPI_Type_contiguous(d, MPI_FLOAT, &row_type);
    MPI_Type_commit(&row_type);
    const int left = (rank - 1 + P) % P, right = (rank + 1) % P;
    MPI_Request ring[4];
    int nback = 0;
    for (int s = 1; s <= S; s++) {
        int from = (rank - s + P) % P;
        MPI_Irecv(p->recvacc + (size_t)(s - 1) * na * 2 * K, (int)(na * 2 * K), MPI_DOUBLE, from, 100 + s, comm,
                  &p->back[nback++]);
    }
    if (S > 0) {
        MPI_Isend(p->xc, (int)na, row_type, left, 1, comm, &ring[0]);
        MPI_Isend(p->meta, (int)(na * META), MPI_DOUBLE, left, 2, comm, &ring[1]);
        MPI_Irecv(p->xbuf[0], (int)p->nblock[right], row_type, right, 1, comm, &ring[2]);
        MPI_Irecv(p->mbuf[0], (int)(p->nblock[right] * META), MPI_DOUBLE, right, 2, comm, &ring[3]);
    }

    /* Own block: pairs i < j. */
    pairwise_rows own = {.n = na, .x = p->xc, .meta = p->meta};
    block_pairs(&ctx, &own, 0, na, &own, 0, na, 1, p->threads);

    for (int s = 1; s <= S; s++) {
        MPI_Waitall(4, ring, MPI_STATUSES_IGNORE);
        int owner = (rank + s) % P;
        pairwise_rows vis = {.n = p->nblock[owner], .x = p->xbuf[(s - 1) % 2], .meta = p->mbuf[(s - 1) % 2]};
        if (s < S) { /* pass this block on while computing with it */
            int next = (rank + s + 1) % P;
            MPI_Isend(vis.x, (int)vis.n, row_type, left, 1, comm, &ring[0]);
            MPI_Isend(vis.meta, (int)(vis.n * META), MPI_DOUBLE, left, 2, comm, &ring[1]);
            MPI_Irecv(p->xbuf[s % 2], (int)p->nblock[next], row_type, right, 1, comm, &ring[2]);
            MPI_Irecv(p->mbuf[s % 2], (int)(p->nblock[next] * META), MPI_DOUBLE, right, 2, comm, &ring[3]);
        }
        for (int t = 0; t < p->nthreads; t++) memset(p->threads[t].visit, 0, (size_t)(vis.n * 2 * K) * sizeof(double));
        if (2 * s == P) { /* both ranks of this pair meet it: each takes half of the lower block's rows */
            if (rank < owner) block_pairs(&ctx, &own, 0, na / 2, &vis, 0, vis.n, 0, p->threads);
            else block_pairs(&ctx, &own, 0, na, &vis, vis.n / 2, vis.n, 0, p->threads);
        } else {
            block_pairs(&ctx, &own, 0, na, &vis, 0, vis.n, 0, p->threads);
        }
        double *contrib = p->sendacc + (size_t)(s - 1) * nmax * 2 * K;
        for (int t = 0; t < p->nthreads; t++)
            for (long long e = 0; e < vis.n * 2 * K; e++) contrib[e] += p->threads[t].visit[e];
        MPI_Isend(contrib, (int)(vis.n * 2 * K), MPI_DOUBLE, owner, 100 + s, comm, &p->back[nback++]);
    }
    MPI_Waitall(nback, p->back, MPI_STATUSES_IGNORE);
    MPI_Type_free(&row_type);
    blas_threads_restore(blas);
}

/* Local.  The threads' and the returned sums into p->acc, the threads'
 * inter-cluster entries into threads[0].inter; returns the direct pairs. */
static long long sum_threads(pass_state *p)
{
    const int K = p->K;
    const long long na = p->na;
    long long direct = 0;
    double *inter = p->threads[0].inter;
    for (int t = 0; t < p->nthreads; t++) {
        const pairwise_tile_state *th = &p->threads[t];
        for (long long e = 0; e < na * 2 * K; e++) p->acc[e] += th->own[e];
        direct += th->direct;
        for (int e = 0; e < K * K; e++) {
            if (e % (K + 1) == 0) inter[e] = th->inter[e] > inter[e] ? th->inter[e] : inter[e];
            else inter[e] = th->inter[e] < inter[e] ? th->inter[e] : inter[e];
        }
    }
    for (int s = 0; s < p->S; s++)
        for (long long e = 0; e < na * 2 * K; e++) p->acc[e] += p->recvacc[(size_t)s * na * 2 * K + e];
    return direct;
}

/* Collective.  s(i) = (b - a) / max(a, b); a = mean distance to the other
 * members, b = least mean distance to another cluster; 0 for singletons
 * and when a = b = 0 (scikit-learn's nan_to_num).  sums: Euclidean,
 * cosine, over all ranks. */
static void silhouette_sums(const pass_state *p, double sums[2])
{
    const int K = p->K;
    sums[0] = sums[1] = 0;
    for (long long r = 0; r < p->na; r++) {
        int l = (int)p->meta[META * r];
        const double *ar = p->acc + 2 * K * r;
        for (int metric = 0; metric < 2; metric++) {
            const double *sr = ar + metric * K;
            if (p->counts[l] < 2) continue;
            double a = sr[l] / (double)(p->counts[l] - 1), b = INFINITY;
            for (int c = 0; c < K; c++)
                if (c != l && p->counts[c] > 0 && sr[c] / (double)p->counts[c] < b) b = sr[c] / (double)p->counts[c];
            double mx = a > b ? a : b;
            if (mx > 0) sums[metric] += (b - a) / mx;
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, p->comm);
}

/* Collective.  out->inter (K, K) over all ranks: off-diagonal entries are
 * minima, diagonal ones maxima (reduced both ways, the right one kept);
 * empty clusters 0.  Returns the mean over the non-empty pairs, or NAN when
 * out of memory (agreed). */
static double inter_cluster(const pass_state *p, int nlabels, pairwise_metrics *out)
{
    const int K = p->K;
    const double *inter = p->threads[0].inter;
    double *dmin = dsc_malloc((size_t)K * K * sizeof(double), "inter-cluster distances");
    out->inter = dsc_malloc((size_t)K * K * sizeof(double), "inter-cluster distances");
    if (dsc_agree(p->comm, (dmin && out->inter) ? DSC_OK : DSC_ERR) != DSC_OK) {
        free(dmin);
        return NAN;
    }
    MPI_Allreduce(inter, dmin, K * K, MPI_DOUBLE, MPI_MIN, p->comm);
    MPI_Allreduce(inter, out->inter, K * K, MPI_DOUBLE, MPI_MAX, p->comm);
    double total = 0;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            if (a != b) out->inter[a * K + b] = dmin[a * K + b];
            if (p->counts[a] == 0 || p->counts[b] == 0) out->inter[a * K + b] = 0;
            else total += out->inter[a * K + b];
        }
    free(dmin);
    return total / ((double)nlabels * nlabels);
}

int pairwise_metrics_compute(MPI_Comm comm, const metrics_data *data, const pairwise_options *opt, pairwise_metrics *out)
{
    memset(out, 0, sizeof *out);
    pass_state p;
    memset(&p, 0, sizeof p);
    p.comm = comm;
    MPI_Comm_rank(comm, &p.rank);
    MPI_Comm_size(comm, &p.P);
    p.nthreads = omp_get_max_threads();
    p.D = data->d;
    p.K = data->k;
    int status = select_rows(&p, data, opt);
    if (status != DSC_OK) goto release;
    int nlabels = 0;
    for (int l = 0; l < p.K; l++) nlabels += p.counts[l] > 0;
    out->n = p.m;
    out->nlabels = nlabels;
    if (nlabels < 2 || nlabels > p.m - 1) {
        status = dsc_agree(comm, dsc_fail("the silhouette needs 2 <= number of clusters <= number of samples - 1, "
                                          "got %d clusters for %lld samples; give labels with at least 2 and at most %lld distinct values",
                                          nlabels, p.m, p.m - 1));
        goto release;
    }
    const int tile = opt && opt->tile > 0 ? opt->tile : TILE_DEFAULT;
    status = allocate_pass(&p, tile);
    if (status == DSC_OK) status = sort_and_centre(&p, data);
    if (status != DSC_OK) goto release;
    ring_pass(&p, tile);
    long long direct = sum_threads(&p);
    double sums[2];
    silhouette_sums(&p, sums);
    MPI_Allreduce(MPI_IN_PLACE, &direct, 1, MPI_LONG_LONG, MPI_SUM, comm);
    out->avg_inter_cluster_distance = inter_cluster(&p, nlabels, out);
    if (isnan(out->avg_inter_cluster_distance)) {
        status = DSC_ERR;
        goto release;
    }
    out->silhouette = sums[0] / (double)p.m;
    out->silhouette_cosine = sums[1] / (double)p.m;
    out->direct_pairs = direct;

release:
    pass_release(&p);
    return status;
}
