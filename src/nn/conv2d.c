/*
 * conv2d.c - 2-D convolution, KxK, 'same' zero padding, stride 1.
 *
 * The fast kernel follows darknet: the input patches are unrolled into a
 * column matrix (im2col) and the convolution becomes one sgemm,
 *   out (OC, N) = weight (OC, IC*K*K) x col (IC*K*K, N),
 * with N = nb*H*W columns for a chunk of nb images.  Backward is
 *   dweight (OC, IC*K*K) += dout (OC, N) x col^T,
 *   dcol (IC*K*K, N) = weight^T x dout,   dinp += col2im(dcol).
 * Small feature maps (the 3x3..12x12 layers of the DSC model) give a thin
 * GEMM per image, so several images share one GEMM until N reaches
 * CHUNK_COLUMNS; the output then passes through a (OC, N) buffer.
 *
 * 3x3 kernels with enough channels and tiles run as Winograd F(2x2, 3x3)
 * instead (see below): 2.25x fewer FLOPs than im2col, the same results to
 * float rounding.
 *
 * im2col/col2im/bias loops run under OpenMP; the GEMMs are split over the
 * same OpenMP threads by layer_gemm (gemm.h), OpenBLAS itself single-threaded.
 */
#include "gemm.h"
#include "layers.h"

#include <string.h>

/* Minimum GEMM width before images are batched into one GEMM. */
#define CHUNK_COLUMNS 1024

/* Images per GEMM. */
static int chunk_images(const conv2d_dims *d)
{
    size_t hw = (size_t)d->H * d->W;
    size_t nb = (CHUNK_COLUMNS + hw - 1) / hw;
    if (nb < 1) nb = 1;
    if (nb > (size_t)d->B) nb = (size_t)d->B;
    return (int)nb;
}

/* ---- Winograd F(2x2, 3x3) ------------------------------------------------
 * For K = 3 and enough channels the convolution runs as Winograd's minimal
 * filtering (Lavin and Gray 2016): each 2x2 output tile of a plane is
 *   y = A^T [ (G w G^T) . (B^T d B) ] A
 * with d the 4x4 input tile around it (zero outside the image) and . the
 * element-wise product, which over channels becomes 16 GEMMs, one per tile
 * position xi:
 *   M[xi] (OC, T) = U[xi] (OC, IC) x V[xi] (IC, T),   T = tiles of nb images.
 * That is 16 multiplications per tile and channel pair instead of 36 for
 * im2col, 2.25x fewer FLOPs.  Backward is the exact adjoint of this forward:
 *   Gy = A g A^T (g the 2x2 tile of dout),
 *   dU[xi] += Gy[xi] (OC, T) x V[xi]^T,   dw += G^T dU G,
 *   dV[xi] = U[xi]^T x Gy[xi] (IC, T),    dinp tile += B dV B^T.
 * Tiles cover ceil(H/2) x ceil(W/2); output cells past an odd edge are
 * dropped (forward) or have zero gradient (backward).  The transforms use
 * only +, - and halving, so the rounding error stays near float epsilon. */
#define WINO_COLUMNS 512  /* tiles per GEMM before images are batched */
#define WINO_MIN_IN 16 /* thinner inputs (the 7 variables of the first layer): im2col is faster */
#define WINO_MIN_OUT 4
#define WINO_MIN_TILES 64 /* fewer tiles per batch: the weight transform does not pay off */

static int wino_tiles(const conv2d_dims *d) { return ((d->H + 1) / 2) * ((d->W + 1) / 2); }

/* Winograd for 3x3 kernels with enough channels (the last decoder layer,
 * 64 -> 7 channels, gains 2x over its thin im2col GEMM; the first, 7 -> 64,
 * loses) and enough tiles: with fewer than WINO_MIN_TILES per batch the
 * weight transforms cost as much as the GEMMs save (the 6x6 maps of the DSC
 * model have 9 tiles per image: Winograd from batch 8 on). */
static int wino_shape(const conv2d_dims *d)
{
    return d->K == 3 && d->IC >= WINO_MIN_IN && d->OC >= WINO_MIN_OUT;
}

static int use_winograd(const conv2d_dims *d)
{
    return wino_shape(d) && (size_t)d->B * wino_tiles(d) >= WINO_MIN_TILES;
}

