/*
 * ward.c - exact Ward agglomerative clustering (ward.h): distributed
 * squared distances, the linkage on rank 0.
 *
 * Distances.  The rows arrive in time blocks; one MPI_Alltoallv turns them
 * into feature slices (rank r gets all T rows of the features
 * block_range(D, P, r)).  Each rank centres its slice (so the GEMM identity
 * |a - b|^2 = |a|^2 + |b|^2 - 2 a.b does not cancel on data far from the
 * origin) and computes, in double, the partial squared distances of its
 * features for every pair j < i, ROW_BLOCK rows i at a time (one DGEMM
 * against the rows before them).  A pair whose GEMM value is below
 * NEAR * (|a|^2 + |b|^2), where the identity may have lost most digits, is
 * recomputed as the sum of squared differences.  The blocks are summed
 * onto rank 0 with MPI_Reduce, straight into the condensed matrix.
 *
 * Linkage.  The nearest-neighbour chain algorithm (Murtagh 1983; Mullner
 * 2011, "Modern hierarchical, agglomerative clustering algorithms", as in
 * scipy's linkage and hence scikit-learn's ward_tree) on squared Euclidean
 * distances with the Lance-Williams update of Ward's method,
 *
 *   d(k, i+j) = ((n_i + n_k) d(k, i) + (n_j + n_k) d(k, j) - n_k d(i, j))
 *               / (n_i + n_j + n_k),
 *
 * which gives twice the increase of the within-cluster sum of squares of a
 * merge (scipy applies the same formula to the square roots; the order of
 * the merges is the same).  Ward's linkage is reducible, so the chain finds
 * the same merges as the greedy algorithm; they are sorted by height and the
 * first T - K of them (a union-find over the rows) give the K clusters,
 * which is how scikit-learn cuts the tree (_hc_cut).
 */
#include "ward.h"
#include "partition.h"
#include "status.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per block of the distance computation and of the reduction. */
#define ROW_BLOCK 256
/* Below this fraction of |a|^2 + |b|^2 a GEMM distance is recomputed. */
#define NEAR 1e-6

double ward_matrix_bytes(long long T) { return (double)T * (double)(T - 1) / 2.0 * 8.0; }

long long ward_max_rows(double bytes)
{
    long long t = (long long)floor(0.5 + sqrt(0.25 + bytes / 4.0));
    while (t > 1 && ward_matrix_bytes(t) > bytes) t--;
    while (ward_matrix_bytes(t + 1) <= bytes) t++;
    return t;
}

static inline size_t pair_index(long long i, long long j)
{
    if (i < j) {
        long long t = i;
        i = j;
        j = t;
    }
    return (size_t)i * (size_t)(i - 1) / 2 + (size_t)j;
}

/* ---- linkage (rank 0) -------------------------------------------------------- */

typedef struct {
    long long a, b; /* slots merged (the cluster in slot b is the union) */
    double height;  /* Ward distance of the merge (squared units) */
    long long order;
} merge;

static int merge_compare(const void *pa, const void *pb)
{
    const merge *a = pa, *b = pb;
    if (a->height < b->height) return -1;
    if (a->height > b->height) return 1;
    return (a->order > b->order) - (a->order < b->order);
}

