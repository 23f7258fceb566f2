/*
 * reference_kernels.c - slow, obviously correct twins of the fast kernels,
 * for the tests only: direct loops for the convolution, dense and LSTM
 * layers (test_gradcheck, test_conv_fast), and the tile distances of the
 * pairwise pass for one pair of tiles (test_metrics).
 */
#include "reference_kernels.h"
#include "pairwise_tiles.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- convolution: direct loops ------------------------------------------ */

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

/* ---- dense: direct loops ----------------------------------------------- */

void dense_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                             const dense_dims *d)
{
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < d->OUT; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int i = 0; i < d->IN; i++)
                s += (double)inp[(size_t)b * d->IN + i] * weight[(size_t)o * d->IN + i];
            out[(size_t)b * d->OUT + o] = (float)s;
        }
}

void dense_backward_reference(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, const dense_dims *d)
{
    for (int b = 0; b < d->B; b++)
        for (int o = 0; o < d->OUT; o++) {
            const float g = dout[(size_t)b * d->OUT + o];
            if (dbias) dbias[o] += g;
            for (int i = 0; i < d->IN; i++) {
                dweight[(size_t)o * d->IN + i] += g * inp[(size_t)b * d->IN + i];
                if (dinp) dinp[(size_t)b * d->IN + i] += g * weight[(size_t)o * d->IN + i];
            }
        }
}

/* ---- LSTM: direct loops, one sample and step at a time ------------------ */

/* Mask value of gate k, sample b, element j (1 without mask). */
static inline float mask_at(const float *mask, int k, int b, int j, int n, const lstm_dims *d)
{
    if (!mask) return 1.0f;
    const int g = d->mask_gates == 4 ? k : 0;
    return mask[((size_t)g * d->B + b) * n + j];
}

void lstm_forward_reference(float *out, float *state, const float *inp, const float *weight_ih,
                            const float *weight_hh, const float *bias, const float *mask_x,
                            const float *mask_h, const lstm_dims *d)
{
    const int B = d->B, S = d->S, IN = d->IN, H = d->HID, H4 = 4 * d->HID;
    float *gates = state, *cell = gates + (size_t)B * S * H4, *hid = cell + (size_t)B * S * H;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++) {
            const size_t r = (size_t)b * S + t;
            for (int row = 0; row < H4; row++) {
                const int k = row / H;
                double z = bias ? bias[row] : 0.0;
                for (int j = 0; j < IN; j++)
                    z += (double)weight_ih[(size_t)row * IN + j] * inp[r * IN + j] * mask_at(mask_x, k, b, j, IN, d);
                if (t > 0)
                    for (int j = 0; j < H; j++)
                        z += (double)weight_hh[(size_t)row * H + j] * hid[(r - 1) * H + j] *
                             mask_at(mask_h, k, b, j, H, d);
                gates[r * H4 + row] = (float)z;
            }
            for (int j = 0; j < H; j++) {
                float *z = gates + r * H4;
                z[j] = 1.0f / (1.0f + expf(-z[j]));
                z[H + j] = 1.0f / (1.0f + expf(-z[H + j]));
                z[2 * H + j] = tanhf(z[2 * H + j]);
                z[3 * H + j] = 1.0f / (1.0f + expf(-z[3 * H + j]));
                const float cprev = t > 0 ? cell[(r - 1) * H + j] : 0.0f;
                cell[r * H + j] = z[H + j] * cprev + z[j] * z[2 * H + j];
                hid[r * H + j] = z[3 * H + j] * tanhf(cell[r * H + j]);
            }
        }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < S; t++)
            for (int j = 0; j < H; j++) {
                const float v = hid[((size_t)b * S + t) * H + j];
                if (d->return_sequences)
                    out[((size_t)b * S + t) * H + j] = v;
                else if (t == S - 1)
                    out[(size_t)b * H + j] = v;
            }
}