/* Images per Winograd chunk. */
static int wino_images(const conv2d_dims *d)
{
    size_t tpi = (size_t)wino_tiles(d);
    size_t nb = (WINO_COLUMNS + tpi - 1) / tpi;
    if (nb > (size_t)d->B) nb = (size_t)d->B;
    return nb < 1 ? 1 : (int)nb;
}

/* Both schemes' needs grow with B, so the maximum of the two at d->B
 * covers every batch up to d->B whichever scheme that batch uses. */
size_t conv2d_scratch_floats(const conv2d_dims *d)
{
    size_t nb = (size_t)chunk_images(d);
    size_t n = nb * d->H * d->W;
    size_t col = (size_t)d->IC * d->K * d->K * n; // (IC*K*K, N)
    size_t buf = nb > 1 ? (size_t)d->OC * n : 0;   // (OC, N) when batching images
    size_t need = col + buf;
    if (wino_shape(d)) {
        size_t T = (size_t)wino_images(d) * wino_tiles(d);
        // U, dU (16, OC, IC); V (16, IC, T); M or Gy (16, OC, T)
        size_t wino = 32 * (size_t)d->OC * d->IC + 16 * ((size_t)d->IC + d->OC) * T;
        if (wino > need) need = wino;
    }
    return need;
}

/* U (16, OC, IC) = G w G^T for every filter, G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]. */
static void wino_weights(float *U, const float *weight, const conv2d_dims *d)
{
    const int OC = d->OC, IC = d->IC;
    const size_t plane = (size_t)OC * IC;
#pragma omp parallel
    {
        float wt[9 * IC]; // (9, IC): the filters of one o, tap-major for unit-stride loads
#pragma omp for schedule(dynamic, 4)
        for (int o = 0; o < OC; o++) {
            const float *w = weight + (size_t)o * IC * 9; // (IC, 3, 3)
            float *u = U + (size_t)o * IC;                // row o of the 16 (OC, IC) planes
            for (int c = 0; c < IC; c++)
                for (int k = 0; k < 9; k++) wt[k * IC + c] = w[(size_t)c * 9 + k];
#pragma omp simd
            for (int c = 0; c < IC; c++) {
                float g[9];
                for (int k = 0; k < 9; k++) g[k] = wt[k * IC + c];
                float t[4][3]; // G g
                for (int j = 0; j < 3; j++) {
                    t[0][j] = g[j];
                    t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                    t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                    t[3][j] = g[6 + j];
                }
                for (int i = 0; i < 4; i++) { // (G g) G^T
                    u[(4 * i + 0) * plane + c] = t[i][0];
                    u[(4 * i + 1) * plane + c] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
                    u[(4 * i + 2) * plane + c] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
                    u[(4 * i + 3) * plane + c] = t[i][2];
                }
            }
        }
    }
}

/* dweight (OC, IC, 3, 3) += G^T dU G, the adjoint of wino_weights. */
static void wino_weights_adjoint(float *dweight, const float *dU, const conv2d_dims *d)
{
    const int OC = d->OC, IC = d->IC;
    const size_t plane = (size_t)OC * IC;
#pragma omp parallel for schedule(dynamic, 4)
    for (int o = 0; o < OC; o++)
#pragma omp simd
        for (int c = 0; c < IC; c++) {
            const float *u = dU + (size_t)o * IC + c;
            float t[4][3]; // X G
            for (int i = 0; i < 4; i++) {
                const float x0 = u[(4 * i + 0) * plane], x1 = u[(4 * i + 1) * plane];
                const float x2 = u[(4 * i + 2) * plane], x3 = u[(4 * i + 3) * plane];
                t[i][0] = x0 + 0.5f * (x1 + x2);
                t[i][1] = 0.5f * (x1 - x2);
                t[i][2] = 0.5f * (x1 + x2) + x3;
            }
            float *g = dweight + ((size_t)o * IC + c) * 9;
            for (int j = 0; j < 3; j++) { // G^T (X G)
                g[j] += t[0][j] + 0.5f * (t[1][j] + t[2][j]);
                g[3 + j] += 0.5f * (t[1][j] - t[2][j]);
                g[6 + j] += 0.5f * (t[1][j] + t[2][j]) + t[3][j];
            }
        }
}

/* V (16, IC, T) = B^T d B for every 4x4 input tile d of nb images inp (nb, IC, H, W);
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1].  Column t = (n*TH + ty)*TW + tx.
 * One tile row at a time: the four input rows, zero-padded to 2*TW + 2
 * columns, are combined row-wise first (B^T x), then column-wise per tile,
 * so the inner loops run over tx with unit-stride stores (vectorised). */
