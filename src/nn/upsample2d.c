/*
 * upsample2d.c - nearest-neighbour up-sampling by 2 (Keras UpSampling2D), the
 * decoder's inverse of the pooling: 3 -> 6 -> 12 -> 24 -> 48.
 */
#include "layers.h"

#include <stddef.h>

void upsample2d_forward(float *out, const float *inp, const upsample2d_dims *d)
{
    const int H = d->H, W = d->W, W2 = 2 * d->W;
    const int planes = d->B * d->C;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *src = inp + (size_t)p * H * W; // (H, W)
        float *dst = out + (size_t)p * 4 * H * W;   // (2H, 2W)
        for (int y = 0; y < H; y++) {
            float *r0 = dst + (size_t)(2 * y) * W2, *r1 = r0 + W2;
            for (int x = 0; x < W; x++) {
                const float v = src[(size_t)y * W + x];
                r0[2 * x] = r0[2 * x + 1] = r1[2 * x] = r1[2 * x + 1] = v;
            }
        }
    }
}

void upsample2d_backward(float *dinp, const float *dout, const upsample2d_dims *d)
{
    const int H = d->H, W = d->W, W2 = 2 * d->W;
    const int planes = d->B * d->C;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float *dst = dinp + (size_t)p * H * W;           // (H, W)
        const float *src = dout + (size_t)p * 4 * H * W; // (2H, 2W)
        for (int y = 0; y < H; y++) {
            const float *r0 = src + (size_t)(2 * y) * W2, *r1 = r0 + W2;
            for (int x = 0; x < W; x++)
                dst[(size_t)y * W + x] += r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1];
        }
    }
}
