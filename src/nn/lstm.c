/*
 * lstm.c - LSTM layer with Keras semantics (paper section 4.1: the LSTM layers
 * of the encoder "learn temporal changes"), forward and back-propagation
 * through time.
 *
 * Gate blocks i, f, g, o (Keras calls g "c"), zero initial state:
 *   z = (x_t * mx) Wih^T + (h_{t-1} * mh) Whh^T + b      (B, 4*HID)
 *   i = sigmoid(z_i)  f = sigmoid(z_f)  g = tanh(z_g)  o = sigmoid(z_o)
 *   c_t = f c_{t-1} + i g      h_t = o tanh(c_t)
 * The input projection of all time steps is one sgemm over B*S rows; each
 * time step then adds its recurrent projection with one sgemm whose output
 * rows are strided by S*4*HID (the (B, S, 4*HID) gate tensor of step t).
 *
 * State saved for backward (lstm_state_floats), row b*S + t:
 *   gates (B, S, 4*HID) after the activations, c (B, S, HID), h (B, S, HID).
 * Scratch (lstm_scratch_floats):
 *   dz (B, S, 4*HID), dh (B, HID), dc (B, HID), dhk (B, HID), hm (B, HID),
 *   xm (B*S, IN).
 */
#include "gemm.h"
#include "layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t lstm_state_floats(const lstm_dims *d) { return (size_t)d->B * d->S * 6 * d->HID; }

size_t lstm_scratch_floats(const lstm_dims *d)
{
    const size_t B = d->B, S = d->S, H = d->HID, IN = d->IN;
    return B * S * 4 * H + 4 * B * H + B * S * IN;
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Mask row of gate k (0..3) for sample b, width n; NULL when no mask. */
static inline const float *mask_row(const float *mask, int k, int b, int n, const lstm_dims *d)
{
    if (!mask) return NULL;
    const int g = d->mask_gates == 4 ? k : 0;
    return mask + ((size_t)g * d->B + b) * n;
}

/* Number of separately masked gate groups: 4 with per-gate masks, else 1 (all
 * four gates in one GEMM). */
static inline int mask_groups(const float *mask, const lstm_dims *d)
{
    return mask && d->mask_gates == 4 ? 4 : 1;
}

/* xm (B*S, IN) = inp * mask of group k, broadcast over time steps. */
static void mask_inputs(float *xm, const float *inp, const float *mask_x, int k, const lstm_dims *d)
{
    const int B = d->B, S = d->S, IN = d->IN;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * S * IN > 16384)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++) {
            const float *m = mask_row(mask_x, k, b, IN, d);
            const float *x = inp + ((size_t)b * S + t) * IN;
            float *y = xm + ((size_t)b * S + t) * IN;
            for (int j = 0; j < IN; j++) y[j] = x[j] * m[j];
        }
}

/* hm (B, HID) = h_{t-1} * mask of group k; h rows strided by S*HID. */
static void mask_hidden(float *hm, const float *hprev, const float *mask_h, int k, const lstm_dims *d)
{
    const int H = d->HID;
    for (int b = 0; b < d->B; b++) {
        const float *m = mask_row(mask_h, k, b, H, d);
        const float *h = hprev + (size_t)b * d->S * H;
        for (int j = 0; j < H; j++) hm[(size_t)b * H + j] = h[j] * m[j];
    }
}