static void wino_input(float *V, const float *inp, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, IC = d->IC, TH = (H + 1) / 2, TW = (W + 1) / 2, WP = 2 * TW + 2;
    const size_t T = (size_t)nb * TH * TW, plane = (size_t)IC * T;
#pragma omp parallel
    {
        float buf[8 * WP]; // 4 padded rows x, 4 rows B^T x
#pragma omp for collapse(2) schedule(dynamic, 4)
        for (int n = 0; n < nb; n++)
            for (int c = 0; c < IC; c++) {
                const float *src = inp + ((size_t)n * IC + c) * H * W; // (H, W)
                float *x[4], *t[4];
                for (int i = 0; i < 4; i++) x[i] = buf + i * WP, t[i] = buf + (4 + i) * WP;
                for (int ty = 0; ty < TH; ty++) {
                    for (int i = 0; i < 4; i++) {
                        const int yy = 2 * ty - 1 + i;
                        if (yy >= 0 && yy < H) {
                            x[i][0] = 0.0f; // left pad, then the row, then the right pad
                            memcpy(x[i] + 1, src + (size_t)yy * W, sizeof(float) * W);
                            for (int k = W + 1; k < WP; k++) x[i][k] = 0.0f;
                        } else {
                            memset(x[i], 0, sizeof(float) * WP);
                        }
                    }
                    const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
                    float *t0 = t[0], *t1 = t[1], *t2 = t[2], *t3 = t[3];
#pragma omp simd
                    for (int k = 0; k < WP; k++) {
                        t0[k] = x0[k] - x2[k];
                        t1[k] = x1[k] + x2[k];
                        t2[k] = x2[k] - x1[k];
                        t3[k] = x1[k] - x3[k];
                    }
                    float *v = V + (size_t)c * T + ((size_t)n * TH + ty) * TW;
                    for (int i = 0; i < 4; i++) {
                        const float *r = t[i];
                        float *v0 = v + (4 * i) * plane, *v1 = v0 + plane, *v2 = v1 + plane, *v3 = v2 + plane;
                        for (int tx = 0; tx < TW; tx++) {
                            const float a = r[2 * tx], b = r[2 * tx + 1], e = r[2 * tx + 2], f = r[2 * tx + 3];
                            v0[tx] = a - e;
                            v1[tx] = b + e;
                            v2[tx] = e - b;
                            v3[tx] = b - f;
                        }
                    }
                }
            }
    }
}

/* dinp (nb, IC, H, W) += B dV B^T scattered over the overlapping tiles, the
 * adjoint of wino_input; each thread owns whole planes.  Per tile row the
 * four padded output rows are accumulated, j = 0..3 in separate passes so
 * the tx loops have no overlapping stores. */
static void wino_input_adjoint(float *dinp, const float *dV, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, IC = d->IC, TH = (H + 1) / 2, TW = (W + 1) / 2, WP = 2 * TW + 2;
    const size_t T = (size_t)nb * TH * TW, plane = (size_t)IC * T;
#pragma omp parallel
    {
        float buf[4 * (WP + TW)]; // 4 padded rows, 4 rows X B^T
#pragma omp for collapse(2) schedule(dynamic, 4)
        for (int n = 0; n < nb; n++)
            for (int c = 0; c < IC; c++) {
                float *dst = dinp + ((size_t)n * IC + c) * H * W; // (H, W)
                float *acc[4];
                for (int i = 0; i < 4; i++) acc[i] = buf + i * WP;
                float *s0 = buf + 4 * WP, *s1 = s0 + TW, *s2 = s1 + TW, *s3 = s2 + TW;
                for (int ty = 0; ty < TH; ty++) {
                    const float *v = dV + (size_t)c * T + ((size_t)n * TH + ty) * TW;
                    for (int i = 0; i < 4; i++) memset(acc[i], 0, sizeof(float) * WP);
                    for (int j = 0; j < 4; j++) {
                        // column j of the tiles: s_i = (X B^T)[i][j] summed into rows by B
                        for (int i = 0; i < 4; i++) {
                            const float *q0 = v + (4 * i) * plane, *q1 = q0 + plane, *q2 = q1 + plane,
                                        *q3 = q2 + plane;
                            float *si = i == 0 ? s0 : i == 1 ? s1 : i == 2 ? s2 : s3;
                            for (int tx = 0; tx < TW; tx++)
                                si[tx] = j == 0   ? q0[tx]
                                         : j == 1 ? q1[tx] - q2[tx] + q3[tx]
                                         : j == 2 ? q1[tx] + q2[tx] - q0[tx]
                                                  : -q3[tx];
                        }
                        float *a0 = acc[0] + j, *a1 = acc[1] + j, *a2 = acc[2] + j, *a3 = acc[3] + j;
#pragma omp simd
                        for (int tx = 0; tx < TW; tx++) { // B (X B^T)
                            a0[2 * tx] += s0[tx];
                            a1[2 * tx] += s1[tx] - s2[tx] + s3[tx];
                            a2[2 * tx] += s1[tx] + s2[tx] - s0[tx];
                            a3[2 * tx] -= s3[tx];
                        }
                    }
                    for (int i = 0; i < 4; i++) {
                        const int yy = 2 * ty - 1 + i;
                        if (yy < 0 || yy >= H) continue;
                        float *drow = dst + (size_t)yy * W;
                        const float *arow = acc[i] + 1;
                        for (int xx = 0; xx < W; xx++) drow[xx] += arow[xx];
                    }
                }
            }
    }
}

