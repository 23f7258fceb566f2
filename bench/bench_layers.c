/*
 * bench_layers.c - speed of the convolution and LSTM kernels at the shapes of
 * the DSC model (48x48x7 input, batch 8), in GFLOP/s.  Not a test.
 *
 *   make bench/bench_layers
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 bench/bench_layers [batch] [repeats]
 *
 * FLOPs of a KxK convolution: forward 2*B*OC*IC*K*K*H*W; backward twice that
 * (dweight and dinp; the first layer needs no dinp, so once).  Reports the
 * median over the repeats; on a shared machine the median is the figure to
 * quote.
 */
#include "layers.h"
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *alloc_rand(size_t n)
{
    float *x = malloc(sizeof(float) * n);
    if (!x) {
        fprintf(stderr, "bench_layers: out of memory\n");
        exit(1);
    }
    for (size_t k = 0; k < n; k++) x[k] = (float)rand() / (float)RAND_MAX - 0.5f;
    return x;
}

int main(int argc, char **argv)
{
    const int B = argc > 1 ? atoi(argv[1]) : 8;
    const int R = argc > 2 ? atoi(argv[2]) : 5;
    // (IC, OC, H): the encoder and decoder convolutions of the DSC model
    static const int shapes[][3] = {{7, 64, 48},   {64, 64, 48},  {64, 128, 24}, {128, 256, 12}, {256, 512, 6},
                                    {512, 512, 6}, {512, 256, 12}, {256, 128, 24}, {128, 64, 48}, {64, 7, 48}};
    const int nshapes = sizeof shapes / sizeof shapes[0];
    double total_fwd = 0, total_bwd = 0, total_flop_fwd = 0, total_flop_bwd = 0;
    printf("# conv2d 3x3 'same', batch %d, median of %d runs\n", B, R);
    printf("# %-22s %10s %10s %10s %10s\n", "IC x H x W -> OC", "fwd ms", "fwd GF/s", "bwd ms", "bwd GF/s");
    for (int s = 0; s < nshapes; s++) {
        conv2d_dims d = {.B = B, .IC = shapes[s][0], .OC = shapes[s][1], .H = shapes[s][2], .W = shapes[s][2], .K = 3};
        const size_t ni = (size_t)B * d.IC * d.H * d.W, no = (size_t)B * d.OC * d.H * d.W;
        const size_t nw = (size_t)d.OC * d.IC * 9;
        float *inp = alloc_rand(ni), *w = alloc_rand(nw), *b = alloc_rand(d.OC), *out = alloc_rand(no);
        float *dinp = alloc_rand(ni), *dw = alloc_rand(nw), *db = alloc_rand(d.OC);
        float *scratch = alloc_rand(conv2d_scratch_floats(&d));
        const int first = s == 0; // the input layer needs no input gradient
        double tf[64] = {0}, tb[64] = {0};
        for (int r = 0; r <= R && r < 64; r++) { // r = 0 warms up
            double t0 = timing_now();
            conv2d_forward(out, inp, w, b, scratch, &d);
            double t1 = timing_now();
            conv2d_backward(first ? NULL : dinp, dw, db, out, inp, w, scratch, &d);
            double t2 = timing_now();
            if (r > 0) tf[r - 1] = t1 - t0, tb[r - 1] = t2 - t1;
        }

        const double f = 2.0 * B * d.OC * d.IC * 9.0 * d.H * d.W;
        const double fb = first ? f : 2 * f;
        const double mf = timing_median(tf, R), mb = timing_median(tb, R);
        char name[64];
        snprintf(name, sizeof name, "%d x %d x %d -> %d", d.IC, d.H, d.W, d.OC);
        printf("  %-22s %10.2f %10.1f %10.2f %10.1f\n", name, 1e3 * mf, 1e-9 * f / mf, 1e3 * mb, 1e-9 * fb / mb);
        total_fwd += mf, total_bwd += mb, total_flop_fwd += f, total_flop_bwd += fb;
        free(inp), free(w), free(b), free(out), free(dinp), free(dw), free(db), free(scratch);
    }
    printf("  %-22s %10.2f %10.1f %10.2f %10.1f\n", "all convolutions", 1e3 * total_fwd,
           1e-9 * total_flop_fwd / total_fwd, 1e3 * total_bwd, 1e-9 * total_flop_bwd / total_bwd);
    printf("# conv forward+backward per sample: %.1f ms (%.2f GFLOP)\n", 1e3 * (total_fwd + total_bwd) / B,
           1e-9 * (total_flop_fwd + total_flop_bwd) / B);

    // the LSTM layers of the encoder (S = 1 as published), with shared dropout masks
    static const int lstms[][3] = {{4608, 512, 1}, {512, 512, 0}}; // IN, HID, return_sequences
    printf("# lstm, batch %d, S = 1, dropout masks, median of %d runs\n", B, R);
    printf("# %-22s %10s %10s %10s %10s\n", "IN -> HID", "fwd ms", "fwd GF/s", "bwd ms", "bwd GF/s");
    for (int s = 0; s < 2; s++) {
        lstm_dims d = {.B = B, .S = 1, .IN = lstms[s][0], .HID = lstms[s][1], .return_sequences = lstms[s][2],
                       .mask_gates = 1};
        const size_t ni = (size_t)B * d.IN, no = (size_t)B * d.HID;
        const size_t nwi = (size_t)4 * d.HID * d.IN, nwh = (size_t)4 * d.HID * d.HID;
        float *inp = alloc_rand(ni), *wih = alloc_rand(nwi), *whh = alloc_rand(nwh), *b = alloc_rand(4 * d.HID);
        float *mx = alloc_rand(ni), *mh = alloc_rand(no), *out = alloc_rand(no), *dinp = alloc_rand(ni);
        float *dwi = alloc_rand(nwi), *dwh = alloc_rand(nwh), *db = alloc_rand(4 * d.HID);
        float *state = alloc_rand(lstm_state_floats(&d)), *scratch = alloc_rand(lstm_scratch_floats(&d));
        double tf[64] = {0}, tb[64] = {0};
        for (int r = 0; r <= R && r < 64; r++) {
            double t0 = timing_now();
            lstm_forward(out, state, inp, wih, whh, b, mx, mh, scratch, &d);
            double t1 = timing_now();
            lstm_backward(dinp, dwi, dwh, db, out, inp, wih, whh, mx, mh, state, scratch, &d);
            double t2 = timing_now();
            if (r > 0) tf[r - 1] = t1 - t0, tb[r - 1] = t2 - t1;
        }
        const double f = 2.0 * B * 4 * d.HID * d.IN; // S = 1: no recurrent product
        const double mf = timing_median(tf, R), mb = timing_median(tb, R);
        char name[64];
        snprintf(name, sizeof name, "%d -> %d", d.IN, d.HID);
        printf("  %-22s %10.2f %10.1f %10.2f %10.1f\n", name, 1e3 * mf, 1e-9 * f / mf, 1e3 * mb, 1e-9 * 2 * f / mb);
        free(inp), free(wih), free(whh), free(b), free(mx), free(mh), free(out), free(dinp);
        free(dwi), free(dwh), free(db), free(state), free(scratch);
    }
    return 0;
}
