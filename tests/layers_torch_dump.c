/*
 * layers_torch_dump.c - runs every layer forward and backward on random
 * inputs and weights and writes inputs, weights, dL/dout (R), outputs and
 * gradients to DIR/<case>.bin, for tests/test_layers_torch.py to recompute
 * with PyTorch.   Usage: layers_torch_dump DIR
 *
 * File format: a sequence of records, each a text line
 *     name ndim d0 d1 ...\n
 * followed by prod(d) little-endian float32 values.  Integer settings are
 * stored as one-element tensors.  Gradients are computed from zero (the
 * buffers are zeroed before the accumulating backward).
 */
#include "layers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;

static float urand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *rnd(size_t n, float scale)
{
    float *x = malloc(sizeof(float) * n);
    if (!x) exit(2);
    for (size_t k = 0; k < n; k++) x[k] = scale * urand();
    return x;
}

static float *zeros(size_t n)
{
    float *x = calloc(n ? n : 1, sizeof(float));
    if (!x) exit(2);
    return x;
}

static FILE *open_case(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    return f;
}

/* put(f, name, data, ndim, d0, d1, ...) */
static void put(FILE *f, const char *name, const float *x, int ndim, ...)
{
    va_list ap;
    size_t n = 1;
    fprintf(f, "%s %d", name, ndim);
    va_start(ap, ndim);
    for (int k = 0; k < ndim; k++) {
        int dk = va_arg(ap, int);
        fprintf(f, " %d", dk);
        n *= (size_t)dk;
    }
    va_end(ap);
    fprintf(f, "\n");
    if (fwrite(x, sizeof(float), n, f) != n) exit(2);
}

static void put_int(FILE *f, const char *name, int v)
{
    float x = (float)v;
    put(f, name, &x, 1, 1);
}

static void dump_conv(const char *dir, const char *name, int B, int IC, int OC, int H, int W, int K)
{
    conv2d_dims d = {.B = B, .IC = IC, .OC = OC, .H = H, .W = W, .K = K};
    size_t ni = (size_t)B * IC * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * IC * K * K;
    float *inp = rnd(ni, 1), *w = rnd(nw, 0.3f), *b = rnd(OC, 0.3f), *r = rnd(no, 1), *out = zeros(no);
    float *dinp = zeros(ni), *dw = zeros(nw), *db = zeros(OC), *scratch = zeros(conv2d_scratch_floats(&d));
    conv2d_forward(out, inp, w, b, scratch, &d);
    conv2d_backward(dinp, dw, db, r, inp, w, scratch, &d);
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 4, B, IC, H, W);
    put(f, "weight", w, 4, OC, IC, K, K);
    put(f, "bias", b, 1, OC);
    put(f, "r", r, 4, B, OC, H, W);
    put(f, "out", out, 4, B, OC, H, W);
    put(f, "dinp", dinp, 4, B, IC, H, W);
    put(f, "dweight", dw, 4, OC, IC, K, K);
    put(f, "dbias", db, 1, OC);
    fclose(f);
    free(inp), free(w), free(b), free(r), free(out), free(dinp), free(dw), free(db), free(scratch);
}

static void dump_pool(const char *dir, const char *name, int B, int C, int H, int W)
{
    maxpool2d_dims d = {B, C, H, W};
    int OH = maxpool2d_out_size(H), OW = maxpool2d_out_size(W);
    size_t ni = (size_t)B * C * H * W, no = (size_t)B * C * OH * OW;
    float *inp = rnd(ni, 1), *r = rnd(no, 1), *out = zeros(no), *dinp = zeros(ni);
    int *am = malloc(sizeof(int) * no);
    maxpool2d_forward(out, am, inp, &d);
    maxpool2d_backward(dinp, r, am, &d);
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 4, B, C, H, W);
    put(f, "r", r, 4, B, C, OH, OW);
    put(f, "out", out, 4, B, C, OH, OW);
    put(f, "dinp", dinp, 4, B, C, H, W);
    fclose(f);
    free(inp), free(r), free(out), free(dinp), free(am);
}