/* out (nb, OC, H, W) = A^T m A + bias from M (16, OC, T); A^T = [1 1 1 0; 0 1 -1 -1].
 * Vectorised over the tiles of a tile row, as wino_input. */
static void wino_output(float *out, const float *M, const float *bias, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, OC = d->OC, TH = (H + 1) / 2, TW = (W + 1) / 2;
    const size_t T = (size_t)nb * TH * TW, plane = (size_t)OC * T;
#pragma omp parallel
    {
        float buf[12 * TW]; // (m A): 4 rows x 2 columns; 2 output rows of 2*TW
#pragma omp for collapse(2) schedule(dynamic, 4)
        for (int n = 0; n < nb; n++)
            for (int o = 0; o < OC; o++) {
                float *dst = out + ((size_t)n * OC + o) * H * W; // (H, W)
                const float bv = bias ? bias[o] : 0.0f;
                float *t0 = buf, *t1 = buf + 8 * TW;
                for (int ty = 0; ty < TH; ty++) {
                    const float *m = M + (size_t)o * T + ((size_t)n * TH + ty) * TW;
                    for (int i = 0; i < 4; i++) {
                        const float *q0 = m + (4 * i) * plane, *q1 = q0 + plane, *q2 = q1 + plane, *q3 = q2 + plane;
                        float *a = t0 + (2 * i) * TW, *b = a + TW;
                        for (int tx = 0; tx < TW; tx++) {
                            a[tx] = q0[tx] + q1[tx] + q2[tx];
                            b[tx] = q1[tx] - q2[tx] - q3[tx];
                        }
                    }
                    // y rows 0, 1, columns 0, 1, interleaved into padded rows of 2*TW
                    float *y0 = t1, *y1 = t1 + 2 * TW;
                    const float *r0a = t0, *r0b = t0 + TW, *r1a = t0 + 2 * TW, *r1b = t0 + 3 * TW;
                    const float *r2a = t0 + 4 * TW, *r2b = t0 + 5 * TW, *r3a = t0 + 6 * TW, *r3b = t0 + 7 * TW;
#pragma omp simd
                    for (int tx = 0; tx < TW; tx++) {
                        y0[2 * tx] = r0a[tx] + r1a[tx] + r2a[tx] + bv;
                        y0[2 * tx + 1] = r0b[tx] + r1b[tx] + r2b[tx] + bv;
                        y1[2 * tx] = r1a[tx] - r2a[tx] - r3a[tx] + bv;
                        y1[2 * tx + 1] = r1b[tx] - r2b[tx] - r3b[tx] + bv;
                    }
                    const int yy = 2 * ty;
                    memcpy(dst + (size_t)yy * W, y0, sizeof(float) * W);
                    if (yy + 1 < H) memcpy(dst + (size_t)(yy + 1) * W, y1, sizeof(float) * W);
                }
            }
    }
}

/* Gy (16, OC, T) = A g A^T for the 2x2 tiles g of dout (nb, OC, H, W), zero
 * past an odd edge; the adjoint of the output transform.  Vectorised over
 * the tiles of a tile row. */
