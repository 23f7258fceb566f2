/*
 * pairwise_tiles.c - distances between the rows of two tiles from float32
 * GEMMs (see pairwise_tiles.h for the identities and their accuracy).
 */
#include "pairwise_tiles.h"
#include "blas_env.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FEATURE_CHUNK PAIRWISE_FEATURE_CHUNK
/* GEMM distances are used when |x-y|^2 >= NEAR_FRACTION (|x-c|^2 + |y-c|^2);
 * nearer pairs are recomputed by direct differences.  The float32 GEMM error
 * is a few 1e-8 of |x-c| |y-c|, so the relative error of the distance stays
 * below 1e-6 (tests/test_metrics checks it). */
#define NEAR_FRACTION 0.1
#define META PAIRWISE_META

void pairwise_tile_dot(double *gd, float *g, const float *a, long long m, const float *b, long long n, int d)
{
    memset(gd, 0, (size_t)(m * n) * sizeof(double));
    for (int f0 = 0; f0 < d; f0 += FEATURE_CHUNK) {
        int fc = d - f0 < FEATURE_CHUNK ? d - f0 : FEATURE_CHUNK;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, fc, 1.0f, a + f0, d, b + f0, d, 0.0f, g, (int)n);
        for (long long e = 0; e < m * n; e++) gd[e] += g[e];
    }
}

void pairwise_centre_row(float *y, double *meta, const float *x, const int *keep, int d, const double *mean, int label)
{
    double f2 = 0;
    int zero = 1;
    for (int f = 0; f < d; f++) {
        float xf = x[keep ? keep[f] : f];
        float v = (float)((double)xf - mean[f]);
        y[f] = v;
        f2 += ((double)v + mean[f]) * ((double)v + mean[f]);
        zero &= xf == 0;
    }
    meta[0] = label;
    meta[1] = f2;
    meta[2] = zero;
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

/* Both tiles are shifted by the mean c of the A tile before the GEMM: the
 * rows are sorted by cluster, so c is close to the A rows and the identity
 * |x-y|^2 = |x-c|^2 + |y-c|^2 - 2 (x-c).(y-c) hardly cancels.  Pairs with
 * |x-y|^2 < NEAR_FRACTION (|x-c|^2 + |y-c|^2) are recomputed directly.
 * Cosine: with x' = x - c and w = c + m (m the global mean), the dot product
 * of the rows x' + w and y' + w is x'.y' + x'.w + y'.w + w.w, and their
 * squared norms are |x'|^2 + 2 x'.w + w.w: numerator and denominator are
 * those of the same (float-rounded) rows, so the cosine of nearly parallel
 * rows does not lose the rounding of x' against the norm of x. */
void pairwise_tile_pairs(const pairwise_pass *c, const pairwise_rows *A, long long a0, long long a1, const pairwise_rows *B,
                         long long b0, long long b1, int diagonal, pairwise_tile_state *t, double *acc_a, double *acc_b)
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
    pairwise_tile_dot(t->gd, t->g, t->as, m, t->bs, n, d);
    for (long long i = a0; i < a1; i++) {
        const double *ma = A->meta + META * i;
        const double *sa = t->na + 2 * (i - a0);
        const double norm_a = sa[0] + 2.0 * sa[1] + ww; /* |x' + w|^2 */
        int la = (int)ma[0];
        double *ra = acc_a + 2 * K * i;
        const double *gi = t->gd + (i - a0) * n;
        long long jstart = diagonal && i + 1 > b0 ? i + 1 : b0;
        for (long long j = jstart; j < b1; j++) {
            const double *mb = B->meta + META * j;
            const double *sb = t->nb + 2 * (j - b0);
            int lb = (int)mb[0];
            double g = gi[j - b0];
            double d2 = sa[0] + sb[0] - 2.0 * g, dot, norms;
            if (d2 < NEAR_FRACTION * (sa[0] + sb[0])) {
                direct_pair(&d2, &dot, A->x + i * d, B->x + j * d, c->mean, d);
                norms = ma[1] * mb[1];
                t->direct++;
            } else {
                dot = g + sa[1] + sb[1] + ww;
                norms = norm_a * (sb[0] + 2.0 * sb[1] + ww);
            }
            double dist = sqrt(d2 > 0 ? d2 : 0);
            /* scikit-learn: zero rows stay zero after normalisation ->
             * distance 1 to every other row (to itself 0, as scikit-learn
             * gives whenever X fits one chunk of its working memory); the
             * distance is clipped to [0, 2]. */
            double cosd = (!ma[2] && !mb[2] && norms > 0) ? 1.0 - dot / sqrt(norms) : 1.0;
            cosd = cosd < 0 ? 0 : (cosd > 2 ? 2 : cosd);
            if (t->dist) t->dist[(i - a0) * n + (j - b0)] = dist;
            if (t->cosine) t->cosine[(i - a0) * n + (j - b0)] = cosd;
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

int pairwise_tile_state_create(pairwise_tile_state *t, int tile, int d, int k, long long na, long long nmax)
{
    memset(t, 0, sizeof *t);
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

void pairwise_tile_state_destroy(pairwise_tile_state *t)
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
    memset(t, 0, sizeof *t);
}
