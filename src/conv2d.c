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
 * im2col/col2im/bias loops run under OpenMP; sgemm is called outside any
 * parallel region so the OpenBLAS (pthread) threads never nest in OpenMP's.
 */
#include "layers.h"

#include <cblas.h>
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

size_t conv2d_scratch_floats(const conv2d_dims *d)
{
    size_t nb = (size_t)chunk_images(d);
    size_t n = nb * d->H * d->W;
    size_t col = (size_t)d->IC * d->K * d->K * n; // (IC*K*K, N)
    size_t buf = nb > 1 ? (size_t)d->OC * n : 0;   // (OC, N) when batching images
    return col + buf;
}

/* col (IC*K*K, nb*H*W) from images inp (nb, IC, H, W).  Row r = (c*K + i)*K + j
 * holds the input shifted by (i - K/2, j - K/2), zero outside the image. */
static void im2col(float *col, const float *inp, int nb, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, K = d->K, P = d->K / 2, IC = d->IC;
    const size_t hw = (size_t)H * W, ncol = (size_t)nb * hw;
    const int rows = IC * K * K;
#pragma omp parallel for collapse(2) schedule(static)
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
#pragma omp parallel for collapse(2) schedule(static)
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
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)ncol, IC * KK, 1.0f, weight,
                    IC * KK, col, (int)ncol, 0.0f, c, (int)ncol);
        // (OC, nb, H, W) -> (nb, OC, H, W), plus bias
#pragma omp parallel for collapse(2) schedule(static)
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
#pragma omp parallel for schedule(static)
        for (int oc = 0; oc < OC; oc++) {
            double s = 0.0;
            for (int n = 0; n < d->B; n++) {
                const float *g = dout + ((size_t)n * OC + oc) * hw;
                for (size_t k = 0; k < hw; k++) s += g[k];
            }
            dbias[oc] += (float)s;
        }
    }
    for (int b0 = 0; b0 < d->B; b0 += nbmax) {
        const int nb = d->B - b0 < nbmax ? d->B - b0 : nbmax;
        const size_t ncol = (size_t)nb * hw;
        const float *g = dout + (size_t)b0 * OC * hw; // (nb, OC, H, W)
        if (nb > 1) {
            // (nb, OC, H, W) -> (OC, nb, H, W)
#pragma omp parallel for collapse(2) schedule(static)
            for (int n = 0; n < nb; n++)
                for (int oc = 0; oc < OC; oc++)
                    memcpy(buf + (size_t)oc * ncol + (size_t)n * hw, g + ((size_t)n * OC + oc) * hw,
                           sizeof(float) * hw);
            g = buf;
        }
        im2col(col, inp + (size_t)b0 * IC * hw, nb, d);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, IC * KK, (int)ncol, 1.0f, g, (int)ncol,
                    col, (int)ncol, 1.0f, dweight, IC * KK);
        if (dinp) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, IC * KK, (int)ncol, OC, 1.0f, weight,
                        IC * KK, g, (int)ncol, 0.0f, col, (int)ncol);
            col2im_add(dinp + (size_t)b0 * IC * hw, col, nb, d);
        }
    }
}

/* ---- reference kernels: direct loops ------------------------------------ */

void conv2d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const conv2d_dims *d)
{
    const int H = d->H, W = d->W, K = d->K, P = d->K / 2;
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < d->OC; o++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    double s = bias ? bias[o] : 0.0;
                    for (int c = 0; c < d->IC; c++)
                        for (int i = 0; i < K; i++)
                            for (int j = 0; j < K; j++) {
                                int ys = y + i - P, xs = x + j - P;
                                if (ys < 0 || ys >= H || xs < 0 || xs >= W) continue;
                                s += (double)weight[((o * d->IC + c) * K + i) * K + j] *
                                     inp[(((size_t)b * d->IC + c) * H + ys) * W + xs];
                            }
                    out[(((size_t)b * d->OC + o) * H + y) * W + x] = (float)s;
                }
}

void conv2d_backward_reference(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const conv2d_dims *d)
{
    const int H = d->H, W = d->W, K = d->K, P = d->K / 2;
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < d->OC; o++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    const float g = dout[(((size_t)b * d->OC + o) * H + y) * W + x];
                    if (dbias) dbias[o] += g;
                    for (int c = 0; c < d->IC; c++)
                        for (int i = 0; i < K; i++)
                            for (int j = 0; j < K; j++) {
                                int ys = y + i - P, xs = x + j - P;
                                if (ys < 0 || ys >= H || xs < 0 || xs >= W) continue;
                                size_t wi = ((size_t)(o * d->IC + c) * K + i) * K + j;
                                size_t ii = (((size_t)b * d->IC + c) * H + ys) * W + xs;
                                dweight[wi] += g * inp[ii];
                                if (dinp) dinp[ii] += g * weight[wi];
                            }
                }
}
