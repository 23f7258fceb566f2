/*
 * maxpool1d.c - max pooling over a sequence, channels last (B, L, C), window
 * and stride P: DTC's MaxPool1D (pool size 10), which shortens the
 * flattened field of length d to the d/P positions the BiLSTMs run over.
 *
 * OL = ceil(L/P).  When P does not divide L the last window is shorter and
 * takes the max of the positions that exist (as maxpool2d's 'same' edge);
 * Keras MaxPool1D's default 'valid' would drop them, and the DTC code asks
 * for P to divide the length.  The forward pass records the arg-max; on ties
 * the first position wins.
 */
#include "layers.h"

#include <stddef.h>

void maxpool1d_forward(float *out, int *argmax, const float *inp, const maxpool1d_dims *d)
{
    const int L = d->L, C = d->C, P = d->P, OL = maxpool1d_out_size(L, P);
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)d->B * L * C > 16384)
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < OL; o++) {
            const float *x = inp + (size_t)b * L * C;
            const int t0 = o * P, t1 = t0 + P < L ? t0 + P : L;
            for (int c = 0; c < C; c++) {
                int best = t0;
                for (int t = t0 + 1; t < t1; t++)
                    if (x[(size_t)t * C + c] > x[(size_t)best * C + c]) best = t;
                const size_t k = ((size_t)b * OL + o) * C + c;
                out[k] = x[(size_t)best * C + c];
                argmax[k] = best;
            }
        }
}

void maxpool1d_backward(float *dinp, const float *dout, const int *argmax, const maxpool1d_dims *d)
{
    const int L = d->L, C = d->C, OL = maxpool1d_out_size(L, d->P);
    // windows do not overlap: each output's arg-max lies in its own window
#pragma omp parallel for schedule(static) if ((size_t)d->B * L * C > 16384)
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < OL; o++)
            for (int c = 0; c < C; c++) {
                const size_t k = ((size_t)b * OL + o) * C + c;
                dinp[((size_t)b * L + argmax[k]) * C + c] += dout[k];
            }
}
