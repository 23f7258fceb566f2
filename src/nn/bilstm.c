/*
 * bilstm.c - bidirectional LSTM, the directions summed (Keras
 * Bidirectional(LSTM(HID, return_sequences=True), merge_mode='sum'), DTC's
 * two BiLSTM layers, Madiraju et al. 2018 section 3.1), built from lstm.c.
 *
 *   out[b, t] = forward LSTM over x[b, 0..S-1], output at t
 *             + backward LSTM over x[b, S-1..0], output at the step that
 *               read x[b, t]
 * The backward direction is an ordinary lstm_forward on a time-reversed copy
 * of the input; its outputs are reversed back before the sum.  Backward
 * likewise runs lstm_backward on the reversed input and reversed gradient.
 *
 * State saved for backward: the two directions' lstm states.  Scratch:
 * lstm scratch, then the reversed input (B, S, IN), the reversed output or
 * output gradient (B, S, HID) and the reversed input gradient (B, S, IN).
 */
#include "layers.h"

#include <string.h>

static lstm_dims direction_dims(const bilstm_dims *d)
{
    lstm_dims l = {.B = d->B, .S = d->S, .IN = d->IN, .HID = d->HID, .return_sequences = 1, .mask_gates = 1};
    return l;
}

size_t bilstm_state_floats(const bilstm_dims *d)
{
    lstm_dims l = direction_dims(d);
    return 2 * lstm_state_floats(&l);
}

size_t bilstm_scratch_floats(const bilstm_dims *d)
{
    lstm_dims l = direction_dims(d);
    return lstm_scratch_floats(&l) + (size_t)d->B * d->S * (2 * (size_t)d->IN + d->HID);
}

/* dst[b, t] = src[b, S-1-t] for rows of n floats. */
static void reverse_time(float *dst, const float *src, int B, int S, int n)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * S * n > 16384)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++)
            memcpy(dst + ((size_t)b * S + t) * n, src + ((size_t)b * S + S - 1 - t) * n, sizeof(float) * (size_t)n);
}

/* dst[b, t] += src[b, S-1-t] for rows of n floats. */
static void add_reversed(float *dst, const float *src, int B, int S, int n)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * S * n > 16384)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++) {
            float *y = dst + ((size_t)b * S + t) * n;
            const float *x = src + ((size_t)b * S + S - 1 - t) * n;
            for (int j = 0; j < n; j++) y[j] += x[j];
        }
}

void bilstm_forward(float *out, float *state, const float *inp, const float *const weight_ih[2],
                    const float *const weight_hh[2], const float *const bias[2], float *scratch, const bilstm_dims *d)
{
    lstm_dims l = direction_dims(d);
    const size_t ns = lstm_state_floats(&l), nin = (size_t)d->B * d->S * d->IN;
    float *rin = scratch + lstm_scratch_floats(&l); // (B, S, IN)
    float *rout = rin + nin;                        // (B, S, HID)
    lstm_forward(out, state, inp, weight_ih[0], weight_hh[0], bias[0], NULL, NULL, scratch, &l);
    reverse_time(rin, inp, d->B, d->S, d->IN);
    lstm_forward(rout, state + ns, rin, weight_ih[1], weight_hh[1], bias[1], NULL, NULL, scratch, &l);
    add_reversed(out, rout, d->B, d->S, d->HID);
}

void bilstm_backward(float *dinp, float *const dweight_ih[2], float *const dweight_hh[2], float *const dbias[2],
                     const float *dout, const float *inp, const float *const weight_ih[2],
                     const float *const weight_hh[2], const float *state, float *scratch, const bilstm_dims *d)
{
    lstm_dims l = direction_dims(d);
    const size_t ns = lstm_state_floats(&l), nin = (size_t)d->B * d->S * d->IN;
    float *rin = scratch + lstm_scratch_floats(&l); // (B, S, IN)
    float *rdout = rin + nin;                       // (B, S, HID)
    float *rdinp = rdout + (size_t)d->B * d->S * d->HID; // (B, S, IN)
    lstm_backward(dinp, dweight_ih[0], dweight_hh[0], dbias[0], dout, inp, weight_ih[0], weight_hh[0], NULL, NULL,
                  state, scratch, &l);
    reverse_time(rin, inp, d->B, d->S, d->IN);
    reverse_time(rdout, dout, d->B, d->S, d->HID);
    if (dinp) memset(rdinp, 0, sizeof(float) * nin);
    lstm_backward(dinp ? rdinp : NULL, dweight_ih[1], dweight_hh[1], dbias[1], rdout, rin, weight_ih[1], weight_hh[1],
                  NULL, NULL, state + ns, scratch, &l);
    if (dinp) add_reversed(dinp, rdinp, d->B, d->S, d->IN);
}
