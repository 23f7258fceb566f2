/*
 * test_conv_fast.c - the Winograd F(2x2, 3x3) path of conv2d (shapes with
 * >= 16 input and >= 4 output channels, >= 64 output tiles per batch) and the threaded GEMM
 * split of layer_gemm, against the direct-loop reference kernels: forward,
 * and backward accumulating into prefilled gradients, for even, odd and
 * non-square grids, batched and unbatched chunks, with and without dinp,
 * on 1 and 2 OpenMP threads.
 */
#include "gemm.h"
#include "layers.h"
#include "reference_kernels.h"
#include "tap.h"

#include <math.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define TOL 1e-5 /* the float-accumulating reference kernels differ by ~4e-6 on the largest case */

static float *frand(size_t n, unsigned *seed)
{
    float *x = malloc(sizeof(float) * (n ? n : 1));
    if (!x) {
        printf("Bail out! out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) x[i] = (float)rand_r(seed) / (float)RAND_MAX * 2.0f - 1.0f;
    return x;
}

static float *fcopy(const float *x, size_t n)
{
    float *y = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

/* max |a - b| / max |b| */
static double rel_error(const float *a, const float *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= e)) e = d; // NaN propagates
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return e / (s > 0 ? s : 1);
}

static void test_conv(int B, int IC, int OC, int H, int W, int with_dinp)
{
    unsigned seed = (unsigned)(B * 1000003 + IC * 1009 + OC * 101 + H * 13 + W);
    conv2d_dims d = {.B = B, .IC = IC, .OC = OC, .H = H, .W = W, .K = 3};
    const size_t ni = (size_t)B * IC * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * IC * 9;
    float *inp = frand(ni, &seed), *w = frand(nw, &seed), *b = frand(OC, &seed), *r = frand(no, &seed);
    const size_t ns = conv2d_scratch_floats(&d);
    float *scratch = malloc(sizeof(float) * ns);
    for (size_t i = 0; i < ns; i++) scratch[i] = NAN; // stale scratch must not matter
    float *out = frand(no, &seed), *out_ref = frand(no, &seed);
    float *dinp = frand(ni, &seed), *dw = frand(nw, &seed), *db = frand(OC, &seed);
    float *dinp_ref = fcopy(dinp, ni), *dw_ref = fcopy(dw, nw), *db_ref = fcopy(db, OC);

    conv2d_forward(out, inp, w, b, scratch, &d);
    conv2d_forward_reference(out_ref, inp, w, b, &d);
    conv2d_backward(with_dinp ? dinp : NULL, dw, db, r, inp, w, scratch, &d);
    conv2d_backward_reference(with_dinp ? dinp_ref : NULL, dw_ref, db_ref, r, inp, w, &d);
    const char *what = with_dinp ? "" : " (no dinp)";
    tap_check(rel_error(out, out_ref, no) <= TOL, "conv2d B=%d %dx%dx%d->%d threads=%d%s: forward (error %.2g)", B, IC,
              H, W, OC, omp_get_max_threads(), what, rel_error(out, out_ref, no));
    double e = fmax(rel_error(dw, dw_ref, nw), rel_error(db, db_ref, OC));
    if (with_dinp) e = fmax(e, rel_error(dinp, dinp_ref, ni));
    tap_check(e <= TOL, "conv2d B=%d %dx%dx%d->%d threads=%d%s: backward accumulates (error %.2g)", B, IC, H, W, OC,
              omp_get_max_threads(), what, e);
    free(inp), free(w), free(b), free(r), free(scratch), free(out), free(out_ref);
    free(dinp), free(dw), free(db), free(dinp_ref), free(dw_ref), free(db_ref);
}

/* layer_gemm against a direct triple loop, all transpositions, with beta. */
static void test_gemm(int M, int N, int K)
{
    unsigned seed = (unsigned)(M * 7919 + N * 31 + K);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            float *A = frand((size_t)M * K, &seed), *B = frand((size_t)K * N, &seed), *C = frand((size_t)M * N, &seed);
            float *R = fcopy(C, (size_t)M * N);
            const int lda = ta ? M : K, ldb = tb ? K : N;
            layer_gemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 0.5f, A, lda, B, ldb,
                       2.0f, C, N);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    double s = 0;
                    for (int k = 0; k < K; k++)
                        s += (double)(ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                             (tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
                    R[(size_t)i * N + j] = (float)(0.5 * s + 2.0 * R[(size_t)i * N + j]);
                }
            tap_check(rel_error(C, R, (size_t)M * N) <= 1e-5, "layer_gemm %dx%dx%d ta=%d tb=%d threads=%d", M, N, K,
                      ta, tb, omp_get_max_threads());
            free(A), free(B), free(C), free(R);
        }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        test_conv(1, 16, 16, 32, 32, 1);  // one image, 256 tiles
        test_conv(3, 17, 20, 21, 19, 1);  // odd grid: tiles past the edge
        test_conv(8, 24, 16, 12, 12, 1);  // 288 tiles, all images in one chunk
        test_conv(2, 16, 32, 24, 40, 1);  // non-square
        test_conv(7, 16, 16, 40, 30, 1);  // 4 chunks of 2 images, the last one short
        test_conv(7, 16, 16, 40, 30, 0);  // first layer: no dinp
        // the weight gradient summed over several chunks (512 tiles per chunk):
        test_conv(5, 16, 8, 33, 35, 1);   // 306 tiles per image: 3 chunks (2, 2, 1), odd grid
        test_conv(4, 20, 12, 46, 46, 0);  // 529 tiles: 4 chunks of one image each
        test_conv(6, 16, 24, 20, 26, 1);  // 130 tiles: 2 chunks (4, 2)
        test_conv(10, 16, 16, 16, 16, 1); // 64 tiles: 2 chunks (8, 2)
        test_conv(2, 16, 7, 24, 24, 1);   // few output channels (the decoder's last layer)
        test_conv(8, 32, 16, 6, 6, 1);    // 72 tiles of 6x6 maps
        test_conv(4, 32, 16, 6, 6, 1);    // too few tiles: im2col
        test_gemm(37, 650, 201);          // split along N (>= 4 MFLOP per thread), ragged edge
        test_gemm(650, 37, 201);          // split along M
        test_gemm(3, 5, 7);               // too small to split
    }
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
