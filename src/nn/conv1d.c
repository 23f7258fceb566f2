/*
 * conv1d.c - 1-D convolution over a sequence, channels last, 'same' zero
 * padding, stride 1: the convolution of DTC's temporal autoencoder
 * (Madiraju et al. 2018, section 3.1: Conv1D, 50 filters, kernel 10) and its
 * output layer.
 *
 * Channels last (B, L, C), as Keras Conv1D and as the LSTM input (B, S, IN),
 * so the encoder's convolution, pooling and BiLSTMs pass their buffers on
 * without a transposition.  'Same' padding as TensorFlow and PyTorch: the
 * K-1 zeros are split (K-1)/2 before and the rest after, so an even kernel
 * (DTC's 10) looks 4 positions back and 5 ahead.
 *
 * Per sample the input positions are unrolled into a column matrix
 * (darknet's im2col, here one row per output position):
 *   col (L, IC*K),  col[t, c*K + k] = inp[t + k - (K-1)/2, c]  (0 outside)
 *   out (L, OC) = col x weight^T        weight (OC, IC*K) = (OC, IC, K)
 * Backward:
 *   dweight (OC, IC*K) += dout^T x col,   dcol = dout x weight,
 *   dinp[s, c] += sum_k dcol[s - k + (K-1)/2, c*K + k]   (col2im, gathered
 *   per input position so the OpenMP threads never write the same cell).
 */
#include "gemm.h"
#include "layers.h"

#include <stddef.h>

size_t conv1d_scratch_floats(const conv1d_dims *d) { return (size_t)d->L * d->IC * d->K; }

static void im2col_1d(float *col, const float *x, const conv1d_dims *d)
{
    const int L = d->L, IC = d->IC, K = d->K, left = (K - 1) / 2;
#pragma omp parallel for schedule(static) if ((size_t)L * IC * K > 16384)
    for (int t = 0; t < L; t++) {
        float *row = col + (size_t)t * IC * K;
        for (int c = 0; c < IC; c++)
            for (int k = 0; k < K; k++) {
                const int s = t + k - left;
                row[c * K + k] = s >= 0 && s < L ? x[(size_t)s * IC + c] : 0.0f;
            }
    }
}

void conv1d_forward(float *out, const float *inp, const float *weight, const float *bias, float *scratch,
                    const conv1d_dims *d)
{
    const int L = d->L, IC = d->IC, OC = d->OC, CK = d->IC * d->K;
    for (int b = 0; b < d->B; b++) {
        float *y = out + (size_t)b * L * OC;
        im2col_1d(scratch, inp + (size_t)b * L * IC, d);
        layer_gemm(CblasNoTrans, CblasTrans, L, OC, CK, 1.0f, scratch, CK, weight, CK, 0.0f, y, OC);
        if (bias) {
#pragma omp parallel for schedule(static) if ((size_t)L * OC > 16384)
            for (int t = 0; t < L; t++)
                for (int o = 0; o < OC; o++) y[(size_t)t * OC + o] += bias[o];
        }
    }
}

void conv1d_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                     const float *weight, float *scratch, const conv1d_dims *d)
{
    const int L = d->L, IC = d->IC, OC = d->OC, K = d->K, CK = d->IC * d->K, left = (K - 1) / 2;
    for (int b = 0; b < d->B; b++) {
        const float *g = dout + (size_t)b * L * OC;
        if (dbias)
            for (int t = 0; t < L; t++)
                for (int o = 0; o < OC; o++) dbias[o] += g[(size_t)t * OC + o];
        im2col_1d(scratch, inp + (size_t)b * L * IC, d);
        layer_gemm(CblasTrans, CblasNoTrans, OC, CK, L, 1.0f, g, OC, scratch, CK, 1.0f, dweight, CK);
        if (!dinp) continue;
        layer_gemm(CblasNoTrans, CblasNoTrans, L, CK, OC, 1.0f, g, OC, weight, CK, 0.0f, scratch, CK);
        float *dx = dinp + (size_t)b * L * IC;
#pragma omp parallel for schedule(static) if ((size_t)L * IC * K > 16384)
        for (int s = 0; s < L; s++)
            for (int c = 0; c < IC; c++) {
                float acc = 0.0f;
                for (int k = 0; k < K; k++) {
                    const int t = s - k + left;
                    if (t >= 0 && t < L) acc += scratch[(size_t)t * CK + c * K + k];
                }
                dx[(size_t)s * IC + c] += acc;
            }
    }
}