static void wino_dout(float *Gy, const float *dout, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, OC = d->OC, TH = (H + 1) / 2, TW = (W + 1) / 2;
    const size_t T = (size_t)nb * TH * TW, plane = (size_t)OC * T;
#pragma omp parallel
    {
        float buf[4 * TW]; // 2 padded rows of 2*TW
#pragma omp for collapse(2) schedule(dynamic, 4)
        for (int n = 0; n < nb; n++)
            for (int o = 0; o < OC; o++) {
                const float *src = dout + ((size_t)n * OC + o) * H * W; // (H, W)
                float *g0 = buf, *g1 = buf + 2 * TW;
                for (int ty = 0; ty < TH; ty++) {
                    const int yy = 2 * ty;
                    g0[2 * TW - 1] = g1[2 * TW - 1] = 0.0f;
                    memcpy(g0, src + (size_t)yy * W, sizeof(float) * W);
                    if (yy + 1 < H) memcpy(g1, src + (size_t)(yy + 1) * W, sizeof(float) * W);
                    else memset(g1, 0, sizeof(float) * 2 * TW);
                    float *v = Gy + (size_t)o * T + ((size_t)n * TH + ty) * TW;
#pragma omp simd
                    for (int tx = 0; tx < TW; tx++) {
                        const float a = g0[2 * tx], b = g0[2 * tx + 1], e = g1[2 * tx], f = g1[2 * tx + 1];
                        // A g, A = [1 0; 1 1; 1 -1; 0 -1], then (A g) A^T per row
                        const float r[4][2] = {{a, b}, {a + e, b + f}, {a - e, b - f}, {-e, -f}};
                        for (int i = 0; i < 4; i++) {
                            v[(4 * i + 0) * plane + tx] = r[i][0];
                            v[(4 * i + 1) * plane + tx] = r[i][0] + r[i][1];
                            v[(4 * i + 2) * plane + tx] = r[i][0] - r[i][1];
                            v[(4 * i + 3) * plane + tx] = -r[i][1];
                        }
                    }
                }
            }
    }
}

/* The 16 independent GEMMs of one transform, one thread each: better
 * balanced than splitting each (small) GEMM. */
static void gemm16(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K, const float *A,
                   int lda, size_t sa, const float *B, int ldb, size_t sb, float beta, float *C, int ldc, size_t sc)
{
#pragma omp parallel for schedule(dynamic, 1)
    for (int xi = 0; xi < 16; xi++)
        layer_gemm(ta, tb, M, N, K, 1.0f, A + xi * sa, lda, B + xi * sb, ldb, beta, C + xi * sc, ldc);
}

static void wino_forward(float *out, const float *inp, const float *weight, const float *bias, float *scratch,
                         const conv2d_dims *d)
{
    const int OC = d->OC, IC = d->IC, tpi = wino_tiles(d), nbmax = wino_images(d);
    float *U = scratch;                                  // (16, OC, IC)
    float *V = U + 16 * (size_t)OC * IC;                 // (16, IC, T)
    float *M = V + 16 * (size_t)IC * nbmax * tpi;        // (16, OC, T)
    const size_t hw = (size_t)d->H * d->W;
    wino_weights(U, weight, d);
    for (int b0 = 0; b0 < d->B; b0 += nbmax) {
        const int nb = d->B - b0 < nbmax ? d->B - b0 : nbmax;
        const int T = nb * tpi;
        wino_input(V, inp + (size_t)b0 * IC * hw, nb, d);
        gemm16(CblasNoTrans, CblasNoTrans, OC, T, IC, U, IC, (size_t)OC * IC, V, T, (size_t)IC * T, 0.0f, M, T,
               (size_t)OC * T);
        wino_output(out + (size_t)b0 * OC * hw, M, bias, nb, d);
    }
}