void lstm_forward(float *out, float *state, const float *inp, const float *weight_ih,
                  const float *weight_hh, const float *bias, const float *mask_x, const float *mask_h,
                  float *scratch, const lstm_dims *d)
{
    const int B = d->B, S = d->S, IN = d->IN, H = d->HID, H4 = 4 * d->HID;
    float *gates = state;                          // (B, S, 4H)
    float *cell = gates + (size_t)B * S * H4;      // (B, S, H)
    float *hid = cell + (size_t)B * S * H;         // (B, S, H)
    float *hm = scratch + (size_t)B * S * H4 + 3 * (size_t)B * H; // (B, H)
    float *xm = hm + (size_t)B * H;                              // (B*S, IN)

    // input projection of every time step: gates = (x * mx) Wih^T
    const int gx = mask_groups(mask_x, d), wx = H4 / gx;
    for (int k = 0; k < gx; k++) {
        const float *x = inp;
        if (mask_x) {
            mask_inputs(xm, inp, mask_x, k, d);
            x = xm;
        }
        layer_gemm(CblasNoTrans, CblasTrans, B * S, wx, IN, 1.0f, x, IN,
                    weight_ih + (size_t)k * wx * IN, IN, 0.0f, gates + (size_t)k * wx, H4);
    }
    if (bias)
        for (size_t r = 0; r < (size_t)B * S; r++)
            for (int j = 0; j < H4; j++) gates[r * H4 + j] += bias[j];

    const int gh = mask_groups(mask_h, d), wh = H4 / gh;
    for (int t = 0; t < S; t++) {
        float *zt = gates + (size_t)t * H4; // rows strided by S*4H
        if (t > 0) {
            const float *hprev = hid + (size_t)(t - 1) * H; // rows strided by S*H
            for (int k = 0; k < gh; k++) {
                const float *h = hprev;
                int ldh = S * H;
                if (mask_h) {
                    mask_hidden(hm, hprev, mask_h, k, d);
                    h = hm;
                    ldh = H;
                }
                layer_gemm(CblasNoTrans, CblasTrans, B, wh, H, 1.0f, h, ldh,
                            weight_hh + (size_t)k * wh * H, H, 1.0f, zt + (size_t)k * wh, S * H4);
            }
        }
#pragma omp parallel for schedule(static) if ((size_t)B * H > 4096)
        for (int b = 0; b < B; b++) {
            float *z = zt + (size_t)b * S * H4;
            const size_t r = (size_t)b * S + t;
            for (int j = 0; j < H; j++) {
                const float i = sigmoidf(z[j]), f = sigmoidf(z[H + j]);
                const float g = tanhf(z[2 * H + j]), o = sigmoidf(z[3 * H + j]);
                const float cprev = t > 0 ? cell[(r - 1) * H + j] : 0.0f;
                const float c = f * cprev + i * g;
                z[j] = i;
                z[H + j] = f;
                z[2 * H + j] = g;
                z[3 * H + j] = o;
                cell[r * H + j] = c;
                hid[r * H + j] = o * tanhf(c);
            }
        }
    }
    if (d->return_sequences)
        memcpy(out, hid, sizeof(float) * (size_t)B * S * H);
    else
        for (int b = 0; b < B; b++)
            memcpy(out + (size_t)b * H, hid + ((size_t)b * S + S - 1) * H, sizeof(float) * H);
}