static void dump_upsample(const char *dir, const char *name, int B, int C, int H, int W)
{
    upsample2d_dims d = {B, C, H, W};
    size_t ni = (size_t)B * C * H * W, no = 4 * ni;
    float *inp = rnd(ni, 1), *r = rnd(no, 1), *out = zeros(no), *dinp = zeros(ni);
    upsample2d_forward(out, inp, &d);
    upsample2d_backward(dinp, r, &d);
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 4, B, C, H, W);
    put(f, "r", r, 4, B, C, 2 * H, 2 * W);
    put(f, "out", out, 4, B, C, 2 * H, 2 * W);
    put(f, "dinp", dinp, 4, B, C, H, W);
    fclose(f);
    free(inp), free(r), free(out), free(dinp);
}

static void dump_dense(const char *dir, const char *name, int B, int IN, int OUT)
{
    dense_dims d = {B, IN, OUT};
    size_t ni = (size_t)B * IN, no = (size_t)B * OUT, nw = (size_t)OUT * IN;
    float *inp = rnd(ni, 1), *w = rnd(nw, 0.3f), *b = rnd(OUT, 0.3f), *r = rnd(no, 1), *out = zeros(no);
    float *dinp = zeros(ni), *dw = zeros(nw), *db = zeros(OUT);
    dense_forward(out, inp, w, b, &d);
    dense_backward(dinp, dw, db, r, inp, w, &d);
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 2, B, IN);
    put(f, "weight", w, 2, OUT, IN);
    put(f, "bias", b, 1, OUT);
    put(f, "r", r, 2, B, OUT);
    put(f, "out", out, 2, B, OUT);
    put(f, "dinp", dinp, 2, B, IN);
    put(f, "dweight", dw, 2, OUT, IN);
    put(f, "dbias", db, 1, OUT);
    fclose(f);
    free(inp), free(w), free(b), free(r), free(out), free(dinp), free(dw), free(db);
}

/* masks: 0 none, 1 shared, 4 per gate */
static void dump_lstm(const char *dir, const char *name, int B, int S, int IN, int H, int seq, int masks)
{
    lstm_dims d = {.B = B, .S = S, .IN = IN, .HID = H, .return_sequences = seq, .mask_gates = masks ? masks : 1};
    size_t ni = (size_t)B * S * IN, no = (size_t)B * (seq ? S : 1) * H;
    size_t nwi = (size_t)4 * H * IN, nwh = (size_t)4 * H * H;
    float *inp = rnd(ni, 1), *wih = rnd(nwi, 0.5f), *whh = rnd(nwh, 0.5f), *b = rnd(4 * H, 0.5f);
    float *r = rnd(no, 1), *out = zeros(no);
    const int G = masks ? masks : 1;
    float *mx = zeros((size_t)G * B * IN), *mh = zeros((size_t)G * B * H);
    for (size_t k = 0; k < (size_t)G * B * IN; k++) mx[k] = urand() < -0.6f ? 0.0f : 1.0f / 0.8f;
    for (size_t k = 0; k < (size_t)G * B * H; k++) mh[k] = urand() < -0.6f ? 0.0f : 1.0f / 0.8f;
    float *state = zeros(lstm_state_floats(&d)), *scratch = zeros(lstm_scratch_floats(&d));
    float *dinp = zeros(ni), *dwi = zeros(nwi), *dwh = zeros(nwh), *db = zeros(4 * H);
    const float *pmx = masks ? mx : NULL, *pmh = masks ? mh : NULL;
    lstm_forward(out, state, inp, wih, whh, b, pmx, pmh, scratch, &d);
    lstm_backward(dinp, dwi, dwh, db, r, inp, wih, whh, pmx, pmh, state, scratch, &d);
    FILE *f = open_case(dir, name);
    put_int(f, "return_sequences", seq);
    put_int(f, "mask_gates", masks);
    put(f, "inp", inp, 3, B, S, IN);
    put(f, "weight_ih", wih, 2, 4 * H, IN);
    put(f, "weight_hh", whh, 2, 4 * H, H);
    put(f, "bias", b, 1, 4 * H);
    if (masks) {
        put(f, "mask_x", mx, 3, G, B, IN);
        put(f, "mask_h", mh, 3, G, B, H);
    }
    if (seq) {
        put(f, "r", r, 3, B, S, H);
        put(f, "out", out, 3, B, S, H);
    } else {
        put(f, "r", r, 2, B, H);
        put(f, "out", out, 2, B, H);
    }
    put(f, "dinp", dinp, 3, B, S, IN);
    put(f, "dweight_ih", dwi, 2, 4 * H, IN);
    put(f, "dweight_hh", dwh, 2, 4 * H, H);
    put(f, "dbias", db, 1, 4 * H);
    fclose(f);
    free(inp), free(wih), free(whh), free(b), free(r), free(out), free(mx), free(mh), free(state);
    free(scratch), free(dinp), free(dwi), free(dwh), free(db);
}