static void wino_backward(float *dinp, float *dweight, const float *dout, const float *inp, const float *weight,
                          float *scratch, const conv2d_dims *d)
{
    const int OC = d->OC, IC = d->IC, tpi = wino_tiles(d), nbmax = wino_images(d);
    float *U = scratch;                            // (16, OC, IC)
    float *dU = U + 16 * (size_t)OC * IC;          // (16, OC, IC)
    float *V = dU + 16 * (size_t)OC * IC;          // (16, IC, T), then dV
    float *Gy = V + 16 * (size_t)IC * nbmax * tpi; // (16, OC, T)
    const size_t hw = (size_t)d->H * d->W;
    if (dinp) wino_weights(U, weight, d);
    for (int b0 = 0; b0 < d->B; b0 += nbmax) {
        const int nb = d->B - b0 < nbmax ? d->B - b0 : nbmax;
        const int T = nb * tpi;
        wino_input(V, inp + (size_t)b0 * IC * hw, nb, d);
        wino_dout(Gy, dout + (size_t)b0 * OC * hw, nb, d);
        // dU[xi] (OC, IC) (+)= Gy[xi] (OC, T) x V[xi]^T
        gemm16(CblasNoTrans, CblasTrans, OC, IC, T, Gy, T, (size_t)OC * T, V, T, (size_t)IC * T, b0 ? 1.0f : 0.0f,
               dU, IC, (size_t)OC * IC);
        if (dinp) {
            // dV[xi] (IC, T) = U[xi]^T x Gy[xi], into V
            gemm16(CblasTrans, CblasNoTrans, IC, T, OC, U, IC, (size_t)OC * IC, Gy, T, (size_t)OC * T, 0.0f, V, T,
                   (size_t)IC * T);
            wino_input_adjoint(dinp + (size_t)b0 * IC * hw, V, nb, d);
        }
    }
    wino_weights_adjoint(dweight, dU, d);
}

/* col (IC*K*K, nb*H*W) from images inp (nb, IC, H, W).  Row r = (c*K + i)*K + j
 * holds the input shifted by (i - K/2, j - K/2), zero outside the image. */
static void im2col(float *col, const float *inp, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, K = d->K, P = d->K / 2, IC = d->IC;
    const size_t hw = (size_t)H * W, ncol = (size_t)nb * hw;
    const int rows = IC * K * K;
#pragma omp parallel for collapse(2) schedule(dynamic, 4)
    for (int n = 0; n < nb; n++) {
        for (int r = 0; r < rows; r++) {
            const int c = r / (K * K), i = (r / K) % K, j = r % K;
            const float *src = inp + ((size_t)n * IC + c) * hw; // (H, W)
            float *dst = col + (size_t)r * ncol + (size_t)n * hw; // (H, W)
            // valid output columns x: 0 <= x + j - P < W
            int x0 = P - j > 0 ? P - j : 0;
            int x1 = W + P - j < W ? W + P - j : W;
            if (x0 > W) x0 = W; // kernel wider than the image
            if (x1 < x0) x1 = x0;
            for (int y = 0; y < H; y++) {
                const int ys = y + i - P;
                float *drow = dst + (size_t)y * W;
                if (ys < 0 || ys >= H) {
                    memset(drow, 0, sizeof(float) * W);
                    continue;
                }
                const float *srow = src + (size_t)ys * W;
                for (int x = 0; x < x0; x++) drow[x] = 0.0f;
                if (x1 > x0) memcpy(drow + x0, srow + x0 + j - P, sizeof(float) * (x1 - x0));
                for (int x = x1; x < W; x++) drow[x] = 0.0f;
            }
        }
    }
}

/* dinp (nb, IC, H, W) += col2im(dcol (IC*K*K, nb*H*W)); the adjoint of im2col.
 * Parallel over (image, channel): each thread owns whole input planes. */
static void col2im_add(float *dinp, const float *dcol, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, K = d->K, P = d->K / 2, IC = d->IC;
    const size_t hw = (size_t)H * W, ncol = (size_t)nb * hw;
#pragma omp parallel for collapse(2) schedule(dynamic, 4)
    for (int n = 0; n < nb; n++) {
        for (int c = 0; c < IC; c++) {
            float *dst = dinp + ((size_t)n * IC + c) * hw; // (H, W)
            for (int i = 0; i < K; i++) {
                for (int j = 0; j < K; j++) {
                    const int r = (c * K + i) * K + j;
                    const float *src = dcol + (size_t)r * ncol + (size_t)n * hw;
                    int x0 = P - j > 0 ? P - j : 0;
                    int x1 = W + P - j < W ? W + P - j : W;
                    for (int y = 0; y < H; y++) {
                        const int ys = y + i - P;
                        if (ys < 0 || ys >= H) continue;
                        float *drow = dst + (size_t)ys * W;
                        const float *srow = src + (size_t)y * W;
                        for (int x = x0; x < x1; x++) drow[x + j - P] += srow[x];
                    }
                }
            }
        }
    }
}

