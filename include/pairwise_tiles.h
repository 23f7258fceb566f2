/*
 * pairwise_tiles.h - distances between the rows of two tiles from float32
 * GEMMs, accurate to ~1e-7 relative of a direct double computation: the
 * building block of the pairwise metrics (silhouette.c) and of the k-means
 * assignment (kmeans.c, which uses pairwise_tile_dot alone).
 *
 * Dimension letters: D features (after dropping features zero in every
 * row), K clusters, M and N rows of the two tiles, TILE the largest tile.
 *
 * Distances come from |x - y|^2 = |x - c|^2 + |y - c|^2 - 2 (x - c).(y - c)
 * with c the mean of the first tile (close to its rows, so the identity does
 * not cancel), the squared norms in double, the GEMM over chunks of the
 * feature axis summed in double, and pairs whose distance is small compared
 * with their norms recomputed by direct differences in double (exactly 0 for
 * duplicates).  The cosine distance uses the same GEMM: with x' = x - c and
 * w = c + m (m the centre the rows were stored relative to), x.y = x'.y' +
 * x'.w + y'.w + w.w, divided by the norms of the same rounded rows.
 */
#ifndef DSC_PAIRWISE_TILES_H
#define DSC_PAIRWISE_TILES_H

/* Per row of a block: label, |x|^2 of the original row (in double), 1 if
 * the original row is all zeros. */
#define PAIRWISE_META 3

/* Feature chunk of one sgemm call of pairwise_tile_dot. */
#define PAIRWISE_FEATURE_CHUNK 256

/* A block of rows stored relative to a centre m. */
typedef struct {
    long long n;
    const float *x;     /* (N, D) rows minus m */
    const double *meta; /* (N, PAIRWISE_META) */
} pairwise_rows;

typedef struct {
    int d, k, tile;
    const double *mean; /* (D) the centre m */
} pairwise_pass;

/* Scratch and accumulators of one thread. */
typedef struct {
    float *g;            /* (TILE, TILE) GEMM result of one chunk */
    double *gd;          /* (TILE, TILE) dot products summed over chunks */
    float *as, *bs;      /* (TILE, D) tile rows shifted by the A tile's mean */
    float *shift;        /* (D) the A tile's mean (relative to m) */
    const float *last_a; /* first row of the A tile shift/as were made for */
    long long last_m;
    double ww;           /* |w|^2 */
    double *w;           /* (D) shift + m */
    double *na, *nb;     /* (TILE, 2) |row - shift|^2 and (row - shift).w */
    double *own;         /* (NA, 2K) Euclidean | cosine distance sums of own rows per cluster */
    double *visit;       /* (NBMAX, 2K) the same for the visiting rows */
    double *inter;       /* (K, K) min distance a != b, max (diameter) a == b */
    double *dist;        /* NULL, or (M, N) every Euclidean distance of one tile pair (tests) */
    double *cosine;      /* NULL, or (M, N) every cosine distance of one tile pair (tests) */
    long long direct;    /* pairs recomputed by direct differences */
} pairwise_tile_state;

/* gd (M, N) = a (M, D) . b (N, D)^T: one single-threaded sgemm per chunk of
 * the feature axis into g (M, N), chunks summed in double. */
void pairwise_tile_dot(double *gd, float *g, const float *a, long long m, const float *b, long long n, int d);

/* Stores one row relative to the centre: y = x[keep] - mean in float, and
 * its meta entry (label, |x|^2 in double, all-zero flag).  keep NULL: all
 * d features. */
void pairwise_centre_row(float *y, double *meta, const float *x, const int *keep, int d, const double *mean, int label);

int pairwise_tile_state_create(pairwise_tile_state *t, int tile, int d, int k, long long na, long long nmax);
void pairwise_tile_state_destroy(pairwise_tile_state *t);

/* All pairs of rows [a0, a1) of A and [b0, b1) of B (at most TILE each);
 * diagonal: A == B and only pairs j > i.  Adds each distance to the
 * per-cluster sums of both rows (acc_a, acc_b: (rows, 2K)), updates
 * t->inter, and stores the distances in t->dist / t->cosine when set. */
void pairwise_tile_pairs(const pairwise_pass *c, const pairwise_rows *A, long long a0, long long a1, const pairwise_rows *B,
                         long long b0, long long b1, int diagonal, pairwise_tile_state *t, double *acc_a, double *acc_b);

#endif