static void dump_activation(const char *dir, activation_kind a)
{
    const int n = 41;
    float *inp = rnd(n, 3), *r = rnd(n, 1), *out = zeros(n), *dinp = zeros(n);
    activation_forward(out, inp, n, a);
    activation_backward(dinp, r, out, n, a);
    char name[64];
    snprintf(name, sizeof name, "activation_%s", activation_name(a));
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 1, n);
    put(f, "r", r, 1, n);
    put(f, "out", out, 1, n);
    put(f, "dinp", dinp, 1, n);
    fclose(f);
    free(inp), free(r), free(out), free(dinp);
}

static void dump_mse(const char *dir)
{
    const int B = 2, C = 7, H = 6, W = 5;
    const size_t n = (size_t)B * C * H * W;
    float *yhat = rnd(n, 1), *y = rnd(n, 1), *dy = zeros(n);
    float loss = mse_loss(dy, yhat, y, n);
    FILE *f = open_case(dir, "mse");
    put(f, "yhat", yhat, 4, B, C, H, W);
    put(f, "y", y, 4, B, C, H, W);
    put(f, "loss", &loss, 1, 1);
    put(f, "dyhat", dy, 4, B, C, H, W);
    fclose(f);
    free(yhat), free(y), free(dy);
}

#include "layers_torch_dump_1d.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: layers_torch_dump DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    dump_conv(dir, "conv2d_k3", 2, 3, 4, 7, 5, 3);
    dump_conv(dir, "conv2d_k5", 2, 3, 4, 7, 5, 5);
    dump_conv(dir, "conv2d_large", 3, 8, 16, 16, 48, 3); // 2 images per GEMM, then a remainder of 1
    dump_pool(dir, "maxpool2d_odd", 2, 3, 7, 5);
    dump_pool(dir, "maxpool2d_even", 2, 3, 6, 4);
    dump_upsample(dir, "upsample2d", 2, 3, 3, 4);
    dump_dense(dir, "dense", 3, 17, 5);
    dump_lstm(dir, "lstm_s1_last", 2, 1, 6, 4, 0, 0);
    dump_lstm(dir, "lstm_s3_seq", 2, 3, 6, 4, 1, 0);
    dump_lstm(dir, "lstm_s3_last", 2, 3, 6, 4, 0, 0);
    dump_lstm(dir, "lstm_s3_seq_shared_masks", 2, 3, 6, 4, 1, 1);
    dump_lstm(dir, "lstm_s3_last_gate_masks", 2, 3, 6, 4, 0, 4);
    dump_activation(dir, ACTIVATION_TANH);
    dump_activation(dir, ACTIVATION_SIGMOID);
    dump_activation(dir, ACTIVATION_IDENTITY);
    dump_mse(dir);
    dump_dtc_layers(dir);
    return 0;
}
