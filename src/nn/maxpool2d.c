/*
 * maxpool2d.c - 2x2 max pooling, stride 2, Keras 'same' padding.
 *
 * For an odd height or width Keras 'same' pads one row/column at the
 * bottom/right; a window hanging over that edge takes the max of the cells
 * that exist (the padding never wins).  So OH = ceil(H/2), OW = ceil(W/2):
 * 41 -> 21 -> 11 -> 6 -> 3 for an unpadded ERA5 grid, 48 -> 24 -> 12 -> 6 -> 3
 * for the padded one.  The forward pass records where in its (H, W) plane
 * the maximum was, so the backward pass routes each gradient to it.
 */
#include "layers.h"

#include <stddef.h>

void maxpool2d_forward(float *out, int *argmax, const float *inp, const maxpool2d_dims *d)
{
    const int H = d->H, W = d->W, OH = maxpool2d_out_size(H), OW = maxpool2d_out_size(W);
    const int planes = d->B * d->C;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *plane = inp + (size_t)p * H * W; // (H, W)
        for (int oy = 0; oy < OH; oy++) {
            for (int ox = 0; ox < OW; ox++) {
                const int y0 = 2 * oy, x0 = 2 * ox;
                const int y1 = y0 + 2 < H ? y0 + 2 : H, x1 = x0 + 2 < W ? x0 + 2 : W;
                int best = y0 * W + x0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) {
                        int k = y * W + x;
                        if (plane[k] > plane[best]) best = k; // first max wins on ties
                    }
                size_t o = ((size_t)p * OH + oy) * OW + ox;
                out[o] = plane[best];
                argmax[o] = best;
            }
        }
    }
}

void maxpool2d_backward(float *dinp, const float *dout, const int *argmax, const maxpool2d_dims *d)
{
    const size_t per_plane = (size_t)maxpool2d_out_size(d->H) * maxpool2d_out_size(d->W);
    const size_t hw = (size_t)d->H * d->W;
    const int planes = d->B * d->C;
    // each plane's gradients stay in that plane: planes are independent
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float *g = dinp + (size_t)p * hw; // (H, W)
        for (size_t k = (size_t)p * per_plane; k < (size_t)(p + 1) * per_plane; k++) g[argmax[k]] += dout[k];
    }
}
