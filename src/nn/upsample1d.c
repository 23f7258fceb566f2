/*
 * upsample1d.c - nearest-neighbour up-sampling of a sequence by P, channels
 * last, cut to the output length OL: DTC's decoder up-sampling (the Keras
 * code's UpSampling2D((P, 1)) on a (L, 1, C) tensor), inverse of maxpool1d
 * including its shorter last window: OL = the length before the pooling.
 */
#include "layers.h"

#include <stddef.h>
#include <string.h>

void upsample1d_forward(float *out, const float *inp, const upsample1d_dims *d)
{
    const int L = d->L, C = d->C, P = d->P, OL = d->OL;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)d->B * OL * C > 16384)
    for (int b = 0; b < d->B; b++)
        for (int t = 0; t < OL; t++)
            memcpy(out + ((size_t)b * OL + t) * C, inp + ((size_t)b * L + t / P) * C, sizeof(float) * (size_t)C);
}

void upsample1d_backward(float *dinp, const float *dout, const upsample1d_dims *d)
{
    const int L = d->L, C = d->C, P = d->P, OL = d->OL;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)d->B * OL * C > 16384)
    for (int b = 0; b < d->B; b++)
        for (int s = 0; s < L; s++) {
            float *g = dinp + ((size_t)b * L + s) * C;
            const int t1 = (s + 1) * P < OL ? (s + 1) * P : OL;
            for (int t = s * P; t < t1; t++) {
                const float *go = dout + ((size_t)b * OL + t) * C;
                for (int c = 0; c < C; c++) g[c] += go[c];
            }
        }
}