void lstm_backward(float *dinp, float *dweight_ih, float *dweight_hh, float *dbias, const float *dout,
                   const float *inp, const float *weight_ih, const float *weight_hh,
                   const float *mask_x, const float *mask_h, const float *state, float *scratch,
                   const lstm_dims *d)
{
    const int B = d->B, S = d->S, IN = d->IN, H = d->HID, H4 = 4 * d->HID;
    const float *gates = state;                     // (B, S, 4H)
    const float *cell = gates + (size_t)B * S * H4; // (B, S, H)
    const float *hid = cell + (size_t)B * S * H;    // (B, S, H)
    float *dz = scratch;                            // (B, S, 4H) gradient of the pre-activations
    float *dh = dz + (size_t)B * S * H4;            // (B, H) dL/dh_t from later steps
    float *dc = dh + (size_t)B * H;                 // (B, H) dL/dc_t from later steps
    float *dhk = dc + (size_t)B * H;                // (B, H) one gate group's dh, before masking
    float *hm = dhk + (size_t)B * H;                // (B, H)
    float *xm = hm + (size_t)B * H;                 // (B*S, IN)
    memset(dh, 0, sizeof(float) * 2 * (size_t)B * H);

    const int gh = mask_groups(mask_h, d), wh = H4 / gh;
    for (int t = S - 1; t >= 0; t--) {
        // pointwise part of step t: dz from dh_t, dc_t
#pragma omp parallel for schedule(static) if ((size_t)B * H > 4096)
        for (int b = 0; b < B; b++) {
            const size_t r = (size_t)b * S + t;
            const float *gt = gates + r * H4;
            float *dzt = dz + r * H4;
            const float *go = NULL;
            if (d->return_sequences)
                go = dout + r * H;
            else if (t == S - 1)
                go = dout + (size_t)b * H;
            for (int j = 0; j < H; j++) {
                const float i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
                const float c = cell[r * H + j], tc = tanhf(c);
                const float cprev = t > 0 ? cell[(r - 1) * H + j] : 0.0f;
                const float dht = dh[(size_t)b * H + j] + (go ? go[j] : 0.0f);
                const float dct = dc[(size_t)b * H + j] + dht * o * (1.0f - tc * tc);
                dzt[j] = dct * g * i * (1.0f - i);
                dzt[H + j] = dct * cprev * f * (1.0f - f);
                dzt[2 * H + j] = dct * i * (1.0f - g * g);
                dzt[3 * H + j] = dht * tc * o * (1.0f - o);
                dc[(size_t)b * H + j] = dct * f;
            }
        }
        if (t == 0) break;
        // recurrent part: dh_{t-1} = sum_k (dz_k Whh_k) * mh_k, dWhh_k += dz_k^T (h_{t-1} * mh_k)
        const float *dzt = dz + (size_t)t * H4;         // rows strided by S*4H
        const float *hprev = hid + (size_t)(t - 1) * H; // rows strided by S*H
        if (!mask_h) {
            layer_gemm(CblasNoTrans, CblasNoTrans, B, H, H4, 1.0f, dzt, S * H4,
                        weight_hh, H, 0.0f, dh, H);
            layer_gemm(CblasTrans, CblasNoTrans, H4, H, B, 1.0f, dzt, S * H4, hprev,
                        S * H, 1.0f, dweight_hh, H);
        } else {
            memset(dh, 0, sizeof(float) * (size_t)B * H);
            for (int k = 0; k < gh; k++) {
                mask_hidden(hm, hprev, mask_h, k, d);
                layer_gemm(CblasTrans, CblasNoTrans, wh, H, B, 1.0f, dzt + (size_t)k * wh,
                            S * H4, hm, H, 1.0f, dweight_hh + (size_t)k * wh * H, H);
                layer_gemm(CblasNoTrans, CblasNoTrans, B, H, wh, 1.0f, dzt + (size_t)k * wh,
                            S * H4, weight_hh + (size_t)k * wh * H, H, 0.0f, dhk, H);
                for (int b = 0; b < B; b++) {
                    const float *m = mask_row(mask_h, k, b, H, d);
                    for (int j = 0; j < H; j++) dh[(size_t)b * H + j] += dhk[(size_t)b * H + j] * m[j];
                }
            }
        }
    }

    if (dbias)
        for (size_t r = 0; r < (size_t)B * S; r++)
            for (int j = 0; j < H4; j++) dbias[j] += dz[r * H4 + j];

    // input part over all time steps at once
    const int gx = mask_groups(mask_x, d), wx = H4 / gx;
    if (!mask_x) {
        layer_gemm(CblasTrans, CblasNoTrans, H4, IN, B * S, 1.0f, dz, H4, inp, IN, 1.0f,
                    dweight_ih, IN);
        if (dinp)
            layer_gemm(CblasNoTrans, CblasNoTrans, B * S, IN, H4, 1.0f, dz, H4, weight_ih,
                        IN, 1.0f, dinp, IN);
        return;
    }
    for (int k = 0; k < gx; k++) {
        mask_inputs(xm, inp, mask_x, k, d);
        layer_gemm(CblasTrans, CblasNoTrans, wx, IN, B * S, 1.0f, dz + (size_t)k * wx, H4,
                    xm, IN, 1.0f, dweight_ih + (size_t)k * wx * IN, IN);
        if (!dinp) continue;
        // xm (B*S, IN) = dz_k Wih_k, then dinp += xm * mx_k
        layer_gemm(CblasNoTrans, CblasNoTrans, B * S, IN, wx, 1.0f, dz + (size_t)k * wx, H4,
                    weight_ih + (size_t)k * wx * IN, IN, 0.0f, xm, IN);
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * S * IN > 16384)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < S; t++) {
                const float *m = mask_row(mask_x, k, b, IN, d);
                const size_t r = (size_t)b * S + t;
                for (int j = 0; j < IN; j++) dinp[r * IN + j] += xm[r * IN + j] * m[j];
            }
    }
}