void conv2d_forward(float *out, const float *inp, const float *weight, const float *bias,
                    float *scratch, const conv2d_dims *d)
{
    if (use_winograd(d)) {
        wino_forward(out, inp, weight, bias, scratch, d);
        return;
    }
    const int OC = d->OC, IC = d->IC, KK = d->K * d->K;
    const size_t hw = (size_t)d->H * d->W;
    const int nbmax = chunk_images(d);
    float *col = scratch;                                   // (IC*K*K, N)
    float *buf = scratch + (size_t)IC * KK * nbmax * hw;    // (OC, N) if nbmax > 1
    for (int b0 = 0; b0 < d->B; b0 += nbmax) {
        const int nb = d->B - b0 < nbmax ? d->B - b0 : nbmax;
        const size_t ncol = (size_t)nb * hw;
        float *o = out + (size_t)b0 * OC * hw; // (nb, OC, H, W)
        im2col(col, inp + (size_t)b0 * IC * hw, nb, d);
        float *c = nb == 1 ? o : buf;
        layer_gemm(CblasNoTrans, CblasNoTrans, OC, (int)ncol, IC * KK, 1.0f, weight,
                    IC * KK, col, (int)ncol, 0.0f, c, (int)ncol);
        // (OC, nb, H, W) -> (nb, OC, H, W), plus bias
#pragma omp parallel for collapse(2) schedule(dynamic, 4)
        for (int n = 0; n < nb; n++) {
            for (int oc = 0; oc < OC; oc++) {
                float *dst = o + ((size_t)n * OC + oc) * hw;
                const float *src = c + (size_t)oc * ncol + (size_t)n * hw;
                const float bv = bias ? bias[oc] : 0.0f;
                if (src != dst)
                    for (size_t k = 0; k < hw; k++) dst[k] = src[k] + bv;
                else if (bias)
                    for (size_t k = 0; k < hw; k++) dst[k] += bv;
            }
        }
    }
}

void conv2d_backward(float *dinp, float *dweight, float *dbias, const float *dout,
                     const float *inp, const float *weight, float *scratch, const conv2d_dims *d)
{
    const int OC = d->OC, IC = d->IC, KK = d->K * d->K;
    const size_t hw = (size_t)d->H * d->W;
    const int nbmax = chunk_images(d);
    float *col = scratch;                                // (IC*K*K, N)
    float *buf = scratch + (size_t)IC * KK * nbmax * hw; // (OC, N) if nbmax > 1
    if (dbias) {
#pragma omp parallel for schedule(dynamic, 4)
        for (int oc = 0; oc < OC; oc++) {
            double s = 0.0;
            for (int n = 0; n < d->B; n++) {
                const float *g = dout + ((size_t)n * OC + oc) * hw;
                for (size_t k = 0; k < hw; k++) s += g[k];
            }
            dbias[oc] += (float)s;
        }
    }
    if (use_winograd(d)) {
        wino_backward(dinp, dweight, dout, inp, weight, scratch, d);
        return;
    }
    for (int b0 = 0; b0 < d->B; b0 += nbmax) {
        const int nb = d->B - b0 < nbmax ? d->B - b0 : nbmax;
        const size_t ncol = (size_t)nb * hw;
        const float *g = dout + (size_t)b0 * OC * hw; // (nb, OC, H, W)
        if (nb > 1) {
            // (nb, OC, H, W) -> (OC, nb, H, W)
#pragma omp parallel for collapse(2) schedule(dynamic, 4)
            for (int n = 0; n < nb; n++)
                for (int oc = 0; oc < OC; oc++)
                    memcpy(buf + (size_t)oc * ncol + (size_t)n * hw, g + ((size_t)n * OC + oc) * hw,
                           sizeof(float) * hw);
            g = buf;
        }
        im2col(col, inp + (size_t)b0 * IC * hw, nb, d);
        layer_gemm(CblasNoTrans, CblasTrans, OC, IC * KK, (int)ncol, 1.0f, g, (int)ncol,
                    col, (int)ncol, 1.0f, dweight, IC * KK);
        if (dinp) {
            layer_gemm(CblasTrans, CblasNoTrans, IC * KK, (int)ncol, OC, 1.0f, weight,
                        IC * KK, g, (int)ncol, 0.0f, col, (int)ncol);
            col2im_add(dinp + (size_t)b0 * IC * hw, col, nb, d);
        }
    }
}
