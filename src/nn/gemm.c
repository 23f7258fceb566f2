/*
 * gemm.c - OpenMP-threaded sgemm over single-threaded OpenBLAS calls (see
 * gemm.h for why).
 *
 * C (M, N) is cut along its longer side into one block per thread, block
 * edges on multiples of 16 (whole micro-kernel panels); every block is an
 * independent sgemm over the full K (no reduction between threads, so no
 * extra memory and no atomic adds).  Products below
 * MIN_FLOPS_PER_THREAD per thread run on fewer threads.
 */
#include "gemm.h"

#include "config.h"

#include <omp.h>

#define MIN_FLOPS_PER_THREAD 4.0e6
#define ALIGN 16

/* One block per OpenMP thread, each a single-threaded sgemm. */
static void gemm_blocks(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    const double flops = 2.0 * M * N * K;
    if (nt > 1 && flops < nt * MIN_FLOPS_PER_THREAD) nt = (int)(flops / MIN_FLOPS_PER_THREAD);
    const int split_n = N >= M;
    const int len = split_n ? N : M;
    if (nt > (len + ALIGN - 1) / ALIGN) nt = (len + ALIGN - 1) / ALIGN;
    if (nt <= 1) {
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), n = omp_get_num_threads();
        const int blocks = (len + ALIGN - 1) / ALIGN;
        const int b0 = (int)((long)blocks * t / n), b1 = (int)((long)blocks * (t + 1) / n);
        const int lo = b0 * ALIGN, hi = b1 * ALIGN < len ? b1 * ALIGN : len;
        if (hi > lo) {
            if (split_n) {
                // columns lo..hi of op(B) and C
                const float *Bs = tb == CblasNoTrans ? B + lo : B + (size_t)lo * ldb;
                cblas_sgemm(CblasRowMajor, ta, tb, M, hi - lo, K, alpha, A, lda, Bs, ldb, beta, C + lo, ldc);
            } else {
                // rows lo..hi of op(A) and C
                const float *As = ta == CblasNoTrans ? A + (size_t)lo * lda : A + lo;
                cblas_sgemm(CblasRowMajor, ta, tb, hi - lo, N, K, alpha, As, lda, B, ldb, beta,
                            C + (size_t)lo * ldc, ldc);
            }
        }
    }
}

void layer_gemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    blas_threads_saved blas = blas_threads_single();
    gemm_blocks(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    blas_threads_restore(blas);
}