/* Allocates its own small temporaries; DSC_ERR when out of memory. */
int lstm_backward_reference(float *dinp, float *dweight_ih, float *dweight_hh, float *dbias,
                             const float *dout, const float *inp, const float *weight_ih,
                             const float *weight_hh, const float *mask_x, const float *mask_h,
                             const float *state, const lstm_dims *d)
{
    const int B = d->B, S = d->S, IN = d->IN, H = d->HID, H4 = 4 * d->HID;
    const float *gates = state, *cell = gates + (size_t)B * S * H4, *hid = cell + (size_t)B * S * H;
    float *dh = calloc((size_t)H, sizeof(float)), *dc = calloc((size_t)H, sizeof(float));
    float *dz = calloc((size_t)H4, sizeof(float));
    if (!dh || !dc || !dz) {
        free(dh);
        free(dc);
        free(dz);
        return DSC_ERR;
    }
    for (int b = 0; b < B; b++) {
        memset(dh, 0, sizeof(float) * H);
        memset(dc, 0, sizeof(float) * H);
        for (int t = S - 1; t >= 0; t--) {
            const size_t r = (size_t)b * S + t;
            const float *g4 = gates + r * H4;
            for (int j = 0; j < H; j++) {
                float dht = dh[j];
                if (d->return_sequences) dht += dout[r * H + j];
                else if (t == S - 1) dht += dout[(size_t)b * H + j];
                const float i = g4[j], f = g4[H + j], g = g4[2 * H + j], o = g4[3 * H + j];
                const float tc = tanhf(cell[r * H + j]);
                const float cprev = t > 0 ? cell[(r - 1) * H + j] : 0.0f;
                const float dct = dc[j] + dht * o * (1.0f - tc * tc);
                const float dout_o = dht * tc, dout_i = dct * g, dout_g = dct * i, dout_f = dct * cprev;
                dz[j] = dout_i * i * (1.0f - i);
                dz[H + j] = dout_f * f * (1.0f - f);
                dz[2 * H + j] = dout_g * (1.0f - g * g);
                dz[3 * H + j] = dout_o * o * (1.0f - o);
                dc[j] = dct * f;
            }
            memset(dh, 0, sizeof(float) * H);
            for (int row = 0; row < H4; row++) {
                const int k = row / H;
                if (dbias) dbias[row] += dz[row];
                for (int j = 0; j < IN; j++) {
                    const float m = mask_at(mask_x, k, b, j, IN, d);
                    dweight_ih[(size_t)row * IN + j] += dz[row] * inp[r * IN + j] * m;
                    if (dinp) dinp[r * IN + j] += dz[row] * weight_ih[(size_t)row * IN + j] * m;
                }
                if (t > 0)
                    for (int j = 0; j < H; j++) {
                        const float m = mask_at(mask_h, k, b, j, H, d);
                        dweight_hh[(size_t)row * H + j] += dz[row] * hid[(r - 1) * H + j] * m;
                        dh[j] += dz[row] * weight_hh[(size_t)row * H + j] * m;
                    }
            }
        }
    }
    free(dh);
    free(dc);
    free(dz);
    return DSC_OK;
}

/* ---- pairwise tile distances -------------------------------------------- */

int pairwise_distance_tile(double *out, double *cosine, const float *a, long long na, const float *b, long long nb, int d,
                           const double *mean)
{
    int tile = (int)(na > nb ? na : nb);
    float *xc = dsc_malloc((size_t)((na + nb) * d) * sizeof(float), "centred rows"); /* (NA + NB, D) */
    double *meta = dsc_calloc((size_t)((na + nb) * PAIRWISE_META), sizeof(double), "row norms");
    pairwise_tile_state t;
    memset(&t, 0, sizeof t);
    int status = (xc && meta && pairwise_tile_state_create(&t, tile, d, 1, na + nb, na + nb) == DSC_OK) ? DSC_OK : DSC_ERR;
    if (status == DSC_OK) {
        for (long long i = 0; i < na + nb; i++)
            pairwise_centre_row(xc + i * d, meta + PAIRWISE_META * i, i < na ? a + i * d : b + (i - na) * d, NULL, d, mean, 0);
        pairwise_pass c = {.d = d, .k = 1, .tile = tile, .mean = mean};
        pairwise_rows A = {.n = na, .x = xc, .meta = meta}, B = {.n = nb, .x = xc + na * d, .meta = meta + PAIRWISE_META * na};
        t.dist = out;
        t.cosine = cosine;
        pairwise_tile_pairs(&c, &A, 0, na, &B, 0, nb, 0, &t, t.own, t.visit);
    }
    pairwise_tile_state_destroy(&t);
    free(xc);
    free(meta);
    return status;
}

/* ---- Conv1D (DTC), channels last: direct loops ------------------------------- */

void conv1d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const conv1d_dims *d)
{
    const int left = (d->K - 1) / 2;
    for (int b = 0; b < d->B; b++)
        for (int t = 0; t < d->L; t++)
            for (int o = 0; o < d->OC; o++) {
                float s = bias ? bias[o] : 0.0f;
                for (int c = 0; c < d->IC; c++)
                    for (int k = 0; k < d->K; k++) {
                        const int u = t + k - left;
                        if (u >= 0 && u < d->L)
                            s += weight[((size_t)o * d->IC + c) * d->K + k] * inp[((size_t)b * d->L + u) * d->IC + c];
                    }
                out[((size_t)b * d->L + t) * d->OC + o] = s;
            }
}

void conv1d_backward_reference(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const conv1d_dims *d)
{
    const int left = (d->K - 1) / 2;
    for (int b = 0; b < d->B; b++)
        for (int t = 0; t < d->L; t++)
            for (int o = 0; o < d->OC; o++) {
                const float g = dout[((size_t)b * d->L + t) * d->OC + o];
                if (dbias) dbias[o] += g;
                for (int c = 0; c < d->IC; c++)
                    for (int k = 0; k < d->K; k++) {
                        const int u = t + k - left;
                        if (u < 0 || u >= d->L) continue;
                        const size_t wi = ((size_t)o * d->IC + c) * d->K + k, xi = ((size_t)b * d->L + u) * d->IC + c;
                        dweight[wi] += g * inp[xi];
                        if (dinp) dinp[xi] += g * weight[wi];
                    }
            }
}