static long long find_root(long long *parent, long long i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

int ward_linkage_labels(double *dist, long long T, int k, int *labels)
{
    if (T < 1 || k < 1 || k > T) return dsc_fail("Ward linkage: %d clusters of %lld rows; choose 1 <= K <= rows", k, T);
    long long *size = dsc_malloc((size_t)T * sizeof(long long), "Ward cluster sizes");
    long long *chain = dsc_malloc((size_t)T * sizeof(long long), "Ward nearest-neighbour chain");
    long long *parent = dsc_malloc((size_t)T * sizeof(long long), "Ward union-find");
    int *number = dsc_malloc((size_t)T * sizeof(int), "Ward cluster numbers");
    merge *merges = dsc_malloc((size_t)(T > 1 ? T - 1 : 1) * sizeof(merge), "Ward merges");
    if (!size || !chain || !parent || !number || !merges) {
        free(size);
        free(chain);
        free(parent);
        free(number);
        free(merges);
        return DSC_ERR;
    }
    for (long long i = 0; i < T; i++) size[i] = 1;
    long long len = 0, first = 0;
    for (long long step = 0; step < T - 1; step++) {
        if (len == 0) {
            while (size[first] == 0) first++;
            chain[len++] = first;
        }
        long long x, y;
        double best;
        for (;;) {
            x = chain[len - 1];
            /* the previous element of the chain wins ties (keeps the chain reducible) */
            if (len > 1) {
                y = chain[len - 2];
                best = dist[pair_index(x, y)];
            } else {
                y = -1;
                best = INFINITY;
            }
            for (long long i = 0; i < T; i++) {
                if (size[i] == 0 || i == x) continue;
                double e = dist[pair_index(x, i)];
                if (e < best) {
                    best = e;
                    y = i;
                }
            }
            if (len > 1 && y == chain[len - 2]) break;
            chain[len++] = y;
        }
        len -= 2;
        if (x > y) {
            long long t = x;
            x = y;
            y = t;
        }
        merges[step] = (merge){.a = x, .b = y, .height = best, .order = step};
        const double nx = (double)size[x], ny = (double)size[y];
        for (long long i = 0; i < T; i++) {
            if (size[i] == 0 || i == x || i == y) continue;
            const double ni = (double)size[i];
            size_t ix = pair_index(i, x), iy = pair_index(i, y);
            dist[iy] = ((nx + ni) * dist[ix] + (ny + ni) * dist[iy] - ni * best) / (nx + ny + ni);
        }
        size[y] += size[x];
        size[x] = 0;
    }
    if (T > 1) qsort(merges, (size_t)(T - 1), sizeof(merge), merge_compare);
    for (long long i = 0; i < T; i++) {
        parent[i] = i;
        number[i] = -1;
    }
    for (long long m = 0; m < T - k; m++) {
        long long ra = find_root(parent, merges[m].a), rb = find_root(parent, merges[m].b);
        if (ra != rb) parent[ra] = rb;
    }
    int next = 0;
    for (long long i = 0; i < T; i++) {
        long long r = find_root(parent, i);
        if (number[r] < 0) number[r] = next++;
        labels[i] = number[r];
    }
    free(size);
    free(chain);
    free(parent);
    free(number);
    free(merges);
    return DSC_OK;
}

/* ---- distances (all ranks) ----------------------------------------------------- */

int ward_fit(MPI_Comm comm, const float *x, long long n, int d, int k, double max_bytes, int *labels_all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    long long nn = n < 0 ? 0 : n, T = 0;
    MPI_Allreduce(&nn, &T, 1, MPI_LONG_LONG, MPI_SUM, comm);
    int dmin = d, dmax = d;
    MPI_Allreduce(MPI_IN_PLACE, &dmin, 1, MPI_INT, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &dmax, 1, MPI_INT, MPI_MAX, comm);
    int status = DSC_OK;
    if (n < 0) status = dsc_fail("Ward: negative row count %lld on rank %d", n, rank);
    else if (dmin != dmax || d < 1)
        status = dsc_fail("Ward: the feature count differs between ranks or is below 1 (%d..%d)", dmin, dmax);
    else if (k < 2 || k >= T)
        status = dsc_fail("Ward: %d clusters for %lld time steps; choose 2 <= K < time steps", k, T);
    else if (ward_matrix_bytes(T) > max_bytes)
        status = dsc_fail("Ward: %lld time steps need %.0f MiB for the distance matrix on rank 0 (T (T - 1) / 2 x 8 bytes), "
                          "more than the limit of %.0f MiB (at most %lld time steps); use fewer time steps (fewer files, "
                          "--daily-mean) or raise --max-memory", T, ward_matrix_bytes(T) / 1048576.0, max_bytes / 1048576.0,
                          ward_max_rows(max_bytes));
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;

    /* the layout: time blocks in, feature slices out */
    long long f0, nf;
    block_range(d, P, rank, &f0, &nf);
    if ((double)T * (double)(nf + 1) >= (double)INT_MAX || (double)nn * (double)d >= (double)INT_MAX)
        status = dsc_fail("Ward: %lld time steps x %d features are too many values per rank for one MPI message; use more ranks",
                          T, d);
    int *scount = dsc_malloc((size_t)P * 4 * sizeof(int), "Ward exchange counts");
    float *send = dsc_malloc(((size_t)nn * d + 1) * sizeof(float), "Ward exchange buffer");
    float *slice = dsc_malloc(((size_t)T * nf + 1) * sizeof(float), "Ward feature slice");   /* (T, nf) */
    double *xs = dsc_malloc(((size_t)T * nf + 1) * sizeof(double), "Ward centred slice");    /* (T, nf) */
    double *norm = dsc_malloc((size_t)T * sizeof(double), "Ward row norms");                 /* (T) */
    double *g = dsc_malloc(((size_t)ROW_BLOCK * T) * sizeof(double), "Ward distance block"); /* (B, T) */
    double *part = dsc_malloc(((size_t)ROW_BLOCK * T) * sizeof(double), "Ward partial distances");
    double *dist = rank == 0 ? dsc_malloc((size_t)ward_matrix_bytes(T) + 8, "the Ward distance matrix") : NULL;
    if (!scount || !send || !slice || !xs || !norm || !g || !part || (rank == 0 && !dist)) status = DSC_ERR;
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;

    int *sdisp = scount + P, *rcount = scount + 2 * P, *rdisp = scount + 3 * P;
    {
        size_t pos = 0;
        for (int q = 0; q < P; q++) {
            long long q0, qn;
            block_range(d, P, q, &q0, &qn);
            sdisp[q] = (int)pos;
            scount[q] = (int)(nn * qn);
            for (long long i = 0; i < nn; i++)
                for (long long f = 0; f < qn; f++) send[pos++] = x[i * d + q0 + f];
        }
        long long *rows = dsc_malloc((size_t)P * sizeof(long long), "Ward row counts");
        if (!rows) status = DSC_ERR;
        if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
        MPI_Allgather(&nn, 1, MPI_LONG_LONG, rows, 1, MPI_LONG_LONG, comm);
        pos = 0;
        for (int p = 0; p < P; p++) {
            rdisp[p] = (int)pos;
            rcount[p] = (int)(rows[p] * nf);
            pos += (size_t)rows[p] * nf;
        }
        free(rows);
    }
    MPI_Alltoallv(send, scount, sdisp, MPI_FLOAT, slice, rcount, rdisp, MPI_FLOAT, comm);
    free(send); /* the peak is the slice in float and double, not the rows as well */
    send = NULL;

    /* centre the slice (the rows of all ranks arrived in time order) */
    for (long long f = 0; f < nf; f++) {
        double m = 0;
        for (long long t = 0; t < T; t++) m += slice[t * nf + f];
        m /= (double)T;
        for (long long t = 0; t < T; t++) xs[t * nf + f] = (double)slice[t * nf + f] - m;
    }
    for (long long t = 0; t < T; t++) {
        double s = 0;
        for (long long f = 0; f < nf; f++) s += xs[t * nf + f] * xs[t * nf + f];
        norm[t] = s;
    }
    for (long long i0 = 1; i0 < T; i0 += ROW_BLOCK) {
        long long i1 = i0 + ROW_BLOCK < T ? i0 + ROW_BLOCK : T, m = i1 - i0;
        size_t off = pair_index(i0, 0), count = pair_index(i1 - 1, i1 - 2) + 1 - off;
        if (nf > 0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)i1, (int)nf, 1.0, xs + i0 * nf, (int)nf, xs,
                        (int)nf, 0.0, g, (int)i1);
        for (long long i = i0; i < i1; i++)
            for (long long j = 0; j < i; j++) {
                double e = 0;
                if (nf > 0) {
                    double scale = norm[i] + norm[j];
                    e = scale - 2.0 * g[(i - i0) * i1 + j];
                    if (e < NEAR * scale) { /* the identity lost its digits: directly */
                        e = 0;
                        for (long long f = 0; f < nf; f++) {
                            double u = xs[i * nf + f] - xs[j * nf + f];
                            e += u * u;
                        }
                    }
                }
                part[pair_index(i, j) - off] = e;
            }
        MPI_Reduce(part, rank == 0 ? dist + off : NULL, (int)count, MPI_DOUBLE, MPI_SUM, 0, comm);
    }
    if (rank == 0) status = ward_linkage_labels(dist, T, k, labels_all);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    MPI_Bcast(labels_all, (int)T, MPI_INT, 0, comm);
done:
    free(scount);
    free(send);
    free(slice);
    free(xs);
    free(norm);
    free(g);
    free(part);
    free(dist);
    return status;
}
